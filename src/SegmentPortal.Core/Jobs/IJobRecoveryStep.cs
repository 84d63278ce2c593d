using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Jobs;

/// <summary>
/// A module's own repair after a stopped process, run by <see cref="JobRecovery.RecoverAsync"/> before any job runs
/// again: it puts right what its module left unfinished (records in <paramref name="db"/>, tables in the warehouse) and
/// returns what it put right. Registered by the module that owns that work (as <see cref="IJobHandler{TPayload}"/> is),
/// so Jobs need not know it.
/// </summary>
/// <remarks>
/// Steps work in JobRecovery's <paramref name="db"/>, where the jobs that were queued or running are already marked
/// <see cref="JobStatus.Interrupted"/> (unsaved); a step may mark one of them done when its work did finish, and may save
/// (its own changes and those marks) before it goes on to work outside the metadata store. JobRecovery saves whatever
/// the steps leave unsaved.
/// </remarks>
public interface IJobRecoveryStep
{
    /// <summary>
    /// Puts this module's unfinished work right; returns its counts (JobRecovery counts the interrupted jobs itself, so
    /// <see cref="RecoveryReport.InterruptedJobs"/> of the result is not read).
    /// </summary>
    Task<RecoveryReport> RecoverAsync(IPortalDb db, IReadOnlyList<JobRecord> interruptedJobs, DateTimeOffset now, CancellationToken cancellationToken);
}
