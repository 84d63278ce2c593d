using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// Tiles that show a metric (<see cref="TileDefinition.MetricId"/>): what is saved with the tile (the metric, the type,
/// the title, how it is drawn and, for charts, an optional grouping of its own), and the tile as it loads, with the
/// metric's current dataset, segment, measure and filter, and its date column and grain for a KPI's periods or a
/// chart over time.
/// </summary>
internal static class MetricTiles
{
    public const string MissingMessage = "The metric this tile shows was deleted, or you may not see it.";

    /// <summary>A tile that names a metric, of a type that may show one.</summary>
    public static bool ShowsMetric(TileDefinition tile) => tile.MetricId is not null && TileKinds.Of(tile.Type).Has(TileTraits.Metric);

    /// <summary>
    /// What is saved for a tile showing a metric: what the metric decides is left out (it is read again at each load).
    /// A chart whose only grouping is the metric's own date axis keeps no grouping of its own.
    /// </summary>
    public static TileDefinition Stored(TileDefinition tile) => tile with
    {
        DatasetId = null,
        SegmentId = null,
        Measures = [],
        FilterJson = null,
        DateColumn = null,
        SegmentIds = [],
        Dimensions = tile.Type == TileType.Kpi ? [] : tile.Dimensions,
    };

    /// <summary>
    /// The tile as it loads: <paramref name="stored"/> with what <paramref name="metric"/> decides now. Like the
    /// metric's own values, only rows dated up to <paramref name="today"/> count.
    /// </summary>
    public static TileDefinition Apply(TileDefinition stored, Metric metric, DateOnly today)
    {
        var definition = MetricDefinition.Of(metric);
        var over = stored.Type == TileType.Kpi ? [] : stored.Dimensions.Count > 0 ? stored.Dimensions : [new TileDimension(definition.TimeColumn, definition.Grain)];
        return stored with
        {
            DatasetId = definition.DatasetId,
            SegmentId = definition.SegmentId,
            Measures = [Measure(definition.Measure, metric.Name)],
            FilterJson = Rows(definition, today),
            DateColumn = stored.Type == TileType.Kpi ? definition.TimeColumn : null,
            Period = stored.Type == TileType.Kpi ? definition.Grain : stored.Period,
            Dimensions = over,
            // A chart over time runs left to right.
            Sort = stored.Type != TileType.Kpi && stored.Dimensions.Count == 0 ? new TileSort(ByMeasure: false, 0, Descending: false) : stored.Sort,
            TopN = stored.Dimensions.Count == 0 ? null : stored.TopN,
        };
    }

    /// <summary>The metric's rule, and its date up to today.</summary>
    private static string Rows(MetricDefinition definition, DateOnly today)
    {
        var root = new RuleGroup();
        if (!string.IsNullOrEmpty(MetricDefinition.NormalRule(definition.RuleJson)))
        {
            root.Children.Add(RuleTree.FromJson(definition.RuleJson).Root);
        }
        root.Children.Add(new FieldCondition
        {
            Field = definition.TimeColumn,
            Operator = RuleOperator.Before,
            Value = today.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        });
        return new RuleTree { Root = root }.ToJson();
    }

    /// <summary>How the tile writes the metric's numbers.</summary>
    public static TileMetric Describe(Metric metric) =>
        new(metric.Id, metric.Name, metric.Format, metric.Unit, metric.Decimals, metric.Grain, metric.Direction, metric.Target, metric.WarnAt, metric.BadAt);

    /// <summary>
    /// A metric's measure as a tile measure named after the metric, computing the same numbers: each part keeps its
    /// own rule, as <see cref="MetricMeasures.ToQuery"/> reads it.
    /// </summary>
    public static TileMeasure Measure(MetricMeasure measure, string? label = null) => measure.Kind == MetricMeasureKind.Ratio
        ? new TileMeasure(TileMeasureKind.Ratio, null, label, Part(measure.Numerator!), Part(measure.Denominator!))
        : Part(measure) with { Label = label };

    private static TileMeasure Part(MetricMeasure measure) => new(Kind(measure.Kind), MetricMeasures.NeedsColumn(measure.Kind) ? measure.Column : null)
    {
        FilterJson = string.IsNullOrEmpty(MetricDefinition.NormalRule(measure.FilterJson)) ? null : measure.FilterJson,
    };

    private static TileMeasureKind Kind(MetricMeasureKind kind) => kind switch
    {
        MetricMeasureKind.Count => TileMeasureKind.Count,
        MetricMeasureKind.Customers => TileMeasureKind.Customers,
        MetricMeasureKind.CountDistinct => TileMeasureKind.CountDistinct,
        MetricMeasureKind.Sum => TileMeasureKind.Sum,
        MetricMeasureKind.Average => TileMeasureKind.Average,
        MetricMeasureKind.Median => TileMeasureKind.Median,
        MetricMeasureKind.Min => TileMeasureKind.Min,
        MetricMeasureKind.Max => TileMeasureKind.Max,
        _ => TileMeasureKind.Ratio,
    };
}
