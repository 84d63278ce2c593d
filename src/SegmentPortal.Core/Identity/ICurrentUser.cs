using System.Security.Claims;

namespace SegmentPortal.Core.Identity;

/// <summary>Who is asking. The web host answers from the circuit's or request's authentication state.</summary>
public interface ICurrentUser
{
    Task<ClaimsPrincipal> GetPrincipalAsync();
}

public sealed class PermissionDeniedException(string message) : PortalException(message);

public static class CurrentUserExtensions
{
    /// <summary>
    /// Returns the signed-in user, or throws <see cref="PermissionDeniedException"/> when they lack the permission. An Admin
    /// viewing as another user only has <see cref="Permissions.ViewData"/>.
    /// </summary>
    public static async Task<ClaimsPrincipal> RequireAsync(this ICurrentUser currentUser, string permission)
    {
        var principal = await currentUser.GetPrincipalAsync();
        if (permission != Permissions.ViewData && ViewAsState.IsViewAs(principal))
        {
            throw new PermissionDeniedException("You are viewing the portal as another user, which only shows data. Stop viewing as them to make changes.");
        }
        if (!Permissions.IsGranted(principal, permission))
        {
            throw new PermissionDeniedException("You do not have permission to do that.");
        }
        return principal;
    }

    public static string? UserId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(ClaimTypes.NameIdentifier);
}
