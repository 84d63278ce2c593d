using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

public enum MeasureKind
{
    /// <summary>Rows.</summary>
    Count,
    CountDistinct,
    Sum,
    Average,
    Median,
    Min,
    Max,

    /// <summary>Distinct values of the dataset's Customer ID column.</summary>
    Customers,

    /// <summary>The 25th percentile of a number column (interpolated), for box plots.</summary>
    LowerQuartile,

    /// <summary>The 75th percentile of a number column (interpolated), for box plots.</summary>
    UpperQuartile,

    /// <summary>Distinct calendar days of a date column (purchase days, when there is no order number to count).</summary>
    Days,
}

public enum DateBucket
{
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// <summary>
/// An aggregate to compute; <see cref="Where"/> limits it to the rows a rule matches (one scan, many counts).
/// <see cref="Times"/> multiplies a sum's column by another number column row by row (quantity × unit price).
/// </summary>
public sealed record Measure(MeasureKind Kind, string Alias, string? Column = null, RuleNode? Where = null, string? Times = null);

/// <summary>
/// A group: a column's values, a date column's periods (<see cref="Bucket"/>), or a number column's bins of
/// <see cref="BinWidth"/> (<c>floor(x / width) * width</c>, each bin named by its lower edge). With <see cref="Fact"/> the
/// group is a customer measure from the related orders instead of a column (a cohort: the month of the first order);
/// <see cref="Column"/> then only names the output.
/// </summary>
public sealed record GroupBy(string Column, DateBucket? Bucket = null, string? Alias = null)
{
    public string Name => Alias ?? Column;

    public double? BinWidth { get; init; }

    public FactColumn? Fact { get; init; }
}

/// <summary>Per-customer numbers computed from the related orders, for clustering features and member lists.</summary>
public enum CustomerMeasure
{
    OrderCount,
    TotalAmount,
    AverageAmount,
    DaysSinceLastOrder,

    /// <summary>Days from the first order to today: how long the customer has been buying (tenure).</summary>
    DaysSinceFirstOrder,

    /// <summary>Share (0–1) of the customer's spend on orders whose <see cref="FactColumn.Column"/> is one of the values.</summary>
    CategoryShare,

    /// <summary>The date of the customer's first order (in the window): the cohort a customer belongs to.</summary>
    FirstOrderDate,
}

/// <summary>
/// An output column with a customer measure from the related orders (row-by-row specs, or a <see cref="GroupBy.Fact"/>).
/// Customers without orders get 0 orders and 0 spent, and empty averages, days, dates and shares.
/// </summary>
public sealed record FactColumn(string Alias, CustomerMeasure Measure, int? WindowDays = null, string? Column = null, IReadOnlyList<string>? Values = null);

/// <summary>Sort by an output column: a selected column, a group-by name or a measure alias.</summary>
public sealed record SortBy(string Name, bool Descending = false);

/// <summary>
/// The one description of a question to the warehouse: which dataset, which rows (a rule tree), which columns or which
/// groups and measures, in what order, how many. Segment counts, previews, exports, tiles and clustering inputs are all
/// QuerySpecs; no feature writes SQL of its own.
/// </summary>
public sealed record QuerySpec
{
    public required int DatasetId { get; init; }

    public RuleGroup? Filter { get; init; }

    /// <summary>Columns to return row by row (when there are no measures).</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    public IReadOnlyList<Measure> Measures { get; init; } = [];

    /// <summary>Customer measures from the related orders, returned after <see cref="Columns"/> (when there are no measures).</summary>
    public IReadOnlyList<FactColumn> Facts { get; init; } = [];

    public IReadOnlyList<GroupBy> GroupBy { get; init; } = [];

    public IReadOnlyList<SortBy> Sort { get; init; } = [];

    /// <summary>Return each customer once (the first of their rows, by the dataset's order), for member lists.</summary>
    public bool DistinctCustomers { get; init; }

    public int? Limit { get; init; }

    public int Offset { get; init; }
}
