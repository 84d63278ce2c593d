using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// A click on a mark of one tile narrowing every other tile that has the same field: the value of a column (a date
/// column's period when <see cref="Bucket"/> is set, a number column's bin when <see cref="BinWidth"/> is).
/// </summary>
public sealed record CrossFilter(string SourceTileId, string Column, string? Value, DateBucket? Bucket = null, double? BinWidth = null)
{
    /// <summary>A cross-filter from a clicked value of a tile's first grouping (<see cref="TileData.Grouping"/>).</summary>
    public static CrossFilter From(string sourceTileId, TileDimension grouping, object? value) =>
        new(sourceTileId, grouping.Column, MarkValue.Text(value), grouping.Bucket, grouping.BinWidth);
}

/// <summary>
/// One step down a tile's drill path: the level clicked (column, and the date period for date columns) and its value.
/// The tile then shows the next level (the next finer period, or the next column of the hierarchy) within that value.
/// </summary>
public sealed record DrillStep(string Column, string? Value, DateBucket? Bucket = null)
{
    public static DrillStep From(TileDimension grouping, object? value) => new(grouping.Column, MarkValue.Text(value), grouping.Bucket);
}

/// <summary>Which page of a table tile to show and how to sort it (by a dimension or measure name of its data).</summary>
public sealed record TablePage(int Page = 0, int PageSize = 100, string? SortBy = null, bool Descending = false);

/// <summary>
/// What a person viewing a dashboard has chosen without saving it: filter selections, a cross-filter, drill paths
/// per tile, table pages. Filters default to the dashboard's saved ones.
/// </summary>
public sealed record DashboardState
{
    public static DashboardState Empty { get; } = new();

    /// <summary>The filter selections in force; null for the dashboard's saved filters.</summary>
    public IReadOnlyList<DashboardFilter>? Filters { get; init; }

    public CrossFilter? CrossFilter { get; init; }

    /// <summary>Per tile id, the drill path from the tile's own first dimension down.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<DrillStep>> Drill { get; init; } = new Dictionary<string, IReadOnlyList<DrillStep>>();

    /// <summary>Per table tile id, the page and sort.</summary>
    public IReadOnlyDictionary<string, TablePage> Pages { get; init; } = new Dictionary<string, TablePage>();

    public IReadOnlyList<DrillStep> DrillOf(string tileId) => Drill.TryGetValue(tileId, out var path) ? path : [];

    public DashboardState DrillDown(string tileId, DrillStep step) =>
        this with { Drill = new Dictionary<string, IReadOnlyList<DrillStep>>(Drill) { [tileId] = [.. DrillOf(tileId), step] } };

    /// <summary>One level back up (or to the top when <paramref name="toTop"/>).</summary>
    public DashboardState DrillUp(string tileId, bool toTop = false)
    {
        var path = DrillOf(tileId);
        var drill = new Dictionary<string, IReadOnlyList<DrillStep>>(Drill);
        if (toTop || path.Count <= 1)
        {
            drill.Remove(tileId);
        }
        else
        {
            drill[tileId] = path.Take(path.Count - 1).ToList();
        }
        return this with { Drill = drill };
    }
}

/// <summary>
/// Values of marks as text, the one form cross-filters and drill steps keep: dates as yyyy-MM-dd, numbers invariant
/// and round-trippable, booleans as true/false, empty as null.
/// </summary>
internal static class MarkValue
{
    public static string? Text(object? value) => QueryValue.ToText(value);
}
