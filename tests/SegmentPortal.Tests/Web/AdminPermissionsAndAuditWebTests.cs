using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

/// <summary>The data-permissions and audit pages through the real host, and the audit entries sign-in and sign-out leave.</summary>
public sealed partial class AdminPermissionsAndAuditWebTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new();

    public ValueTask InitializeAsync()
    {
        _ = _factory.Server;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Analyst)]
    public async Task Non_admins_get_403_from_the_permissions_and_audit_pages(string role)
    {
        await _factory.CreateUserAsync($"{role}@test.local", "Member-pass-246", role);
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, $"{role}@test.local", "Member-pass-246");

        var permissions = await client.GetAsync("/admin/permissions", TestContext.Current.CancellationToken);
        var audit = await client.GetAsync("/admin/audit", TestContext.Current.CancellationToken);
        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, permissions.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, audit.StatusCode);
        Assert.DoesNotContain("/admin/permissions", home);
        Assert.DoesNotContain("/admin/audit", home);
    }

    [Fact]
    public async Task Admins_reach_both_pages_from_the_navigation()
    {
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);

        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);
        var permissions = await client.GetAsync("/admin/permissions", TestContext.Current.CancellationToken);
        var audit = await client.GetAsync("/admin/audit", TestContext.Current.CancellationToken);

        Assert.Contains("/admin/permissions", home);
        Assert.Contains("/admin/audit", home);
        Assert.Equal(HttpStatusCode.OK, permissions.StatusCode);
        Assert.Contains("Data permissions", await permissions.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
    }

    [Fact]
    public async Task Sign_in_failed_sign_ins_with_their_reason_and_sign_out_are_audited()
    {
        await _factory.CreateUserAsync("ann@test.local", "Ann-pass-13579", Roles.Viewer);
        var client = _factory.CreateBrowserClient();

        await PortalFactory.SignInAsync(client, "nobody@test.local", "whatever-123");
        await PortalFactory.SignInAsync(client, "ann@test.local", "wrong-pass-1");
        await PortalFactory.SignInAsync(client, "ann@test.local", "Ann-pass-13579");
        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);
        await client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(Token().Match(home).Groups[1].Value),
        }), TestContext.Current.CancellationToken);

        await using var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken);
        var entries = await db.AuditEntries.Where(e => e.UserName != PortalFactory.AdminEmail).OrderBy(e => e.Id).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(
            [
                (AuditActions.SignInFailed, "nobody@test.local", "No user with this email"),
                (AuditActions.SignInFailed, "ann@test.local", "Wrong password"),
                (AuditActions.SignIn, "ann@test.local", null),
                (AuditActions.SignOut, "ann@test.local", null),
            ],
            entries.Select(e => (e.Action, e.UserName, e.Detail)));
        Assert.Null(entries[0].UserId);
        Assert.All(entries.Skip(1), e => Assert.NotNull(e.UserId));
    }

    [Fact]
    public async Task Locked_out_and_disabled_sign_ins_are_audited_with_their_reason()
    {
        var user = await _factory.CreateUserAsync("cy@test.local", "Cy-pass-13579", Roles.Viewer);
        await using (var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken))
        {
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsDisabled, true), TestContext.Current.CancellationToken);
        }
        await _factory.CreateUserAsync("di@test.local", "Di-pass-13579", Roles.Viewer);
        var client = _factory.CreateBrowserClient();

        await PortalFactory.SignInAsync(client, "cy@test.local", "Cy-pass-13579");
        for (var i = 0; i < 6; i++)
        {
            await PortalFactory.SignInAsync(client, "di@test.local", $"guess-{i}");
        }
        // One client's guesses stop at its own limit; the account itself locks only after many clients' guesses.
        await using (var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken))
        {
            await db.Users.Where(u => u.Email == "di@test.local")
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnd, DateTimeOffset.UtcNow.AddMinutes(15)), TestContext.Current.CancellationToken);
        }
        await PortalFactory.SignInAsync(_factory.CreateBrowserClient("198.51.100.30"), "di@test.local", "Di-pass-13579");

        await using var check = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken);
        var details = await check.AuditEntries.Where(e => e.Action == AuditActions.SignInFailed).OrderBy(e => e.Id)
            .Select(e => e.UserName + ": " + e.Detail).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal("cy@test.local: Account disabled", details[0]);
        Assert.Equal(Enumerable.Repeat("di@test.local: Wrong password", 5), details.Skip(1).Take(5));
        Assert.Equal("di@test.local: Too many failed attempts from this address", details[^2]);
        Assert.Equal("di@test.local: Locked out", details[^1]);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
