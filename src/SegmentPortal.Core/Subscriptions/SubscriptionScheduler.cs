using System.Security.Claims;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Subscriptions;

/// <summary>
/// Once a minute (and at once when a refresh made runs due), records the subscriptions whose time has come as Due runs
/// and sends every Due run. Runs a stopped process left Due are sent on the first round after a start.
/// </summary>
internal sealed class SubscriptionScheduler(SubscriptionRunner runner, SubscriptionSignal signal, TimeProvider clock, ILogger<SubscriptionScheduler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await runner.MakeDueAsync(stoppingToken);
                await runner.RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Subscriptions could not be sent this round; trying again in a minute");
            }
            using var waitOver = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var woken = signal.WaitAsync(waitOver.Token);
            var minute = Task.Delay(TimeSpan.FromMinutes(1), clock, waitOver.Token);
            await Task.WhenAny(woken, minute);
            await waitOver.CancelAsync();
            stoppingToken.ThrowIfCancellationRequested();
        }
    }
}

/// <summary>After a dataset's refresh, makes the runs of "after each refresh" subscriptions to what it feeds.</summary>
internal sealed class SubscriptionRefreshListener(SubscriptionRunner runner) : IDatasetRefreshListener
{
    public Task DatasetRefreshedAsync(int datasetId, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        runner.AfterRefreshAsync(datasetId, cancellationToken);
}
