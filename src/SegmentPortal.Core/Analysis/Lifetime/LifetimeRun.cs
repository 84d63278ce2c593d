namespace SegmentPortal.Core.Analysis.Lifetime;

public enum LifetimeRunStatus
{
    Running = 0,
    Completed = 1,
    Failed = 2,
    Cancelled = 3,
}

/// <summary>
/// The lifetime-value analysis of a transaction dataset: its settings, the state of its last run and its result. One per
/// dataset, like RFM; running again replaces the result, and the per-customer predictions become customer fields.
/// </summary>
public class LifetimeRun
{
    public int Id { get; set; }

    /// <summary>The transaction dataset (Customer ID, date and amount roles).</summary>
    public int DatasetId { get; set; }

    /// <summary>The <see cref="LifetimeSettings"/>, as JSON.</summary>
    public required string SettingsJson { get; set; }

    public LifetimeRunStatus Status { get; set; }

    public string? Error { get; set; }

    /// <summary>The <see cref="LifetimeResult"/> of the last completed run, as JSON; kept while a new run works.</summary>
    public string? ResultJson { get; set; }

    public long Customers { get; set; }

    public string? OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? ComputedAt { get; set; }
}
