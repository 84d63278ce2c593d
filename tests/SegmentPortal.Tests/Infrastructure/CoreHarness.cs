using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Storage;
using SegmentPortal.Data;
using SegmentPortal.Web.Infrastructure;

namespace SegmentPortal.Tests.Infrastructure;

/// <summary>Core's services over a real SQLite metadata file and a real DuckDB warehouse in a temp folder.</summary>
public sealed class CoreHarness : IAsyncDisposable
{
    private CoreHarness(TempFolder folder, ServiceProvider services)
    {
        Folder = folder;
        Services = services;
    }

    public TempFolder Folder { get; }

    public ServiceProvider Services { get; }

    public TestCurrentUser CurrentUser => Services.GetRequiredService<TestCurrentUser>();

    /// <param name="configure">Runs last, so a test can replace a service (e.g. the DNS resolver).</param>
    public static async Task<CoreHarness> CreateAsync(
        IDictionary<string, string?>? settings = null, TimeProvider? clock = null, Action<IServiceCollection>? configure = null)
    {
        var folder = new TempFolder();
        var values = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = folder.Path,
            ["Warehouse:Threads"] = "2",
            ["Warehouse:MemoryLimit"] = "1GB",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var paths = StoragePaths.Resolve(new StorageOptions { DataDirectory = folder.Path });

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        paths.EnsureCreated();
        services.AddSingleton(paths);
        services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        services.AddSegmentPortalCore();
        services.AddMetadataStore(configuration, paths);
        services.AddIdentityCore<AppUser>(o =>
            {
                o.Password.RequiredLength = 10;
                o.Password.RequireNonAlphanumeric = false;
                o.SignIn.RequireConfirmedAccount = true;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddDefaultTokenProviders();
        services.AddSingleton<TestCurrentUser>();
        // As in the web host, work done in someone's name (a job, an alert checked as its owner) sets the scope's principal.
        services.AddScoped<ICurrentUser>(sp => new ScopedTestUser(sp.GetRequiredService<ScopedPrincipal>(), sp.GetRequiredService<TestCurrentUser>()));
        // The web host's protector, over the ephemeral keys above.
        services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        services.AddSingleton<SegmentPortal.Core.Delivery.IWebhookSigner, StandardWebhookSigner>();
        configure?.Invoke(services);

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        await using (var db = await provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            await db.Database.MigrateAsync();
        }
        return new CoreHarness(folder, provider);
    }

    /// <summary>Runs <paramref name="action"/> with a scoped service, the way one request or circuit would.</summary>
    public async Task<TResult> WithAsync<TService, TResult>(Func<TService, Task<TResult>> action) where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public async Task WithAsync<TService>(Func<TService, Task> action) where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>Saves the roles of a dataset's columns (a column not named gets none), as the Columns &amp; roles tab does.</summary>
    public Task<Dataset> SetRolesAsync(Dataset dataset, Dictionary<string, FieldRole> roles) =>
        WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id,
            DatasetRebuilder.SettingsOf(dataset).Select(c => c with { Role = roles.GetValueOrDefault(c.Name) }).ToList()));

    /// <summary>Creates a user with the roles and makes them the current user.</summary>
    public async Task<AppUser> SignInAsNewUserAsync(string email, params string[] roles)
    {
        var user = await CreateUserAsync(email, "Correct-horse-9", roles);
        CurrentUser.Principal = Principal(user.Id, email, roles);
        return user;
    }

    public async Task<AppUser> CreateUserAsync(string email, string password, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var roleManager = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
        {
            if (!await roleManager.RoleExistsAsync(role))
            {
                await roleManager.CreateAsync(new IdentityRole(role));
            }
        }
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email, DisplayName = email, EmailConfirmed = true };
        var created = await users.CreateAsync(user, password);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        await users.AddToRolesAsync(user, roles);
        return user;
    }

    public static ClaimsPrincipal Principal(string userId, string name, params string[] roles) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, userId), new Claim(ClaimTypes.Name, name), .. roles.Select(r => new Claim(ClaimTypes.Role, r))],
            authenticationType: "Test"));

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Folder.Dispose();
    }
}

/// <summary>The scope's principal when one was set on it, otherwise the test's current user.</summary>
internal sealed class ScopedTestUser(ScopedPrincipal scoped, TestCurrentUser test) : ICurrentUser
{
    public Task<ClaimsPrincipal> GetPrincipalAsync() => scoped.Principal is { } principal ? Task.FromResult(principal) : test.GetPrincipalAsync();
}

/// <summary>The current user as a test sets it; anonymous until then.</summary>
public sealed class TestCurrentUser : ICurrentUser
{
    public ClaimsPrincipal Principal { get; set; } = new(new ClaimsIdentity());

    public Task<ClaimsPrincipal> GetPrincipalAsync() => Task.FromResult(Principal);
}
