using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;

namespace SegmentPortal.Web.Api;

/// <summary>
/// The uploads endpoints of <see cref="ApiV1"/>: a file (raw body or multipart) or rows (a JSON array or NDJSON) become a
/// new dataset, or a new version of one, through the same import path as the Data page (<see cref="UploadStore"/>,
/// <see cref="DatasetImportService"/>); the import runs as a job that <c>GET /api/v1/jobs/{id}</c> reports on.
/// </summary>
public static class UploadsApi
{
    public static RouteGroupBuilder MapUploadsApi(this RouteGroupBuilder v1)
    {
        var maxBytes = ((IEndpointRouteBuilder)v1).ServiceProvider.GetRequiredService<UploadStore>().MaxBytes;
        v1.MapPost("/uploads", UploadAsync)
            .RequireScope(ApiScopes.UploadData)
            .WithMetadata(new RequestSizeLimitAttribute(maxBytes))
            // The body is read by the endpoint (streamed to disk), so its formats are described here rather than declared
            // with Accepts, which would answer 415 before the token is checked.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
                {
                    Required = true,
                    Description = "The file (name it with ?fileName=), a multipart form with one file, or rows as a JSON array or NDJSON.",
                    Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                    {
                        ["application/json"] = new() { Example = System.Text.Json.Nodes.JsonNode.Parse("""[{"customer_id":"C1","region":"North"}]""") },
                        ["application/x-ndjson"] = new(),
                        ["text/csv"] = new(),
                        ["multipart/form-data"] = new(),
                        ["application/octet-stream"] = new(),
                    },
                };
                return Task.CompletedTask;
            })
            .Produces<ApiJob>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("Upload").WithTags("Uploads").WithSummary("Push a file or rows as a new dataset or a new version of one")
            .WithDescription("""
                The body is the file itself (`fileName` names it: .csv, .tsv, .txt, .xlsx, .parquet, .json, .ndjson), a
                `multipart/form-data` form with one file, or rows: a JSON array of objects (`Content-Type: application/json`)
                or one object a line (`application/x-ndjson`). Without `datasetId` a new dataset is made (named `name`, or after
                the file); with it, the rows become the dataset's new version (its owner or an Admin). Answers 202 with the
                import job; poll `GET /api/v1/jobs/{id}` until it has succeeded, when it names the dataset.

                Example: `curl -X POST -H "Authorization: Bearer sp_…" -H "Content-Type: application/json" --data '[{"customer_id":"C1","region":"North"}]' "https://portal.example.com/api/v1/uploads?name=Customers"`
                """);
        v1.MapGet("/jobs/{id:guid}", GetJobAsync)
            .Produces<ApiJob>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetJob").WithTags("Jobs").WithSummary("A job's state")
            .WithDescription("The state, progress and error of a job you started, and for an import the dataset it made or refreshed. Other users' jobs are not found.");
        return v1;
    }

    private static async Task<IResult> UploadAsync(
        HttpContext http, UploadStore uploads, DatasetImportService imports,
        [FromQuery] string? fileName, [FromQuery] string? name, [FromQuery] int? datasetId, CancellationToken ct)
    {
        var userId = http.User.UserId()!;
        StoredUpload upload;
        try
        {
            upload = await SaveBodyAsync(http, uploads, userId, fileName, ct);
        }
        catch (UploadTooLargeException ex)
        {
            return ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, ex.Message);
        }
        if (upload.Size == 0)
        {
            uploads.Delete(upload);
            throw new PortalException("The body is empty: send a file or rows.");
        }
        JobSnapshot job;
        try
        {
            job = (await imports.StartFileImportAsync(new FileImportRequest([upload.Id], Name: string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
                RefreshDatasetId: datasetId)))[0];
        }
        catch
        {
            uploads.Delete(upload);
            throw;
        }
        return TypedResults.Accepted($"{ApiV1.Prefix}/jobs/{job.Id}", await ApiJob.FromAsync(job, imports, ct));
    }

    /// <summary>Streams the body's file (or the multipart form's first file) to the upload store.</summary>
    private static async Task<StoredUpload> SaveBodyAsync(HttpContext http, UploadStore uploads, string userId, string? fileName, CancellationToken ct)
    {
        var contentType = http.Request.ContentType ?? "";
        if (MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value
                ?? throw new PortalException("The multipart body has no boundary.");
            var reader = new MultipartReader(boundary, http.Request.Body);
            StoredUpload? found = null;
            while (found is null && await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
                {
                    var partName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    found = await SaveAsync(uploads, section.Body, FileNameOf(fileName ?? partName, null), userId, ct);
                }
            }
            return found ?? throw new PortalException("The form has no file.");
        }
        else
        {
            return await SaveAsync(uploads, http.Request.Body, FileNameOf(fileName, media?.MediaType.Value), userId, ct);
        }
    }

    /// <summary>The store refuses a file over Import:MaxUploadBytes while it streams; that is a 413, not a 400.</summary>
    private static async Task<StoredUpload> SaveAsync(UploadStore uploads, Stream content, string fileName, string userId, CancellationToken ct)
    {
        try
        {
            return await uploads.SaveAsync(content, fileName, userId, null, ct);
        }
        catch (PortalException ex) when (ex is not UploadTooLargeException)
        {
            throw new UploadTooLargeException(ex.Message);
        }
    }

    private sealed class UploadTooLargeException(string message) : PortalException(message);

    private static async Task<IResult> GetJobAsync(Guid id, HttpContext http, JobQueue jobs, DatasetImportService imports, CancellationToken ct)
    {
        var job = jobs.Get(id);
        if (job is null || job.RequestedById is null || job.RequestedById != http.User.UserId())
        {
            throw new ApiNotFoundException("There is no job with that id among yours.");
        }
        return TypedResults.Ok(await ApiJob.FromAsync(job, imports, ct));
    }

    /// <summary>The stored file's name: the one given, else one that fits the content type.</summary>
    private static string FileNameOf(string? given, string? mediaType)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            return given.Trim();
        }
        return mediaType?.ToLowerInvariant() switch
        {
            "application/json" => "rows.json",
            "application/x-ndjson" or "application/ndjson" or "application/jsonl" => "rows.ndjson",
            "text/csv" => "upload.csv",
            "text/tab-separated-values" => "upload.tsv",
            "application/vnd.apache.parquet" or "application/x-parquet" => "upload.parquet",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "upload.xlsx",
            _ => throw new PortalException($"Name the file with ?fileName= (its extension says its format: {FileImporter.SupportedExtensions}), or send rows as application/json or application/x-ndjson."),
        };
    }
}

/// <summary>A job as the API reports it; <see cref="DatasetId"/> is the dataset an import made or refreshed.</summary>
public sealed record ApiJob(
    Guid Id,
    string Kind,
    string Title,
    string Status,
    double? Progress,
    string Message,
    string? Error,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int? DatasetId)
{
    internal static async Task<ApiJob> FromAsync(JobSnapshot job, DatasetImportService imports, CancellationToken ct) => new(
        job.Id, job.Kind, job.Title, job.Status.ToString(), job.Progress, job.Message, job.Error, job.QueuedAt, job.StartedAt, job.FinishedAt,
        await imports.DatasetOfJobAsync(job, ct));
}
