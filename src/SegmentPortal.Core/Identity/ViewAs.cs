using System.Security.Claims;

namespace SegmentPortal.Core.Identity;

/// <summary>
/// "View as user": the user an Admin's session currently acts as, per circuit (scoped). <see cref="ICurrentUser"/>
/// implementations return <see cref="Principal"/> when set, so every query goes through the permission policy as the
/// target. The principal carries <see cref="AdminClaim"/>, and <see cref="CurrentUserExtensions.RequireAsync"/> refuses
/// every permission but <see cref="Permissions.ViewData"/> to it: viewing as someone never changes anything as them.
/// </summary>
public sealed class ViewAsState
{
    /// <summary>On a view-as principal: the id of the Admin behind it.</summary>
    public const string AdminClaim = "segmentportal:view-as-admin";

    /// <summary>On a view-as principal: the name (e-mail) of the Admin behind it.</summary>
    public const string AdminNameClaim = "segmentportal:view-as-admin-name";

    public ClaimsPrincipal? Principal { get; private set; }

    /// <summary>Who is being viewed as ("Ann Smith (ann@example.com)"), for the banner.</summary>
    public string? TargetLabel { get; private set; }

    public bool IsActive => Principal is not null;

    /// <summary>Raised when viewing-as starts or stops, so the layout can show or hide its banner.</summary>
    public event Action? Changed;

    internal void Set(ClaimsPrincipal? principal, string? label)
    {
        Principal = principal;
        TargetLabel = label;
        Changed?.Invoke();
    }

    public static bool IsViewAs(ClaimsPrincipal principal) => principal.HasClaim(c => c.Type == AdminClaim);
}
