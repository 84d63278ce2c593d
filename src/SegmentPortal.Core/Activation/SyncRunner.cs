using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Activation;

/// <summary>
/// Runs segment syncs. A run is first saved as <see cref="SyncRunStatus.Due"/> (by hand, a refresh of the segment, the
/// schedule or a retry). Running it, as the sync's owner: reads the members through the query layer (their row and
/// column rules; chosen columns checked again), keeps only the segment's stored members and drops its holdout, compares
/// them with the set last delivered successfully (nothing delivered yet: a full sync), hands the change to the
/// destination and — only when the destination took all of it — makes the current members the delivered set. A failed
/// run keeps its error and a retry is made Due after a growing wait; its change is again computed against the last
/// success, so nothing is skipped, and a webhook batch retried keeps its id. A run a stopped process left Running is
/// made Due again at start.
/// </summary>
public sealed class SyncRunner
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IPortalDbFactory _dbFactory;
    private readonly SyncWarehouse _store;
    private readonly SyncSignal _signal;
    private readonly IOptions<SyncOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<SyncRunner> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// A run of the sync (its id) started or finished: a page showing the sync reads it again, as pages do on
    /// <c>JobQueue.Changed</c>. Raised on the runner's thread.
    /// </summary>
    public event Action<int>? RunChanged;

    internal SyncRunner(IServiceScopeFactory scopes, IPortalDbFactory dbFactory, SyncWarehouse store, SyncSignal signal, IOptions<SyncOptions> options, TimeProvider clock, ILogger<SyncRunner> logger)
    {
        _scopes = scopes;
        _dbFactory = dbFactory;
        _store = store;
        _signal = signal;
        _options = options;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Makes a run of the sync Due now (or returns the one already waiting).</summary>
    internal async Task<long> EnqueueAsync(int syncId, SyncTrigger trigger, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var waiting = await db.SyncRuns.AsNoTracking().Where(r => r.SyncId == syncId && r.Status == SyncRunStatus.Due)
            .OrderBy(r => r.Id).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
        if (waiting is { } id)
        {
            if (trigger == SyncTrigger.Manual)
            {
                // "Sync now" does not wait for a retry's backoff.
                await db.SyncRuns.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.DueAt, _clock.GetUtcNow()), cancellationToken);
            }
            _signal.Notify();
            return id;
        }
        var run = new SyncRun { SyncId = syncId, Trigger = trigger, Status = SyncRunStatus.Due, DueAt = _clock.GetUtcNow() };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        _signal.Notify();
        return run.Id;
    }

    /// <summary>
    /// After a segment's refresh: a Due run for each enabled "after each refresh" sync of it — except a sync running now
    /// (its run recounts the segment itself; a change it misses is in the next delta, which is always computed against
    /// the last delivery).
    /// </summary>
    internal async Task AfterSegmentRefreshAsync(int segmentId, CancellationToken cancellationToken)
    {
        List<int> ids;
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            ids = await db.SegmentSyncs.AsNoTracking().Where(s => s.SegmentId == segmentId && s.Enabled && s.Schedule == SyncSchedule.AfterRefresh)
                .Where(s => !db.SyncRuns.Any(r => r.SyncId == s.Id && r.Status == SyncRunStatus.Running))
                .Select(s => s.Id).ToListAsync(cancellationToken);
        }
        foreach (var id in ids)
        {
            await EnqueueAsync(id, SyncTrigger.AfterRefresh, cancellationToken);
        }
    }

    /// <summary>After a refresh of a dataset: a Due run (recounting the segment first) for each "after each refresh" sync of its segments.</summary>
    internal async Task AfterDatasetRefreshAsync(int datasetId, CancellationToken cancellationToken)
    {
        List<int> ids;
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            ids = await (from s in db.SegmentSyncs.AsNoTracking()
                         join g in db.Segments.AsNoTracking() on s.SegmentId equals g.Id
                         where g.DatasetId == datasetId && s.Enabled && s.Schedule == SyncSchedule.AfterRefresh
                         select s.Id).ToListAsync(cancellationToken);
        }
        foreach (var id in ids)
        {
            await EnqueueAsync(id, SyncTrigger.DataRefresh, cancellationToken);
        }
    }

    /// <summary>A Due run for every enabled scheduled sync whose time has come; their next times move on in the same save.</summary>
    public async Task<int> MakeScheduledDueAsync(CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow();
        List<int> ids;
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            var due = await db.SegmentSyncs.Where(s => s.Enabled && s.NextRunAt != null && s.NextRunAt <= now).ToListAsync(cancellationToken);
            foreach (var sync in due)
            {
                sync.NextRunAt = NextRun(sync.Schedule, now);
            }
            await db.SaveChangesAsync(cancellationToken);
            ids = due.Select(s => s.Id).ToList();
        }
        foreach (var id in ids)
        {
            await EnqueueAsync(id, SyncTrigger.Schedule, cancellationToken);
        }
        return ids.Count;
    }

    /// <summary>The next scheduled run after <paramref name="now"/>: the next full hour, or the next day at 00:00 UTC.</summary>
    internal static DateTimeOffset? NextRun(SyncSchedule schedule, DateTimeOffset now)
    {
        var hour = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour), TimeSpan.Zero);
        return schedule switch
        {
            SyncSchedule.Hourly => hour.AddHours(1),
            SyncSchedule.Daily => new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero),
            _ => null,
        };
    }

    /// <summary>At start: every run a stopped process left Running is recorded as interrupted and retried.</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var interrupted = await db.SyncRuns.Where(r => r.Status == SyncRunStatus.Running).ToListAsync(cancellationToken);
        foreach (var run in interrupted)
        {
            run.Status = SyncRunStatus.Failed;
            run.FinishedAt = _clock.GetUtcNow();
            run.Error = "Interrupted: the server stopped during the run. Nothing is lost: the retry sends the change again against the last successful delivery.";
            db.SyncRuns.Add(new SyncRun { SyncId = run.SyncId, Trigger = SyncTrigger.Retry, Status = SyncRunStatus.Due, Attempt = run.Attempt + 1, DueAt = _clock.GetUtcNow() });
        }
        await db.SaveChangesAsync(cancellationToken);
        return interrupted.Count;
    }

    /// <summary>Runs every Due run whose time has come, oldest first; returns how many ran.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken = default)
    {
        var count = 0;
        while (true)
        {
            long? next;
            var now = _clock.GetUtcNow();
            await using (var db = await _dbFactory.CreateAsync(cancellationToken))
            {
                // DueAt is compared in memory: SQLite cannot order or compare DateTimeOffset.
                var due = await db.SyncRuns.AsNoTracking().Where(r => r.Status == SyncRunStatus.Due).Select(r => new { r.Id, r.DueAt }).ToListAsync(cancellationToken);
                next = due.Where(r => r.DueAt <= now).OrderBy(r => r.Id).Select(r => (long?)r.Id).FirstOrDefault();
            }
            if (next is not { } id)
            {
                return count;
            }
            await RunAsync(id, cancellationToken);
            count++;
        }
    }

    /// <summary>Runs one Due run (nothing when it is no longer Due).</summary>
    public async Task RunAsync(long runId, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RunLockedAsync(runId, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RunLockedAsync(long runId, CancellationToken cancellationToken)
    {
        SegmentSync? sync;
        SyncRun? run;
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            run = await db.SyncRuns.SingleOrDefaultAsync(r => r.Id == runId && r.Status == SyncRunStatus.Due, cancellationToken);
            if (run is null)
            {
                return;
            }
            sync = await db.SegmentSyncs.AsNoTracking().SingleOrDefaultAsync(s => s.Id == run.SyncId, cancellationToken);
            run.Status = SyncRunStatus.Running;
            run.StartedAt = _clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
        RunChanged?.Invoke(run.SyncId);
        var started = Stopwatch.GetTimestamp();
        if (sync is null)
        {
            await FinishAsync(run.Id, null, "The sync was deleted.", retry: false, started, cancellationToken);
            return;
        }
        PortalPerson? owner;
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            owner = await db.FindEnabledAsync(sync.OwnerId, cancellationToken);
        }
        if (owner is null)
        {
            await FinishAsync(run.Id, null, "The sync's owner is disabled or removed, so it does not run. Its segment's editors can delete it or make a new one.",
                retry: false, started, cancellationToken);
            return;
        }
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = owner.Principal();
            var outcome = await DeliverAsync(scope.ServiceProvider, sync, run, cancellationToken);
            await FinishAsync(run.Id, outcome, null, retry: false, started, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the run stays Running and is retried at the next start (RecoverAsync).
            throw;
        }
        catch (Exception ex) when (ex is SyncRefusedException or PermissionDeniedException)
        {
            // Not the destination's doing: the sync or its owner's rights must change first.
            await FinishAsync(run.Id, null, ex.Message, retry: false, started, CancellationToken.None);
        }
        catch (PortalException ex)
        {
            await FinishAsync(run.Id, null, ex.Message, retry: true, started, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Sync {SyncId} run {RunId} failed", sync.Id, run.Id);
            await FinishAsync(run.Id, null, $"The run failed unexpectedly ({ex.GetType().Name}: {ex.Message.Split('\n', 2)[0]}); details are in the server log.",
                retry: true, started, CancellationToken.None);
        }
    }

    private async Task<SyncOutcome> DeliverAsync(IServiceProvider services, SegmentSync sync, SyncRun run, CancellationToken cancellationToken)
    {
        var segments = services.GetRequiredService<SegmentService>();
        var (segment, _, canEdit) = await segments.GetAsync(sync.SegmentId, cancellationToken);
        if ((run.Trigger is SyncTrigger.Schedule or SyncTrigger.DataRefresh) && canEdit)
        {
            // A scheduled run, or one after new data, sends the segment as it is now: recounted first, as its owner.
            await segments.RefreshAsync(segment.Id, cancellationToken);
            (segment, _, _) = await segments.GetAsync(sync.SegmentId, cancellationToken);
        }
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            // The stored figures (refresh time, holdout) as saved, whatever the owner's rules withhold on screen.
            var stored = await db.Segments.AsNoTracking().SingleAsync(s => s.Id == segment.Id, cancellationToken);
            segment = stored;
        }
        if (segment.RefreshedAt is null)
        {
            throw new SyncRefusedException("The segment has not been refreshed yet; refresh it, then sync.");
        }
        var names = SyncService.ColumnsOf(sync);
        var (key, columns) = await SyncColumns.CheckAsync(services, segment.DatasetId, names, cancellationToken);
        // Resolved when a run needs one, so that whatever only makes runs due (a segment's refresh) needs no sender.
        var destination = services.GetServices<ISyncDestination>().FirstOrDefault(d => d.Kind == sync.Kind) ?? throw new SyncRefusedException("This kind of destination is not available.");

        await using var warehouse = await _store.OpenAsync(cancellationToken);
        try
        {
            var version = await SyncWarehouse.VersionAsync(warehouse, sync.Id, cancellationToken);
            var full = version == 0;
            await SyncWarehouse.CreateCurrentAsync(warehouse, sync.Id, columns, cancellationToken);
            await ReadMembersAsync(services, warehouse, sync, segment, key, columns, cancellationToken);
            var change = await SyncWarehouse.CompareAsync(warehouse, sync.Id, segment.Id, full, fingerprint: sync.Kind == SyncDestinationKind.Webhook, cancellationToken);
            await using (var db = await _dbFactory.CreateAsync(cancellationToken))
            {
                await db.SyncRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Full, full), cancellationToken);
            }
            var work = new SyncDeliveryWork
            {
                Sync = sync,
                Segment = segment,
                RunId = run.Id,
                BaseVersion = version,
                Full = full,
                Change = change,
                Columns = columns,
                Warehouse = warehouse,
                Now = _clock.GetUtcNow(),
            };
            var outcome = await destination.DeliverAsync(work, services, cancellationToken);
            await SyncWarehouse.CommitAsync(warehouse, sync.Id, version + 1, cancellationToken);
            // What left the portal, under the owner's name, as exports are.
            await services.GetRequiredService<AuditLog>().RecordAsync(AuditActions.Export, $"Segment {segment.Id} “{segment.Name}” members",
                $"Sync “{sync.Name}” ({sync.Kind}, {(full ? "full" : "delta")}: {outcome.Added:N0} added, {outcome.Removed:N0} removed)", outcome.Sent, CancellationToken.None);
            return outcome;
        }
        finally
        {
            await SyncWarehouse.DropWorkAsync(warehouse, sync.Id);
        }
    }

    /// <summary>
    /// Appends the members as the owner sees them (through the query layer: their row rules, the columns checked above)
    /// to the run's rows table, leaving out the segment's holdout. Which of them are members is decided by the stored
    /// membership afterwards.
    /// </summary>
    private static async Task ReadMembersAsync(IServiceProvider services, DuckDB.NET.Data.DuckDBConnection warehouse, SegmentSync sync, Segment segment,
        string key, IReadOnlyList<SyncColumn> columns, CancellationToken cancellationToken)
    {
        var queries = services.GetRequiredService<QueryService>();
        using var appender = warehouse.CreateAppender(SyncWarehouse.CurrentTable(sync.Id));
        long rows = 0;
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = segment.DatasetId,
            Columns = [key, .. columns.Select(c => c.Name)],
            DistinctCustomers = true,
        }, (_, reader) =>
        {
            if (reader.IsDBNull(0))
            {
                return;
            }
            var member = Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture) ?? "";
            if (member.Length == 0 || SegmentHoldout.IsHeldOut(segment, member))
            {
                return;
            }
            var row = appender.CreateRow().AppendValue(member);
            for (var i = 0; i < columns.Count; i++)
            {
                var value = reader.IsDBNull(i + 1) ? null : reader.GetValue(i + 1);
                row = columns[i].IsNumber
                    ? row.AppendValue(value is null ? null : (double?)Convert.ToDouble(value, CultureInfo.InvariantCulture))
                    : row.AppendValue(Text(value));
            }
            row.EndRow();
            if (++rows % 10_000 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }, cancellationToken);
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        DateTime d when d.TimeOfDay == TimeSpan.Zero => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime d => d.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };

    private async Task FinishAsync(long runId, SyncOutcome? outcome, string? error, bool retry, long started, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var run = await db.SyncRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        run.FinishedAt = now;
        run.DurationMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (outcome is not null)
        {
            run.Status = SyncRunStatus.Succeeded;
            run.Sent = outcome.Sent;
            run.Added = outcome.Added;
            run.Removed = outcome.Removed;
        }
        else
        {
            run.Status = SyncRunStatus.Failed;
            run.Error = error is { Length: > SyncRun.MaxErrorLength } ? error[..(SyncRun.MaxErrorLength - 1)] + "…" : error;
            var options = _options.Value;
            if (retry && run.Attempt < Math.Max(1, options.MaxAttempts))
            {
                var wait = Math.Min(Math.Max(0, options.FirstRetrySeconds) * Math.Pow(2, run.Attempt - 1), Math.Max(0, options.MaxRetrySeconds));
                db.SyncRuns.Add(new SyncRun
                {
                    SyncId = run.SyncId,
                    Trigger = SyncTrigger.Retry,
                    Status = SyncRunStatus.Due,
                    Attempt = run.Attempt + 1,
                    DueAt = now.AddSeconds(wait),
                });
                run.Error += string.Create(CultureInfo.InvariantCulture, $" Retrying in {TimeSpan.FromSeconds(wait):g}.");
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        RunChanged?.Invoke(run.SyncId);
    }
}
