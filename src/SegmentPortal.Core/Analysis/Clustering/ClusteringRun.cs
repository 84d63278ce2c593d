namespace SegmentPortal.Core.Analysis.Clustering;

public enum ClusteringRunStatus
{
    Running = 0,
    Completed = 1,
    Failed = 2,
    Cancelled = 3,
}

/// <summary>
/// One K-means run: its input (dataset or segment), features and settings, the chosen K and seed, metrics, the saved
/// model, and the explanation of its clusters. Runs are kept as a history; a completed run's membership is a customer
/// field and its model can assign customers again when the data refreshes.
/// </summary>
public class ClusteringRun
{
    public int Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The customers' dataset (the segment's dataset when <see cref="SegmentId"/> is set).</summary>
    public int DatasetId { get; set; }

    /// <summary>Cluster only this segment's members; null for every customer of the dataset.</summary>
    public int? SegmentId { get; set; }

    /// <summary>Features, transforms, scaling, missing-value rule, K or the automatic range, seed, as JSON.</summary>
    public required string SettingsJson { get; set; }

    public int? K { get; set; }

    public int Seed { get; set; }

    public ClusteringRunStatus Status { get; set; }

    public string? Error { get; set; }

    /// <summary>Per-K metrics and the suggestion (automatic K), and the chosen K's metrics, as JSON.</summary>
    public string? MetricsJson { get; set; }

    /// <summary>Cluster profiles, distributions, projection, rules and names, as JSON.</summary>
    public string? ResultJson { get; set; }

    /// <summary>The model file (cluster centres and feature preparation; an ML.NET model in runs saved before format version 2), relative to the data folder.</summary>
    public string? ModelPath { get; set; }

    public long Customers { get; set; }

    public string? OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>When the saved model last assigned the customers (training, or a refresh of the data).</summary>
    public DateTimeOffset? AssignedAt { get; set; }
}

/// <summary>A run's stored metrics (its <see cref="ClusteringRun.MetricsJson"/>): the automatic-K evaluation, if any, and the trained K's.</summary>
internal sealed record StoredMetrics(KRangeEvaluation? Evaluation, ClusterMetrics Metrics);

/// <summary>A run's stored result (its <see cref="ClusteringRun.ResultJson"/>): the explanation, the counts and the cluster names.</summary>
/// <param name="ComputedOver">The runner's <see cref="Access.Authorizer.ViewKeyAsync"/> of the inputs; null when they saw all of them.</param>
internal sealed record StoredResult(ClusterExplanation Explanation, ClusteringCounts Counts, IReadOnlyList<string> Names, string? ComputedOver = null);
