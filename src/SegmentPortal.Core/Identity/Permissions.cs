using System.Security.Claims;

namespace SegmentPortal.Core.Identity;

/// <summary>
/// Named permissions. Each one becomes an authorization policy of the same name in the web host,
/// and services check the same permission again, so the UI is never the only gate.
/// </summary>
public static class Permissions
{
    /// <summary>List, create, disable and reset users.</summary>
    public const string ManageUsers = "Users.Manage";

    /// <summary>Create, change and delete database connections (their hosts and stored passwords).</summary>
    public const string ManageConnections = "Connections.Manage";

    /// <summary>Outgoing mail and webhooks: SMTP settings, the outbox, webhook endpoints and their secrets.</summary>
    public const string ManageDelivery = "Delivery.Manage";

    /// <summary>Bring data in: demo data, uploads, connections' imports (listing and reading the connections admins made).</summary>
    public const string ManageData = "Data.Manage";

    /// <summary>See the datasets the portal holds.</summary>
    public const string ViewData = "Data.View";

    private static readonly Dictionary<string, string[]> GrantedTo = new(StringComparer.Ordinal)
    {
        [ManageUsers] = [Roles.Admin],
        [ManageConnections] = [Roles.Admin],
        [ManageDelivery] = [Roles.Admin],
        [ManageData] = [Roles.Admin, Roles.Analyst],
        [ViewData] = [Roles.Admin, Roles.Analyst, Roles.Viewer],
    };

    public static IReadOnlyCollection<string> All => GrantedTo.Keys;

    public static IReadOnlyList<string> RolesGranted(string permission) =>
        GrantedTo.TryGetValue(permission, out var roles)
            ? roles
            : throw new ArgumentException($"Unknown permission '{permission}'.", nameof(permission));

    public static bool IsGranted(ClaimsPrincipal user, string permission) =>
        user.Identity?.IsAuthenticated == true && RolesGranted(permission).Any(user.IsInRole);
}
