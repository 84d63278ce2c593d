using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>A training job: the churn run to train.</summary>
public sealed record ChurnTraining(int RunId);

/// <summary>A job scoring a completed run's customers again with its saved model (after the data changed).</summary>
public sealed record ChurnScoringJobPayload(int RunId);

/// <summary>Does a training job through <see cref="ChurnTrainer"/>.</summary>
internal sealed class ChurnTrainingJob(ChurnTrainer trainer) : IJobHandler<ChurnTraining>
{
    public Task RunAsync(ChurnTraining payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return trainer.TrainAsync(payload.RunId, progress, cancellationToken);
    }
}

/// <summary>Does a scoring job through <see cref="ChurnTrainer"/>.</summary>
internal sealed class ChurnScoringJob(ChurnTrainer trainer) : IJobHandler<ChurnScoringJobPayload>
{
    public Task RunAsync(ChurnScoringJobPayload payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return trainer.RescoreAsync(payload.RunId, cancellationToken);
    }
}

/// <summary>
/// After a stop, churn runs still "running" fail with <see cref="JobSnapshot.InterruptedMessage"/>, so they can be
/// deleted or retried (counted as <see cref="RecoveryReport.InterruptedRuns"/>).
/// </summary>
internal sealed class ChurnRecoveryStep : IJobRecoveryStep
{
    public async Task<RecoveryReport> RecoverAsync(IPortalDb db, IReadOnlyList<JobRecord> interruptedJobs, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var runs = await db.ChurnRuns.Where(r => r.Status == ChurnRunStatus.Running).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            run.Status = ChurnRunStatus.Failed;
            run.Error = JobSnapshot.InterruptedMessage + ".";
            run.CompletedAt = now;
        }
        return RecoveryReport.None with { InterruptedRuns = runs.Count };
    }
}

/// <summary>Retries interrupted or failed churn runs through <see cref="ChurnService.RetryAsync"/>.</summary>
public sealed class ChurnJobRetry(ChurnService churn, JobQueue jobs) : IJobRetry
{
    public string Kind => ChurnService.JobKind;

    public async Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken)
    {
        var runId = int.Parse(target, System.Globalization.CultureInfo.InvariantCulture);
        await churn.RetryAsync(runId, cancellationToken);
        return jobs.Latest(ChurnService.JobKey(runId)) ?? throw new PortalException("The run could not be queued.");
    }
}

/// <summary>Retries an interrupted or failed scoring job through <see cref="ChurnService.RetryRescoreAsync"/>.</summary>
public sealed class ChurnScoreJobRetry(ChurnService churn) : IJobRetry
{
    public string Kind => ChurnService.ScoreJobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) =>
        churn.RetryRescoreAsync(int.Parse(target, System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
}
