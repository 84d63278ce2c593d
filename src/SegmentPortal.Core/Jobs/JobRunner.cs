using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Jobs;

/// <summary>Runs queued jobs, each in its own scope, as the user who asked. One failure never stops the next job.</summary>
internal sealed class JobRunner(JobQueue queue, IServiceScopeFactory scopes, ILogger<JobRunner> logger) : BackgroundService
{
    /// <summary>Jobs that may run at once; the warehouse parallelises inside each one.</summary>
    public const int Workers = 2;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => WorkAsync(stoppingToken)));

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        await foreach (var entry in queue.Reader.ReadAllAsync(stoppingToken))
        {
            if (entry.Cancellation.IsCancellationRequested)
            {
                continue;
            }
            await RunAsync(entry, stoppingToken);
        }
    }

    private async Task RunAsync(JobQueue.Entry entry, CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(entry.Cancellation.Token, stoppingToken);
        queue.Update(entry, s => s with { Status = JobStatus.Running, StartedAt = queue.Now, Message = "Starting…" });
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = entry.Request.RequestedBy;
            if (scope.ServiceProvider.GetService<CurrentJob>() is { } current)
            {
                await current.BeginAsync(entry.Snapshot.Id, linked.Token);
            }
            var progress = new ThrottledProgress(p => queue.Update(entry, s => s with
            {
                Progress = p.Fraction is { } f ? Math.Clamp(f, 0, 1) : s.Progress,
                Message = p.Message,
            }));
            var started = Environment.TickCount64;
            await entry.Request.Work(scope.ServiceProvider, progress, linked.Token);
            logger.LogInformation("Job {Kind} '{Title}' finished in {Seconds:F1} s",
                entry.Request.Kind, entry.Request.Title, (Environment.TickCount64 - started) / 1000.0);
            queue.Update(entry, s => s with
            {
                Status = JobStatus.Succeeded,
                Progress = 1,
                // A job that reported its own final line (progress 1) keeps it: "Loaded 100,000 customers…".
                Message = s.Progress >= 1 ? s.Message : "Done",
                FinishedAt = queue.Now,
            });
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested && !entry.Cancellation.IsCancellationRequested)
        {
            // The portal is stopping (a deploy): nobody cancelled the job, so it can be retried after the restart.
            queue.Update(entry, s => s with { Status = JobStatus.Interrupted, Message = JobSnapshot.InterruptedMessage, FinishedAt = queue.Now });
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            queue.Update(entry, s => s with { Status = JobStatus.Cancelled, Message = "Cancelled", FinishedAt = queue.Now });
        }
        catch (Exception ex)
        {
            if (ex is PortalException)
            {
                logger.LogError(ex, "Job {Kind} '{Title}' failed", entry.Request.Kind, entry.Request.Title);
            }
            // People see the reason, or a reference to quote; never an exception's text or type.
            var error = UserErrors.Describe(ex, logger, "running this job", $"job {entry.Request.Kind} '{entry.Request.Title}'");
            queue.Update(entry, s => s with
            {
                Status = JobStatus.Failed,
                Message = "Failed",
                Error = error,
                FinishedAt = queue.Now,
            });
        }
    }

    /// <summary>Passes on at most ten updates a second, and always a new message.</summary>
    private sealed class ThrottledProgress(Action<JobProgress> report) : IProgress<JobProgress>
    {
        private long _lastTicks;
        private string? _lastMessage;

        public void Report(JobProgress value)
        {
            var now = Environment.TickCount64;
            if (value.Message == _lastMessage && now - _lastTicks < 100)
            {
                return;
            }
            _lastTicks = now;
            _lastMessage = value.Message;
            report(value);
        }
    }
}
