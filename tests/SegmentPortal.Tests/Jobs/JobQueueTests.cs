using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Jobs;

public sealed class JobQueueTests : IAsyncLifetime
{
    private readonly JobQueue _queue = new(TimeProvider.System);
    private readonly ServiceProvider _services;
    private readonly JobRunner _runner;
    private readonly ClaimsPrincipal _user = new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "ann-id"), new Claim(ClaimTypes.Name, "ann")], "Test"));

    public JobQueueTests()
    {
        _services = new ServiceCollection().AddScoped<ScopedPrincipal>().BuildServiceProvider();
        _runner = new JobRunner(_queue, _services.GetRequiredService<IServiceScopeFactory>(), NullLogger<JobRunner>.Instance);
    }

    public async ValueTask InitializeAsync() => await _runner.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _runner.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    private async Task<JobSnapshot> FinishedAsync(Guid id)
    {
        var done = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot s)
        {
            if (s.Id == id && !s.IsActive)
            {
                done.TrySetResult(s);
            }
        }
        _queue.Changed += OnChanged;
        try
        {
            if (_queue.Get(id) is { IsActive: false } already)
            {
                return already;
            }
            return await done.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        }
        finally
        {
            _queue.Changed -= OnChanged;
        }
    }

    [Fact]
    public async Task A_job_runs_as_the_user_who_asked_and_reports_progress()
    {
        ClaimsPrincipal? ranAs = null;
        var seen = new List<JobSnapshot>();
        _queue.Changed += s => { lock (seen) { seen.Add(s); } };

        var job = _queue.Enqueue(new JobRequest("test", "Count", "count", _user, (services, progress, ct) =>
        {
            ranAs = services.GetRequiredService<ScopedPrincipal>().Principal;
            progress.Report(new JobProgress(0.5, "Half way"));
            return Task.CompletedTask;
        }));
        var finished = await FinishedAsync(job.Id);

        Assert.Equal(JobStatus.Succeeded, finished.Status);
        Assert.Equal(1, finished.Progress);
        Assert.Same(_user, ranAs);
        Assert.Equal("ann", finished.RequestedBy);
        lock (seen)
        {
            Assert.Contains(seen, s => s.Message == "Half way" && s.Progress == 0.5);
        }
    }

    [Fact]
    public async Task A_second_request_with_the_same_key_joins_the_running_job()
    {
        var release = new TaskCompletionSource();
        var runs = 0;
        JobRequest Request() => new("test", "Slow", "slow", _user, async (_, _, ct) =>
        {
            Interlocked.Increment(ref runs);
            await release.Task.WaitAsync(ct);
        });

        var first = _queue.Enqueue(Request());
        var second = _queue.Enqueue(Request());
        release.SetResult();
        await FinishedAsync(first.Id);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(1, runs);
        var third = _queue.Enqueue(Request());
        Assert.NotEqual(first.Id, third.Id);
        await FinishedAsync(third.Id);
    }

    [Fact]
    public async Task Cancel_stops_a_running_job()
    {
        var started = new TaskCompletionSource();
        var job = _queue.Enqueue(new JobRequest("test", "Endless", "endless", _user, async (_, _, ct) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }));
        await started.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);

        Assert.True(_queue.Cancel(job.Id, _user));

        Assert.Equal(JobStatus.Cancelled, (await FinishedAsync(job.Id)).Status);
    }

    /// <summary>A job that runs until it is cancelled, started by <paramref name="by"/>; returned once it runs.</summary>
    private async Task<JobSnapshot> RunningJobAsync(ClaimsPrincipal by, string key)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = _queue.Enqueue(new JobRequest("test", "Refresh someone's data", key, by, async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }));
        await started.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        return job;
    }

    [Fact]
    public async Task J1_only_the_person_who_started_a_job_or_an_admin_can_cancel_it()
    {
        var bo = CoreHarness.Principal("bo-id", "bo", Roles.Analyst);
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity());
        var job = await RunningJobAsync(_user, "j1-ann");

        var refused = Assert.Throws<PermissionDeniedException>(() => _queue.Cancel(job.Id, bo));
        Assert.Throws<PermissionDeniedException>(() => _queue.Cancel(job.Id, anonymous));

        Assert.Contains("Only the person who started this job or an Admin", refused.Message, StringComparison.Ordinal);
        Assert.Equal(JobStatus.Running, _queue.Get(job.Id)!.Status);
        Assert.False(JobQueue.MayCancel(_queue.Get(job.Id)!, bo));
        Assert.True(JobQueue.MayCancel(_queue.Get(job.Id)!, _user));
        Assert.True(_queue.Cancel(job.Id, _user));
        Assert.Equal(JobStatus.Cancelled, (await FinishedAsync(job.Id)).Status);

        var another = await RunningJobAsync(_user, "j1-admin");
        var admin = CoreHarness.Principal("admin-id", "admin", Roles.Admin);
        Assert.True(JobQueue.MayCancel(another, admin));
        Assert.True(_queue.Cancel(another.Id, admin));
        Assert.Equal(JobStatus.Cancelled, (await FinishedAsync(another.Id)).Status);
    }

    [Fact]
    public async Task J2_an_admin_viewing_as_the_person_who_started_a_job_cannot_cancel_it()
    {
        var job = await RunningJobAsync(_user, "j2-ann");
        // The principal of an Admin viewing as ann: ann's claims plus the view-as marker.
        var viewingAsAnn = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "ann-id"), new Claim(ClaimTypes.Name, "ann"), new Claim(ViewAsState.AdminClaim, "admin-id")], "Test"));

        var refused = Assert.Throws<PermissionDeniedException>(() => _queue.Cancel(job.Id, viewingAsAnn));

        Assert.Equal(CurrentUserExtensions.ViewAsRefusal, refused.Message);
        Assert.False(JobQueue.MayCancel(job, viewingAsAnn));
        Assert.Equal(JobStatus.Running, _queue.Get(job.Id)!.Status);
        Assert.True(_queue.Cancel(job.Id, _user));
        await FinishedAsync(job.Id);
    }

    [Fact]
    public async Task A_failed_job_says_why_in_words_and_the_next_job_still_runs()
    {
        var failing = _queue.Enqueue(new JobRequest("test", "Bad", "bad", _user,
            (_, _, _) => throw new PortalException("The file has no header row.")));
        var crashing = _queue.Enqueue(new JobRequest("test", "Crash", "crash", _user,
            (_, _, _) => throw new NullReferenceException("internal detail")));
        var fine = _queue.Enqueue(new JobRequest("test", "Fine", "fine", _user, (_, _, _) => Task.CompletedTask));

        var failed = await FinishedAsync(failing.Id);
        var crashed = await FinishedAsync(crashing.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("The file has no header row.", failed.Error);
        Assert.DoesNotContain("internal detail", crashed.Error);
        Assert.Equal(JobStatus.Succeeded, (await FinishedAsync(fine.Id)).Status);
    }

    [Fact]
    public async Task A_job_running_when_the_portal_stops_is_interrupted_not_cancelled_so_it_can_be_retried()
    {
        var started = new TaskCompletionSource();
        var job = _queue.Enqueue(new JobRequest("test", "Endless", "endless", _user, async (_, _, ct) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, RetryTarget: "42"));
        await started.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);

        await _runner.StopAsync(TestContext.Current.CancellationToken);

        var stopped = await FinishedAsync(job.Id);
        Assert.Equal(JobStatus.Interrupted, stopped.Status);
        Assert.Equal("Interrupted (the portal restarted)", stopped.Message);
        Assert.True(stopped.CanRetry);
    }
}
