using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// The signed-in user for Core's services: a job's or endpoint's principal when one was set on the scope, otherwise
/// the circuit's (or prerendering request's) authentication state.
/// </summary>
internal sealed class CurrentUser(ScopedPrincipal scoped, AuthenticationStateProvider authentication) : ICurrentUser
{
    private static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());

    public async Task<ClaimsPrincipal> GetPrincipalAsync()
    {
        if (scoped.Principal is { } principal)
        {
            return principal;
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
