using System.Security.Claims;

namespace SegmentPortal.Core.Jobs;

public enum JobStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>How far a job is: a fraction from 0 to 1 (null when unknown) and a line for people.</summary>
public readonly record struct JobProgress(double? Fraction, string Message);

/// <summary>The work itself. It runs in its own DI scope, as the user who asked for it.</summary>
public delegate Task JobWork(IServiceProvider services, IProgress<JobProgress> progress, CancellationToken cancellationToken);

/// <summary>What to run. Jobs with the same <see cref="Key"/> are not started twice while one is queued or running.</summary>
public sealed record JobRequest(string Kind, string Title, string Key, ClaimsPrincipal RequestedBy, JobWork Work);

/// <summary>A moment in a job's life, safe to hand to any thread or component.</summary>
public sealed record JobSnapshot(
    Guid Id,
    string Kind,
    string Title,
    string Key,
    string? RequestedBy,
    JobStatus Status,
    double? Progress,
    string Message,
    string? Error,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    public bool IsActive => Status is JobStatus.Queued or JobStatus.Running;
}

