using System.Collections.Concurrent;
using System.Security.Claims;
using System.Threading.Channels;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Jobs;

/// <summary>
/// Long work (imports, demo data, clustering) queued off the UI: a bounded channel the <see cref="JobRunner"/>
/// reads, plus the live state of every recent job, which pages watch through <see cref="Changed"/>.
/// Jobs outlive the page that started them.
/// </summary>
public sealed class JobQueue(TimeProvider clock)
{
    private const int KeepFinished = 50;
    private readonly Channel<Entry> _channel = Channel.CreateBounded<Entry>(new BoundedChannelOptions(100)
    {
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly ConcurrentDictionary<Guid, Entry> _jobs = new();
    private readonly Lock _enqueueLock = new();

    /// <summary>Raised on every state or progress change, from the job's thread.</summary>
    public event Action<JobSnapshot>? Changed;

    internal ChannelReader<Entry> Reader => _channel.Reader;

    /// <summary>Queues the job, or returns the queued or running job with the same key.</summary>
    public JobSnapshot Enqueue(JobRequest request)
    {
        Entry entry;
        lock (_enqueueLock)
        {
            var existing = _jobs.Values.FirstOrDefault(j => j.Snapshot.Key == request.Key && j.Snapshot.IsActive);
            if (existing is not null)
            {
                return existing.Snapshot;
            }
            entry = new Entry(request, new JobSnapshot(
                Guid.NewGuid(), request.Kind, request.Title, request.Key,
                request.RequestedBy.FindFirstValue(ClaimTypes.Name), JobStatus.Queued, 0, "Waiting to start…", null,
                clock.GetUtcNow(), null, null, request.RequestedBy.FindFirstValue(ClaimTypes.NameIdentifier), request.RetryTarget));
            if (!_channel.Writer.TryWrite(entry))
            {
                throw new PortalException("Too many jobs are waiting. Try again in a minute.");
            }
            _jobs[entry.Snapshot.Id] = entry;
        }
        Trim();
        Changed?.Invoke(entry.Snapshot);
        return entry.Snapshot;
    }

    /// <summary>
    /// Shows jobs recorded before a restart (finished, failed or interrupted) alongside the new ones. They are never run.
    /// </summary>
    public void Restore(IEnumerable<JobSnapshot> recorded)
    {
        foreach (var job in recorded.Where(j => !j.IsActive))
        {
            var request = new JobRequest(job.Kind, job.Title, job.Key, new ClaimsPrincipal(), (_, _, _) => Task.CompletedTask, job.RetryTarget);
            _jobs.TryAdd(job.Id, new Entry(request, job));
        }
        Trim();
    }

    public IReadOnlyList<JobSnapshot> List() =>
        _jobs.Values.Select(j => j.Snapshot).OrderByDescending(j => j.QueuedAt).ToList();

    public JobSnapshot? Get(Guid id) => _jobs.TryGetValue(id, out var entry) ? entry.Snapshot : null;

    /// <summary>The newest job with this key, running or finished.</summary>
    public JobSnapshot? Latest(string key) =>
        _jobs.Values.Select(j => j.Snapshot).Where(j => j.Key == key).MaxBy(j => j.QueuedAt);

    /// <summary>
    /// Asks a job to stop, for <paramref name="by"/>: only the person who started it or an Admin may (a refresh or
    /// import someone else started is theirs to stop), and nobody while viewing the portal as another user. A queued job
    /// is cancelled before it starts. False when the job is no longer queued or running.
    /// </summary>
    /// <exception cref="PermissionDeniedException">When <paramref name="by"/> may not cancel the job.</exception>
    public bool Cancel(Guid id, ClaimsPrincipal by)
    {
        if (!_jobs.TryGetValue(id, out var entry) || !entry.Snapshot.IsActive)
        {
            return false;
        }
        CurrentUserExtensions.RefuseViewAs(by);
        if (!MayCancel(entry.Snapshot, by))
        {
            throw new PermissionDeniedException("Only the person who started this job or an Admin can cancel it.");
        }
        entry.Cancellation.Cancel();
        if (entry.Snapshot.Status == JobStatus.Queued)
        {
            Update(entry, s => s with { Status = JobStatus.Cancelled, Message = "Cancelled", FinishedAt = clock.GetUtcNow() });
        }
        return true;
    }

    /// <summary>
    /// Whether <paramref name="user"/> may cancel <paramref name="job"/> (<see cref="Cancel"/>'s rule, for pages to show
    /// Cancel only to them): the person who started it or an Admin, signed in and not viewing the portal as someone.
    /// </summary>
    public static bool MayCancel(JobSnapshot job, ClaimsPrincipal user) =>
        job.IsActive && user.Identity?.IsAuthenticated == true && !ViewAsState.IsViewAs(user)
        && (user.IsInRole(Roles.Admin) || (job.RequestedById is { } starter && starter == user.UserId()));

    internal void Update(Entry entry, Func<JobSnapshot, JobSnapshot> change)
    {
        JobSnapshot next;
        lock (entry)
        {
            next = change(entry.Snapshot);
            entry.Snapshot = next;
        }
        Changed?.Invoke(next);
    }

    internal DateTimeOffset Now => clock.GetUtcNow();

    private void Trim()
    {
        var finished = _jobs.Values.Where(j => !j.Snapshot.IsActive).OrderByDescending(j => j.Snapshot.QueuedAt).Skip(KeepFinished);
        foreach (var old in finished.ToList())
        {
            _jobs.TryRemove(old.Snapshot.Id, out _);
        }
    }

    internal sealed class Entry(JobRequest request, JobSnapshot snapshot)
    {
        public JobRequest Request { get; } = request;

        public JobSnapshot Snapshot { get; set; } = snapshot;

        public CancellationTokenSource Cancellation { get; } = new();
    }
}
