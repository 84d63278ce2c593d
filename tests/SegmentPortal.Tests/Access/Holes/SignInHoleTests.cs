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
        await _factory.CreateUserAsync("victim@test.local", "Victim-pass-135", Roles.Viewer);
        var client = _factory.CreateBrowserClient();
        for (var i = 0; i < 5; i++)
        {
            await PortalFactory.SignInAsync(client, "victim@test.local", $"guess-{i}");
        }

        var locked = await ErrorOf(await PortalFactory.SignInAsync(client, "victim@test.local", "another-guess"));
        var unknown = await ErrorOf(await PortalFactory.SignInAsync(client, "nobody@test.local", "another-guess"));

        Assert.True(await IsLockedOutAsync("victim@test.local")); // the lockout itself still holds
        Assert.Equal(unknown, locked);
        Assert.DoesNotContain("disabled", locked);
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
