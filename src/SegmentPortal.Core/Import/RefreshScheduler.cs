using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Import;

/// <summary>
/// Once a minute, queues the refresh of every connection dataset whose hourly or daily schedule is due. Refreshes run
/// as the "schedule" identity and are recorded in the dataset's history like any other.
/// </summary>
internal sealed class RefreshScheduler(IServiceScopeFactory scopes, TimeProvider clock, ILogger<RefreshScheduler> logger) : BackgroundService
{
    /// <summary>The name scheduled refreshes run (and are recorded) under.</summary>
    public const string IdentityName = "schedule";

    public static readonly ClaimsPrincipal Identity = new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, IdentityName),
        new Claim(ClaimTypes.Name, IdentityName),
        new Claim(ClaimTypes.Role, Roles.Analyst),
    ], authenticationType: "Schedule"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), clock);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Scheduled refreshes could not be queued");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Queues what is due now; returns how many refreshes were queued.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = Identity;
        var dbFactory = scope.ServiceProvider.GetRequiredService<IPortalDbFactory>();
        var imports = scope.ServiceProvider.GetRequiredService<DatasetImportService>();
        var now = clock.GetUtcNow();

        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var candidates = await db.Datasets
            .Where(d => d.Schedule != RefreshSchedule.Manual && d.Status == DatasetStatus.Ready && d.NextRefreshAt != null)
            .ToListAsync(cancellationToken);
        var queued = 0;
        foreach (var dataset in candidates.Where(d => d.NextRefreshAt <= now))
        {
            // Move the next run first, so a slow or failing refresh is not queued again every minute.
            dataset.NextRefreshAt = DatasetImportService.NextRun(dataset.Schedule, now);
            await db.SaveChangesAsync(cancellationToken);
            try
            {
                await imports.EnqueueRefreshAsync(Identity, dataset.Id, cancellationToken);
                queued++;
            }
            catch (PortalException ex)
            {
                logger.LogWarning("Scheduled refresh of {Dataset} skipped: {Reason}", dataset.Name, ex.Message);
            }
        }
        return queued;
    }
}
