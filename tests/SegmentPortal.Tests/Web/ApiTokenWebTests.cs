using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Web.Api;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// The REST API's frame in the real host: personal access tokens (valid, unknown, revoked, expired, a disabled user's,
/// missing scope), sessions and their antiforgery check, problem details, the rate limit and the OpenAPI document.
/// </summary>
public sealed class ApiTokenWebTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new(settings: new Dictionary<string, string?> { ["Api:RequestsPerMinute"] = "1000" });
    private AppUser _ann = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _ = _factory.Server; // start the host: migrations, roles, first admin
        _ann = await _factory.CreateUserAsync("ann@example.com", "Correct-horse-9", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    private static async Task<JsonElement> ProblemOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private async Task UpdateTokensAsync(Func<IPortalDb, Task> change)
    {
        await using var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        await change(db);
    }

    [Fact]
    public async Task A_token_acts_as_its_user_with_its_scopes()
    {
        var client = await _factory.CreateTokenClientAsync(_ann, ApiScopes.ReadSegments, ApiScopes.ReadData);

        var me = await client.GetFromJsonAsync<ApiMe>("/api/v1/me", Ct);

        Assert.Equal(_ann.Id, me!.UserId);
        Assert.Equal("ann@example.com", me.Email);
        Assert.Equal([Roles.Analyst], me.Roles);
        Assert.Equal([ApiScopes.ReadData, ApiScopes.ReadSegments], me.Scopes);
        Assert.NotNull(me.TokenId);
    }

    [Fact]
    public async Task Without_a_token_or_session_the_answer_is_401_problem_details()
    {
        var anonymous = _factory.CreateBrowserClient();
        var response = await anonymous.GetAsync("/api/v1/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(401, (await ProblemOf(response)).GetProperty("status").GetInt32());

        var unknown = _factory.CreateTokenClient("sp_" + new string('A', 43));
        var refused = await unknown.GetAsync("/api/v1/me", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("The access token is not valid.", (await ProblemOf(refused)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_revoked_token_gets_401_at_once()
    {
        var token = await _factory.CreateTokenAsync(_ann, ApiScopes.ReadData);
        var client = _factory.CreateTokenClient(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me", Ct)).StatusCode);

        await _factory.AsUserAsync<SegmentPortal.Core.Users.AccessTokenService>(_ann.Id, _ann.Email!, [Roles.Analyst], async tokens =>
            await tokens.RevokeAsync((await tokens.ListMineAsync(Ct)).Single().Id, Ct));

        var response = await client.GetAsync("/api/v1/me", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", (await ProblemOf(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_expired_token_gets_401()
    {
        var client = await _factory.CreateTokenClientAsync(_ann, ApiScopes.ReadData);
        await UpdateTokensAsync(db => db.AccessTokens.Where(t => t.UserId == _ann.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)), Ct));

        var response = await client.GetAsync("/api/v1/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", (await ProblemOf(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Disabling_the_user_stops_their_tokens_at_once()
    {
        var client = await _factory.CreateTokenClientAsync(_ann, ApiScopes.ReadData);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me", Ct)).StatusCode);
        AppUser? admin;
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            admin = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(PortalFactory.AdminEmail);
        }

        await _factory.AsUserAsync<SegmentPortal.Core.Users.UserAdministration>(admin!.Id, PortalFactory.AdminEmail, [Roles.Admin],
            users => users.SetDisabledAsync(_ann.Id, true));

        var response = await client.GetAsync("/api/v1/me", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("disabled", (await ProblemOf(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_token_without_the_endpoints_scope_gets_403()
    {
        var client = await _factory.CreateTokenClientAsync(_ann, ApiScopes.ReadData);

        var response = await client.PostAsync("/api/v1/uploads?fileName=a.csv", new StringContent("id\n1\n"), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(ApiScopes.UploadData, (await ProblemOf(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_token_is_not_a_session_outside_the_api()
    {
        var client = await _factory.CreateTokenClientAsync(_ann);

        var export = await client.GetAsync("/api/admin/users", Ct);
        var page = await client.GetAsync("/", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, export.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
    }

    [Fact]
    public async Task A_session_reads_the_api_but_its_changes_need_the_antiforgery_token()
    {
        var browser = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(browser, "ann@example.com", "Correct-horse-9");

        var me = await browser.GetFromJsonAsync<ApiMe>("/api/v1/me", Ct);
        Assert.Equal("ann@example.com", me!.Email);
        Assert.Null(me.TokenId);
        Assert.Equal(ApiScopes.All, me.Scopes);

        var post = await browser.PostAsync("/api/v1/uploads?fileName=a.csv", new StringContent("id\n1\n"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("antiforgery", (await ProblemOf(post)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_sessions_change_with_its_antiforgery_token_goes_through()
    {
        var browser = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(browser, "ann@example.com", "Correct-horse-9");
        // A form rendered for the signed-in session carries its request token (and sets its cookie).
        var page = await browser.GetStringAsync("/account/login", Ct);
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/uploads?fileName=a.csv") { Content = new StringContent("id\n1\n") };
        request.Headers.Add("RequestVerificationToken", WebUtility.HtmlDecode(token));
        var response = await browser.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Every_user_has_the_access_tokens_page_and_only_Admins_the_API_tokens_page()
    {
        var browser = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(browser, "ann@example.com", "Correct-horse-9");

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/tokens", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/admin/tokens", Ct)).StatusCode);

        var admin = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(admin, PortalFactory.AdminEmail, PortalFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/tokens", Ct)).StatusCode);
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413()
    {
        await using var factory = new PortalFactory(settings: new Dictionary<string, string?> { ["Import:MaxUploadBytes"] = "100" });
        _ = factory.Server;
        var bob = await factory.CreateUserAsync("bob@example.com", "Correct-horse-9", Roles.Analyst);
        var client = await factory.CreateTokenClientAsync(bob, ApiScopes.UploadData);

        var response = await client.PostAsync("/api/v1/uploads?fileName=a.csv", new StringContent("id\n" + new string('1', 200)), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(413, (await ProblemOf(response)).GetProperty("status").GetInt32());

        // Without a Content-Length the store stops the body as it streams, over the same limit.
        var streamed = await client.PostAsync("/api/v1/uploads?fileName=a.csv",
            new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes("id\n" + new string('1', 200)))), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Contains("upload limit", (await ProblemOf(streamed)).GetProperty("detail").GetString());
    }

    /// <summary>A body whose length is not known beforehand (sent chunked).</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task Over_the_rate_limit_a_token_gets_429_with_Retry_After_and_others_are_not_held_up()
    {
        await using var factory = new PortalFactory(settings: new Dictionary<string, string?> { ["Api:RequestsPerMinute"] = "3" });
        _ = factory.Server;
        var bob = await factory.CreateUserAsync("bob@example.com", "Correct-horse-9", Roles.Analyst);
        var client = await factory.CreateTokenClientAsync(bob, ApiScopes.ReadData);
        var other = await factory.CreateTokenClientAsync(bob, ApiScopes.ReadData);

        // A window of the fixed-window limiter may end between two requests; within 7 requests one window sees 4.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 7 && refused is null; i++)
        {
            var response = await client.GetAsync("/api/v1/me", Ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
        Assert.Equal(429, (await ProblemOf(refused)).GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/v1/me", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_is_valid_and_every_endpoint_needs_the_token()
    {
        var client = _factory.CreateBrowserClient();
        var json = await client.GetStringAsync(ApiDocs.DocumentPath, Ct);

        var read = OpenApiDocument.Parse(json, "json");

        Assert.Empty(read.Diagnostic!.Errors);
        var document = read.Document!;
        Assert.Empty(document.Validate(Microsoft.OpenApi.ValidationRuleSet.GetDefaultRuleSet())!);
        Assert.True(document.Components!.SecuritySchemes!.ContainsKey(ApiDocs.SecurityScheme));
        Assert.NotEmpty(document.Paths);
        Assert.Contains("/api/v1/me", document.Paths.Keys);
        Assert.Contains("/api/v1/uploads", document.Paths.Keys);
        foreach (var (path, item) in document.Paths)
        {
            Assert.StartsWith("/api/v1/", path);
            foreach (var (method, operation) in item.Operations!)
            {
                Assert.True(operation.Security is { Count: > 0 }, $"{method} {path} has no security requirement");
                Assert.True(operation.Responses!.ContainsKey("401"), $"{method} {path} has no 401 response");
            }
        }
        var docs = await _factory.CreateClient().GetAsync(ApiDocs.DocsPath, Ct); // Scalar answers at /api/docs/
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("text/html", docs.Content.Headers.ContentType!.ToString());
    }
}
