using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>A lifetime-value job: the analysis to compute.</summary>
public sealed record LifetimeComputation(int RunId);

/// <summary>Does a lifetime-value job through <see cref="LifetimeAnalyzer"/>.</summary>
internal sealed class LifetimeComputationJob(LifetimeAnalyzer analyzer) : IJobHandler<LifetimeComputation>
{
    public Task RunAsync(LifetimeComputation payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return analyzer.RunAsync(payload.RunId, progress, cancellationToken);
    }
}

/// <summary>After a stop, analyses still "running" fail with <see cref="JobSnapshot.InterruptedMessage"/>, so they can be run again.</summary>
internal sealed class LifetimeRecoveryStep : IJobRecoveryStep
{
    public async Task<RecoveryReport> RecoverAsync(IPortalDb db, IReadOnlyList<JobRecord> interruptedJobs, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var runs = await db.LifetimeRuns.Where(r => r.Status == LifetimeRunStatus.Running).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            run.Status = LifetimeRunStatus.Failed;
            run.Error = JobSnapshot.InterruptedMessage + ".";
        }
        return RecoveryReport.None with { InterruptedRuns = runs.Count };
    }
}
