using System.Security.Claims;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Import;

/// <summary>Where a dataset's raw rows come from, and how to write them into a (staging) table.</summary>
internal sealed record ImportSource(
    DatasetSourceKind Kind,
    string DefaultName,
    string Description,
    string SourceJson,
    Func<DuckDBConnection, string, IProgress<JobProgress>, CancellationToken, Task<IReadOnlyList<string>>> FillRaw);

/// <summary>The work of one import job (file or connection); runs in the job's scope.</summary>
internal sealed class DatasetImportRunner(
    DuckDbWarehouse warehouse,
    DatasetRebuilder rebuilder,
    FileImporter importer,
    UploadStore uploads,
    ConnectionService connections,
    IPortalDbFactory dbFactory,
    TimeProvider clock,
    IEnumerable<IDatasetRefreshListener> refreshListeners,
    CurrentJob currentJob,
    ILogger<DatasetImportRunner> logger) : IJobHandler<FileImportJob>, IJobHandler<ConnectionImportJob>
{
    Task IJobHandler<FileImportJob>.RunAsync(FileImportJob payload, IProgress<JobProgress> progress, CancellationToken cancellationToken) =>
        RunAsync(payload.User, payload.Files, payload.Request, progress, cancellationToken);

    Task IJobHandler<ConnectionImportJob>.RunAsync(ConnectionImportJob payload, IProgress<JobProgress> progress, CancellationToken cancellationToken) =>
        RunAsync(payload.User, payload.Request, progress, cancellationToken);

    public async Task RunAsync(
        ClaimsPrincipal user, IReadOnlyList<StoredUpload> files, FileImportRequest request, IProgress<JobProgress> progress, CancellationToken ct)
    {
        var options = request.Options ?? new FileImportOptions();
        var source = new ImportSource(DatasetSourceKind.File, DefaultName(files), Describe(files),
            JsonSerializer.Serialize(new { files = files.Select(f => f.FileName), options.Delimiter, options.Sheet, options.Encoding, options.DateFormat }),
            async (db, table, fileProgress, token) =>
            {
                var notes = new List<string>();
                for (var i = 0; i < files.Count; i++)
                {
                    var scale = new ScaledProgress(fileProgress, (double)i / files.Count, (double)(i + 1) / files.Count);
                    var target = i == 0 ? table : table + "__part";
                    var imported = await importer.ImportAsync(db, target, files[i], options, scale, token);
                    notes.AddRange(imported.Notes);
                    if (i > 0)
                    {
                        await AppendAsync(db, table, target, files[0], files[i], token);
                    }
                }
                return notes;
            });
        try
        {
            await RunAsync(user, source, request.Name, request.RefreshDatasetId, progress, ct);
        }
        finally
        {
            foreach (var file in files)
            {
                uploads.Delete(file);
            }
        }
    }

    public Task RunAsync(
        ClaimsPrincipal user, ConnectionImportRequest request, IProgress<JobProgress> progress, CancellationToken ct)
    {
        var source = new ImportSource(DatasetSourceKind.Connection, request.Source.Kind == ConnectionSourceKind.Table ? request.Source.Table! : "Query",
            $"{request.ConnectionName} · {request.Source.Describe()}",
            JsonSerializer.Serialize(new StoredConnectionSource(request.ConnectionId, request.Source)),
            async (db, table, extractProgress, token) =>
            {
                extractProgress.Report(new JobProgress(null, $"Reading from {request.ConnectionName}…"));
                var result = await connections.ExtractAsync(request.ConnectionId, request.Source, db, table,
                    new Progress<long>(rows => extractProgress.Report(new JobProgress(null, $"Reading from {request.ConnectionName}: {rows:N0} rows"))), token);
                return result.RowCount == 0 ? ["The source returned no rows."] : [];
            });
        return RunAsync(user, source, request.Name, request.RefreshDatasetId, progress, ct);
    }

    /// <summary>Imports <paramref name="source"/> into a new dataset, or as a new version of <paramref name="refreshDatasetId"/>.</summary>
    public async Task RunAsync(
        ClaimsPrincipal user, ImportSource source, string? name, int? refreshDatasetId, IProgress<JobProgress> progress, CancellationToken ct)
    {
        var isNew = refreshDatasetId is null;
        var dataset = isNew
            ? await CreatePendingAsync(string.IsNullOrWhiteSpace(name) ? source.DefaultName : name, source, user, ct)
            : await LoadAsync(refreshDatasetId!.Value, source.Kind, ct);
        var refreshId = await StartRefreshAsync(dataset.Id, user.Identity?.Name ?? "unknown", ct);
        var notes = new List<string>();
        long rows = 0;
        try
        {
            var previous = DatasetRebuilder.SettingsOf(dataset);
            var recipe = Recipe.FromJson(dataset.RecipeJson);
            List<ColumnSetting> settings = [];
            await warehouse.ReplaceTablesAsync([dataset.RawTableName!, dataset.TableName], async (db, staging, token) =>
            {
                notes.AddRange(await source.FillRaw(db, staging[0], new ScaledProgress(progress, 0, 0.9), token));
                progress.Report(new JobProgress(0.92, "Building the dataset…"));
                var raw = await DuckDbWarehouse.DescribeAsync(db, staging[0], token);
                settings = LiveTableBuilder.Merge(raw, previous);
                var build = await LiveTableBuilder.BuildAsync(db, staging[0], dataset.RawTableName!, staging[1], dataset.TableName, settings, recipe, token);
                return async (connection, swapToken) =>
                {
                    if (build is not null)
                    {
                        await build(connection, swapToken);
                    }
                    // With the swap, so a restart can tell a refresh that reached the warehouse from one that did not.
                    await RefreshSwapLog.RecordAsync(connection, refreshId, swapToken);
                };
            }, ct);
            rows = await warehouse.CountRowsAsync(dataset.TableName, ct);

            progress.Report(new JobProgress(0.97, "Saving the dataset…"));
            await rebuilder.SaveMetadataAsync(dataset.Id, settings, recipe, ct);
            var summary = $"{dataset.Name}: {rows:N0} rows imported";
            summary = notes.Count == 0 ? summary : $"{summary}. {string.Join(" ", notes)}";
            await CompleteAsync(dataset.Id, refreshId, source, rows, summary, ct);
            if (!isNew)
            {
                foreach (var listener in refreshListeners)
                {
                    try
                    {
                        await listener.DatasetRefreshedAsync(dataset.Id, user, ct);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        logger.LogWarning(ex, "After refreshing dataset {DatasetId}, {Listener} failed", dataset.Id, listener.GetType().Name);
                    }
                }
            }
            progress.Report(new JobProgress(1, summary));
        }
        catch (Exception ex)
        {
            await FailAsync(dataset.Id, refreshId, isNew, ex, CancellationToken.None);
            throw;
        }
    }

    private static async Task AppendAsync(DuckDBConnection db, string table, string part, StoredUpload first, StoredUpload next, CancellationToken ct)
    {
        try
        {
            await AppendPartAsync(db, table, part, first, next, ct);
        }
        finally
        {
            await WarehouseCommand.ExecuteAsync(db, $"DROP TABLE IF EXISTS {WarehouseNames.Quote(part)}", null, CancellationToken.None);
        }
    }

    private static async Task AppendPartAsync(DuckDBConnection db, string table, string part, StoredUpload first, StoredUpload next, CancellationToken ct)
    {
        var expected = (await DuckDbWarehouse.DescribeAsync(db, table, ct)).Select(c => c.Name).ToList();
        var actual = (await DuckDbWarehouse.DescribeAsync(db, part, ct)).Select(c => c.Name).ToList();
        if (!expected.Order(StringComparer.Ordinal).SequenceEqual(actual.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            var missing = expected.Except(actual).ToList();
            var extra = actual.Except(expected).ToList();
            var detail = string.Join("; ", new[]
            {
                missing.Count > 0 ? $"missing {string.Join(", ", missing.Select(c => $"\"{c}\""))}" : null,
                extra.Count > 0 ? $"extra {string.Join(", ", extra.Select(c => $"\"{c}\""))}" : null,
            }.Where(s => s is not null));
            throw new PortalException($"{next.FileName} cannot be appended to {first.FileName}: the columns differ ({detail}).");
        }
        try
        {
            await WarehouseCommand.ExecuteAsync(db,
                $"INSERT INTO {WarehouseNames.Quote(table)} BY NAME SELECT * FROM {WarehouseNames.Quote(part)}", null, ct);
        }
        catch (DuckDB.NET.Data.DuckDBException ex)
        {
            throw new PortalException($"{next.FileName} cannot be appended to {first.FileName}: a column holds other kinds of values ({ex.Message.Split('\n')[0]}).");
        }
    }

    private async Task<Dataset> CreatePendingAsync(string name, ImportSource source, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateAsync(ct);
        var unique = name.Trim();
        for (var n = 2; await db.Datasets.AnyAsync(d => d.Name == unique, ct); n++)
        {
            unique = $"{name.Trim()} ({n})";
        }
        var slug = WarehouseNames.Slug(unique);
        var table = $"ds_{slug[..Math.Min(20, slug.Length)].TrimEnd('_')}_{Guid.NewGuid().ToString("N")[..8]}";
        var now = clock.GetUtcNow();
        var dataset = new Dataset
        {
            Name = unique,
            TableName = table,
            RawTableName = table + "_raw",
            Status = DatasetStatus.Importing,
            Source = source.Description,
            SourceKind = source.Kind,
            SourceJson = source.SourceJson,
            OwnerId = user.UserId(),
            CreatedAt = now,
            ImportJobId = currentJob.Id,
            RefreshedAt = now,
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(ct);
        return dataset;
    }

    private async Task<Dataset> LoadAsync(int id, DatasetSourceKind kind, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateAsync(ct);
        var dataset = await db.Datasets.AsNoTracking().Include(d => d.Columns).SingleOrDefaultAsync(d => d.Id == id, ct)
            ?? throw new PortalException("That dataset no longer exists.");
        if (dataset.SourceKind != kind || dataset.RawTableName is null)
        {
            throw new PortalException(kind == DatasetSourceKind.File
                ? $"{dataset.Name} was not imported from a file, so it cannot be refreshed from one."
                : $"{dataset.Name} was not imported from a connection, so it cannot be refreshed from one.");
        }
        return dataset;
    }

    private async Task<int> StartRefreshAsync(int datasetId, string triggeredBy, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateAsync(ct);
        var refresh = new DatasetRefresh { DatasetId = datasetId, StartedAt = clock.GetUtcNow(), TriggeredBy = triggeredBy };
        db.DatasetRefreshes.Add(refresh);
        await db.SaveChangesAsync(ct);
        return refresh.Id;
    }

    private async Task CompleteAsync(int datasetId, int refreshId, ImportSource source, long rows, string summary, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(ct);
        var dataset = await db.Datasets.SingleAsync(d => d.Id == datasetId, ct);
        dataset.Status = DatasetStatus.Ready;
        dataset.Source = source.Description;
        dataset.SourceJson = source.SourceJson;
        var refresh = await db.DatasetRefreshes.SingleAsync(r => r.Id == refreshId, ct);
        refresh.Outcome = RefreshOutcome.Succeeded;
        refresh.FinishedAt = now;
        refresh.RowCount = rows;
        // The job's success goes with the dataset's in one transaction, so a restart never shows one without the other.
        await currentJob.RecordSuccessAsync(db, summary, now, ct);
        await db.SaveChangesAsync(ct);
    }

    private async Task FailAsync(int datasetId, int refreshId, bool isNew, Exception error, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateAsync(ct);
        if (isNew)
        {
            // A first import that did not finish leaves nothing behind.
            await db.Datasets.Where(d => d.Id == datasetId).ExecuteDeleteAsync(ct);
            return;
        }
        var refresh = await db.DatasetRefreshes.SingleAsync(r => r.Id == refreshId, ct);
        refresh.FinishedAt = clock.GetUtcNow();
        refresh.Outcome = error is OperationCanceledException ? RefreshOutcome.Cancelled : RefreshOutcome.Failed;
        refresh.Error = error is PortalException ? error.Message : error is OperationCanceledException ? "Cancelled" : "Unexpected error; see the server log.";
        await db.SaveChangesAsync(ct);
    }

    private static string DefaultName(IReadOnlyList<StoredUpload> files) => Path.GetFileNameWithoutExtension(files[0].FileName);

    private static string Describe(IReadOnlyList<StoredUpload> files) => files.Count == 1
        ? $"File {files[0].FileName} ({UploadStore.FormatBytes(files[0].Size)})"
        : $"Files {string.Join(", ", files.Select(f => f.FileName))} ({UploadStore.FormatBytes(files.Sum(f => f.Size))})";

    /// <summary>Maps one file's 0–1 progress into its share of the whole job.</summary>
    private sealed class ScaledProgress(IProgress<JobProgress> inner, double from, double to) : IProgress<JobProgress>
    {
        public void Report(JobProgress value) =>
            inner.Report(value with { Fraction = value.Fraction is { } f ? from + (to - from) * f : null });
    }
}
