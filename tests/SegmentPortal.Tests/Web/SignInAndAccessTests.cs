using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Users;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

public sealed class SignInAndAccessTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new();

    public ValueTask InitializeAsync()
    {
        _ = _factory.Server; // start the host: migrations, first admin, warehouse
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_sign_in()
    {
        var client = _factory.CreateBrowserClient();

        var home = await client.GetAsync("/", TestContext.Current.CancellationToken);
        var api = await client.GetAsync("/api/admin/users", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/account/login", home.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task The_configured_admin_signs_in_and_sees_the_shell()
    {
        var client = _factory.CreateBrowserClient();

        var signIn = await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", new Uri(new Uri("http://localhost"), signIn.Headers.Location!).AbsolutePath);

        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);
        Assert.Contains("SegmentPortal", home);
        Assert.Contains("Admin", home); // the navigation shows the Admin group to an admin
        var users = await client.GetFromJsonAsync<List<UserRow>>("/api/admin/users", TestContext.Current.CancellationToken);
        Assert.Contains(users!, u => u.Email == PortalFactory.AdminEmail && u.Roles.Contains(Roles.Admin) && u.LastSignInAt is not null);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_clear_message()
    {
        var client = _factory.CreateBrowserClient();

        var response = await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, "not-the-password");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("don&#x27;t match", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Repeated_failed_sign_ins_lock_the_account()
    {
        await _factory.CreateUserAsync("victim@test.local", "Victim-pass-135", Roles.Viewer);
        var client = _factory.CreateBrowserClient();
        for (var i = 0; i < 5; i++)
        {
            await PortalFactory.SignInAsync(client, "victim@test.local", $"guess-{i}");
        }

        var response = await PortalFactory.SignInAsync(client, "victim@test.local", "Victim-pass-135");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("locked", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Analyst)]
    public async Task Non_admins_get_403_from_admin_pages_and_endpoints(string role)
    {
        await _factory.CreateUserAsync($"{role}@test.local", "Member-pass-246", role);
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, $"{role}@test.local", "Member-pass-246");

        var page = await client.GetAsync("/admin/users", TestContext.Current.CancellationToken);
        var connections = await client.GetAsync("/admin/connections", TestContext.Current.CancellationToken);
        var api = await client.GetAsync("/api/admin/users", TestContext.Current.CancellationToken);
        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("You don&#x27;t have access", await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.Forbidden, connections.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        Assert.DoesNotContain("/admin/users", home);
        Assert.DoesNotContain("/admin/connections", home);
    }

    [Fact]
    public async Task Admins_reach_the_users_page()
    {
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);

        var page = await client.GetAsync("/admin/users", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Admins_reach_the_connections_page_and_the_sources_folder_exists()
    {
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);

        var page = await client.GetAsync("/admin/connections", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Database connections", await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.True(Directory.Exists(Path.Combine(_factory.DataDirectory, "sources")));
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_open_session_and_blocks_sign_in()
    {
        var viewer = await _factory.CreateUserAsync("leaver@test.local", "Leaver-pass-975", Roles.Viewer);
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, "leaver@test.local", "Leaver-pass-975");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);

        var admins = await AdminIdAsync();
        await _factory.AsUserAsync<UserAdministration>(admins, PortalFactory.AdminEmail, [Roles.Admin], u => u.SetDisabledAsync(viewer.Id, true));

        var after = await client.GetAsync("/", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/login", after.Headers.Location!.PathAndQuery);
        var again = await PortalFactory.SignInAsync(_factory.CreateBrowserClient(), "leaver@test.local", "Leaver-pass-975");
        Assert.Contains("disabled", await again.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);
        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);
        var token = System.Text.RegularExpressions.Regex.Match(home, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;

        var signOut = await client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
        }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Sign_in_only_returns_to_local_addresses()
    {
        Assert.Equal("/data", SegmentPortal.Web.Components.Account.Login.SafeReturnUrl("/data"));
        Assert.Equal("/", SegmentPortal.Web.Components.Account.Login.SafeReturnUrl("https://evil.example"));
        Assert.Equal("/", SegmentPortal.Web.Components.Account.Login.SafeReturnUrl("//evil.example"));
        Assert.Equal("/", SegmentPortal.Web.Components.Account.Login.SafeReturnUrl(null));
        await Task.CompletedTask;
    }

    private async Task<string> AdminIdAsync()
    {
        string? id = null;
        await using var scope = _factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AppUser>>();
        id = (await users.FindByEmailAsync(PortalFactory.AdminEmail))!.Id;
        return id;
    }
}
