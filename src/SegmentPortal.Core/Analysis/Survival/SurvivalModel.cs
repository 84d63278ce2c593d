namespace SegmentPortal.Core.Analysis.Survival;

/// <summary>What ends a customer's follow-up.</summary>
public enum SurvivalEvent
{
    /// <summary>Lost: no purchase for D days (see <see cref="SurvivalFollowUp.Churn"/>).</summary>
    Churn,

    /// <summary>A second purchase day after the first.</summary>
    SecondPurchase,
}

public enum SurvivalGroupingKind
{
    /// <summary>All customers in one curve.</summary>
    None,

    /// <summary>A dimension of the transactions, of a related customer list, or an analysis field (RFM group, cluster).</summary>
    Field,

    /// <summary>A segment's members against everyone else.</summary>
    Segment,

    /// <summary>The month of the customer's first purchase.</summary>
    CohortMonth,
}

/// <summary>
/// How customers are split into curves. <see cref="DatasetId"/> is the dataset a <see cref="Field"/> is on: the
/// transactions (with their analysis fields) or a customer list related to them by the customer key.
/// </summary>
public sealed record SurvivalGrouping(SurvivalGroupingKind Kind, string? Field = null, int? DatasetId = null, int? SegmentId = null)
{
    public static readonly SurvivalGrouping None = new(SurvivalGroupingKind.None);
}

/// <summary>A grouping the page offers, with its label.</summary>
public sealed record SurvivalGroupingOption(SurvivalGrouping Grouping, string Label, string Source);

/// <summary>A dataset survival can run on: it has a Customer ID and a date role the user may see.</summary>
public sealed record SurvivalSource(int DatasetId, string Name, string CustomerKey, string Date);

/// <summary>One analysis to run.</summary>
public sealed record SurvivalRequest
{
    public required int DatasetId { get; init; }

    /// <summary>Which rows count (a rule tree over the transactions, as JSON); null for all.</summary>
    public string? RowsJson { get; init; }

    public SurvivalEvent Event { get; init; } = SurvivalEvent.Churn;

    /// <summary>D for <see cref="SurvivalEvent.Churn"/>; null for the default from the data (<see cref="SurvivalFollowUp.DefaultChurnDays"/>).</summary>
    public int? ChurnDays { get; init; }

    /// <summary>The last day watched; null for the last purchase day in the data.</summary>
    public DateOnly? EndDate { get; init; }

    public SurvivalGrouping Grouping { get; init; } = SurvivalGrouping.None;
}

/// <summary>One group's curve and figures. <see cref="Noun"/> names its customers in a sentence ("North customers").</summary>
public sealed record SurvivalGroupResult(string Name, string Noun, int Customers, int Events, int Censored, double? MedianDays, KaplanMeierCurve Curve, LogRankGroup? LogRank);

/// <summary>A finished analysis as the page shows it.</summary>
public sealed record SurvivalResult(
    SurvivalRequest Request,
    string DatasetName,
    string GroupingLabel,
    int? ChurnDays,
    bool ChurnDaysFromData,
    DateOnly EndDate,
    int Customers,
    IReadOnlyList<SurvivalGroupResult> Groups,
    LogRankTest? LogRank,
    string Sentence,
    DateTimeOffset ComputedAt)
{
    /// <summary>Groups merged into "Other" because there were more than <see cref="SurvivalService.MaxGroups"/>.</summary>
    public int MergedGroups { get; init; }
}

/// <summary>The current user's last analysis of a dataset, or why there is none to show.</summary>
public sealed record SurvivalView(SurvivalResult? Result, string? Notice);
