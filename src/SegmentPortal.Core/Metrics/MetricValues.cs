using System.Globalization;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Metrics;

/// <summary>One period of a metric: its first day, its name ("March 2024") and the value (empty when it cannot be computed).</summary>
public sealed record MetricPoint(DateOnly Start, string Label, double? Value);

/// <summary>
/// The previous period counted up to the same day as a current period that is not over yet (1–7 November for 1–7
/// December): <see cref="From"/> to <see cref="Through"/>, its value, and how the comparison is named.
/// </summary>
public sealed record MetricSameDays(DateOnly From, DateOnly Through, double? Value, string Label);

/// <summary>
/// A metric's figures for the current user: the current period, the one before, the change, and the trend of the last
/// periods (oldest first, the current one last), with where the current value stands against the target.
/// </summary>
/// <remarks>
/// While the current period is not over (its data runs through a day before its end), the change is measured against
/// <see cref="SameDays"/>, the previous period up to the same day, so a month to date is not set against a whole month;
/// the whole previous period stays in <see cref="Previous"/> and <see cref="FullChange"/>.
/// </remarks>
public sealed record MetricValues(DateBucket Grain, DateOnly? Through, IReadOnlyList<MetricPoint> Trend, MetricStatus Status)
{
    /// <summary>No row counts yet (or none the user may see): there is no current period.</summary>
    public bool NoData => Trend.Count == 0;

    public MetricPoint? Current => Trend.Count > 0 ? Trend[^1] : null;

    /// <summary>The whole previous period.</summary>
    public MetricPoint? Previous => Trend.Count > 1 ? Trend[^2] : null;

    /// <summary>The previous period up to the same day, when the current period is not over; null when it is.</summary>
    public MetricSameDays? SameDays { get; init; }

    /// <summary>The current period is not over: its data runs through a day before its last.</summary>
    public bool Partial => SameDays is not null;

    /// <summary>The value the current one is compared with: the previous period up to the same day, or the whole of it.</summary>
    public double? Compared => SameDays is { } same ? same.Value : Previous?.Value;

    /// <summary>
    /// What the comparison is: "Month to date vs same days of November" (a partial period), or "vs November 2026".
    /// </summary>
    public string? ComparedLabel => SameDays is { } same ? same.Label : Previous is { } previous ? $"vs {previous.Label}" : null;

    /// <summary>Current minus <see cref="Compared"/>; empty when either is.</summary>
    public double? Change => Current?.Value is { } c && Compared is { } p ? c - p : null;

    /// <summary>The change relative to <see cref="Compared"/> (0.1 is +10%); empty when that is 0 or empty.</summary>
    public double? ChangeRatio => Change is { } change && Compared is { } p && p != 0 ? change / Math.Abs(p) : null;

    /// <summary>Current minus the whole previous period.</summary>
    public double? FullChange => Current?.Value is { } c && Previous?.Value is { } p ? c - p : null;

    /// <summary><see cref="FullChange"/> relative to the whole previous period.</summary>
    public double? FullChangeRatio => FullChange is { } change && Previous?.Value is { } p && p != 0 ? change / Math.Abs(p) : null;
}
