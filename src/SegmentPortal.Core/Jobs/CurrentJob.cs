namespace SegmentPortal.Core.Jobs;

/// <summary>
/// The job a scope runs for (set by <see cref="JobRunner"/>), so work can record its own success in the same metadata
/// transaction as its result; then a process killed right after that transaction cannot leave the job "interrupted"
/// while its result is there.
/// </summary>
internal sealed class CurrentJob(JobQueue queue)
{
    public Guid? Id { get; set; }

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
