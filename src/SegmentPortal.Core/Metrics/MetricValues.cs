using System.Globalization;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Metrics;

/// <summary>One period of a metric: its first day, its name ("March 2024") and the value (empty when it cannot be computed).</summary>
public sealed record MetricPoint(DateOnly Start, string Label, double? Value);

/// <summary>
/// A metric's figures for the current user: the current period, the one before, the change, and the trend of the last
/// periods (oldest first, the current one last), with where the current value stands against the target.
/// </summary>
public sealed record MetricValues(DateBucket Grain, DateOnly? Through, IReadOnlyList<MetricPoint> Trend, MetricStatus Status)
{
    /// <summary>No row counts yet (or none the user may see): there is no current period.</summary>
    public bool NoData => Trend.Count == 0;

    public MetricPoint? Current => Trend.Count > 0 ? Trend[^1] : null;

    public MetricPoint? Previous => Trend.Count > 1 ? Trend[^2] : null;

    /// <summary>Current minus previous; empty when either is.</summary>
    public double? Change => Current?.Value is { } c && Previous?.Value is { } p ? c - p : null;

    /// <summary>The change relative to the previous value (0.1 is +10%); empty when the previous value is 0 or empty.</summary>
    public double? ChangeRatio => Change is { } change && Previous?.Value is { } p && p != 0 ? change / Math.Abs(p) : null;
}

/// <summary>Calendar periods as the warehouse buckets them (weeks start on Monday, like DuckDB's date_trunc).</summary>
public static class MetricPeriods
{
    public static DateOnly Start(DateOnly date, DateBucket grain) => grain switch
    {
        DateBucket.Day => date,
        DateBucket.Week => date.AddDays(-(((int)date.DayOfWeek + 6) % 7)),
        DateBucket.Month => new DateOnly(date.Year, date.Month, 1),
        DateBucket.Quarter => new DateOnly(date.Year, (date.Month - 1) / 3 * 3 + 1, 1),
        DateBucket.Year => new DateOnly(date.Year, 1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(grain)),
    };

    public static DateOnly Add(DateOnly start, DateBucket grain, int count) => grain switch
    {
        DateBucket.Day => start.AddDays(count),
        DateBucket.Week => start.AddDays(7 * count),
        DateBucket.Month => start.AddMonths(count),
        DateBucket.Quarter => start.AddMonths(3 * count),
        DateBucket.Year => start.AddYears(count),
        _ => throw new ArgumentOutOfRangeException(nameof(grain)),
    };

    public static string Label(DateOnly start, DateBucket grain) => grain switch
    {
        DateBucket.Day => start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateBucket.Week => "Week of " + start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateBucket.Month => start.ToString("MMMM yyyy", CultureInfo.InvariantCulture),
        DateBucket.Quarter => $"Q{(start.Month - 1) / 3 + 1} {start.Year}",
        DateBucket.Year => start.Year.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(grain)),
    };

    /// <summary>A date read from the warehouse (DATE, TIMESTAMP), or null.</summary>
    public static DateOnly? AsDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.DateTime),
        _ => null,
    };
}
