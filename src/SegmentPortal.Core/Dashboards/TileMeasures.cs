using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

/// <summary>Tile measures as query measures (a ratio is two: numerator and denominator), their names, and reading them back.</summary>
internal static class TileMeasures
{
    public static string Label(TileMeasure measure) => !string.IsNullOrWhiteSpace(measure.Label) ? measure.Label : measure.Kind switch
    {
        TileMeasureKind.Count => "Rows",
        TileMeasureKind.Customers => "Customers",
        TileMeasureKind.CountDistinct => $"Distinct {measure.Column}",
        TileMeasureKind.Sum => $"Sum of {measure.Column}",
        TileMeasureKind.Average => $"Average {measure.Column}",
        TileMeasureKind.Median => $"Median {measure.Column}",
        TileMeasureKind.Min => $"Lowest {measure.Column}",
        TileMeasureKind.Max => $"Highest {measure.Column}",
        TileMeasureKind.Ratio => $"{Label(measure.Numerator!)} / {Label(measure.Denominator!)}",
        _ => measure.Kind.ToString(),
    };

    /// <summary>The query measures for tile measures, named <c>{prefix}{index}</c> (a ratio's parts add _n and _d).</summary>
    public static IReadOnlyList<Measure> ToQuery(IReadOnlyList<TileMeasure> measures, string prefix = "m", RuleNode? where = null)
    {
        var result = new List<Measure>();
        for (var i = 0; i < measures.Count; i++)
        {
            result.AddRange(ToQuery(measures[i], prefix + i, where));
        }
        return result;
    }

    public static IReadOnlyList<Measure> ToQuery(TileMeasure measure, string alias, RuleNode? where = null) => measure.Kind == TileMeasureKind.Ratio
        ? [Single(measure.Numerator!, alias + "_n", where), Single(measure.Denominator!, alias + "_d", where)]
        : [Single(measure, alias, where)];

    private static Measure Single(TileMeasure measure, string alias, RuleNode? where) => new(Kind(measure), alias,
        measure.Kind is TileMeasureKind.Count or TileMeasureKind.Customers ? null : measure.Column, Where(measure, where));

    /// <summary>The rows a measure counts: <paramref name="where"/> and the measure's own rule (a metric's), both when both are set.</summary>
    private static RuleNode? Where(TileMeasure measure, RuleNode? where)
    {
        if (string.IsNullOrWhiteSpace(measure.FilterJson))
        {
            return where;
        }
        var tree = RuleTree.FromJson(measure.FilterJson);
        if (tree.Root.Children.Count == 0 && !tree.Root.Not)
        {
            return where;
        }
        return where is null ? tree.Root : new RuleGroup { Children = [where, tree.Root] };
    }

    private static MeasureKind Kind(TileMeasure measure) => measure.Kind switch
    {
        TileMeasureKind.Count => MeasureKind.Count,
        TileMeasureKind.Customers => MeasureKind.Customers,
        TileMeasureKind.CountDistinct => MeasureKind.CountDistinct,
        TileMeasureKind.Sum => MeasureKind.Sum,
        TileMeasureKind.Average => MeasureKind.Average,
        TileMeasureKind.Median => MeasureKind.Median,
        TileMeasureKind.Min => MeasureKind.Min,
        TileMeasureKind.Max => MeasureKind.Max,
        _ => throw new PortalException($"{measure.Kind} cannot be nested in a ratio."),
    };

    /// <summary>
    /// A measure's value in a result row: a number as a double, a ratio divided here (empty when the denominator is 0 or
    /// empty), a lowest or highest date as it is.
    /// </summary>
    public static object? Read(TileMeasure measure, string alias, QueryResult result, object?[] row)
    {
        if (measure.Kind == TileMeasureKind.Ratio)
        {
            return Ratio(QueryValue.ToDouble(row[result.Index(alias + "_n")]), QueryValue.ToDouble(row[result.Index(alias + "_d")]));
        }
        var value = row[result.Index(alias)];
        return value is DateOnly or DateTime or DateTimeOffset or string or bool ? value : QueryValue.ToDouble(value) ?? OverNoRows(measure);
    }

    public static double? Ratio(double? numerator, double? denominator) =>
        numerator is { } n && denominator is { } d && d != 0 ? n / d : null;

    /// <summary>
    /// A measure over no rows: counts and sums are 0 ("no orders this month" is 0 orders, not unknown), averages,
    /// medians, extremes and ratios are empty.
    /// </summary>
    public static double? OverNoRows(TileMeasure measure) =>
        measure.Kind is TileMeasureKind.Count or TileMeasureKind.Customers or TileMeasureKind.CountDistinct or TileMeasureKind.Sum ? 0 : null;
}
