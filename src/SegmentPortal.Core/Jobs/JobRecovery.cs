using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Jobs;

/// <summary>What <see cref="JobRecovery.RecoverAsync"/> found and put right.</summary>
public sealed record RecoveryReport(int InterruptedJobs, int InterruptedRuns, int RemovedImports, int InterruptedRefreshes, int DroppedTables, int CompletedRefreshes = 0);

/// <summary>
/// Puts right what a stopped process (a deploy, a crash, <c>kill -9</c>) left behind, before any job runs again:
/// jobs that were queued or running become <see cref="JobStatus.Interrupted"/> (with Retry where their kind allows);
/// each module's <see cref="IJobRecoveryStep"/> puts its own records right (clustering runs still "running" fail, so
/// they can be deleted or retried); a first import that never finished is removed with its tables, so no half dataset is visible or queryable;
/// an unfinished refresh is recorded as failed and its staging tables are dropped, so the previous version stays live;
/// a scheduled refresh the restart stopped is due again at once. Recent jobs are shown again on the Jobs page.
/// </summary>
public sealed class JobRecovery(
    IPortalDbFactory dbFactory, DuckDbWarehouse warehouse, JobQueue queue, IServiceScopeFactory scopes, TimeProvider clock, ILogger<JobRecovery> logger,
    IEnumerable<IJobRecoveryStep> steps)
{
    /// <summary>How many recorded jobs the Jobs page shows again after a restart.</summary>
    public const int RestoredJobs = 50;

    /// <summary>How many job records the metadata store keeps; older ones are removed on start.</summary>
    public const int KeptJobs = 1_000;

    public async Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);

        var jobs = await db.JobRecords.Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running).ToListAsync(cancellationToken);
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Interrupted;
            job.Message = JobSnapshot.InterruptedMessage;
            job.FinishedAt = now;
        }

        // Each module's own records (clustering runs still "running"), through the steps the modules register.
        var interruptedRuns = 0;
        foreach (var step in steps)
        {
            interruptedRuns += await step.RecoverAsync(db, now, cancellationToken);
        }

        var refreshes = await db.DatasetRefreshes.Where(r => r.FinishedAt == null).ToListAsync(cancellationToken);
        var importing = await db.Datasets.Where(d => d.Status == DatasetStatus.Importing).ToListAsync(cancellationToken);
        var importingIds = importing.Select(d => d.Id).ToHashSet();
        IReadOnlySet<int> swapped;
        await using (var connection = await warehouse.OpenAsync(cancellationToken))
        {
            swapped = await RefreshSwapLog.SwappedAsync(connection, cancellationToken);
        }
        // A refresh whose new version was swapped in just before the process died finished in the warehouse: its
        // metadata is completed below and its job counts as done. The others never reached it: the previous version is live.
        var completedRefreshes = refreshes.Where(r => !importingIds.Contains(r.DatasetId) && swapped.Contains(r.Id)).ToList();
        var interruptedRefreshes = refreshes.Where(r => !importingIds.Contains(r.DatasetId) && !swapped.Contains(r.Id)).ToList();
        foreach (var refresh in completedRefreshes)
        {
            var dataset = await db.Datasets.AsNoTracking().SingleAsync(d => d.Id == refresh.DatasetId, cancellationToken);
            refresh.Outcome = RefreshOutcome.Succeeded;
            refresh.FinishedAt = now;
            refresh.RowCount = await warehouse.CountRowsAsync(dataset.TableName, cancellationToken);
            foreach (var job in jobs.Where(j => j.Kind == DatasetImportService.JobKind && RefreshedBy(j) == refresh.DatasetId))
            {
                job.Status = JobStatus.Succeeded;
                job.Progress = 1;
                job.Message = $"{dataset.Name}: {refresh.RowCount:N0} rows imported (completed as the portal restarted)";
            }
        }
        foreach (var refresh in interruptedRefreshes)
        {
            refresh.Outcome = RefreshOutcome.Failed;
            refresh.Error = JobSnapshot.InterruptedMessage;
            refresh.FinishedAt = now;
        }
        // A scheduled refresh the restart stopped runs again now (the previous version stayed live meanwhile).
        var rescheduled = interruptedRefreshes.Where(r => r.TriggeredBy == RefreshScheduler.IdentityName).Select(r => r.DatasetId).ToHashSet();
        foreach (var dataset in await db.Datasets.Where(d => rescheduled.Contains(d.Id) && d.Schedule != RefreshSchedule.Manual).ToListAsync(cancellationToken))
        {
            dataset.NextRefreshAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var refresh in completedRefreshes)
        {
            await CompleteMetadataAsync(refresh.DatasetId, cancellationToken);
        }

        // A first import that did not finish leaves nothing behind: its tables, then its record.
        var dropped = 0;
        await using (var connection = await warehouse.OpenAsync(cancellationToken))
        {
            foreach (var dataset in importing)
            {
                foreach (var table in new[] { dataset.TableName, dataset.RawTableName }.OfType<string>())
                {
                    if (WarehouseNames.IsSafeTableName(table))
                    {
                        await DuckDbWarehouse.DropRelationAsync(connection, table, cancellationToken);
                    }
                }
            }
            // Tables a swap never reached (every import, refresh and rebuild builds under these names).
            var leftovers = await WarehouseCommand.QueryAsync(connection,
                "SELECT table_name FROM information_schema.tables WHERE contains(table_name, '__staging_') OR suffix(table_name, '__part')",
                null, r => r.GetString(0), cancellationToken);
            foreach (var table in leftovers)
            {
                await DuckDbWarehouse.DropRelationAsync(connection, table, cancellationToken);
                dropped++;
            }
            await RefreshSwapLog.ClearAsync(connection, cancellationToken);
        }
        if (importing.Count > 0)
        {
            await db.Datasets.Where(d => importingIds.Contains(d.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        // The journal keeps the newest KeptJobs records; older finished ones go, so the table does not grow for ever.
        var pruned = await db.JobRecords
            .Where(j => db.JobRecords.OrderByDescending(k => k.QueuedAt).ThenBy(k => k.Id).Skip(KeptJobs).Select(k => k.Id).Contains(j.Id))
            .ExecuteDeleteAsync(cancellationToken);
        if (pruned > 0)
        {
            logger.LogInformation("Removed {Count} job records older than the newest {Kept}", pruned, KeptJobs);
        }

        var recent = await db.JobRecords.AsNoTracking().OrderByDescending(j => j.QueuedAt).Take(RestoredJobs).ToListAsync(cancellationToken);
        queue.Restore(recent.Select(j => j.ToSnapshot()));

        var report = new RecoveryReport(jobs.Count(j => j.Status == JobStatus.Interrupted), interruptedRuns, importing.Count, interruptedRefreshes.Count, dropped, completedRefreshes.Count);
        if (report != new RecoveryReport(0, 0, 0, 0, 0, 0))
        {
            logger.LogWarning(
                "The portal stopped with work unfinished: {Jobs} jobs marked interrupted, {Runs} clustering runs failed, {Imports} unfinished first imports removed, {Refreshes} refreshes failed (previous versions kept), {Tables} staging tables dropped, {Completed} refreshes completed (swapped in just before the stop)",
                report.InterruptedJobs, report.InterruptedRuns, report.RemovedImports, report.InterruptedRefreshes, report.DroppedTables, report.CompletedRefreshes);
        }
        return report;
    }

    /// <summary>The dataset an import job was refreshing, read from its retry target; null for a first import.</summary>
    private static int? RefreshedBy(JobRecord job)
    {
        if (job.RetryTarget is null)
        {
            return null;
        }
        try
        {
            var target = JsonSerializer.Deserialize<ImportRetryTarget>(job.RetryTarget);
            return target?.File?.RefreshDatasetId ?? target?.Connection?.RefreshDatasetId;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Describes the swapped-in version in the metadata store, as the import would have done next.</summary>
    private async Task CompleteMetadataAsync(int datasetId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking().Include(d => d.Columns).SingleAsync(d => d.Id == datasetId, cancellationToken);
        var raw = await warehouse.DescribeAsync(dataset.RawTableName!, cancellationToken);
        var settings = LiveTableBuilder.Merge(raw, DatasetRebuilder.SettingsOf(dataset));
        await scope.ServiceProvider.GetRequiredService<DatasetRebuilder>().SaveMetadataAsync(datasetId, settings, Recipe.FromJson(dataset.RecipeJson), cancellationToken);
    }
}
