namespace SegmentPortal.Core.Access;

/// <summary>What can be shared: a dashboard, a segment, or a folder of dashboards (its sharing carries to its contents).</summary>
public enum SharedItem
{
    Dashboard = 0,
    Segment = 1,
    Folder = 2,
}

/// <summary>What a share allows: Viewers see, filter and export; Editors also change the item.</summary>
public enum ShareLevel
{
    Viewer = 0,
    Editor = 1,
}

/// <summary>One person or role given access to one dashboard, segment or folder. Items are private to their owner until shared.</summary>
public class Share
{
    public int Id { get; set; }

    public SharedItem Item { get; set; }

    public int ItemId { get; set; }

    /// <summary>A user id, when shared with one person.</summary>
    public string? UserId { get; set; }

    /// <summary>A role name, when shared with everyone in a role.</summary>
    public string? Role { get; set; }

    public ShareLevel Level { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A read-only link to one dashboard for people without an account: a random token (only its hash is stored), an
/// expiry, and a revocation. Viewed under the configured public identity, whose row rules apply.
/// </summary>
public class PublicLink
{
    public int Id { get; set; }

    public int DashboardId { get; set; }

    /// <summary>SHA-256 of the token, hex. The token itself is shown once, when the link is made.</summary>
    public required string TokenHash { get; set; }

    public string? CreatedById { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public int Uses { get; set; }

    /// <summary>
    /// Whether visitors may list the customers behind a mark (underlying rows), with every column that has a column rule
    /// masked. Off unless the owner turns it on for this link: a public link is for a picture of the board.
    /// </summary>
    public bool AllowRows { get; set; }
}
