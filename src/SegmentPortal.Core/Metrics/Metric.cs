using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Metrics;

/// <summary>
/// A key figure defined once and used everywhere (the metrics library): what is measured over which dataset (and
/// optionally only one segment's customers), which rows count, along which date and at which grain, how it is written,
/// and what counts as good. Its value is always computed through the query layer, so each user gets it over the rows
/// and columns they may see. The definition is the part <see cref="MetricDefinition"/> describes; every change to it
/// is kept as a <see cref="MetricRevision"/>.
/// </summary>
public class Metric
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>Who answers for the metric; they (or an Admin) may change or delete it.</summary>
    public string? OwnerId { get; set; }

    public int DatasetId { get; set; }

    /// <summary>Only this segment's customers count; null for all rows of the dataset.</summary>
    public int? SegmentId { get; set; }

    /// <summary>What is measured (<see cref="MetricMeasure"/>) as JSON: an aggregate of a column, or a ratio of two.</summary>
    public required string MeasureJson { get; set; }

    /// <summary>Which rows count: the rule builder's JSON (a <see cref="Rules.RuleTree"/>); null for every row.</summary>
    public string? RuleJson { get; set; }

    /// <summary>The date column the metric is measured along.</summary>
    public required string TimeColumn { get; set; }

    /// <summary>The period one value covers (a day, a week, a month…).</summary>
    public DateBucket Grain { get; set; } = DateBucket.Month;

    public MetricFormat Format { get; set; }

    /// <summary>Written after the number ("orders"), or the currency ("€", "EUR") for <see cref="MetricFormat.Currency"/>.</summary>
    public string? Unit { get; set; }

    public int Decimals { get; set; }

    /// <summary>The value aimed at, in the metric's own scale (a percentage as a fraction: 35% is 0.35).</summary>
    public double? Target { get; set; }

    public MetricDirection Direction { get; set; }

    /// <summary>Past this value (below it when higher is better, above it when lower is better) the metric is a warning.</summary>
    public double? WarnAt { get; set; }

    /// <summary>Past this value the metric is bad.</summary>
    public double? BadAt { get; set; }

    /// <summary>An Admin vouches for the definition; a change to what it computes takes the mark away.</summary>
    public bool Certified { get; set; }

    public string? CertifiedById { get; set; }

    public DateTimeOffset? CertifiedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One change to a metric: who, when, what changed in words, and the definition before and after.</summary>
public class MetricRevision
{
    public int Id { get; set; }

    public int MetricId { get; set; }

    public string? UserId { get; set; }

    /// <summary>The user's name at the time (kept when the account is renamed or removed).</summary>
    public required string UserName { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>What changed, one line per change (<see cref="MetricDefinition.Changes"/>), as a JSON array of strings.</summary>
    public required string ChangesJson { get; set; }

    /// <summary>The <see cref="MetricDefinition"/> before the change, as JSON; null when the metric was created.</summary>
    public string? BeforeJson { get; set; }

    /// <summary>The <see cref="MetricDefinition"/> after the change, as JSON.</summary>
    public required string AfterJson { get; set; }
}

/// <summary>How a metric's numbers are written.</summary>
public enum MetricFormat
{
    /// <summary>1,234.5 (with the unit after it).</summary>
    Number,

    /// <summary>A fraction written as a percentage: 0.35 is 35%.</summary>
    Percent,

    /// <summary>An amount of money: €1,234.50, or 1,234.50 EUR.</summary>
    Currency,
}

/// <summary>Which way is good.</summary>
public enum MetricDirection
{
    /// <summary>Neither: a change is neither good nor bad, and there are no warning bands.</summary>
    None,

    HigherIsBetter,

    LowerIsBetter,
}

/// <summary>Where a value stands against the metric's target and bands.</summary>
public enum MetricStatus
{
    /// <summary>No target or bands, or no value.</summary>
    None,

    /// <summary>At or past the target (or, without a target, inside the bands).</summary>
    OnTarget,

    /// <summary>Short of the target but not yet in the warning band.</summary>
    OffTarget,

    Warning,

    Bad,
}

/// <summary>What a metric measures (the tile editor's measures).</summary>
public enum MetricMeasureKind
{
    /// <summary>Rows.</summary>
    Count,

    /// <summary>Distinct customers (the dataset's Customer ID).</summary>
    Customers,

    CountDistinct,
    Sum,
    Average,
    Median,
    Min,
    Max,

    /// <summary><see cref="MetricMeasure.Numerator"/> ÷ <see cref="MetricMeasure.Denominator"/>, from one query.</summary>
    Ratio,
}

/// <summary>
/// An aggregate of a column, or the ratio of two. Each part of a ratio may count only the rows its own rule matches
/// (<see cref="FilterJson"/>, the rule builder's JSON), e.g. "customers who ordered twice or more ÷ customers".
/// </summary>
public sealed record MetricMeasure(
    MetricMeasureKind Kind,
    string? Column = null,
    MetricMeasure? Numerator = null,
    MetricMeasure? Denominator = null,
    string? FilterJson = null);
