namespace SegmentPortal.Core.Jobs;

/// <summary>
/// A job as the metadata store remembers it, written on every change of state (progress at most once a second), so
/// the Jobs page survives a restart and work the restart stopped can be shown as interrupted and retried.
/// </summary>
public class JobRecord
{
    public Guid Id { get; set; }

    public required string Kind { get; set; }

    public required string Title { get; set; }

    public required string Key { get; set; }

    public string? RequestedById { get; set; }

    public string? RequestedBy { get; set; }

    public JobStatus Status { get; set; }

    public double? Progress { get; set; }

    public string Message { get; set; } = "";

    public string? Error { get; set; }

    /// <summary>What the kind's <see cref="IJobRetry"/> needs to start the work again; null when it cannot be retried.</summary>
    public string? RetryTarget { get; set; }

    public DateTimeOffset QueuedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public JobSnapshot ToSnapshot() => new(Id, Kind, Title, Key, RequestedBy, Status, Progress, Message, Error, QueuedAt, StartedAt, FinishedAt,
        RequestedById, RetryTarget);

    public void CopyFrom(JobSnapshot job)
    {
        Kind = Clip(job.Kind, 64)!;
        Title = Clip(job.Title, 512)!;
        Key = Clip(job.Key, 512)!;
        RequestedById = job.RequestedById;
        RequestedBy = job.RequestedBy;
        Status = job.Status;
        Progress = job.Progress;
        Message = Clip(job.Message, 2000)!;
        Error = Clip(job.Error, 4000);
        RetryTarget = job.RetryTarget;
        QueuedAt = job.QueuedAt;
        StartedAt = job.StartedAt;
        FinishedAt = job.FinishedAt;
    }

    private static string? Clip(string? text, int length) => text is not null && text.Length > length ? text[..(length - 1)] + "…" : text;
}
