using Microsoft.EntityFrameworkCore;

namespace SegmentPortal.Core.Jobs;

/// <summary>
/// The job a scope runs for (set by <see cref="JobRunner"/>), so work can record its own success in the same metadata
/// transaction as its result; then a process killed right after that transaction cannot leave the job "interrupted"
/// while its result is there.
/// </summary>
internal sealed class CurrentJob(JobQueue queue, Persistence.IPortalDbFactory dbFactory)
{
    public Guid? Id { get; private set; }

    /// <summary>
    /// Sets the job this scope runs for and makes sure its record is in the store before the work starts, so the work's
    /// own transaction (<see cref="RecordSuccessAsync"/>) only ever updates it: <see cref="JobJournal"/> writes records
    /// off the job's thread, and a short job could otherwise find no record, add one, and fail on the row the journal
    /// added meanwhile.
    /// </summary>
    public async Task BeginAsync(Guid id, CancellationToken cancellationToken)
    {
        Id = id;
        if (queue.Get(id) is not { } job)
        {
            return;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        if (await db.JobRecords.AnyAsync(r => r.Id == id, cancellationToken))
        {
            return;
        }
        var record = new JobRecord { Id = id, Kind = job.Kind, Title = job.Title, Key = job.Key };
        record.CopyFrom(job);
        db.JobRecords.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The journal added it first: the row is there either way.
            await using var check = await dbFactory.CreateAsync(cancellationToken);
            if (!await check.JobRecords.AnyAsync(r => r.Id == id, cancellationToken))
            {
                throw;
            }
        }
    }

    /// <summary>Adds to <paramref name="db"/>'s pending changes: this job succeeded with <paramref name="message"/>.</summary>
    public async Task RecordSuccessAsync(Persistence.IPortalDb db, string message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (Id is not { } id || queue.Get(id) is not { } job)
        {
            return;
        }
        var record = await db.JobRecords.FindAsync([id], cancellationToken);
        if (record is null)
        {
            record = new JobRecord { Id = id, Kind = job.Kind, Title = job.Title, Key = job.Key };
            db.JobRecords.Add(record);
        }
        record.CopyFrom(job with { Status = JobStatus.Succeeded, Progress = 1, Message = message, Error = null, FinishedAt = now });
    }
}
