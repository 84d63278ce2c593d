using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Jobs;

/// <summary>
/// Retry on the Jobs page: starts an interrupted or failed job again through its kind's <see cref="IJobRetry"/>, as
/// the current user. Only the person who started the job or an Admin may, and the kind's own checks apply again
/// (the user must still be allowed to import into that dataset, read it, and so on).
/// </summary>
public sealed class JobRetryService(ICurrentUser currentUser, IPortalDbFactory dbFactory, IEnumerable<IJobRetry> handlers, JobQueue queue)
{
    public async Task<JobSnapshot> RetryAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        JobSnapshot? job;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            job = (await db.JobRecords.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken))?.ToSnapshot();
        }
        job ??= queue.Get(jobId);
        if (job is null)
        {
            throw new PortalException("That job is no longer listed.");
        }
        if (job.RequestedById != user.UserId() && !user.IsInRole(Roles.Admin))
        {
            throw new PermissionDeniedException("Only the person who started this job or an Admin can retry it.");
        }
        if (!job.CanRetry)
        {
            throw new PortalException(job.IsActive ? "This job is still running." : "Only an interrupted or failed job can be retried.");
        }
        var handler = handlers.FirstOrDefault(h => h.Kind == job.Kind)
            ?? throw new PortalException("This kind of job cannot be retried; start it again.");
        return await handler.RetryAsync(job.RetryTarget!, cancellationToken);
    }
}
