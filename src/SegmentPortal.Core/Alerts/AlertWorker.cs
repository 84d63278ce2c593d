using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SegmentPortal.Core.Alerts;

/// <summary>Wakes the alert worker when checks were made due.</summary>
public sealed class AlertSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _channel.Writer.TryWrite(true);

    public async Task WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await _channel.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The minute passed without a signal.
        }
    }
}

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
