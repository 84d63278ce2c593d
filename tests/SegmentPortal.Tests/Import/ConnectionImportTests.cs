using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Import;

/// <summary>Datasets extracted from a connection (a SQLite file in the sources folder), refreshed by hand and on a schedule.</summary>
public sealed class ConnectionImportTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;
    private string _file = null!;
    private int _connectionId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        _file = Path.Combine(_harness.Services.GetRequiredService<SqliteSourceFolder>().FolderPath, "shop.db");
        Exec("CREATE TABLE orders (id INTEGER, customer TEXT, amount REAL); INSERT INTO orders VALUES (1, 'ann', 10.5), (2, 'bo', 20), (3, 'ann', 7);");
        _connectionId = await _harness.WithAsync<ConnectionService, int>(s =>
            s.CreateAsync(new ConnectionInput { Name = "Shop", Kind = ConnectionKind.Sqlite, Database = "shop.db" }, Ct));
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private void Exec(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_file};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private async Task<Dataset> RunAsync(ConnectionImportRequest request)
    {
        var user = await _harness.CurrentUser.GetPrincipalAsync();
        await _harness.WithAsync<DatasetImportRunner>(r => r.RunAsync(user, request, new Progress<JobProgress>(), Ct));
        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return await db.Datasets.AsNoTracking().Include(d => d.Columns).OrderByDescending(d => d.Id).FirstAsync(Ct);
    }

    [Fact]
    public async Task A_table_becomes_a_dataset_and_a_refresh_picks_up_new_rows()
    {
        var dataset = await RunAsync(new ConnectionImportRequest(_connectionId, "Shop", ConnectionSource.ForTable("main", "orders")));

        Assert.Equal(DatasetSourceKind.Connection, dataset.SourceKind);
        Assert.Equal("orders", dataset.Name);
        Assert.Equal(3, dataset.RowCount);
        Assert.Equal("Shop · main.orders", dataset.Source);

        Exec("INSERT INTO orders VALUES (4, 'cy', 99);");
        var refreshed = await RunAsync(new ConnectionImportRequest(_connectionId, "Shop", ConnectionSource.ForTable("main", "orders"), RefreshDatasetId: dataset.Id));

        Assert.Equal(dataset.Id, refreshed.Id);
        Assert.Equal(4, refreshed.RowCount);
        Assert.Equal([RefreshOutcome.Succeeded, RefreshOutcome.Succeeded], (await _harness.RefreshesAsync()).Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_read_only_query_can_be_the_source()
    {
        var dataset = await RunAsync(new ConnectionImportRequest(_connectionId, "Shop",
            ConnectionSource.ForQuery("SELECT customer, sum(amount) AS spent FROM orders GROUP BY customer"), Name: "Spend per customer"));

        Assert.Equal("Spend per customer", dataset.Name);
        Assert.Equal(2, dataset.RowCount);
    }

    [Fact]
    public async Task A_write_query_is_refused_before_any_job_starts()
    {
        var error = await Assert.ThrowsAnyAsync<PortalException>(() => _harness.WithAsync<DatasetImportService, JobSnapshot>(s =>
            s.StartConnectionImportAsync(_connectionId, ConnectionSource.ForQuery("DELETE FROM orders"))));

        Assert.NotEmpty(error.Message);
        Assert.Empty(_harness.Services.GetRequiredService<JobQueue>().List());
    }

    [Fact]
    public async Task A_failed_refresh_keeps_the_last_good_version()
    {
        var dataset = await RunAsync(new ConnectionImportRequest(_connectionId, "Shop", ConnectionSource.ForTable("main", "orders")));
        Exec("DROP TABLE orders;");

        await Assert.ThrowsAnyAsync<PortalException>(() =>
            RunAsync(new ConnectionImportRequest(_connectionId, "Shop", ConnectionSource.ForTable("main", "orders"), RefreshDatasetId: dataset.Id)));

        Assert.Equal(3L, (await _harness.RowsAsync($"SELECT count(*) FROM \"{dataset.TableName}\""))[0][0]);
        var history = await _harness.RefreshesAsync();
        Assert.Equal(RefreshOutcome.Failed, history[^1].Outcome);
        Assert.False(string.IsNullOrEmpty(history[^1].Error));
    }

    [Fact]
    public async Task A_due_schedule_queues_one_refresh_as_the_schedule_and_moves_the_next_run()
    {
        var dataset = await RunAsync(new ConnectionImportRequest(_connectionId, "Shop", ConnectionSource.ForTable("main", "orders")));
        await _harness.WithAsync<DatasetImportService>(s => s.SetScheduleAsync(dataset.Id, RefreshSchedule.Hourly, Ct));
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var entity = await db.Datasets.SingleAsync(d => d.Id == dataset.Id, Ct);
            entity.NextRefreshAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync(Ct);
        }
        var scheduler = _harness.Services.GetRequiredService<RefreshScheduler>();

        Assert.Equal(1, await scheduler.RunDueAsync(Ct));
        Assert.Equal(0, await scheduler.RunDueAsync(Ct));

        var job = Assert.Single(_harness.Services.GetRequiredService<JobQueue>().List());
        Assert.Equal("schedule", job.RequestedBy);
        Assert.Equal($"Refresh orders from Shop", job.Title);
        await using var check = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        Assert.True((await check.Datasets.SingleAsync(d => d.Id == dataset.Id, Ct)).NextRefreshAt > DateTimeOffset.UtcNow.AddMinutes(50));
    }

    [Fact]
    public async Task File_datasets_cannot_be_scheduled()
    {
        var dataset = await _harness.ImportTextAsync("a.csv", "x\n1\n");

        var error = await Assert.ThrowsAsync<PortalException>(() =>
            _harness.WithAsync<DatasetImportService>(s => s.SetScheduleAsync(dataset.Id, RefreshSchedule.Daily, Ct)));

        Assert.Contains("upload a new version", error.Message);
    }
}
