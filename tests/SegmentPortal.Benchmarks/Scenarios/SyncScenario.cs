using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// The first full sync of a segment of N customers (1,000,000 by default: every customer of a generated list, with an
/// email and a spend) into a new table of a PostgreSQL connection (a throwaway server started for the run), through the
/// sync a user starts by hand: <see cref="SyncService.RunNowAsync"/> and the <see cref="SyncRunner"/> (members read as
/// the owner through the query layer, matched with the segment's stored members, holdout left out, compared with what was
/// delivered, the table created and filled by binary COPY, the delivered set kept), against PostgreSQL's own
/// <c>COPY … FROM</c> of the same rows from a CSV file into a table of the same shape. Every run writes a new table
/// (dropped after it, untimed), and both sides must end with N rows.
/// </summary>
public sealed class SyncScenario : Scenario
{
    private const int DefaultCustomers = 1_000_000;

    private string _folder = null!;
    private PortalHost _host = null!;
    private PostgresCluster _pg = null!;
    private int _segment;
    private int _connection;
    private long _customers;
    private string _csv = null!;
    private readonly List<TimeSpan> _keyedAfter = [];

    public override string Name => "sync";

    public override string BaselineName => "postgres-copy";

    public override string Description =>
        "The first full sync of a segment of N customers (default 1,000,000) with two columns into a new PostgreSQL table through " +
        "SyncService.RunNowAsync and the SyncRunner (query layer, stored members, delta against the delivered set, CREATE TABLE and binary " +
        "COPY, delivered set kept), as an Admin, against PostgreSQL's own COPY FROM of the same rows (a CSV file) into a table of the same shape; " +
        "a throwaway server (Debian's postgresql) is started for the run.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _customers = context.Size ?? DefaultCustomers;
        context.InputLabel = _customers.ToString(CultureInfo.InvariantCulture);
        _pg = await PostgresCluster.StartAsync(cancellationToken);
        _folder = context.Paths.NewWorkFolder("sync");
        _host = await PortalHost.StartAsync(Path.Combine(_folder, "data"), WarehouseLimits.FromEnvironment(), cancellationToken, Roles.Admin);
        var warehouse = _host.Services.GetRequiredService<DuckDbWarehouse>();
        ScenarioContext.Log($"Generating {_customers:N0} customers");
        await warehouse.ReplaceTableAsync("bench_sync_customers", async (connection, staging, ct) =>
            await WarehouseCommand.ExecuteAsync(connection,
                $"CREATE TABLE \"{staging}\" AS SELECT i AS customer_id, 'customer' || i || '@example.com' AS email, " +
                $"CASE i % 4 WHEN 0 THEN 'North' WHEN 1 THEN 'South' WHEN 2 THEN 'East' ELSE 'West' END AS region, round((i * 7919) % 100000 / 100.0, 2)::DOUBLE AS spend " +
                $"FROM range(1, {_customers + 1}) t(i)", null, ct), cancellationToken);
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var dataset = await scope.ServiceProvider.GetRequiredService<DatasetCatalog>().RegisterAsync(new DatasetRegistration("Customers", "bench_sync_customers",
                DatasetKind.Customers, "Benchmark", OwnerId: _host.UserId,
                Roles: new Dictionary<string, FieldRole> { ["customer_id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension }), cancellationToken);
            ScenarioContext.Log("Counting the segment (every customer)");
            var everyone = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "spend", Operator = RuleOperator.GreaterOrEqual, Value = "0" }] } };
            _segment = await scope.ServiceProvider.GetRequiredService<SegmentService>().CreateAsync(new SegmentDraft("Everyone", dataset.Id, everyone), cancellationToken);
            _connection = await scope.ServiceProvider.GetRequiredService<ConnectionService>().CreateAsync(new ConnectionInput
            {
                Name = "CRM",
                Kind = ConnectionKind.PostgreSql,
                Host = "127.0.0.1",
                Port = _pg.Port,
                Database = PostgresCluster.Database,
                Username = PostgresCluster.Writer,
                Password = PostgresCluster.WriterPassword,
                Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable, CommandTimeoutSeconds = 3600 },
                WritableForSyncs = true,
            }, cancellationToken);
        }
        // The baseline's input: the same rows the sync sends (customer key, email, spend), written once, untimed.
        _csv = Path.Combine(_pg.Root, "members.csv");
        await using (var connection = await warehouse.OpenAsync(cancellationToken))
        {
            // DuckDB may write only inside the data folder; the file is moved to where the server can read it.
            var temp = Path.Combine(_folder, "data", "tmp", "members.csv");
            await WarehouseCommand.ExecuteAsync(connection,
                $"COPY (SELECT CAST(customer_id AS VARCHAR), email, spend FROM bench_sync_customers) TO '{temp}' (FORMAT csv, HEADER false)", null, cancellationToken);
            File.Move(temp, _csv);
        }
        await _pg.ShareAsync(_csv, cancellationToken);
        context.Note($"Segment: every one of {_customers:N0} customers; columns sent: email (text), spend (number), with customer_key and synced_at.");
        context.Note("Both sides write a new table each run: customer_key text PRIMARY KEY, email text, spend double precision, synced_at timestamptz. " +
            "PostgreSQL runs with fsync, synchronous_commit and full_page_writes off (the same server for both sides).");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var table = $"app_{run.Index}_{Guid.NewGuid().ToString("N")[..6]}";
        int sync;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            sync = await scope.ServiceProvider.GetRequiredService<SyncService>().CreateAsync(_segment, new SyncInput
            {
                Name = table,
                Kind = SyncDestinationKind.DatabaseTable,
                ConnectionId = _connection,
                TableSchema = "crm",
                TableName = table,
                Columns = ["email", "spend"],
                Schedule = SyncSchedule.Manual,
            }, cancellationToken);
        }
        try
        {
            await run.MeasureAsync(async () =>
            {
                await using var scope = _host.Services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<SyncService>().RunNowAsync(sync, cancellationToken);
                await _host.Services.GetRequiredService<SyncRunner>().RunDueAsync(cancellationToken);
                return 0;
            });
            await using (var scope = _host.Services.CreateAsyncScope())
            {
                var last = (await scope.ServiceProvider.GetRequiredService<SyncService>().HistoryAsync(sync, 1, cancellationToken))[0];
                if (last.Status != SyncRunStatus.Succeeded || last.Full != true)
                {
                    throw new InvalidOperationException($"The sync did not succeed in full: {last.Status} {last.Error}");
                }
                if (run.Index == 1)
                {
                    context.Note($"App run 1: {last.Added:N0} added in {last.DurationMs:N0} ms (the runner's own measure).");
                }
            }
            var rows = await _pg.CountAsync($"crm.{table}", cancellationToken);
            return rows == _customers ? rows : throw new InvalidOperationException($"The table has {rows:N0} rows, not {_customers:N0}.");
        }
        finally
        {
            await using var scope = _host.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<SyncService>().DeleteAsync(sync, CancellationToken.None);
            await _pg.ExecuteAsync($"DROP TABLE IF EXISTS crm.{table}", CancellationToken.None);
        }
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var rows = await BaselineCopyAsync(run, cancellationToken);
        await KeyAfterAsync(run, cancellationToken);
        return rows;
    }

    private async Task<long> BaselineCopyAsync(RunContext run, CancellationToken cancellationToken)
    {
        var table = $"crm.base_{run.Index}_{Guid.NewGuid().ToString("N")[..6]}";
        await _pg.ExecuteAsync($"CREATE TABLE {table} (customer_key text PRIMARY KEY, email text, spend double precision, synced_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
        try
        {
            await run.MeasureAsync(async () =>
            {
                await _pg.ExecuteAsync($"COPY {table} (customer_key, email, spend) FROM '{_csv}' (FORMAT csv)", cancellationToken);
                return 0;
            });
            var rows = await _pg.CountAsync(table, cancellationToken);
            return rows == _customers ? rows : throw new InvalidOperationException($"The baseline table has {rows:N0} rows, not {_customers:N0}.");
        }
        finally
        {
            await _pg.ExecuteAsync($"DROP TABLE IF EXISTS {table}", CancellationToken.None);
        }
    }

    private async Task KeyAfterAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (!run.IsWarmup)
        {
            // The same COPY into the table without its key, the key built afterwards, as the app fills a new table (extra row).
            var keyless = $"crm.keyless_{run.Index}_{Guid.NewGuid().ToString("N")[..6]}";
            await _pg.ExecuteAsync($"CREATE TABLE {keyless} (customer_key text NOT NULL, email text, spend double precision, synced_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                await _pg.ExecuteAsync($"COPY {keyless} (customer_key, email, spend) FROM '{_csv}' (FORMAT csv); ALTER TABLE {keyless} ADD PRIMARY KEY (customer_key)", cancellationToken);
                _keyedAfter.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            }
            finally
            {
                await _pg.ExecuteAsync($"DROP TABLE IF EXISTS {keyless}", CancellationToken.None);
            }
        }
    }

    public override Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        if (_keyedAfter.Count > 0)
        {
            var sorted = _keyedAfter.Order().ToList();
            var app = BenchmarkRunner.Median(measurements.Where(m => m.Side == Side.App && !m.IsWarmup).Select(m => m.Elapsed).Order().ToList());
            var median = BenchmarkRunner.Median(sorted);
            context.AddExtra(new ExtraSide("postgres-copy, key after", median, sorted[0], sorted[^1], _customers, app / median));
            context.Note($"Extra row \"postgres-copy, key after\": the same COPY into a table without its key, then ALTER TABLE … ADD PRIMARY KEY (as the app fills a " +
                $"new table); its results.csv ratio is app ÷ that row ({app / median:0.00}x).");
        }
        context.Note($"Load average at the end (/proc/loadavg): {File.ReadAllText("/proc/loadavg").Trim()}; this machine is shared with other work.");
        return Task.CompletedTask;
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        if (_pg is not null)
        {
            await _pg.DisposeAsync();
        }
        if (_folder is not null)
        {
            BenchmarkPaths.DeleteFolder(_folder);
        }
    }
}
