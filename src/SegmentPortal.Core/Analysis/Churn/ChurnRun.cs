namespace SegmentPortal.Core.Analysis.Churn;

public enum ChurnRunStatus
{
    Running = 0,
    Completed = 1,
    Failed = 2,
    Cancelled = 3,
}

/// <summary>
/// One churn-risk run: the customers' dataset, the settings (horizon, cut-offs, threshold, attributes, lifecycle
/// thresholds) as the user chose them, the validation metrics on the later cut-off, the saved model that scores the
/// customers as of the last day, and the owner. Runs are kept as a history like clustering runs; a completed run's
/// scores and lifecycle stages are customer fields, scored again with the saved model after the data refreshes.
/// </summary>
public class ChurnRun
{
    public int Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The customers' dataset; its orders are the related transactions the query layer finds for it.</summary>
    public int DatasetId { get; set; }

    /// <summary>The <see cref="ChurnRequest"/> as the user sent it (blank settings are worked out from the data), as JSON.</summary>
    public required string SettingsJson { get; set; }

    public ChurnRunStatus Status { get; set; }

    public string? Error { get; set; }

    /// <summary>The validation on the later cut-off (<see cref="ChurnMetrics"/>), as JSON.</summary>
    public string? MetricsJson { get; set; }

    /// <summary>The settings used, the feature set, today's score distribution and lifecycle counts (<see cref="StoredChurnResult"/>), as JSON.</summary>
    public string? ResultJson { get; set; }

    /// <summary>The ML.NET model that scores customers as of the last day, relative to the data folder.</summary>
    public string? ModelPath { get; set; }

    /// <summary>How many customers were scored (those with at least one order).</summary>
    public long Customers { get; set; }

    public string? OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>When the saved model last scored the customers (training, or a refresh of the data).</summary>
    public DateTimeOffset? ScoredAt { get; set; }
}

/// <summary>A run's stored result: what was used, and what today's scoring found.</summary>
/// <param name="ComputedOver">The scorer's <see cref="Access.Authorizer.ViewKeyAsync"/> of the inputs; null when they saw all of them.</param>
internal sealed record StoredChurnResult(ChurnSettings Settings, ChurnFeatureSet Features, ChurnScoring Scoring, string? ComputedOver = null);
