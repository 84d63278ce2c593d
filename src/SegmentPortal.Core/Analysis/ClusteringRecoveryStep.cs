using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Analysis;

/// <summary>
/// After a stop, clustering runs still "running" fail with <see cref="JobSnapshot.InterruptedMessage"/>, so they can
/// be deleted or retried (counted as <see cref="RecoveryReport.InterruptedRuns"/>).
/// </summary>
internal sealed class ClusteringRecoveryStep : IJobRecoveryStep
{
    public async Task<RecoveryReport> RecoverAsync(IPortalDb db, IReadOnlyList<JobRecord> interruptedJobs, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var runs = await db.ClusteringRuns.Where(r => r.Status == ClusteringRunStatus.Running).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            run.Status = ClusteringRunStatus.Failed;
            run.Error = JobSnapshot.InterruptedMessage + ".";
            run.CompletedAt = now;
        }
        return RecoveryReport.None with { InterruptedRuns = runs.Count };
    }
}
