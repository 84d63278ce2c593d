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
    /// <summary>Why every change is refused while an Admin views the portal as another user.</summary>
    public const string ViewAsRefusal = "You are viewing the portal as another user, which only shows data. Stop viewing as them to make changes.";

    /// <summary>
    /// Returns the signed-in user, or throws <see cref="PermissionDeniedException"/> when they lack the permission. An Admin
    /// viewing as another user only has <see cref="Permissions.ViewData"/>: every other permission goes through
    /// <see cref="RequireWriterAsync"/>'s refusal.
    /// </summary>
    public static async Task<ClaimsPrincipal> RequireAsync(this ICurrentUser currentUser, string permission)
    {
        var principal = await currentUser.GetPrincipalAsync();
        if (permission != Permissions.ViewData)
        {
            RefuseViewAs(principal);
        }
        if (!Permissions.IsGranted(principal, permission))
        {
            throw new PermissionDeniedException("You do not have permission to do that.");
        }
        return principal;
    }

    /// <summary>
    /// The gate of every change, whatever else it checks (a share, ownership): returns the signed-in user, and refuses an
    /// Admin viewing as someone, so nothing is ever changed in the name of the user being viewed. Writes that need a
    /// permission other than <see cref="Permissions.ViewData"/> pass it through <see cref="RequireAsync"/>; the others
    /// (sharing, refreshing what is shared with one) call this first.
    /// </summary>
    public static async Task<ClaimsPrincipal> RequireWriterAsync(this ICurrentUser currentUser)
    {
        var principal = await currentUser.GetPrincipalAsync();
        RefuseViewAs(principal);
        return principal.Identity?.IsAuthenticated == true ? principal : throw new PermissionDeniedException("Sign in to make changes.");
    }

    /// <summary>Throws <see cref="ViewAsRefusal"/> when <paramref name="principal"/> is an Admin viewing as someone.</summary>
    internal static void RefuseViewAs(ClaimsPrincipal principal)
    {
        if (ViewAsState.IsViewAs(principal))
        {
            throw new PermissionDeniedException(ViewAsRefusal);
        }
    }

    public static string? UserId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(ClaimTypes.NameIdentifier);
}
