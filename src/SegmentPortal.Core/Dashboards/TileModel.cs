using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Dashboards;

public enum TileMeasureKind
{
    Count,
    Customers,
    CountDistinct,
    Sum,
    Average,
    Median,
    Min,
    Max,

    /// <summary><see cref="TileMeasure.Numerator"/> ÷ <see cref="TileMeasure.Denominator"/>.</summary>
    Ratio,
}

/// <summary>A number a tile shows: an aggregate of a column, or the ratio of two measures.</summary>
public sealed record TileMeasure(
    TileMeasureKind Kind,
    string? Column = null,
    string? Label = null,
    TileMeasure? Numerator = null,
    TileMeasure? Denominator = null)
{
    /// <summary>
    /// Only the rows this rule matches count (the rule builder's JSON): a metric's measure may limit each part of a
    /// ratio to its own rows. Set when a tile showing a metric is loaded, never saved with the tile.
    /// </summary>
    internal string? FilterJson { get; init; }
}

/// <summary>
/// What a tile groups by: a column, a date column bucketed by <see cref="Bucket"/>, or a numeric column in bins of
/// <see cref="BinWidth"/> (histograms). <see cref="Hierarchy"/> lists the columns to drill through (region → city);
/// a date column drills year → quarter → month → week → day.
/// </summary>
public sealed record TileDimension(string Column, DateBucket? Bucket = null, double? BinWidth = null, IReadOnlyList<string>? Hierarchy = null);

public sealed record TileSort(bool ByMeasure = true, int Index = 0, bool Descending = true);

/// <summary>A tile as saved with its dashboard: the question (a spec in tile terms) and how to draw it.</summary>
public sealed record TileDefinition
{
    public required string Id { get; init; }

    public required TileType Type { get; init; }

    public string Title { get; init; } = "";

    public int? DatasetId { get; init; }

    /// <summary>Only this segment's customers.</summary>
    public int? SegmentId { get; init; }

    public IReadOnlyList<TileMeasure> Measures { get; init; } = [];

    /// <summary>[0] is the category / x axis / pivot rows; [1] the series / colour / pivot columns.</summary>
    public IReadOnlyList<TileDimension> Dimensions { get; init; } = [];

    /// <summary>The tile's own rule (the segment rule builder's JSON), or null.</summary>
    public string? FilterJson { get; init; }

    public TileSort? Sort { get; init; }

    /// <summary>Keep the top N categories; the rest are summed into "Other" when <see cref="OtherBucket"/>.</summary>
    public int? TopN { get; init; }

    public bool OtherBucket { get; init; } = true;

    /// <summary>Text tiles: Markdown, rendered safely (no HTML).</summary>
    public string? Markdown { get; init; }

    /// <summary>Compare-segments tiles: 2–5 segments; segment-size tiles: one.</summary>
    public IReadOnlyList<int> SegmentIds { get; init; } = [];

    /// <summary>KPI tiles: the date column for "compared with the previous period" and the sparkline.</summary>
    public string? DateColumn { get; init; }

    /// <summary>KPI tiles: the period compared (a month, a quarter…).</summary>
    public DateBucket Period { get; init; } = DateBucket.Month;

    public bool Stacked { get; init; }

    public bool Horizontal { get; init; }

    public bool Donut { get; init; }

    /// <summary>
    /// RFM grid, CLV distribution, P(alive) matrix and survival tiles: the transactions dataset; cluster-profile and
    /// lifecycle tiles: the run.
    /// </summary>
    public int? SourceId { get; init; }

    /// <summary>
    /// KPI, bar, line and area tiles: the metric shown instead of an ad-hoc measure. Its dataset, segment, measure and
    /// filter (and for a KPI its date column and period; for a chart without a grouping of its own its date column by
    /// its grain) are read from the metric's current definition each time the tile loads (<see cref="MetricTiles"/>),
    /// so a change to the metric changes every tile showing it.
    /// </summary>
    public int? MetricId { get; init; }
}

/// <summary>Where a tile sits on the 12-column grid (x, width in columns; y, height in rows).</summary>
public sealed record TileLayout(string TileId, int X, int Y, int W, int H);

/// <summary>KPI figures: the value, the previous period's, and a sparkline of the last periods.</summary>
public sealed record KpiData(double? Value, double? Previous, string Period, IReadOnlyList<string> SparkLabels, IReadOnlyList<double?> SparkValues)
{
    /// <summary>
    /// A metric's KPI while its period is not over (its data runs through a day before the period's end): the previous
    /// period up to the same day, as on the metric's page; <see cref="Previous"/> stays the whole previous period.
    /// </summary>
    public double? SameDays { get; init; }

    /// <summary>"Month to date vs same days of November" when <see cref="SameDays"/> is the comparison; otherwise null.</summary>
    public string? SameDaysLabel { get; init; }

    /// <summary>The value the current one is compared with: the same days of the previous period, or the whole of it.</summary>
    public double? Compared => SameDaysLabel is not null ? SameDays : Previous;

    public double? Change => Value is { } v && Compared is { } p && p != 0 ? (v - p) / Math.Abs(p) : null;
}

/// <summary>
/// A tile's data, ready to draw: rows of dimension values then measure values (in the order of the names), totals
/// for tables, and the special parts some types need.
/// </summary>
public sealed record TileData(
    TileType Type,
    IReadOnlyList<string> Dimensions,
    IReadOnlyList<string> Measures,
    IReadOnlyList<object?[]> Rows)
{
    /// <summary>Table tiles: one total per measure (over all rows, not only the page shown).</summary>
    public IReadOnlyList<double?>? Totals { get; init; }

    public KpiData? Kpi { get; init; }

    /// <summary>Box tiles: per category (row order), min, lower quartile, median, upper quartile, max.</summary>
    public IReadOnlyList<double?[]>? Boxes { get; init; }

    /// <summary>Text tiles: the Markdown.</summary>
    public string? Markdown { get; init; }

    /// <summary>True when rows were cut at the tile's limit (the UI says so); for tables, when there are further pages.</summary>
    public bool Truncated { get; init; }

    /// <summary>
    /// What the rows are grouped by after drilling (the tile's dimensions with the first replaced by its drill level, a
    /// histogram's resolved bin width): turn a clicked value into a <see cref="CrossFilter"/> or a <see cref="DrillStep"/>.
    /// </summary>
    public IReadOnlyList<TileDimension> Grouping { get; init; } = [];

    /// <summary>A click on a category can drill one level further (a finer date period or the next hierarchy column).</summary>
    public bool CanDrill { get; init; }

    /// <summary>Histogram tiles: the width of each bin; a row's first value is its bin's lower edge.</summary>
    public double? BinWidth { get; init; }

    /// <summary>Top-N tiles: the last rows (first value "Other") sum up the categories outside the top N.</summary>
    public bool HasOther { get; init; }

    /// <summary>Indexes of the dashboard filters that do not narrow this tile (its dataset has no such field).</summary>
    public IReadOnlyList<int> FiltersNotApplied { get; init; } = [];

    /// <summary>Why there is nothing to draw (an analysis not run yet), in words for the person viewing.</summary>
    public string? Notice { get; init; }

    /// <summary>Tiles showing a metric: the metric, how its numbers are written, and what is good.</summary>
    public TileMetric? Metric { get; init; }
}

/// <summary>The metric a tile shows, as its current definition says: its name, how it is written, its target and bands.</summary>
public sealed record TileMetric(
    int Id,
    string Name,
    Metrics.MetricFormat Format,
    string? Unit,
    int Decimals,
    DateBucket Grain,
    Metrics.MetricDirection Direction,
    double? Target,
    double? WarnAt,
    double? BadAt)
{
    /// <summary>A value as the metric writes it ("1,234 orders", "35.0%").</summary>
    public string Write(double? value) => Metrics.MetricFormatting.Format(value, Format, Unit, Decimals);

    /// <summary>Where a value stands against the metric's target and bands.</summary>
    public Metrics.MetricStatus StatusOf(double? value) => Metrics.MetricFormatting.Status(value, Direction, Target, WarnAt, BadAt);
}
