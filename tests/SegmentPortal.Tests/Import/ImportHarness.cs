using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Import;

/// <summary>Uploads files and runs imports the way the import job does, over a real warehouse and metadata store.</summary>
public static class ImportHarness
{
    public static async Task<StoredUpload> UploadAsync(this CoreHarness harness, string fileName, Stream content)
    {
        var user = await harness.CurrentUser.GetPrincipalAsync();
        return await harness.Services.GetRequiredService<UploadStore>()
            .SaveAsync(content, fileName, user.UserId()!, null, TestContext.Current.CancellationToken);
    }

    public static Task<StoredUpload> UploadAsync(this CoreHarness harness, string fileName, string text) =>
        harness.UploadAsync(fileName, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)));

    public static async Task<Dataset> ImportAsync(this CoreHarness harness, FileImportRequest request, IProgress<JobProgress>? progress = null)
    {
        var user = await harness.CurrentUser.GetPrincipalAsync();
        var uploads = harness.Services.GetRequiredService<UploadStore>();
        var files = new List<StoredUpload>();
        foreach (var id in request.UploadIds)
        {
            files.Add(await uploads.GetAsync(id, user.UserId()!));
        }
        await harness.WithAsync<DatasetImportRunner>(r => r.RunAsync(user, files, request, progress ?? new Progress<JobProgress>(),
            TestContext.Current.CancellationToken));
        await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return request.RefreshDatasetId is { } id2
            ? await db.Datasets.AsNoTracking().Include(d => d.Columns).SingleAsync(d => d.Id == id2)
            : await db.Datasets.AsNoTracking().Include(d => d.Columns).OrderByDescending(d => d.Id).FirstAsync();
    }

    public static async Task<Dataset> ImportTextAsync(this CoreHarness harness, string fileName, string text, FileImportOptions? options = null)
    {
        var upload = await harness.UploadAsync(fileName, text);
        return await harness.ImportAsync(new FileImportRequest([upload.Id], Options: options));
    }

    public static async Task<List<DatasetRefresh>> RefreshesAsync(this CoreHarness harness)
    {
        await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return await db.DatasetRefreshes.AsNoTracking().OrderBy(r => r.Id).ToListAsync();
    }

    public static async Task<int> DatasetCountAsync(this CoreHarness harness)
    {
        await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return await db.Datasets.CountAsync();
    }

    public static async Task<List<object?[]>> RowsAsync(this CoreHarness harness, string sql)
    {
        var warehouse = harness.Services.GetRequiredService<Core.Warehouse.DuckDbWarehouse>();
        await using var connection = await warehouse.OpenAsync();
        return await Core.Warehouse.WarehouseCommand.QueryAsync(connection, sql, null, r =>
        {
            var values = new object?[r.FieldCount];
            for (var i = 0; i < r.FieldCount; i++)
            {
                values[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            }
            return values;
        });
    }

    public static ClaimsPrincipal Analyst(this CoreHarness harness) => harness.CurrentUser.Principal;
}
