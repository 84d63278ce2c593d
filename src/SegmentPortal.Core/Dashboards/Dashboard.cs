namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// A saved dashboard: its tiles, where they sit, its filters and how often it refreshes. Tiles, layout and filters are
/// JSON documents (<see cref="DashboardJson"/>): they are always read and written whole, with the dashboard.
/// </summary>
public class Dashboard
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public string? OwnerId { get; set; }

    /// <summary>The tiles (<see cref="TileDefinition"/>), in the order they were added.</summary>
    public string TilesJson { get; set; } = "[]";

    /// <summary>Where each tile sits (<see cref="TileLayout"/>).</summary>
    public string LayoutJson { get; set; } = "[]";

    /// <summary>The layout before the last layout change, for one step of undo; null when there is nothing to undo.</summary>
    public string? PreviousLayoutJson { get; set; }

    /// <summary>The dashboard's filters (<see cref="DashboardFilter"/>) with their saved selections.</summary>
    public string FiltersJson { get; set; } = "[]";

    /// <summary>Minutes between automatic refreshes while the dashboard is open; 0 is off (see <see cref="DashboardService.RefreshChoices"/>).</summary>
    public int AutoRefreshMinutes { get; set; }

    /// <summary>The folder it is filed in; a folder's sharing carries to it.</summary>
    public int? FolderId { get; set; }

    /// <summary>Show the viewer's name and the time across the board (deters screenshots of sensitive boards).</summary>
    public bool Watermark { get; set; }

    /// <summary>People it is shared with as Viewers may export its tiles and the board (owner, Editors and Admins always may).</summary>
    public bool ViewersMayExport { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
