using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;

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
internal sealed record ConnectionImportRequest(
    int ConnectionId,
    string ConnectionName,
    ConnectionSource Source,
    string? Name = null,
    int? RefreshDatasetId = null);

/// <summary>What a connection dataset remembers about its source, to run the import again.</summary>
internal sealed record StoredConnectionSource(int ConnectionId, ConnectionSource Source);

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

    /// <summary>
    /// The dataset an import job made or gave a new version to: the refreshed dataset from the start, a new one once the
    /// job has created it; null for other jobs, or before then.
    /// </summary>
    public async Task<int?> DatasetOfJobAsync(JobSnapshot job, CancellationToken cancellationToken = default)
    {
        if (job.Kind != JobKind)
        {
            return null;
        }
        if (job.RetryTarget is { } target
            && JsonSerializer.Deserialize<ImportRetryTarget>(target) is { } stored
            && (stored.File?.RefreshDatasetId ?? stored.Connection?.RefreshDatasetId) is { } refreshed)
        {
            return refreshed;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Datasets.AsNoTracking().Where(d => d.ImportJobId == job.Id).Select(d => (int?)d.Id).FirstOrDefaultAsync(cancellationToken);
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
internal sealed record FileImportJob(ClaimsPrincipal User, IReadOnlyList<StoredUpload> Files, FileImportRequest Request);

/// <summary>A connection import or refresh job: what to read, and who asked.</summary>
internal sealed record ConnectionImportJob(ClaimsPrincipal User, ConnectionImportRequest Request);

/// <summary>What an import job remembers to start again after a restart: the file request, or the connection request.</summary>
internal sealed record ImportRetryTarget(FileImportRequest? File, ConnectionImportRequest? Connection);

/// <summary>Retries interrupted or failed imports and refreshes through <see cref="DatasetImportService.RetryAsync"/>.</summary>
internal sealed class ImportJobRetry(DatasetImportService imports) : IJobRetry
{
    public string Kind => DatasetImportService.JobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) => imports.RetryAsync(target);
}
