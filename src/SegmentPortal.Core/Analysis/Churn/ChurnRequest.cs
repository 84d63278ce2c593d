namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>
/// What to model. A customer "churns" after a cut-off date when they place no order in the <see cref="HorizonDays"/>
/// days after it. Blank settings are worked out from the data (<see cref="ChurnDefaults"/>).
/// </summary>
public sealed record ChurnRequest
{
    public required string Name { get; init; }

    /// <summary>The customers' dataset (with a Customer ID and related orders).</summary>
    public required int DatasetId { get; init; }

    /// <summary>D: the days after a cut-off in which a customer who still buys orders again; null for the 90th percentile of the gaps between purchases.</summary>
    public int? HorizonDays { get; init; }

    /// <summary>The later cut-off the model is tested on; null for the last order day − D.</summary>
    public DateOnly? TestCutoff { get; init; }

    /// <summary>The earlier cut-off the model is trained on; null for the test cut-off − D.</summary>
    public DateOnly? TrainCutoff { get; init; }

    /// <summary>A customer whose score is at least this counts as "will churn" for precision and recall, and as high risk.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Number columns of the customers' dataset used as features as they are today (they should not change over time: age, region code).</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];

    /// <summary>The lifecycle thresholds; null to derive them from the gaps between purchases.</summary>
    public LifecycleThresholds? Lifecycle { get; init; }

    public int Seed { get; init; } = 42;
}

/// <summary>The settings a run used: the request's, with the blanks worked out from the data.</summary>
public sealed record ChurnSettings(int HorizonDays, DateOnly TrainCutoff, DateOnly TestCutoff, DateOnly LastDay, double Threshold, LifecycleThresholds Lifecycle);

/// <summary>What the data suggests for a dataset: the last order day, D, the cut-offs and the lifecycle thresholds.</summary>
/// <param name="MedianGap">The typical number of days between two purchases of the same customer.</param>
/// <param name="Gap90">The 90th percentile of those gaps (the suggested D).</param>
public sealed record ChurnDefaults(DateOnly FirstDay, DateOnly LastDay, int HorizonDays, DateOnly TrainCutoff, DateOnly TestCutoff, int MedianGap, int Gap90, LifecycleThresholds Lifecycle);

/// <summary>The features a model was trained with: which order measures, category shares and attributes, in order.</summary>
/// <param name="HasAmount">The orders have an amount: spend features are in.</param>
/// <param name="CategoryColumn">The order column whose <paramref name="Categories"/> give the share features.</param>
/// <param name="AttributeFills">The value that stands for a missing attribute (its median at training), per attribute.</param>
public sealed record ChurnFeatureSet(
    bool HasAmount,
    string? CategoryColumn,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> Attributes,
    IReadOnlyList<double> AttributeFills,
    int HorizonDays)
{
    /// <summary>The features' names, in the model's order.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string>
            {
                ChurnEngine.DaysSinceLastOrder, "Orders", $"Orders in the last {HorizonDays} days", "Tenure (days since first order)",
                "Average days between orders", "Days between the last two orders",
            };
            if (HasAmount)
            {
                names.AddRange(["Total spent", "Average order value", $"Spent in the last {HorizonDays} days"]);
            }
            names.AddRange(Categories.Select(c => HasAmount ? $"Share of spend on {c}" : $"Share of orders in {c}"));
            names.AddRange(Attributes);
            return names;
        }
    }
}

/// <summary>One decile of the test customers by predicted risk: the mean prediction against the share that did churn.</summary>
public sealed record CalibrationBin(int Customers, double MeanPredicted, double ActualRate);

/// <summary>How much the test AUC falls when one feature's values are shuffled among the customers (permutation importance).</summary>
/// <param name="Direction">+1 when customers with higher values get higher risk on average, −1 when lower, 0 when no clear way.</param>
public sealed record FeatureImportance(string Feature, double AucDrop, int Direction);

/// <summary>
/// The validation: trained on the earlier cut-off, tested on the later one (customers with at least one order by each).
/// </summary>
public sealed record ChurnMetrics(
    int TrainCustomers,
    double TrainChurnRate,
    int TestCustomers,
    double TestChurnRate,
    double Auc,
    double TrainAuc,
    double Threshold,
    double? Precision,
    double Recall,
    int PredictedChurners,
    IReadOnlyList<CalibrationBin> Calibration,
    IReadOnlyList<FeatureImportance> Importance,
    IReadOnlyList<string> Explanation);

/// <summary>Today's scoring: how many customers got a score, the distribution (ten bins of 0.1), the bands and the lifecycle stages.</summary>
public sealed record ChurnScoring(DateOnly AsOf, int Customers, int Scored, IReadOnlyList<int> Histogram, IReadOnlyDictionary<string, int> Bands, IReadOnlyDictionary<string, int> Lifecycle);

/// <summary>A dataset that can be modelled: it has a Customer ID and related orders.</summary>
public sealed record ChurnInput(int DatasetId, string Name);

public sealed record ChurnRunSummary(
    int Id, string Name, string Dataset, ChurnRunStatus Status, long Customers, double? Auc, DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt, string? Error, string? Owner)
{
    /// <summary>The run was computed over data the user sees differently: its figures are withheld.</summary>
    public bool Withheld { get; init; }
}

/// <summary>A run as its page shows it; the figures are null when withheld or not finished.</summary>
public sealed record ChurnRunView(
    ChurnRunSummary Summary,
    ChurnRequest Request,
    ChurnSettings? Settings,
    ChurnMetrics? Metrics,
    ChurnScoring? Scoring,
    IReadOnlyList<string> Features,
    string RiskField,
    string BandField,
    string LifecycleField)
{
    /// <summary>Why the figures are not shown (<see cref="ChurnService.WithheldNotice"/>); null when they are.</summary>
    public string? Withheld { get; init; }

    /// <summary>The user may score again or delete it (the run's owner, the dataset's owner or an Admin).</summary>
    public bool CanChange { get; init; }
}
