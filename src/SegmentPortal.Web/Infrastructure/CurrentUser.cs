using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// The signed-in user for Core's services: a job's or endpoint's principal when one was set on the scope, then the user
/// an Admin is viewing the portal as in this circuit ("view as user"), otherwise the circuit's (or prerendering
/// request's) authentication state.
/// </summary>
internal sealed class CurrentUser(ScopedPrincipal scoped, ViewAsState viewAs, AuthenticationStateProvider authentication) : ICurrentUser
{
    private static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());

    public async Task<ClaimsPrincipal> GetPrincipalAsync()
    {
        if (scoped.Principal is { } principal)
        {
            return principal;
        }
        if (viewAs.Principal is { } target)
        {
            return target;
        }
        try
        {
            return (await authentication.GetAuthenticationStateAsync()).User;
        }
        catch (InvalidOperationException)
        {
            // No authentication state on this scope: treat as signed out, so permission checks refuse.
            return Anonymous;
        }
    }
}
