using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>Where a feature's numbers come from: a number field of the customers (columns, RFM values) or a measure of their orders.</summary>
public enum FeatureSource
{
    Field,
    Orders,
}

/// <summary>One clustering feature as the user chose it.</summary>
/// <param name="Label">The name shown in charts and cluster names.</param>
/// <param name="Field">For <see cref="FeatureSource.Field"/>: the customer field.</param>
/// <param name="Measure">For <see cref="FeatureSource.Orders"/>: the customer measure.</param>
/// <param name="Column">For a category share: the order column; <paramref name="Value"/> is the category.</param>
public sealed record ClusteringFeature(
    string Label,
    FeatureSource Source,
    string? Field = null,
    CustomerMeasure? Measure = null,
    string? Column = null,
    string? Value = null,
    FeatureTransform Transform = FeatureTransform.None);

/// <summary>What to cluster and how.</summary>
public sealed record ClusteringRequest
{
    public required string Name { get; init; }

    public required int DatasetId { get; init; }

    /// <summary>Cluster only this segment's members.</summary>
    public int? SegmentId { get; init; }

    public required IReadOnlyList<ClusteringFeature> Features { get; init; }

    public FeatureScaling Scaling { get; init; } = FeatureScaling.ZScore;

    public MissingValues Missing { get; init; } = MissingValues.ImputeMedian;

    /// <summary>The number of clusters; null to try <see cref="MinK"/>..<see cref="MaxK"/> and take the suggestion.</summary>
    public int? K { get; init; }

    public int MinK { get; init; } = 2;

    public int MaxK { get; init; } = 10;

    public int Seed { get; init; } = 42;
}

/// <summary>A feature the page offers for a dataset, with its group and whether its values are usually skewed (money, counts).</summary>
public sealed record FeatureOption(ClusteringFeature Feature, string Group, bool Skewed);

/// <summary>A dataset (or a segment of one) that can be clustered.</summary>
public sealed record ClusteringInput(int DatasetId, string Name, int? SegmentId = null);

public sealed record ClusteringRunSummary(
    int Id, string Name, string Input, int? K, ClusteringRunStatus Status, long Customers, DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt, string? Error, string? Owner)
{
    /// <summary>The run was computed over data the user sees differently: its figures (the customer count too) are withheld.</summary>
    public bool Withheld { get; init; }
}

/// <summary>How many customers the input had, how many were clustered, and the missing values handled.</summary>
public sealed record ClusteringCounts(int Customers, int Clustered, int Dropped, IReadOnlyList<int> Imputed);

/// <summary>A run as the results page shows it.</summary>
public sealed record ClusteringRunView(
    ClusteringRunSummary Summary,
    ClusteringRequest Request,
    KRangeEvaluation? Evaluation,
    ClusterMetrics? Metrics,
    ClusterExplanation? Explanation,
    ClusteringCounts? Counts,
    IReadOnlyList<string> Names,
    string ClusterField,
    string ClusterNameField)
{
    public IReadOnlyList<FeatureSpec> Specs => Request.Features.Select(ClusteringService.SpecOf).ToList();

    /// <summary>Why the run's figures are not shown (<see cref="ClusteringService.WithheldNotice"/>); null when they are.</summary>
    public string? Withheld { get; init; }

    /// <summary>Whether the user may rename its clusters (the run's owner, the dataset's owner or an Admin).</summary>
    public bool CanChange { get; init; }
}
