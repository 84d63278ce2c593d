using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// A caller of the REST API (<c>/api/v1</c>): a personal access token (<see cref="WithTokenAsync"/>), or a signed-in
/// browser session, whose unsafe requests (POST, PUT, DELETE) carry the antiforgery token the way the app's own pages
/// do — the hidden <c>__RequestVerificationToken</c> of a page's form, sent back as the <c>RequestVerificationToken</c>
/// header beside its cookie. Every API test calls through here.
/// </summary>
public sealed partial class ApiSession(HttpClient client)
{
    public const string AntiforgeryHeader = "RequestVerificationToken";

    private string? _antiforgery;

    public HttpClient Client => client;

    /// <summary>Signs in through the sign-in form and fetches the session's antiforgery token.</summary>
    public static async Task<ApiSession> SignInAsync(PortalFactory factory, string email, string password)
    {
        var client = factory.CreateBrowserClient();
        var signedIn = await PortalFactory.SignInAsync(client, email, password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var session = new ApiSession(client);
        await session.AntiforgeryAsync();
        return session;
    }

    /// <summary>A caller with a new personal access token of <paramref name="user"/> (every scope), sent as a Bearer header.</summary>
    public static async Task<ApiSession> WithTokenAsync(PortalFactory factory, SegmentPortal.Core.Identity.AppUser user) =>
        new(await factory.CreateTokenClientAsync(user)) { _antiforgery = "", IsToken = true };

    /// <summary>True when this caller uses a token rather than a session.</summary>
    public bool IsToken { get; private init; }

    /// <summary>A session that never signed in.</summary>
    public static ApiSession Anonymous(PortalFactory factory) => new(factory.CreateBrowserClient()) { _antiforgery = "" };

    public Task<HttpResponseMessage> GetAsync(string path) => client.GetAsync(Url(path), TestContext.Current.CancellationToken);

    public Task<HttpResponseMessage> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);

    public Task<HttpResponseMessage> PutAsync(string path, object? body) => SendAsync(HttpMethod.Put, path, body);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, Url(path))
        {
            Content = body switch
            {
                null => null,
                string json => new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
                _ => JsonContent.Create(body),
            },
        };
        if (!IsToken && method != HttpMethod.Get && method != HttpMethod.Head)
        {
            request.Headers.Add(AntiforgeryHeader, await AntiforgeryAsync());
        }
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>GETs and reads the JSON answer, failing with the body when the status is not <paramref name="expected"/>.</summary>
    public async Task<JsonElement> GetJsonAsync(string path, HttpStatusCode expected = HttpStatusCode.OK) => await ReadAsync(await GetAsync(path), expected);

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Url(string path) => path.StartsWith('/') ? path : "/api/v1/" + path;

    private async Task<string> AntiforgeryAsync()
    {
        if (_antiforgery is null)
        {
            // The sign-in page's form renders a token for whoever asks, the signed-in user included (the other forms sit in
            // closed menus and are not in the page's HTML).
            var page = await client.GetStringAsync("/account/login", TestContext.Current.CancellationToken);
            var match = AntiforgeryToken().Match(page);
            Assert.True(match.Success, "The sign-in page has no antiforgery token to send with unsafe API requests.");
            _antiforgery = WebUtility.HtmlDecode(match.Groups[1].Value);
        }
        return _antiforgery;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
