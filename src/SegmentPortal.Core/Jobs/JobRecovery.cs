using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Jobs;

/// <summary>What <see cref="JobRecovery.RecoverAsync"/> found and put right.</summary>
public sealed record RecoveryReport(int InterruptedJobs, int InterruptedRuns, int RemovedImports, int InterruptedRefreshes, int DroppedTables, int CompletedRefreshes = 0)
{
    /// <summary>Nothing found: the counts a step starts from.</summary>
    public static readonly RecoveryReport None = new(0, 0, 0, 0, 0, 0);

    /// <summary>The counts of both reports added up.</summary>
    public static RecoveryReport operator +(RecoveryReport left, RecoveryReport right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.InterruptedJobs + right.InterruptedJobs, left.InterruptedRuns + right.InterruptedRuns, left.RemovedImports + right.RemovedImports,
            left.InterruptedRefreshes + right.InterruptedRefreshes, left.DroppedTables + right.DroppedTables, left.CompletedRefreshes + right.CompletedRefreshes);
    }
}

/// <summary>
/// Puts right what a stopped process (a deploy, a crash, <c>kill -9</c>) left behind, before any job runs again:
/// jobs that were queued or running become <see cref="JobStatus.Interrupted"/> (with Retry where their kind allows);
/// each module's <see cref="IJobRecoveryStep"/> puts its own work right: clustering runs still "running" fail, so they
/// can be deleted or retried (Analysis); a first import that never finished is removed with its tables, so no half
/// dataset is visible or queryable, an unfinished refresh is recorded as failed and its staging tables are dropped, so
/// the previous version stays live, and a scheduled refresh the restart stopped is due again at once (Import). Recent
/// jobs are shown again on the Jobs page.
/// </summary>
public sealed class JobRecovery(
    IPortalDbFactory dbFactory, JobQueue queue, TimeProvider clock, ILogger<JobRecovery> logger, IEnumerable<IJobRecoveryStep> steps)
{
    /// <summary>How many recorded jobs the Jobs page shows again after a restart.</summary>
    public const int RestoredJobs = 50;

    /// <summary>How many job records the metadata store keeps; older ones are removed on start.</summary>
    public const int KeptJobs = 1_000;

    public async Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);

        var jobs = await db.JobRecords.Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running).ToListAsync(cancellationToken);
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Interrupted;
            job.Message = JobSnapshot.InterruptedMessage;
            job.FinishedAt = now;
        }

        // Each module's own work (clustering runs, imports and refreshes), through the steps the modules register.
        var found = RecoveryReport.None;
        foreach (var step in steps)
        {
            found += await step.RecoverAsync(db, jobs, now, cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken);

        // The journal keeps the newest KeptJobs records; older finished ones go, so the table does not grow for ever.
        var pruned = await db.JobRecords
            .Where(j => db.JobRecords.OrderByDescending(k => k.QueuedAt).ThenBy(k => k.Id).Skip(KeptJobs).Select(k => k.Id).Contains(j.Id))
            .ExecuteDeleteAsync(cancellationToken);
        if (pruned > 0)
        {
            logger.LogInformation("Removed {Count} job records older than the newest {Kept}", pruned, KeptJobs);
        }

        var recent = await db.JobRecords.AsNoTracking().OrderByDescending(j => j.QueuedAt).Take(RestoredJobs).ToListAsync(cancellationToken);
        queue.Restore(recent.Select(j => j.ToSnapshot()));

        var report = found with { InterruptedJobs = jobs.Count(j => j.Status == JobStatus.Interrupted) };
        if (report != RecoveryReport.None)
        {
            logger.LogWarning(
                "The portal stopped with work unfinished: {Jobs} jobs marked interrupted, {Runs} clustering runs failed, {Imports} unfinished first imports removed, {Refreshes} refreshes failed (previous versions kept), {Tables} staging tables dropped, {Completed} refreshes completed (swapped in just before the stop)",
                report.InterruptedJobs, report.InterruptedRuns, report.RemovedImports, report.InterruptedRefreshes, report.DroppedTables, report.CompletedRefreshes);
        }
        return report;
    }
}
