using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Queries;

namespace SegmentPortal.Tests.Sharing;

/// <summary>The shop, its owner (an Analyst who owns both datasets), and helpers to act as other people.</summary>
public sealed class SharingFixture : IAsyncLifetime
{
    public ShopFixture Shop { get; } = new();

    public ClaimsPrincipal Owner { get; private set; } = null!;

    public CoreHarness Harness => Shop.Harness;

    public async ValueTask InitializeAsync()
    {
        await Shop.InitializeAsync();
        Owner = Harness.CurrentUser.Principal;
    }

    public ValueTask DisposeAsync() => Shop.DisposeAsync();

    /// <summary>A new person with the roles (not signed in).</summary>
    public async Task<ClaimsPrincipal> PersonAsync(string name, params string[] roles)
    {
        var email = $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)] + "@example.com";
        var user = await Harness.CreateUserAsync(email, "Correct-horse-9", roles);
        return CoreHarness.Principal(user.Id, email, roles);
    }

    public void As(ClaimsPrincipal user) => Harness.CurrentUser.Principal = user;

    public Task<T> With<TService, T>(ClaimsPrincipal user, Func<TService, Task<T>> action) where TService : notnull
    {
        As(user);
        return Harness.WithAsync(action);
    }

    public Task With<TService>(ClaimsPrincipal user, Func<TService, Task> action) where TService : notnull
    {
        As(user);
        return Harness.WithAsync(action);
    }

    /// <summary>A dashboard of the owner's with one tile on the customers.</summary>
    public async Task<int> DashboardAsync(string name = "Board")
    {
        var id = await With<DashboardService, int>(Owner, s => s.CreateAsync($"{name} {Guid.NewGuid():N}"));
        await With<DashboardService, DashboardView>(Owner, s => s.AddTileAsync(id, new TileDefinition
        {
            Id = "",
            Type = TileType.Bar,
            Title = "Customers by region",
            DatasetId = Shop.CustomerData.Id,
            Dimensions = [new TileDimension("region")],
            Measures = [new TileMeasure(TileMeasureKind.Count)],
        }));
        return id;
    }

    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(string action)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return await db.AuditEntries.AsNoTracking().Where(e => e.Action == action).OrderBy(e => e.Id).ToListAsync();
    }
}
