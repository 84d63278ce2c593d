using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Jobs;

/// <summary>
/// A module's own repair after a stopped process, run by <see cref="JobRecovery.RecoverAsync"/> before any job runs
/// again: it changes the records its module left unfinished in <paramref name="db"/> (saved by JobRecovery with the
/// rest) and returns how many it put right. Registered by the module that owns the records (as
/// <see cref="IJobHandler{TPayload}"/> is), so Jobs need not know them.
/// </summary>
public interface IJobRecoveryStep
{
    /// <summary>Marks this module's unfinished records; returns how many (reported as interrupted runs).</summary>
    Task<int> RecoverAsync(IPortalDb db, DateTimeOffset now, CancellationToken cancellationToken);
}
