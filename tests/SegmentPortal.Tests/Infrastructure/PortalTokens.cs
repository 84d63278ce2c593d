using System.Net.Http.Headers;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Users;

namespace SegmentPortal.Tests.Infrastructure;

/// <summary>Personal access tokens for REST API tests: made through the real service, as the user they belong to.</summary>
public static class PortalTokens
{
    /// <summary>Makes a token of <paramref name="user"/> with <paramref name="scopes"/> (all when none) and returns it.</summary>
    public static async Task<string> CreateTokenAsync(this PortalFactory portal, AppUser user, params string[] scopes)
    {
        IList<string> roles;
        await using (var scope = portal.Services.CreateAsyncScope())
        {
            roles = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().GetRolesAsync(user);
        }
        string token = "";
        await portal.AsUserAsync<AccessTokenService>(user.Id, user.Email!, [.. roles], async tokens =>
            token = (await tokens.CreateAsync(new NewAccessToken("Test token", scopes.Length == 0 ? ApiScopes.All.ToList() : scopes,
                DateTimeOffset.UtcNow.AddDays(30)))).Token);
        return token;
    }

    /// <summary>A client that sends <paramref name="token"/> as <c>Authorization: Bearer</c> (and no cookies).</summary>
    public static HttpClient CreateTokenClient(this PortalFactory portal, string token)
    {
        var client = portal.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A client with a new token of <paramref name="user"/> with <paramref name="scopes"/> (all when none).</summary>
    public static async Task<HttpClient> CreateTokenClientAsync(this PortalFactory portal, AppUser user, params string[] scopes) =>
        portal.CreateTokenClient(await portal.CreateTokenAsync(user, scopes));
}
