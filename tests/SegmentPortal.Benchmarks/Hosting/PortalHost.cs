using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Data;

namespace SegmentPortal.Benchmarks.Hosting;

/// <summary>The warehouse limits both sides of a benchmark run with.</summary>
public sealed record WarehouseLimits(int Threads, string MemoryLimit)
{
    /// <summary>
    /// The app's defaults (one thread per core, 2GB), overridden like the app's own settings by the environment
    /// variables <c>Warehouse__Threads</c> and <c>Warehouse__MemoryLimit</c>.
    /// </summary>
    public static WarehouseLimits FromEnvironment()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Warehouse:Threads"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Warehouse:MemoryLimit"] = "2GB",
            })
            .AddEnvironmentVariables()
            .Build();
        var options = new WarehouseOptions();
        configuration.GetSection(WarehouseOptions.Section).Bind(options);
        options.Validate();
        return new WarehouseLimits(options.Threads == 0 ? Environment.ProcessorCount : options.Threads, options.MemoryLimit);
    }
}

/// <summary>
/// Core's services without the web host, over a data folder (fresh, or one a scenario prepared earlier): the SQLite
/// metadata store (migrated), the DuckDB warehouse with the given limits, and an analyst (or the given role) as the
/// current user. Built the way the test suite's CoreHarness is.
/// </summary>
public sealed class PortalHost : IAsyncDisposable
{
    private PortalHost(string dataDirectory, ServiceProvider services, ClaimsPrincipal user)
    {
        DataDirectory = dataDirectory;
        Services = services;
        User = user;
    }

    public string DataDirectory { get; }

    public ServiceProvider Services { get; }

    /// <summary>The user every service call runs as (an analyst unless another role was asked for).</summary>
    public ClaimsPrincipal User { get; }

    public string UserId => User.UserId()!;

    /// <param name="role">The current user's role (<see cref="Roles.Analyst"/> unless given).</param>
    /// <param name="clock">The app's clock (the system's unless given), e.g. one fixed on the day a data set ends.</param>
    public static async Task<PortalHost> StartAsync(
        string dataDirectory, WarehouseLimits limits, CancellationToken cancellationToken, string role = Roles.Analyst, TimeProvider? clock = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Warehouse:Threads"] = limits.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Warehouse:MemoryLimit"] = limits.MemoryLimit,
        };
        // The query time limit (30 s by default) can be raised like the app's own setting, for a machine so loaded that a
        // million-customer read would be stopped: Query__TimeoutSeconds=300.
        if (Environment.GetEnvironmentVariable("Query__TimeoutSeconds") is { Length: > 0 } timeout)
        {
            values["Query:TimeoutSeconds"] = timeout;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var paths = StoragePaths.Resolve(new StorageOptions { DataDirectory = dataDirectory });
        paths.EnsureCreated();

        var user = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, $"benchmark-{role.ToLowerInvariant()}"),
                new Claim(ClaimTypes.Name, $"{role.ToLowerInvariant()}@benchmarks.local"),
                new Claim(ClaimTypes.Role, role),
            ],
            authenticationType: "Benchmark"));

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IConfiguration>(configuration);
        if (clock is not null)
        {
            // Core only adds the system clock when the host has not registered one.
            services.AddSingleton(clock);
        }
        services.AddSingleton(paths);
        // Connections are not benchmarked yet, but their service is part of the import runner: give it the web
        // host's kind of protector over keys that live only as long as this host.
        services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        services.AddSingleton<ISecretProtector, EphemeralSecretProtector>();
        // The delivery worker is one of the hosted services the job scenarios list to find the job runner; no scenario posts webhooks.
        services.AddSingleton<SegmentPortal.Core.Delivery.IWebhookSigner, NoWebhooks>();
        services.AddSegmentPortalCore();
        services.AddMetadataStore(configuration, paths);
        services.AddSingleton<ICurrentUser>(new FixedCurrentUser(user));

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        try
        {
            await using (var db = await provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken))
            {
                await db.Database.MigrateAsync(cancellationToken);
                await AddUserAsync(db, user, role, cancellationToken);
            }
            // Open the warehouse now (file, limits, locked configuration), as the web host does at start.
            provider.GetRequiredService<DuckDbWarehouse>();
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
        return new PortalHost(paths.DataDirectory, provider, user);
    }

    /// <summary>The benchmark's user as a stored account with its role: the permission policy reads who is asking from the store.</summary>
    private static async Task AddUserAsync(PortalDbContext db, ClaimsPrincipal user, string role, CancellationToken cancellationToken)
    {
        var id = user.UserId()!;
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            var name = user.Identity!.Name!;
            db.Users.Add(new AppUser { Id = id, UserName = name, NormalizedUserName = name.ToUpperInvariant(), Email = name, DisplayName = name });
        }
        var stored = await db.Roles.SingleOrDefaultAsync(r => r.Name == role, cancellationToken);
        if (stored is null)
        {
            stored = new IdentityRole(role) { NormalizedName = role.ToUpperInvariant() };
            db.Roles.Add(stored);
        }
        if (!await db.UserRoles.AnyAsync(r => r.UserId == id && r.RoleId == stored.Id, cancellationToken))
        {
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = id, RoleId = stored.Id });
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private sealed class FixedCurrentUser(ClaimsPrincipal user) : ICurrentUser
    {
        public Task<ClaimsPrincipal> GetPrincipalAsync() => Task.FromResult(user);
    }

    /// <summary>ASP.NET Core Data Protection over ephemeral keys, as the test suite registers the web host's protector.</summary>
    private sealed class EphemeralSecretProtector(IDataProtectionProvider provider) : ISecretProtector
    {
        private readonly IDataProtector _protector = provider.CreateProtector("SegmentPortal.Benchmarks.Secrets");

        public string Protect(string plaintext) => _protector.Protect(plaintext);

        public string Unprotect(string protectedValue) => _protector.Unprotect(protectedValue);
    }

    /// <summary>Benchmarks send no webhooks: signing one is a mistake in the scenario.</summary>
    private sealed class NoWebhooks : SegmentPortal.Core.Delivery.IWebhookSigner
    {
        public string Sign(string secret, string messageId, DateTimeOffset timestamp, string body) =>
            throw new InvalidOperationException("The benchmark host sends no webhooks.");
    }
}
