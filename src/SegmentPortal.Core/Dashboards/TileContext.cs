namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// Everything outside a tile that narrows what it shows: the dashboard's filters in force, a cross-filter from another
/// tile, the tile's own drill path and table page, and today (for date presets and KPI periods).
/// </summary>
internal sealed record TileContext
{
    public required DateOnly Today { get; init; }

    public IReadOnlyList<DashboardFilter> Filters { get; init; } = [];

    public CrossFilter? CrossFilter { get; init; }

    public IReadOnlyList<DrillStep> Drill { get; init; } = [];

    public TablePage? Page { get; init; }

    /// <summary>The context of one tile from the dashboard's saved filters and the viewer's state.</summary>
    public static TileContext Of(IReadOnlyList<DashboardFilter> savedFilters, TileDefinition tile, DashboardState state, DateOnly today) => new()
    {
        Today = today,
        Filters = state.Filters ?? savedFilters,
        CrossFilter = state.CrossFilter,
        Drill = state.DrillOf(tile.Id),
        Page = state.Pages.TryGetValue(tile.Id, out var page) ? page : null,
    };
}
