using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Users;

namespace SegmentPortal.Web.Api;

/// <summary>
/// Who a request is: under <c>/api/v1</c> with an <c>Authorization: Bearer sp_…</c> header, the personal access token's
/// user (<see cref="AccessTokenHandler"/>); otherwise, as everywhere else, the Identity cookie of a signed-in session.
/// </summary>
public static class ApiAuthentication
{
    /// <summary>The default scheme: chooses the token or the cookie per request.</summary>
    public const string PolicyScheme = "SegmentPortal";

    public const string TokenScheme = "AccessToken";

    /// <summary>Where <see cref="AccessTokenHandler"/> leaves why a token was refused, for the 401 answer.</summary>
    internal const string RefusalItem = "SegmentPortal.TokenRefusal";

    public static AuthenticationBuilder AddAccessTokens(this AuthenticationBuilder authentication) =>
        authentication
            .AddScheme<AuthenticationSchemeOptions, AccessTokenHandler>(TokenScheme, null)
            .AddPolicyScheme(PolicyScheme, "Access token or session", o => o.ForwardDefaultSelector = http =>
                ApiV1.IsApi(http.Request.Path) && BearerOf(http.Request) is not null ? TokenScheme : IdentityConstants.ApplicationScheme);

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    internal static string? BearerOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}

/// <summary>
/// Checks the request's personal access token on every request (a revoked token, or a disabled user's, stops at once) and
/// makes its user the principal Core's services act for (<see cref="ScopedPrincipal"/>).
/// </summary>
internal sealed class AccessTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiAuthentication.BearerOf(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }
        var validator = Context.RequestServices.GetRequiredService<AccessTokenValidator>();
        var check = await validator.ValidateAsync(token, Context.Connection.RemoteIpAddress?.ToString(), Context.RequestAborted);
        if (check.Principal is not { } principal)
        {
            Context.Items[ApiAuthentication.RefusalItem] = check.Refusal;
            return AuthenticateResult.Fail(check.Refusal ?? "The access token is not valid.");
        }
        Context.RequestServices.GetRequiredService<ScopedPrincipal>().Principal = principal;
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }
}
