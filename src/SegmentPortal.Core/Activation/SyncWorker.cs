using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Activation;

/// <summary>Wakes the sync worker when a run was made Due.</summary>
public sealed class SyncSignal : Common.WorkSignal;

/// <summary>
/// Runs syncs in the background: at start it retries the runs a stopped process left Running, then runs every Due run
/// whenever one is made (a refresh, "Sync now") and, every minute, makes the scheduled ones Due (and retries whose wait is over).
/// </summary>
internal sealed class SyncWorker(SyncRunner runner, SyncSignal signal, TimeProvider clock, ILogger<SyncWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await runner.RecoverAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Interrupted segment syncs could not be recovered");
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await runner.MakeScheduledDueAsync(stoppingToken);
                await runner.RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Segment syncs could not be run this round; trying again in a minute");
            }
            await signal.WaitAsync(TimeSpan.FromMinutes(1), clock, stoppingToken);
        }
    }
}

/// <summary>After a refresh of a dataset, makes runs Due for the "after each refresh" syncs of its segments (which recount them first).</summary>
internal sealed class SyncDatasetRefreshListener(SyncRunner runner) : Datasets.IDatasetRefreshListener
{
    public Task DatasetRefreshedAsync(int datasetId, System.Security.Claims.ClaimsPrincipal user, CancellationToken cancellationToken) =>
        runner.AfterDatasetRefreshAsync(datasetId, cancellationToken);
}

/// <summary>After a segment's refresh, makes the runs of its "after each refresh" syncs Due.</summary>
internal sealed class SyncRefreshListener(SyncRunner runner) : ISegmentRefreshListener
{
    public Task SegmentRefreshedAsync(int segmentId, CancellationToken cancellationToken) => runner.AfterSegmentRefreshAsync(segmentId, cancellationToken);
}
