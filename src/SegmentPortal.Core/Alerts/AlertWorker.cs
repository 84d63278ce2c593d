using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SegmentPortal.Core.Alerts;

/// <summary>Wakes the alert worker when checks were made due.</summary>
public sealed class AlertSignal : Common.WorkSignal;

/// <summary>
/// Runs alert checks in the background: at start every check left due by a restart, then whenever a refresh makes
/// checks due, and once a minute the scheduled ones.
/// </summary>
internal sealed class AlertWorker(AlertChecker checker, AlertSignal signal, TimeProvider clock, ILogger<AlertWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextSchedule = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (clock.GetUtcNow() >= nextSchedule)
                {
                    await checker.EnqueueScheduledAsync(stoppingToken);
                    nextSchedule = clock.GetUtcNow().AddMinutes(1);
                }
                while (await checker.RunDueAsync(stoppingToken) == AlertChecker.Batch)
                {
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Alert checks could not be run");
            }
            await signal.WaitAsync(TimeSpan.FromMinutes(1), clock, stoppingToken);
        }
    }
}
