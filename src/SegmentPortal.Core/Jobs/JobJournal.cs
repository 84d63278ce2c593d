using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Jobs;

/// <summary>
/// Writes every job's state to the metadata store (<see cref="JobRecord"/>) as it changes: state changes at once,
/// progress at most once a second per job. Writes happen off the job's thread, in order, newest state winning.
/// </summary>
internal sealed class JobJournal : BackgroundService
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    private readonly Channel<JobSnapshot> _changes = Channel.CreateUnbounded<JobSnapshot>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<Guid, (JobStatus Status, long Ticks)> _lastWritten = [];
    private readonly IPortalDbFactory _dbFactory;
    private readonly ILogger<JobJournal> _logger;

    public JobJournal(JobQueue queue, IPortalDbFactory dbFactory, ILogger<JobJournal> logger)
    {
        _dbFactory = dbFactory;
        _logger = logger;
        queue.Changed += job => _changes.Writer.TryWrite(job);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteAvailableAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is left is written below.
        }
        await WriteAvailableAsync(CancellationToken.None);
    }

    private async Task WriteAvailableAsync(CancellationToken cancellationToken)
    {
        var latest = new Dictionary<Guid, JobSnapshot>();
        while (_changes.Reader.TryRead(out var job))
        {
            latest[job.Id] = job;
        }
        var now = Environment.TickCount64;
        var due = latest.Values.Where(job => !_lastWritten.TryGetValue(job.Id, out var last) || last.Status != job.Status
            || now - last.Ticks >= ProgressInterval.TotalMilliseconds).ToList();
        if (due.Count == 0)
        {
            return;
        }
        try
        {
            await using var db = await _dbFactory.CreateAsync(cancellationToken);
            var ids = due.Select(j => j.Id).ToList();
            var records = await db.JobRecords.Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
            foreach (var job in due)
            {
                if (!records.TryGetValue(job.Id, out var record))
                {
                    record = new JobRecord { Id = job.Id, Kind = job.Kind, Title = job.Title, Key = job.Key };
                    db.JobRecords.Add(record);
                }
                if (job.IsActive && record.Status is not (JobStatus.Queued or JobStatus.Running))
                {
                    // The work recorded its own end already (see CurrentJob); a progress line written late must not undo it.
                    continue;
                }
                record.CopyFrom(job);
            }
            await db.SaveChangesAsync(cancellationToken);
            foreach (var job in due)
            {
                if (job.IsActive)
                {
                    _lastWritten[job.Id] = (job.Status, now);
                }
                else
                {
                    _lastWritten.Remove(job.Id);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The job itself goes on; its record catches up with the next change.
            _logger.LogWarning(ex, "Job states could not be recorded");
        }
    }
}
