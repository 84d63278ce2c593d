using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using DuckDB.NET.Data;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Import;

/// <summary>
/// What to import: one dataset per upload, or all uploads appended into one dataset (same columns), or a new version
/// of an existing dataset (<see cref="RefreshDatasetId"/>).
/// </summary>
public sealed record FileImportRequest(
    IReadOnlyList<Guid> UploadIds,
    bool Append = false,
    string? Name = null,
    FileImportOptions? Options = null,
    int? RefreshDatasetId = null);

/// <summary>A table or read-only query of a connection, imported as a dataset (or as a new version of one).</summary>
public sealed record ConnectionImportRequest(
    int ConnectionId,
    string ConnectionName,
    ConnectionSource Source,
    string? Name = null,
    int? RefreshDatasetId = null);

/// <summary>What a connection dataset remembers about its source, to run the import again.</summary>
public sealed record StoredConnectionSource(int ConnectionId, ConnectionSource Source);

/// <summary>
/// Turns uploads into datasets as background jobs. The raw rows and the live table are written under staging names and
/// swapped in together, so a failed or cancelled import leaves no half dataset and no change to an existing one.
/// </summary>
public sealed class DatasetImportService(
    ICurrentUser currentUser, Authorizer access, JobQueue jobs, UploadStore uploads, ConnectionService connections, IPortalDbFactory dbFactory, TimeProvider clock)
{
    public const string JobKind = "import";

    public static string JobKeyFor(Guid uploadId) => $"import:{uploadId:N}";

    public async Task<IReadOnlyList<JobSnapshot>> StartFileImportAsync(FileImportRequest request)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var userId = user.UserId() ?? throw new PermissionDeniedException("Sign in to import data.");
        if (request.UploadIds.Count == 0)
        {
            throw new PortalException("Choose at least one file.");
        }
        if (request.RefreshDatasetId is { } target)
        {
            // A new version replaces the data for everyone: the owner's or an Admin's decision, not a grantee's.
            await access.RequireWritableAsync(target);
        }
        // Refuse someone else's (or a made-up) upload id now, not in the background.
        var files = new List<StoredUpload>();
        foreach (var id in request.UploadIds.Distinct())
        {
            files.Add(await uploads.GetAsync(id, userId));
        }
        if (request.RefreshDatasetId is not null || request.Append)
        {
            var title = request.RefreshDatasetId is not null
                ? $"Refresh from {string.Join(", ", files.Select(f => f.FileName))}"
                : $"Import {files.Count} files as one dataset";
            return [Enqueue(user, files, request, title)];
        }
        return files.Select(f => Enqueue(user, [f], request, $"Import {f.FileName}")).ToList();
    }

    /// <summary>Imports a connection's table or query as a new dataset.</summary>
    public async Task<JobSnapshot> StartConnectionImportAsync(int connectionId, ConnectionSource source, string? name = null)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var connection = (await connections.GetAsync(connectionId)).Summary;
        if (source.Kind == ConnectionSourceKind.Query)
        {
            // Refused now, with the reason, rather than in the background.
            source = ConnectionSource.ForQuery(SelectValidator.Validate(source.Query, connection.Kind));
        }
        var request = new ConnectionImportRequest(connection.Id, connection.Name, source, name);
        return EnqueueConnection(user, request, $"Import {source.Describe()} from {connection.Name}",
            $"import:connection:{connection.Id}:{source.Describe()}:{source.Query?.GetHashCode(StringComparison.Ordinal)}");
    }

    /// <summary>Runs a connection dataset's import again; the previous version stays live until the new one is complete.</summary>
    public async Task<JobSnapshot> StartRefreshAsync(int datasetId)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await access.RequireWritableAsync(datasetId);
        return await EnqueueRefreshAsync(user, datasetId);
    }

    /// <summary>Sets how often a connection dataset refreshes itself.</summary>
    public async Task SetScheduleAsync(int datasetId, RefreshSchedule schedule, CancellationToken cancellationToken = default)
    {
        await access.RequireWritableAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken)
            ?? throw new PortalException("That dataset no longer exists.");
        if (schedule != RefreshSchedule.Manual && dataset.SourceKind != DatasetSourceKind.Connection)
        {
            throw new PortalException($"{dataset.Name} comes from a file; upload a new version to refresh it. Schedules are for connections.");
        }
        dataset.Schedule = schedule;
        dataset.NextRefreshAt = NextRun(schedule, clock.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
    }

    public static DateTimeOffset? NextRun(RefreshSchedule schedule, DateTimeOffset from) => schedule switch
    {
        RefreshSchedule.Hourly => from.AddHours(1),
        RefreshSchedule.Daily => from.AddDays(1),
        _ => null,
    };

    /// <summary>Queues a refresh as <paramref name="user"/>; the scheduler calls this with its own identity.</summary>
    internal async Task<JobSnapshot> EnqueueRefreshAsync(ClaimsPrincipal user, int datasetId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken)
            ?? throw new PortalException("That dataset no longer exists.");
        if (dataset.SourceKind != DatasetSourceKind.Connection || dataset.SourceJson is null)
        {
            throw new PortalException($"{dataset.Name} comes from a file; upload a new version to refresh it.");
        }
        var stored = JsonSerializer.Deserialize<StoredConnectionSource>(dataset.SourceJson)
            ?? throw new PortalException($"{dataset.Name} does not remember its source; import it again.");
        var connection = await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == stored.ConnectionId, cancellationToken)
            ?? throw new PortalException($"The connection {dataset.Name} was imported from has been deleted.");
        var request = new ConnectionImportRequest(connection.Id, connection.Name, stored.Source, dataset.Name, dataset.Id);
        return EnqueueConnection(user, request, $"Refresh {dataset.Name} from {connection.Name}", $"refresh:{dataset.Id}");
    }

    private JobSnapshot EnqueueConnection(ClaimsPrincipal user, ConnectionImportRequest request, string title, string key) =>
        jobs.Enqueue(JobRequest.For(JobKind, title, key, user, new ConnectionImportJob(user, request),
            JsonSerializer.Serialize(new ImportRetryTarget(null, request))));

    /// <summary>
    /// Starts an interrupted or failed import again, as the current user and with the same checks as the first time:
    /// a file import from its uploads (still there after a restart), a connection import or refresh from its source.
    /// </summary>
    public async Task<JobSnapshot> RetryAsync(string target)
    {
        var stored = JsonSerializer.Deserialize<ImportRetryTarget>(target)
            ?? throw new PortalException("This import cannot be retried; start it again.");
        if (stored.File is { } file)
        {
            return (await StartFileImportAsync(file))[0];
        }
        if (stored.Connection is { RefreshDatasetId: { } datasetId })
        {
            return await StartRefreshAsync(datasetId);
        }
        if (stored.Connection is { } connection)
        {
            return await StartConnectionImportAsync(connection.ConnectionId, connection.Source, connection.Name);
        }
        throw new PortalException("This import cannot be retried; start it again.");
    }

    /// <summary>The sheets of an uploaded workbook, in workbook order, for the sheet picker.</summary>
    public async Task<IReadOnlyList<string>> ListSheetsAsync(Guid uploadId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var upload = await uploads.GetAsync(uploadId, user.UserId()!, cancellationToken);
        return await Excel.XlsxReader.ListSheetsAsync(uploads.PathOf(upload), upload.FileName, cancellationToken);
    }

    private JobSnapshot Enqueue(ClaimsPrincipal user, IReadOnlyList<StoredUpload> files, FileImportRequest request, string title) =>
        jobs.Enqueue(JobRequest.For(JobKind, title, JobKeyFor(files[0].Id), user, new FileImportJob(user, files, request),
            JsonSerializer.Serialize(new ImportRetryTarget(request with { UploadIds = files.Select(f => f.Id).ToList() }, null))));
}

/// <summary>A file import job: the uploads, what to make of them, and who asked (the new dataset is theirs).</summary>
public sealed record FileImportJob(ClaimsPrincipal User, IReadOnlyList<StoredUpload> Files, FileImportRequest Request);

/// <summary>A connection import or refresh job: what to read, and who asked.</summary>
public sealed record ConnectionImportJob(ClaimsPrincipal User, ConnectionImportRequest Request);

/// <summary>What an import job remembers to start again after a restart: the file request, or the connection request.</summary>
public sealed record ImportRetryTarget(FileImportRequest? File, ConnectionImportRequest? Connection);

/// <summary>Retries interrupted or failed imports and refreshes through <see cref="DatasetImportService.RetryAsync"/>.</summary>
public sealed class ImportJobRetry(DatasetImportService imports) : IJobRetry
{
    public string Kind => DatasetImportService.JobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) => imports.RetryAsync(target);
}

/// <summary>Where a dataset's raw rows come from, and how to write them into a (staging) table.</summary>
public sealed record ImportSource(
    DatasetSourceKind Kind,
    string DefaultName,
    string Description,
    string SourceJson,
    Func<DuckDBConnection, string, IProgress<JobProgress>, CancellationToken, Task<IReadOnlyList<string>>> FillRaw);

/// <summary>The work of one import job (file or connection); runs in the job's scope.</summary>
public sealed class DatasetImportRunner(
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
