using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Web.Infrastructure;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12: signing in must not tell a stranger which accounts exist, lockout must not be a tool to lock anyone out
/// at will, and the upload endpoint answers a request without a session as unauthenticated.
/// </summary>
public sealed class SignInHoleTests : IAsyncLifetime
{
    private const int AttemptsPerMinute = 8;

    /// <summary>The shipped settings (appsettings.json): wrong passwords per client and account, and per account.</summary>
    private const int PerClient = 5;

    private const int AccountWide = 50;

    private readonly PortalFactory _factory = new(settings: new Dictionary<string, string?>
    {
        ["Auth:SignInAttemptsPerMinute"] = AttemptsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _ = _factory.Server;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task S1_a_locked_account_answers_exactly_as_an_unknown_email_does()
    {
        var victim = await _factory.CreateUserAsync("victim@test.local", "Victim-pass-135", Roles.Viewer);
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            Assert.True((await users.SetLockoutEndDateAsync((await users.FindByIdAsync(victim.Id))!, DateTimeOffset.UtcNow.AddMinutes(15))).Succeeded);
        }
        var client = _factory.CreateBrowserClient();

        var locked = await ErrorOf(await PortalFactory.SignInAsync(client, "victim@test.local", "Victim-pass-135"));
        var unknown = await ErrorOf(await PortalFactory.SignInAsync(client, "nobody@test.local", "another-guess"));

        Assert.True(await IsLockedOutAsync("victim@test.local"));
        Assert.Equal(unknown, locked);
        Assert.DoesNotContain("disabled", locked);
    }

    [Fact]
    public async Task S6_one_client_cannot_lock_someone_elses_account_by_guessing_its_password()
    {
        await _factory.CreateUserAsync("victim@test.local", "Victim-pass-135", Roles.Viewer);
        var attacker = _factory.CreateBrowserClient("203.0.113.7");
        for (var i = 0; i < PerClient; i++)
        {
            await PortalFactory.SignInAsync(attacker, "victim@test.local", $"guess-{i}");
        }

        // The attacker is now refused for this account, even with the right password, and told what anyone is told...
        var refused = await ErrorOf(await PortalFactory.SignInAsync(attacker, "victim@test.local", "one-more-guess"));
        var refusedRight = await ErrorOf(await PortalFactory.SignInAsync(attacker, "victim@test.local", "Victim-pass-135"));
        var unknown = await ErrorOf(await PortalFactory.SignInAsync(_factory.CreateBrowserClient("203.0.113.8"), "nobody@test.local", "a-guess-1234"));
        Assert.Equal(unknown, refused);
        Assert.Equal(unknown, refusedRight);
        // ...its refused attempts never reached the account, which is not locked...
        Assert.Equal(PerClient, await FailedCountAsync("victim@test.local"));
        Assert.False(await IsLockedOutAsync("victim@test.local"));
        // ...so its owner, on their own client, signs in.
        var owner = await PortalFactory.SignInAsync(_factory.CreateBrowserClient("198.51.100.20"), "victim@test.local", "Victim-pass-135");
        Assert.Equal(HttpStatusCode.Redirect, owner.StatusCode);
        Assert.Contains("SegmentPortal.Auth=", string.Join(";", owner.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task S7_the_account_lockout_still_holds_but_takes_many_clients()
    {
        await _factory.CreateUserAsync("target@test.local", "Target-pass-864", Roles.Viewer);
        var clients = AccountWide / PerClient;
        Assert.True(clients >= 10, "The defaults must need at least ten client addresses to lock an account.");
        for (var c = 0; c < clients; c++)
        {
            var client = _factory.CreateBrowserClient($"192.0.2.{c + 1}");
            Assert.False(await IsLockedOutAsync("target@test.local"));
            for (var i = 0; i < PerClient; i++)
            {
                await PortalFactory.SignInAsync(client, "target@test.local", $"guess-{c}-{i}");
            }
        }

        Assert.True(await IsLockedOutAsync("target@test.local"));
        var owner = await PortalFactory.SignInAsync(_factory.CreateBrowserClient("198.51.100.20"), "target@test.local", "Target-pass-864");
        Assert.Equal(await ErrorOf(await PortalFactory.SignInAsync(_factory.CreateBrowserClient("198.51.100.21"), "nobody@test.local", "a-guess-1234")), await ErrorOf(owner));
    }

    [Fact]
    public async Task S2_a_disabled_account_is_only_named_as_such_to_someone_who_knows_its_password()
    {
        var user = await _factory.CreateUserAsync("leaver@test.local", "Leaver-pass-975", Roles.Viewer);
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            stored.IsDisabled = true;
            Assert.True((await users.UpdateAsync(stored)).Succeeded);
        }
        var client = _factory.CreateBrowserClient();

        var wrongPassword = await ErrorOf(await PortalFactory.SignInAsync(client, "leaver@test.local", "a-guess-1234"));
        var unknown = await ErrorOf(await PortalFactory.SignInAsync(client, "nobody@test.local", "a-guess-1234"));
        var rightPassword = await ErrorOf(await PortalFactory.SignInAsync(client, "leaver@test.local", "Leaver-pass-975"));

        Assert.Equal(unknown, wrongPassword);
        Assert.Contains("disabled", rightPassword);
    }

    [Fact]
    public async Task S3_one_client_cannot_post_sign_ins_faster_than_the_configured_limit()
    {
        await _factory.CreateUserAsync("target@test.local", "Target-pass-864", Roles.Viewer);
        var client = _factory.CreateBrowserClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < AttemptsPerMinute + 3; i++)
        {
            statuses.Add((await PortalFactory.SignInAsync(client, $"someone{i}@test.local", "a-guess-1234")).StatusCode);
        }

        Assert.All(statuses.Take(AttemptsPerMinute), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(statuses.Skip(AttemptsPerMinute), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        // Refused attempts never reach the account, so they cannot count towards its lockout either.
        var refused = await PortalFactory.SignInAsync(client, "target@test.local", "a-guess-1234");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Too many sign-in attempts", await refused.Content.ReadAsStringAsync(Ct));
        Assert.Equal(0, await FailedCountAsync("target@test.local"));
    }

    [Fact]
    public async Task S4_an_upload_without_a_session_is_answered_401_not_400()
    {
        var anonymous = _factory.CreateBrowserClient();
        using var body = new ByteArrayContent("id\n1\n"u8.ToArray());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads?name=a.csv") { Content = body };
        request.Headers.Add(ApiEndpoints.UploadHeader, "1");

        var response = await anonymous.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task S5_a_signed_in_upload_that_did_not_come_from_the_data_page_is_still_400()
    {
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);

        var response = await client.PostAsync("/api/uploads?name=a.csv", new ByteArrayContent("id\n1\n"u8.ToArray()), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync(Ct);
        var match = System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"login-error\"[^>]*>(.*?)<form", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(match.Success, "The sign-in page shows no error.");
        return System.Text.RegularExpressions.Regex.Replace(match.Groups[1].Value, "<[^>]+>|\\s+", " ").Trim();
    }

    private async Task<bool> IsLockedOutAsync(string email)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        return await users.IsLockedOutAsync((await users.FindByEmailAsync(email))!);
    }

    private async Task<int> FailedCountAsync(string email)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        return await users.GetAccessFailedCountAsync((await users.FindByEmailAsync(email))!);
    }
}
