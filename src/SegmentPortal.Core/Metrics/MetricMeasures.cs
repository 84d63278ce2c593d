using System.Text.Json;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Metrics;

/// <summary>A metric's measure as stored (JSON), as words, and as query measures (a ratio is two, in the same query).</summary>
public static class MetricMeasures
{
    public static string Write(MetricMeasure measure) => JsonSerializer.Serialize(measure, MetricDefinition.Json);

    public static MetricMeasure Read(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<MetricMeasure>(json, MetricDefinition.Json) ?? throw new PortalException("This metric's saved measure is empty.");
        }
        catch (JsonException ex)
        {
            throw new PortalException("This metric's saved measure cannot be read.", ex);
        }
    }

    public static bool NeedsColumn(MetricMeasureKind kind) => kind is not (MetricMeasureKind.Count or MetricMeasureKind.Customers or MetricMeasureKind.Ratio);

    /// <summary>Kinds that compute over the values of a number column.</summary>
    public static bool NeedsNumber(MetricMeasureKind kind) =>
        kind is MetricMeasureKind.Sum or MetricMeasureKind.Average or MetricMeasureKind.Median or MetricMeasureKind.Min or MetricMeasureKind.Max;

    /// <summary>"Sum of amount", "Customers", "Customers (where …) ÷ Customers".</summary>
    public static string Label(MetricMeasure measure, IMetricNames? names = null)
    {
        ArgumentNullException.ThrowIfNull(measure);
        var text = measure.Kind switch
        {
            MetricMeasureKind.Count => "Rows",
            MetricMeasureKind.Customers => "Customers",
            MetricMeasureKind.CountDistinct => $"Distinct {measure.Column}",
            MetricMeasureKind.Sum => $"Sum of {measure.Column}",
            MetricMeasureKind.Average => $"Average {measure.Column}",
            MetricMeasureKind.Median => $"Median {measure.Column}",
            MetricMeasureKind.Min => $"Lowest {measure.Column}",
            MetricMeasureKind.Max => $"Highest {measure.Column}",
            MetricMeasureKind.Ratio => $"{Label(measure.Numerator ?? new(MetricMeasureKind.Count), names)} ÷ {Label(measure.Denominator ?? new(MetricMeasureKind.Count), names)}",
            _ => measure.Kind.ToString(),
        };
        return string.IsNullOrEmpty(MetricDefinition.NormalRule(measure.FilterJson)) ? text : $"{text} ({Lower(DescribeRule(measure.FilterJson, names))})";
    }

    /// <summary>A rule in one sentence ("Customers whose country is UK"), or "All rows" for none.</summary>
    public static string DescribeRule(string? json, IMetricNames? names = null)
    {
        if (string.IsNullOrEmpty(MetricDefinition.NormalRule(json)))
        {
            return "All rows";
        }
        return RuleSummary.Describe(RuleTree.FromJson(json), id => names?.Segment(id));
    }

    /// <summary>
    /// The query measures: one named <paramref name="alias"/>, or for a ratio <c>{alias}_n</c> and <c>{alias}_d</c>, each
    /// limited to its own rule (and to <paramref name="where"/> when given), so a ratio is one scan.
    /// </summary>
    public static IReadOnlyList<Measure> ToQuery(MetricMeasure measure, string alias, RuleNode? where = null)
    {
        ArgumentNullException.ThrowIfNull(measure);
        return measure.Kind == MetricMeasureKind.Ratio
            ? [Single(measure.Numerator!, alias + "_n", where), Single(measure.Denominator!, alias + "_d", where)]
            : [Single(measure, alias, where)];
    }

    private static Measure Single(MetricMeasure measure, string alias, RuleNode? where)
    {
        var kind = measure.Kind switch
        {
            MetricMeasureKind.Count => MeasureKind.Count,
            MetricMeasureKind.Customers => MeasureKind.Customers,
            MetricMeasureKind.CountDistinct => MeasureKind.CountDistinct,
            MetricMeasureKind.Sum => MeasureKind.Sum,
            MetricMeasureKind.Average => MeasureKind.Average,
            MetricMeasureKind.Median => MeasureKind.Median,
            MetricMeasureKind.Min => MeasureKind.Min,
            MetricMeasureKind.Max => MeasureKind.Max,
            _ => throw new PortalException("A ratio cannot be part of a ratio."),
        };
        var own = string.IsNullOrEmpty(MetricDefinition.NormalRule(measure.FilterJson)) ? null : RuleTree.FromJson(measure.FilterJson).Root;
        RuleNode? filter = (own, where) switch
        {
            (null, _) => where,
            (_, null) => own,
            _ => new RuleGroup { Children = [where, own] },
        };
        return new Measure(kind, alias, NeedsColumn(measure.Kind) ? measure.Column : null, filter);
    }

    /// <summary>The measure's value in a result row: a ratio divided here (empty when the denominator is 0 or empty).</summary>
    public static double? Read(MetricMeasure measure, string alias, QueryResult result, object?[] row)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(row);
        return Read(measure, alias, name => row[result.Index(name)]);
    }

    /// <summary>
    /// The measure's value from the query values named as <see cref="ToQuery"/> names them (<paramref name="alias"/>, or
    /// <c>{alias}_n</c> and <c>{alias}_d</c>): a ratio divided here (empty when the denominator is 0 or empty).
    /// </summary>
    public static double? Read(MetricMeasure measure, string alias, Func<string, object?> value)
    {
        ArgumentNullException.ThrowIfNull(measure);
        ArgumentNullException.ThrowIfNull(value);
        if (measure.Kind == MetricMeasureKind.Ratio)
        {
            var numerator = QueryValue.ToDouble(value(alias + "_n")) ?? OverNoRows(measure.Numerator!);
            var denominator = QueryValue.ToDouble(value(alias + "_d")) ?? OverNoRows(measure.Denominator!);
            return numerator is { } n && denominator is { } d && d != 0 ? n / d : null;
        }
        return QueryValue.ToDouble(value(alias)) ?? OverNoRows(measure);
    }

    /// <summary>
    /// A measure over no rows: counts and sums are 0 ("no orders this month" is 0 orders, not unknown); averages,
    /// medians, extremes and ratios are empty.
    /// </summary>
    public static double? OverNoRows(MetricMeasure measure) =>
        measure.Kind is MetricMeasureKind.Count or MetricMeasureKind.Customers or MetricMeasureKind.CountDistinct or MetricMeasureKind.Sum ? 0 : null;

    private static string Lower(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];
}
