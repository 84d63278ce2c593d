using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Jobs;

/// <summary>
/// Start-up recovery over real SQLite and DuckDB files: the state a process killed mid-way leaves behind (records
/// still "running", half-built staging tables, a first import still "importing") is put right before any job runs.
/// The real kill -9 of the app is in the E2E project (RestartTests).
/// </summary>
public sealed class JobRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task What_a_killed_process_left_unfinished_is_marked_interrupted_and_no_half_data_stays()
    {
        await using var harness = await CoreHarness.CreateAsync(clock: new FixedClock(Now));
        var analyst = await harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var live = await harness.ImportTextAsync("orders.csv", "id,amount\n1,10\n2,20\n3,30\n");
        var warehouse = harness.Services.GetRequiredService<DuckDbWarehouse>();

        // What the process was doing when it died: a scheduled refresh of "orders" half-way through its staging tables,
        // a first import half-way (record "importing", its staging tables partly written), a clustering run, two jobs.
        var half = new Dataset
        {
            Name = "half", TableName = "ds_half_1234abcd", RawTableName = "ds_half_1234abcd_raw", Status = DatasetStatus.Importing,
            Source = "File half.csv", SourceKind = DatasetSourceKind.File, OwnerId = analyst.Id, CreatedAt = Now, RefreshedAt = Now,
        };
        int runId;
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.Datasets.Add(half);
            await db.SaveChangesAsync(Ct);
            db.DatasetRefreshes.Add(new DatasetRefresh { DatasetId = half.Id, StartedAt = Now, TriggeredBy = "analyst@example.com" });
            db.DatasetRefreshes.Add(new DatasetRefresh { DatasetId = live.Id, StartedAt = Now, TriggeredBy = RefreshScheduler.IdentityName });
            var orders = await db.Datasets.SingleAsync(d => d.Id == live.Id, Ct);
            orders.Schedule = RefreshSchedule.Daily;
            orders.NextRefreshAt = Now.AddDays(1);
            var run = new ClusteringRun
            {
                Name = "Run", DatasetId = live.Id, SettingsJson = "{}", Status = ClusteringRunStatus.Running, OwnerId = analyst.Id, CreatedAt = Now,
            };
            db.ClusteringRuns.Add(run);
            db.JobRecords.Add(Record(JobStatus.Running, "import", analyst.Id, "{}"));
            db.JobRecords.Add(Record(JobStatus.Queued, "clustering", analyst.Id, null));
            db.JobRecords.Add(Record(JobStatus.Succeeded, "import", analyst.Id, null));
            await db.SaveChangesAsync(Ct);
            runId = run.Id;
        }
        await using (var connection = await warehouse.OpenAsync(Ct))
        {
            foreach (var table in new[] { $"{live.TableName}__staging_0a1b2c3d4e5f", $"{live.RawTableName}__staging_0a1b2c3d4e5f",
                "ds_half_1234abcd_raw__staging_99aa88bb77cc", "ds_half_1234abcd_raw__staging_99aa88bb77cc__part" })
            {
                await WarehouseCommand.ExecuteAsync(connection, $"CREATE TABLE {WarehouseNames.Quote(table)} AS SELECT 99 AS id, 990 AS amount", null, Ct);
            }
            // A first import whose swap had happened but whose record was not yet "ready": still not to be shown.
            await WarehouseCommand.ExecuteAsync(connection, "CREATE TABLE ds_half_1234abcd AS SELECT 1 AS id", null, Ct);
        }

        var report = await harness.Services.GetRequiredService<JobRecovery>().RecoverAsync(Ct);

        Assert.Equal(new RecoveryReport(InterruptedJobs: 2, InterruptedRuns: 1, RemovedImports: 1, InterruptedRefreshes: 1, DroppedTables: 4), report);
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            // (a) Nothing stays running.
            Assert.DoesNotContain(await db.JobRecords.ToListAsync(Ct), j => j.Status is JobStatus.Queued or JobStatus.Running);
            var interrupted = await db.JobRecords.Where(j => j.Status == JobStatus.Interrupted).ToListAsync(Ct);
            Assert.Equal(2, interrupted.Count);
            Assert.All(interrupted, j => Assert.Equal("Interrupted (the portal restarted)", j.Message));
            var run = await db.ClusteringRuns.SingleAsync(r => r.Id == runId, Ct);
            Assert.Equal(ClusteringRunStatus.Failed, run.Status);
            Assert.Equal("Interrupted (the portal restarted).", run.Error);
            Assert.DoesNotContain(await db.DatasetRefreshes.ToListAsync(Ct), r => r.FinishedAt == null);

            // (b) No half dataset: neither its record nor any of its tables.
            Assert.Equal([live.Id], await db.Datasets.Select(d => d.Id).ToListAsync(Ct));

            // (c) The refreshed dataset keeps its previous version, and the refresh the restart stopped runs again now.
            var refresh = await db.DatasetRefreshes.SingleAsync(r => r.DatasetId == live.Id && r.TriggeredBy == RefreshScheduler.IdentityName, Ct);
            Assert.Equal(RefreshOutcome.Failed, refresh.Outcome);
            Assert.Equal("Interrupted (the portal restarted)", refresh.Error);
            Assert.Equal(Now, (await db.Datasets.SingleAsync(d => d.Id == live.Id, Ct)).NextRefreshAt);
        }
        var tables = (await harness.RowsAsync("SELECT table_name FROM information_schema.tables ORDER BY 1")).Select(r => (string)r[0]!).ToList();
        Assert.Equal([live.TableName, live.RawTableName!], tables.Order(StringComparer.Ordinal));
        Assert.Equal([[1, 10L], [2, 20L], [3, 30L]], (await harness.RowsAsync($"SELECT id, amount FROM {WarehouseNames.Quote(live.TableName)} ORDER BY id"))
            .Select(r => new object[] { Convert.ToInt32(r[0]), Convert.ToInt64(r[1]) }));

        // The Jobs page shows them again; the interrupted import offers Retry. The run can be deleted now.
        var listed = harness.Services.GetRequiredService<JobQueue>().List();
        Assert.Equal(3, listed.Count);
        Assert.True(Assert.Single(listed, j => j is { Kind: "import", Status: JobStatus.Interrupted }).CanRetry);
        await harness.WithAsync<ClusteringService>(c => c.DeleteAsync(runId, Ct));

        // A second start finds nothing more to do.
        Assert.Equal(new RecoveryReport(0, 0, 0, 0, 0), await harness.Services.GetRequiredService<JobRecovery>().RecoverAsync(Ct));
    }

    [Fact]
    public async Task An_interrupted_import_is_retried_from_its_upload_by_its_owner_and_its_new_job_is_recorded()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var analyst = await harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var upload = await harness.UploadAsync("people.csv", "id,name\n1,Ann\n2,Bob\n");
        var target = JsonSerializer.Serialize(new ImportRetryTarget(new FileImportRequest([upload.Id]), null));
        var interrupted = Record(JobStatus.Running, DatasetImportService.JobKind, analyst.Id, target);
        await RecoverFromAsync(harness, interrupted);
        await WithJobsRunningAsync(harness, async () =>
        {
            // Someone else may not retry it (the permission check is in the service, not the page).
            await harness.SignInAsNewUserAsync("other@example.com", Roles.Analyst);
            await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<JobRetryService>(r => r.RetryAsync(interrupted.Id, Ct)));

            harness.CurrentUser.Principal = CoreHarness.Principal(analyst.Id, "analyst@example.com", Roles.Analyst);
            var retried = await RetryAndWaitAsync(harness, interrupted.Id);
            Assert.Equal(JobStatus.Succeeded, retried.Status);
            Assert.Equal([[1L, "Ann"], [2L, "Bob"]], (await harness.RowsAsync(
                $"SELECT id, name FROM {WarehouseNames.Quote((await ReadyDatasetAsync(harness)).TableName)} ORDER BY id"))
                .Select(r => new object[] { Convert.ToInt64(r[0]), (string)r[1]! }));

            // The new job's states reach the metadata store (written off the job's thread: wait for it).
            var factory = harness.Services.GetRequiredService<IPortalDbFactory>();
            JobRecord? record = null;
            for (var attempt = 0; record?.Status != JobStatus.Succeeded; attempt++)
            {
                Assert.True(attempt < 600, "The finished job was never recorded.");
                await Task.Delay(100, TestContext.Current.CancellationToken); // polling the store for the journal's write
                await using var db = await factory.CreateAsync(Ct);
                record = await db.JobRecords.AsNoTracking().SingleOrDefaultAsync(j => j.Id == retried.Id, Ct);
            }
            Assert.Equal(analyst.Id, record.RequestedById);
            Assert.NotNull(record.RetryTarget);
        });
    }

    [Fact]
    public async Task A_refresh_swapped_in_just_before_the_kill_is_completed_not_reported_as_interrupted()
    {
        await using var harness = await CoreHarness.CreateAsync(clock: new FixedClock(Now));
        var analyst = await harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var live = await harness.ImportTextAsync("orders.csv", "id,amount\n1,10\n2,20\n3,30\n");
        var warehouse = harness.Services.GetRequiredService<DuckDbWarehouse>();

        // The process died after the warehouse transaction that swapped a 4-row version in (and logged it), before the
        // metadata store heard of it: the refresh reads unfinished and its job running.
        int refreshId;
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var refresh = new DatasetRefresh { DatasetId = live.Id, StartedAt = Now, TriggeredBy = "analyst@example.com" };
            db.DatasetRefreshes.Add(refresh);
            db.JobRecords.Add(Record(JobStatus.Running, DatasetImportService.JobKind, analyst.Id,
                JsonSerializer.Serialize(new ImportRetryTarget(new FileImportRequest([Guid.NewGuid()], RefreshDatasetId: live.Id), null))));
            await db.SaveChangesAsync(Ct);
            refreshId = refresh.Id;
        }
        await using (var connection = await warehouse.OpenAsync(Ct))
        {
            await using var tx = await connection.BeginTransactionAsync(Ct);
            // The live table is a view over the raw rows here (no recipe), so one more raw row is the new version.
            var raw = WarehouseNames.Quote(live.RawTableName!);
            await WarehouseCommand.ExecuteAsync(connection, $"INSERT INTO {raw} SELECT * FROM {raw} LIMIT 1", null, Ct);
            await RefreshSwapLog.RecordAsync(connection, refreshId, Ct);
            await tx.CommitAsync(Ct);
        }

        var report = await harness.Services.GetRequiredService<JobRecovery>().RecoverAsync(Ct);

        Assert.Equal(new RecoveryReport(InterruptedJobs: 0, InterruptedRuns: 0, RemovedImports: 0, InterruptedRefreshes: 0, DroppedTables: 0, CompletedRefreshes: 1), report);
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var refresh = await db.DatasetRefreshes.SingleAsync(r => r.Id == refreshId, Ct);
            Assert.Equal((RefreshOutcome.Succeeded, 4L), (refresh.Outcome, refresh.RowCount));
            Assert.Equal(["amount", "id"], (await db.Datasets.Include(d => d.Columns).SingleAsync(d => d.Id == live.Id, Ct)).Columns.Select(c => c.Name).Order(StringComparer.Ordinal));
        }
        var job = Assert.Single(harness.Services.GetRequiredService<JobQueue>().List(), j => j.Kind == DatasetImportService.JobKind);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Contains("4 rows imported", job.Message);
        // The log is cleared on start: only the dataset's own tables remain.
        var tables = (await harness.RowsAsync("SELECT table_name FROM information_schema.tables ORDER BY 1")).Select(r => (string)r[0]!).ToList();
        Assert.Equal([live.TableName, live.RawTableName!], tables.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_scheduled_refresh_missed_while_down_or_stopped_by_the_restart_runs_once_on_start()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        var file = Path.Combine(harness.Services.GetRequiredService<SqliteSourceFolder>().FolderPath, "shop.db");
        await using (var source = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await source.OpenAsync(Ct);
            await using var command = source.CreateCommand();
            command.CommandText = "CREATE TABLE orders (id INTEGER, amount REAL); INSERT INTO orders VALUES (1, 10), (2, 20);";
            await command.ExecuteNonQueryAsync(Ct);
        }
        var connectionId = await harness.WithAsync<ConnectionService, int>(s =>
            s.CreateAsync(new ConnectionInput { Name = "Shop", Kind = ConnectionKind.Sqlite, Database = "shop.db" }, Ct));
        var user = await harness.CurrentUser.GetPrincipalAsync();
        var request = new ConnectionImportRequest(connectionId, "Shop", ConnectionSource.ForTable("main", "orders"));
        await harness.WithAsync<DatasetImportRunner>(r => r.RunAsync(user, request, new Progress<JobProgress>(), Ct));
        await harness.WithAsync<DatasetImportRunner>(r => r.RunAsync(user, request with { Name = "orders again" }, new Progress<JobProgress>(), Ct));

        var now = DateTimeOffset.UtcNow;
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var datasets = await db.Datasets.OrderBy(d => d.Id).ToListAsync(Ct);
            // The first was being refreshed by the schedule when the process died (the scheduler moves the next run first).
            datasets[0].Schedule = RefreshSchedule.Hourly;
            datasets[0].NextRefreshAt = now.AddMinutes(59);
            db.DatasetRefreshes.Add(new DatasetRefresh { DatasetId = datasets[0].Id, StartedAt = now.AddMinutes(-1), TriggeredBy = RefreshScheduler.IdentityName });
            // The second was due three days ago, while the portal was down: many runs missed, one is enough.
            datasets[1].Schedule = RefreshSchedule.Hourly;
            datasets[1].NextRefreshAt = now.AddDays(-3);
            await db.SaveChangesAsync(Ct);
        }

        Assert.Equal(1, (await harness.Services.GetRequiredService<JobRecovery>().RecoverAsync(Ct)).InterruptedRefreshes);
        var scheduler = harness.Services.GetRequiredService<RefreshScheduler>();

        Assert.Equal(2, await scheduler.RunDueAsync(Ct));
        Assert.Equal(0, await scheduler.RunDueAsync(Ct));
        Assert.Equal(["Refresh orders again from Shop", "Refresh orders from Shop"],
            harness.Services.GetRequiredService<JobQueue>().List().Where(j => j.IsActive).Select(j => j.Title).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_interrupted_demo_load_is_retried_and_loads_the_demo_datasets()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var analyst = await harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var interrupted = Record(JobStatus.Running, DemoDataService.JobKind, analyst.Id, JsonSerializer.Serialize(new DemoDataSize(Customers: 300, OrdersPerCustomer: 3)));
        await RecoverFromAsync(harness, interrupted);
        await WithJobsRunningAsync(harness, async () =>
        {
            Assert.True(Assert.Single(harness.Services.GetRequiredService<JobQueue>().List(), j => j.Id == interrupted.Id).CanRetry);
            var done = await RetryAndWaitAsync(harness, interrupted.Id);

            Assert.Equal(JobStatus.Succeeded, done.Status);
            Assert.Equal("Load demo data (300 customers)", done.Title);
            await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
            Assert.Equal([DemoDataLoader.CustomersName, DemoDataLoader.OrdersName],
                await db.Datasets.Where(d => d.Status == DatasetStatus.Ready).OrderBy(d => d.Name).Select(d => d.Name).ToListAsync(Ct));
            Assert.Equal(300L, Convert.ToInt64((await harness.RowsAsync($"SELECT count(*) FROM {DemoDataLoader.CustomersTable}"))[0][0]));
        });
    }

    [Fact]
    public async Task On_start_only_the_newest_job_records_are_kept()
    {
        await using var harness = await CoreHarness.CreateAsync(clock: new FixedClock(Now));
        var analyst = await harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var records = Enumerable.Range(0, JobRecovery.KeptJobs + 25)
            .Select(i => Record(JobStatus.Succeeded, "import", analyst.Id, null))
            .ToList();
        for (var i = 0; i < records.Count; i++)
        {
            records[i].QueuedAt = Now.AddMinutes(-i);
        }
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.JobRecords.AddRange(records);
            await db.SaveChangesAsync(Ct);
        }

        await harness.Services.GetRequiredService<JobRecovery>().RecoverAsync(Ct);

        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var kept = await db.JobRecords.Select(j => j.Id).ToListAsync(Ct);
            Assert.Equal(records.Take(JobRecovery.KeptJobs).Select(r => r.Id).Order(), kept.Order());
        }
    }

    /// <summary>Stores a job as a killed process left it, then runs what the next start runs first.</summary>
    private static async Task RecoverFromAsync(CoreHarness harness, JobRecord interrupted)
    {
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.JobRecords.Add(interrupted);
            await db.SaveChangesAsync(Ct);
        }
        await harness.Services.GetRequiredService<JobRecovery>().RecoverAsync(Ct);
    }

    /// <summary>Runs <paramref name="body"/> with the app's hosted services (the job journal and runner) started.</summary>
    private static async Task WithJobsRunningAsync(CoreHarness harness, Func<Task> body)
    {
        var hosted = harness.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
        try
        {
            await body();
        }
        finally
        {
            foreach (var service in hosted.Reverse())
            {
                await service.StopAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>Retries a job from the Jobs page as the current user, and returns the new job once it has ended.</summary>
    private static async Task<JobSnapshot> RetryAndWaitAsync(CoreHarness harness, Guid jobId)
    {
        var queue = harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (job.Id != jobId && !job.IsActive)
            {
                finished.TrySetResult(job);
            }
        }
        queue.Changed += OnChanged;
        try
        {
            var retried = await harness.WithAsync<JobRetryService, JobSnapshot>(r => r.RetryAsync(jobId, Ct));
            var done = await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), Ct);
            Assert.Equal(retried.Id, done.Id);
            return done;
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
    }

    private static async Task<Dataset> ReadyDatasetAsync(CoreHarness harness)
    {
        await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return await db.Datasets.AsNoTracking().SingleAsync(d => d.Status == DatasetStatus.Ready, Ct);
    }

    private static JobRecord Record(JobStatus status, string kind, string userId, string? target) => new()
    {
        Id = Guid.NewGuid(),
        Kind = kind,
        Title = $"{kind} job",
        Key = $"{kind}:{Guid.NewGuid():N}",
        RequestedById = userId,
        RequestedBy = "analyst@example.com",
        Status = status,
        Message = status.ToString(),
        RetryTarget = target,
        QueuedAt = Now,
    };
}
