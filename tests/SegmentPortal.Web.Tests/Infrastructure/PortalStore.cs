using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Data;

namespace SegmentPortal.Web.Tests.Infrastructure;

/// <summary>
/// A real, migrated SQLite metadata store and an empty DuckDB warehouse in a temp folder: what
/// <see cref="DatasetCatalog"/> needs. Deleted when disposed.
/// </summary>
public sealed class PortalStore : IAsyncDisposable
{
    private readonly string _folder;
    private readonly ServiceProvider _services;

    private PortalStore(string folder, ServiceProvider services, DuckDbWarehouse warehouse)
    {
        _folder = folder;
        Paths = new StoragePaths(folder);
        _services = services;
        Warehouse = warehouse;
    }

    public IPortalDbFactory Db => _services.GetRequiredService<IPortalDbFactory>();

    /// <summary>The change counter the store's saves bump (share it with services that cache access rules).</summary>
    public AccessChanges Changes => _services.GetRequiredService<AccessChanges>();

    public DuckDbWarehouse Warehouse { get; }

    /// <summary>The temp data folder's layout.</summary>
    public StoragePaths Paths { get; }

    /// <summary>
    /// Records the user behind <see cref="PortalTestContext.Principal"/> (id <c>id-{name}</c>) with their roles: the
    /// permission policy reads who is asking from the store for every query.
    /// </summary>
    public async Task AddUserAsync(string name, params string[] roles)
    {
        await using var db = await Db.CreateAsync();
        var id = $"id-{name}";
        if (!await db.Users.AnyAsync(u => u.Id == id))
        {
            db.Users.Add(new AppUser { Id = id, UserName = name, NormalizedUserName = name.ToUpperInvariant(), Email = name, DisplayName = name });
        }
        foreach (var role in roles)
        {
            var stored = await db.Roles.SingleOrDefaultAsync(r => r.Name == role);
            if (stored is null)
            {
                stored = new IdentityRole(role) { NormalizedName = role.ToUpperInvariant() };
                db.Roles.Add(stored);
            }
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = id, RoleId = stored.Id });
        }
        await db.SaveChangesAsync();
    }

    public static async Task<PortalStore> CreateAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "segmentportal-web-tests", Guid.NewGuid().ToString("N"));
        var paths = new StoragePaths(folder);
        paths.EnsureCreated();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetadataStore(new ConfigurationBuilder().Build(), paths);
        var provider = services.BuildServiceProvider();
        await using (var db = await provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            await db.Database.MigrateAsync();
        }
        var warehouse = new DuckDbWarehouse(
            Options.Create(new WarehouseOptions { Threads = 1, MemoryLimit = "256MB" }), paths, NullLogger<DuckDbWarehouse>.Instance);
        return new PortalStore(folder, provider, warehouse);
    }

    /// <summary>
    /// Records a dataset in the metadata store (the warehouse table itself is not needed by the overview), shared with
    /// Analysts and Viewers as the demo data is.
    /// </summary>
    public async Task AddDatasetAsync(string name, DatasetKind kind, long rows, DateTimeOffset refreshedAt)
    {
        await using var db = await Db.CreateAsync();
        var dataset = new Dataset
        {
            Name = name,
            TableName = "t_" + Guid.NewGuid().ToString("N"),
            Kind = kind,
            Source = "Test",
            RowCount = rows,
            CreatedAt = refreshedAt,
            RefreshedAt = refreshedAt,
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync();
        db.DatasetGrants.AddRange(
            new DatasetGrant { DatasetId = dataset.Id, Role = Core.Identity.Roles.Analyst },
            new DatasetGrant { DatasetId = dataset.Id, Role = Core.Identity.Roles.Viewer });
        await db.SaveChangesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Warehouse.Dispose();
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a closing connection; the OS temp cleaner gets it.
        }
    }
}
