using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Import;

/// <summary>
/// The imports and refreshes a stopped process left unfinished, put right before any job runs again (a step of
/// <see cref="JobRecovery"/>): a first import that never finished is removed with its tables, so no half dataset is
/// visible or queryable; a refresh whose new version was swapped in just before the stop is completed (its metadata
/// described, its job done); any other unfinished refresh is recorded as failed and its staging tables are dropped, so
/// the previous version stays live; a scheduled refresh the restart stopped is due again at once.
/// </summary>
internal sealed class ImportRecoveryStep(IPortalDbFactory dbFactory, DuckDbWarehouse warehouse, IServiceScopeFactory scopes) : IJobRecoveryStep
{
    public async Task<RecoveryReport> RecoverAsync(IPortalDb db, IReadOnlyList<JobRecord> interruptedJobs, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
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
            foreach (var job in interruptedJobs.Where(j => j.Kind == DatasetImportService.JobKind && RefreshedBy(j) == refresh.DatasetId))
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
        // Saved (with the jobs JobRecovery marked) before the metadata is completed in a scope of its own.
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
        return RecoveryReport.None with
        {
            RemovedImports = importing.Count,
            InterruptedRefreshes = interruptedRefreshes.Count,
            DroppedTables = dropped,
            CompletedRefreshes = completedRefreshes.Count,
        };
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
