namespace SegmentPortal.Core.Identity;

public static class Roles
{
    /// <summary>Users and roles, connections, data permissions, audit log.</summary>
    public const string Admin = "Admin";

    /// <summary>Sales and finance staff: data sources, segments, clustering, dashboards.</summary>
    public const string Analyst = "Analyst";

    /// <summary>Managers: see what is shared with them.</summary>
    public const string Viewer = "Viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Analyst, Viewer];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
