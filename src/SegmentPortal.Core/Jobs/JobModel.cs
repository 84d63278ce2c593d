using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;

namespace SegmentPortal.Core.Jobs;

public enum JobStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,

    /// <summary>Was queued or running when the portal stopped (a deploy, a crash); it may be retried.</summary>
    Interrupted,
}

/// <summary>How far a job is: a fraction from 0 to 1 (null when unknown) and a line for people.</summary>
public readonly record struct JobProgress(double? Fraction, string Message);

/// <summary>
/// The work as the <see cref="JobRunner"/> calls it: in the job's own DI scope, as the user who asked for it. The
/// portal's jobs do not write one: they are queued with <see cref="JobRequest.For{TPayload}"/> and done by their
/// kind's <see cref="IJobHandler{TPayload}"/>.
/// </summary>
public delegate Task JobWork(IServiceProvider services, IProgress<JobProgress> progress, CancellationToken cancellationToken);

/// <summary>
/// Does one kind of job, given what it was queued with (the run to train, the files to import…). Registered in DI
/// (scoped) by the module that owns the work; the runner resolves it in the job's own scope, as the user who asked, so
/// it receives its services through its constructor like any other.
/// </summary>
internal interface IJobHandler<in TPayload>
    where TPayload : notnull
{
    Task RunAsync(TPayload payload, IProgress<JobProgress> progress, CancellationToken cancellationToken);
}

/// <summary>
/// What to run. Jobs with the same <see cref="Key"/> are not started twice while one is queued or running.
/// <see cref="RetryTarget"/> is what the kind's <see cref="IJobRetry"/> needs to start the work again after the
/// portal restarted (an upload, a dataset, a run, as text); null when the job cannot be retried.
/// </summary>
public sealed record JobRequest(string Kind, string Title, string Key, ClaimsPrincipal RequestedBy, JobWork Work, string? RetryTarget = null)
{
    /// <summary>
    /// A job done by the <see cref="IJobHandler{TPayload}"/> registered for <typeparamref name="TPayload"/>, given
    /// <paramref name="payload"/>.
    /// </summary>
    internal static JobRequest For<TPayload>(
        string kind, string title, string key, ClaimsPrincipal requestedBy, TPayload payload, string? retryTarget = null)
        where TPayload : notnull
    {
        ArgumentNullException.ThrowIfNull(payload);
        return new(kind, title, key, requestedBy,
            (services, progress, cancellationToken) => services.GetRequiredService<IJobHandler<TPayload>>().RunAsync(payload, progress, cancellationToken),
            retryTarget);
    }
}

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
    DateTimeOffset? FinishedAt,
    string? RequestedById = null,
    string? RetryTarget = null)
{
    /// <summary>The message of a job the portal's restart stopped.</summary>
    public const string InterruptedMessage = "Interrupted (the portal restarted)";

    public bool IsActive => Status is JobStatus.Queued or JobStatus.Running;

    /// <summary>Whether a Retry makes sense: it was interrupted or failed and its kind knows how to start it again.</summary>
    public bool CanRetry => Status is JobStatus.Interrupted or JobStatus.Failed && RetryTarget is not null;
}

/// <summary>
/// Starts a job of one kind again from its <see cref="JobRequest.RetryTarget"/>, as the current user, with the same
/// permission checks as starting it the first time.
/// </summary>
public interface IJobRetry
{
    /// <summary>The <see cref="JobRequest.Kind"/> this handler retries.</summary>
    string Kind { get; }

    Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken);
}

