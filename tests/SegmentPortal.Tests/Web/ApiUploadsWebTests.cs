using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Web.Api;

namespace SegmentPortal.Tests.Web;

/// <summary>POST /api/v1/uploads and GET /api/v1/jobs/{id} in the real host: rows and files become datasets or new versions.</summary>
public sealed class ApiUploadsWebTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new();
    private AppUser _ann = null!;
    private HttpClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _ = _factory.Server;
        _ann = await _factory.CreateUserAsync("ann@example.com", "Correct-horse-9", Roles.Analyst);
        _client = await _factory.CreateTokenClientAsync(_ann, ApiScopes.UploadData);
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    private static StringContent Body(string text, string mediaType) => new(text, Encoding.UTF8, mediaType);

    /// <summary>Posts, expects 202 with the job's address, and polls it until the job has ended.</summary>
    private async Task<ApiJob> UploadAndWaitAsync(string query, HttpContent content)
    {
        var response = await _client.PostAsync("/api/v1/uploads" + query, content, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Ct));
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("/api/v1/jobs/", location);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2)); // a guard against a hang, not a wait
        while (true)
        {
            var job = (await _client.GetFromJsonAsync<ApiJob>(location, limit.Token))!;
            if (job.Status is not ("Queued" or "Running"))
            {
                Assert.True(job.Status == "Succeeded", $"{job.Status}: {job.Error}");
                return job;
            }
            await Task.Delay(20, limit.Token);
        }
    }

    private async Task<(string Name, long Rows, string? OwnerId)> DatasetAsync(int id)
    {
        await using var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(d => d.Id == id, Ct);
        return (dataset.Name, dataset.RowCount, dataset.OwnerId);
    }

    [Fact]
    public async Task Json_rows_become_a_dataset_of_the_tokens_user()
    {
        var job = await UploadAndWaitAsync("?name=Api customers",
            Body("""[{"customer_id":"C1","region":"North"},{"customer_id":"C2","region":"South"}]""", "application/json"));

        var dataset = await DatasetAsync(Assert.IsType<int>(job.DatasetId));
        Assert.Equal(("Api customers", 2L, _ann.Id), dataset);
    }

    [Fact]
    public async Task Ndjson_rows_and_multipart_files_become_datasets()
    {
        var ndjson = await UploadAndWaitAsync("", Body("{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n{\"id\":3,\"v\":\"c\"}\n", "application/x-ndjson"));
        Assert.Equal(3, (await DatasetAsync(ndjson.DatasetId!.Value)).Rows);

        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("customer_id,amount\nC1,10\nC2,20\nC3,30\nC4,40\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "orders.csv");
        var multipart = await UploadAndWaitAsync("", form);
        Assert.Equal(("orders", 4L), ((await DatasetAsync(multipart.DatasetId!.Value)).Name, (await DatasetAsync(multipart.DatasetId!.Value)).Rows));
    }

    [Fact]
    public async Task Rows_sent_with_a_dataset_id_become_its_new_version()
    {
        var first = await UploadAndWaitAsync("?fileName=customers.csv", Body("customer_id,region\nC1,North\n", "text/csv"));
        var id = first.DatasetId!.Value;

        var second = await UploadAndWaitAsync($"?fileName=customers.csv&datasetId={id}", Body("customer_id,region\nC1,North\nC2,South\nC3,East\n", "text/csv"));

        Assert.Equal(id, second.DatasetId);
        Assert.Equal(3, (await DatasetAsync(id)).Rows);
        await using var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        Assert.Equal(1, await db.Datasets.CountAsync(Ct));
    }

    [Fact]
    public async Task Only_the_jobs_owner_sees_it_and_a_Viewer_may_not_upload()
    {
        var job = await UploadAndWaitAsync("", Body("[{\"a\":1}]", "application/json"));
        var bob = await _factory.CreateUserAsync("bob@example.com", "Correct-horse-9", Roles.Viewer);
        var bobs = await _factory.CreateTokenClientAsync(bob, ApiScopes.UploadData);

        var other = await bobs.GetAsync($"/api/v1/jobs/{job.Id}", Ct);
        var upload = await bobs.PostAsync("/api/v1/uploads", Body("[{\"a\":1}]", "application/json"), Ct);

        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        Assert.Equal("application/problem+json", upload.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_body_without_a_format_is_refused_with_problem_details()
    {
        var response = await _client.PostAsync("/api/v1/uploads", new ByteArrayContent([1, 2, 3]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("fileName", await response.Content.ReadAsStringAsync(Ct));
    }
}
