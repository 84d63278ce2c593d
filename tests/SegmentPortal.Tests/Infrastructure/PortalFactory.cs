using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Tests.Infrastructure;

/// <summary>The real web host in memory, on its own data folder (SQLite metadata, DuckDB warehouse).</summary>
public sealed partial class PortalFactory(string environment = "Development", IDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@test.local";
    public const string AdminPassword = "Admin-pass-2468";

    private readonly TempFolder _folder = new();

    public string DataDirectory => _folder.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting("Storage:DataDirectory", _folder.Path);
        builder.UseSetting("Admin:Email", AdminEmail);
        builder.UseSetting("Admin:Password", AdminPassword);
        builder.UseSetting("Warehouse:Threads", "1");
        builder.UseSetting("Warehouse:MemoryLimit", "512MB");
        // Check the session's user on every request, so a disabled user is out at once in tests.
        builder.UseSetting("Auth:RevalidationSeconds", "0");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter, ClientAddressFilter>());
    }

    /// <summary>A browser with cookies; <paramref name="address"/> is the client address the app sees (none by default).</summary>
    public HttpClient CreateBrowserClient(string? address = null)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        if (address is not null)
        {
            client.DefaultRequestHeaders.Add(ClientAddressFilter.Header, address);
        }
        return client;
    }

    /// <summary>Signs in through the real sign-in form, antiforgery token and all. Returns the response to the post.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password)
    {
        var page = await client.GetStringAsync("/account/login");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        return await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    public async Task<AppUser> CreateUserAsync(string email, string password, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email, DisplayName = email, EmailConfirmed = true };
        var result = await users.CreateAsync(user, password);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        await users.AddToRolesAsync(user, roles);
        return user;
    }

    /// <summary>Runs a Core service as the given user, the way a job or endpoint scope does.</summary>
    public async Task AsUserAsync<TService>(string userId, string name, string[] roles, Func<TService, Task> action) where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = CoreHarness.Principal(userId, name, roles);
        await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    /// <summary>
    /// The in-memory server has no client addresses; a test client's <see cref="Header"/> stands in for one, ahead of
    /// everything else in the app (the sign-in rate limit and throttle, the audit log).
    /// </summary>
    private sealed class ClientAddressFilter : IStartupFilter
    {
        public const string Header = "X-Test-Client-Address";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, following) =>
            {
                if (http.Request.Headers.TryGetValue(Header, out var address) && IPAddress.TryParse(address, out var parsed))
                {
                    http.Connection.RemoteIpAddress = parsed;
                }
                return following(http);
            });
            next(app);
        };
    }
}
