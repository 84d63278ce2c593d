using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using static SegmentPortal.Benchmarks.Scenarios.SqlText;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// The <c>segment-count</c> question on a live dataset: the same customers and orders (<see cref="CustomerOrdersData"/>)
/// loaded into a PostgreSQL server the scenario starts (<see cref="PostgresCluster"/>, Debian's binaries; primary key
/// on the customers, an index on the orders' customer id, VACUUM ANALYZE). The app side is the portal's own path: a
/// PostgreSQL connection (a read-only login over TCP), the customer list and its orders made live datasets of it
/// (<see cref="LiveDatasetService"/>, roles set, orders related to customers), and the count asked as
/// <see cref="SegmentService"/> counts a segment, through <see cref="QueryService"/> (permission policy, compiler in the
/// PostgreSQL dialect, the live runner's read-only transaction on the connection), as an Admin, with freshness 0 ("always
/// live"). These live in a portal of their own (a fresh data folder, deleted afterwards), so the cached segment-count
/// folder is not changed. The baseline is the same question as hand-written PostgreSQL SQL (one GROUP BY over the orders
/// of the region/active customers, facts as FILTER aggregates, the rest in HAVING) on the same server as the same login,
/// through a pooled Npgsql data source. The sides alternate run by run.
/// <para>
/// Every run asks with a slightly different spend threshold (as <c>segment-count</c> does), and the sides must agree on
/// the count every run; before the runs the live count is also checked against the DuckDB warehouse's answer for the
/// same rule on the imported copy.
/// </para>
/// </summary>
public sealed class LiveCountScenario : Scenario
{
    private static readonly string[] Regions = ["North", "East"];
    private const int SpendDays = 90;
    private const double SpendThreshold = 1000.005;
    private const int OrderDays = 365;
    private const int MinOrders = 5;
    private const int RecentDays = 30;
    private const string BoughtCategory = "Electronics";

    /// <summary>The freshness of the second pair of live datasets (the extra rows): results may be cached this long.</summary>
    private const int CachedMinutes = 10;

    /// <summary>Run indexes (and so thresholds) of the extra rows' series, apart from the main runs'.</summary>
    private const int CachedSeries = 101;
    private const string Reader = "live_reader";
    private const string ReaderPassword = "Live-reader-8642";

    private CustomerOrdersData? _data;
    private PostgresCluster? _server;
    private NpgsqlDataSource? _source;
    private PortalHost? _live;
    private string? _liveFolder;
    private int _customersId;
    private int _cachedCustomersId;
    private readonly Dictionary<int, long> _appCounts = [];

    public override string Name => "live-count";

    public override string BaselineName => "postgres-sql";

    public override string Description =>
        "The segment-count question (a 6-condition nested rule with order facts, counted as SegmentService counts a segment) " +
        "on the same customers and orders loaded into a PostgreSQL server the scenario starts, asked of live datasets of a " +
        "connection to that server through the query layer (QueryService: PermissionPolicy, QueryCompiler in the PostgreSQL " +
        "dialect, the live runner), as an Admin, against hand-written PostgreSQL SQL for the same question on the same server. --size N: N orders and N/10 customers (default " +
        $"{CustomerOrdersData.DefaultOrders:N0}; the data is the segment-count data, generated and cached under results/cache).";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        ScenarioContext.Log("Starting PostgreSQL and loading the customers and orders");
        var watch = Stopwatch.StartNew();
        _server = await PostgresCluster.StartAsync(cancellationToken);
        await LoadAsync(_server, _data, cancellationToken);
        ScenarioContext.Log($"Loaded in {Format.Seconds(watch.Elapsed)}");
        _source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = _server.Port, Database = PostgresCluster.Database, Username = Reader, Password = ReaderPassword,
            CommandTimeout = 600, MaxPoolSize = 4,
        }.ConnectionString);

        _liveFolder = Path.Combine(Path.GetTempPath(), "sp-bench-live-" + Guid.NewGuid().ToString("N")[..10]);
        _live = await PortalHost.StartAsync(_liveFolder, _data.Limits, cancellationToken, Roles.Admin, new DayClock(CustomerOrdersData.Today));
        var connectionId = await CreateConnectionAsync(_live, _server.Port, cancellationToken);
        _customersId = await CreateLiveDatasetsAsync(_live, connectionId, 0, cancellationToken);
        _cachedCustomersId = await CreateLiveDatasetsAsync(_live, connectionId, CachedMinutes, cancellationToken);

        context.Note($"PostgreSQL {await ScalarAsync<string>("SHOW server_version", cancellationToken)} (Debian's binaries, fsync off, " +
            "shared_buffers 128MB, default parallel workers); tables public.customers (primary key customer_id) and public.orders " +
            $"(index on customer_id), VACUUM ANALYZEd; loaded from the same CSV files in {Format.Seconds(watch.Elapsed)} (not part of the scenario). " +
            $"App: a PostgreSQL connection as {Reader} over TCP 127.0.0.1 and live datasets of its tables (freshness 0, always live), " +
            "orders related to customers, in a portal of their own; baseline: a pooled Npgsql data source as the same login.");
        var rule = Rule(Threshold(0));
        context.Note($"Rule: {RuleSummary.Describe(new RuleTree { Root = rule }, _ => null)}");
        await using (var scope = _live.Services.CreateAsyncScope())
        {
            var (compiled, _) = await scope.ServiceProvider.GetRequiredService<QueryService>().CompileAsync(CountSpec(_customersId, rule), cancellationToken);
            context.Note($"App SQL (QueryService, run 0): {compiled.Sql}");
            context.Note($"App parameters: {SqlText.Parameters(compiled)}");
        }
        context.Note($"Baseline SQL (run 0): {BaselineSql(Threshold(0))}");

        // The same rule on the DuckDB warehouse (the segment-count side), once: the live answer must be the imported one.
        long imported;
        await using (var scope = _data.Host.Services.CreateAsyncScope())
        {
            var warehouse = await scope.ServiceProvider.GetRequiredService<QueryService>().RunAsync(CountSpec(_data.Customers.Id, rule), cancellationToken);
            imported = Convert.ToInt64(warehouse.Scalar("n"), CultureInfo.InvariantCulture);
        }
        var live = await LiveCountAsync(_customersId, rule, cancellationToken);
        if (live.Count != imported)
        {
            throw new InvalidOperationException($"The live count ({live.Count:N0}) is not the warehouse's ({imported:N0}) for the same rule and rows.");
        }
        context.Note($"The live count equals the DuckDB warehouse's for the same rule: {live.Count:N0} customers.");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var rule = Rule(Threshold(run.Index));
        var (count, sql) = await run.MeasureAsync(() => LiveCountAsync(_customersId, rule, cancellationToken));
        run.RecordExtra("sql", sql);
        _appCounts[run.Index] = count;
        return count;
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var sql = BaselineSql(Threshold(run.Index));
        var count = await run.MeasureAsync(() => ScalarAsync<long>(sql, cancellationToken));
        if (!_appCounts.TryGetValue(run.Index, out var app) || app != count)
        {
            throw new InvalidOperationException($"The sides disagree on run {run.Index}: the app counted {app:N0}, the hand-written SQL {count:N0}.");
        }
        return count;
    }

    public override async Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var app = measurements.Where(m => m.Side == Side.App).ToList();
        context.Note($"App count by part (medians): the compiled SQL on the server (the executor's own stopwatch) {Format.Seconds(Median(app.Select(m => m.Extras["sql"])))}; " +
            $"everything else (permission policy and its metadata reads, compiling, cache key, opening the read-only session) " +
            $"{Format.Seconds(Median(app.Select(m => m.Elapsed - m.Extras["sql"])))}.");
        await CachedFreshnessAsync(context, cancellationToken);
    }

    /// <summary>
    /// The same count on live datasets whose results may be cached for <see cref="CachedMinutes"/> minutes (each run still
    /// asks a new question, so the result cache never answers): the portal then asks the source once whether the customer
    /// key is unique, and counts customers as rows without DISTINCT. Alternates with the baseline; two extra rows.
    /// </summary>
    private async Task CachedFreshnessAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var app = new List<RunMeasurement>();
        var baseline = new List<RunMeasurement>();
        for (var i = 0; i <= context.Runs; i++)
        {
            var threshold = Threshold(CachedSeries + i);
            var appRun = new RunContext(context.Paths, Side.App, i, isWarmup: i == 0);
            var (count, _) = await appRun.MeasureAsync(() => LiveCountAsync(_cachedCustomersId, Rule(threshold), cancellationToken));
            var baselineRun = new RunContext(context.Paths, Side.Baseline, i, isWarmup: i == 0);
            var expected = await baselineRun.MeasureAsync(() => ScalarAsync<long>(BaselineSql(threshold), cancellationToken));
            if (count != expected)
            {
                throw new InvalidOperationException($"The sides disagree ({CachedMinutes}-minute freshness, run {i}): the app counted {count:N0}, the hand-written SQL {expected:N0}.");
            }
            var a = appRun.Complete(count);
            var b = baselineRun.Complete(expected);
            ScenarioContext.Log($"{CachedMinutes}-minute freshness {(i == 0 ? "warm-up" : $"run {i}/{context.Runs}")}: app {Format.Seconds(a.Elapsed)}, postgres-sql {Format.Seconds(b.Elapsed)}");
            if (i > 0)
            {
                app.Add(a);
                baseline.Add(b);
            }
        }
        var ratio = Median(app.Select(m => m.Elapsed)).TotalMilliseconds / Median(baseline.Select(m => m.Elapsed)).TotalMilliseconds;
        context.AddExtra(Extra($"app, {CachedMinutes}-min freshness", app, ratio));
        context.AddExtra(Extra($"postgres-sql beside it", baseline, ratio));
        context.Note($"With a {CachedMinutes}-minute freshness (rows \"app, {CachedMinutes}-min freshness\" and \"postgres-sql beside it\", alternating; results.csv " +
            $"ratio = their quotient; every run a new question, so no cached answer): app {Format.Seconds(Median(app.Select(m => m.Elapsed)))} against " +
            $"{Format.Seconds(Median(baseline.Select(m => m.Elapsed)))}, {Format.Ratio(ratio)}x. Both read the customer key's primary key from the " +
            "source's catalog (once per dataset version), so both count rows; without such a constraint \"always live\" (the main rows) would " +
            "de-duplicate the candidate customers and count distinct keys, and a cached freshness would ask the data once.");
    }

    private static ExtraSide Extra(string label, IReadOnlyList<RunMeasurement> runs, double ratio)
    {
        var times = runs.Select(r => r.Elapsed).Order().ToList();
        return new ExtraSide(label, BenchmarkRunner.Median(times), times[0], times[^1], runs[0].Rows, ratio,
            runs.Max(r => r.PeakWorkingSet), runs.Min(r => r.StartWorkingSet), runs.Max(r => r.PeakManagedHeap));
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_live is not null)
        {
            await _live.DisposeAsync();
        }
        if (_liveFolder is not null)
        {
            BenchmarkPaths.DeleteFolder(_liveFolder);
        }
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (_data is not null)
        {
            await _data.DisposeAsync();
        }
    }

    /// <summary>The spec <see cref="SegmentService"/> counts a segment's customers with.</summary>
    private static QuerySpec CountSpec(int datasetId, RuleGroup rule) =>
        new() { DatasetId = datasetId, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] };

    /// <summary>The count through the app's query layer on the live customers; with the executor's own time for the SQL.</summary>
    private async Task<(long Count, TimeSpan Sql)> LiveCountAsync(int datasetId, RuleGroup rule, CancellationToken cancellationToken)
    {
        await using var scope = _live!.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<QueryService>().RunAsync(CountSpec(datasetId, rule), cancellationToken);
        if (result.FromCache)
        {
            throw new InvalidOperationException("The live count came from the result cache; the run measured nothing.");
        }
        return (Convert.ToInt64(result.Scalar("n"), CultureInfo.InvariantCulture), result.Elapsed);
    }

    /// <summary>As an Admin would: a PostgreSQL connection to the server, as the read-only login.</summary>
    private static async Task<int> CreateConnectionAsync(PortalHost host, int port, CancellationToken cancellationToken)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ConnectionService>().CreateAsync(new ConnectionInput
        {
            Name = "Benchmark PostgreSQL",
            Kind = ConnectionKind.PostgreSql,
            Host = "127.0.0.1",
            Port = port,
            Database = PostgresCluster.Database,
            Username = Reader,
            Password = ReaderPassword,
            Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable, CommandTimeoutSeconds = 600 },
        }, cancellationToken);
    }

    /// <summary>
    /// As an Analyst would: the two tables as live datasets of the connection with their roles and a freshness, the
    /// orders related to the customers. Returns the customers' dataset id.
    /// </summary>
    private static async Task<int> CreateLiveDatasetsAsync(PortalHost host, int connectionId, int cacheMinutes, CancellationToken cancellationToken)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var live = services.GetRequiredService<LiveDatasetService>();
        var customers = await live.CreateAsync(connectionId, new LiveDatasetDraft(ConnectionSource.ForTable("public", "customers"), $"Live customers ({cacheMinutes} min)", cacheMinutes,
            DatasetKind.Customers, new Dictionary<string, FieldRole>
            {
                ["customer_id"] = FieldRole.CustomerId,
                ["region"] = FieldRole.Dimension,
                ["tier"] = FieldRole.Dimension,
            }), cancellationToken);
        var orders = await live.CreateAsync(connectionId, new LiveDatasetDraft(ConnectionSource.ForTable("public", "orders"), $"Live orders ({cacheMinutes} min)", cacheMinutes,
            DatasetKind.Transactions, new Dictionary<string, FieldRole>
            {
                ["customer_id"] = FieldRole.CustomerId,
                ["order_date"] = FieldRole.EventDate,
                ["amount"] = FieldRole.Amount,
                ["category"] = FieldRole.Dimension,
            }), cancellationToken);
        await services.GetRequiredService<DatasetCatalog>().RelateAsync(orders, "customer_id", customers, "customer_id", cancellationToken);
        return customers;
    }

    private async Task<T> ScalarAsync<T>(string sql, CancellationToken cancellationToken)
    {
        await using var connection = await _source!.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync(cancellationToken))!, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Creates the tables with the warehouse's column types, copies the CSV files in (client-side COPY, so the server
    /// needs no access to the files), adds the keys a database person would add, and gathers statistics.
    /// </summary>
    private static async Task LoadAsync(PostgresCluster server, CustomerOrdersData data, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(cancellationToken);
        async Task Execute(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await Execute($"""
            CREATE TABLE customers ({Columns(data.Customers)});
            CREATE TABLE orders ({Columns(data.Orders)});
            CREATE ROLE {Reader} LOGIN PASSWORD '{ReaderPassword}';
            GRANT SELECT ON customers, orders TO {Reader};
            """);
        foreach (var (table, csv) in new[] { ("customers", data.CustomersCsv), ("orders", data.OrdersCsv) })
        {
            await using var writer = await connection.BeginTextImportAsync($"COPY {table} FROM STDIN (FORMAT csv, HEADER true)", cancellationToken);
            using var reader = new StreamReader(csv);
            var buffer = new char[1 << 16];
            int read;
            while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        await Execute("ALTER TABLE customers ADD PRIMARY KEY (customer_id); CREATE INDEX ON orders (customer_id)");
        // VACUUM (for the visibility map) may not share a batch with anything else.
        await Execute("VACUUM ANALYZE customers");
        await Execute("VACUUM ANALYZE orders");
    }

    /// <summary>The dataset's columns as PostgreSQL column definitions of the types the warehouse gave them.</summary>
    private static string Columns(Dataset dataset) => string.Join(", ", dataset.Columns.Where(c => !c.IsExcluded).OrderBy(c => c.Ordinal)
        .Select(c => $"{SegmentPortal.Core.Common.SqlIdentifiers.DoubleQuote(c.Name)} {PostgresType(c.WarehouseType)}"));

    private static string PostgresType(string duckType) => duckType.ToUpperInvariant() switch
    {
        "BIGINT" or "HUGEINT" => "bigint",
        "INTEGER" => "integer",
        "DOUBLE" => "double precision",
        "BOOLEAN" => "boolean",
        "DATE" => "date",
        "TIMESTAMP" => "timestamp",
        "VARCHAR" => "text",
        var t when t.StartsWith("DECIMAL", StringComparison.Ordinal) => t.Replace("DECIMAL", "numeric", StringComparison.Ordinal),
        var t => throw new InvalidOperationException($"No PostgreSQL type for the warehouse type {t}."),
    };

    /// <summary>The rule of <c>segment-count</c>, with the spend threshold of one run.</summary>
    private static RuleGroup Rule(string threshold) => new()
    {
        Combinator = Combinator.And,
        Children =
        [
            new FieldCondition { Id = "region", Field = "region", Operator = RuleOperator.In, Values = [.. Regions] },
            new RuleGroup
            {
                Id = "value",
                Combinator = Combinator.Or,
                Children =
                [
                    new FactCondition { Id = "spent", Fact = CustomerFact.TotalAmount, WindowDays = SpendDays, Operator = RuleOperator.Greater, Value = threshold },
                    new FactCondition
                    {
                        Id = "orders", Fact = CustomerFact.OrderCount, WindowDays = OrderDays, Operator = RuleOperator.GreaterOrEqual,
                        Value = MinOrders.ToString(CultureInfo.InvariantCulture),
                    },
                ],
            },
            new RuleGroup
            {
                Id = "lapsed",
                Not = true,
                Children =
                [
                    new FactCondition
                    {
                        Id = "recent", Fact = CustomerFact.DaysSinceLastOrder, Operator = RuleOperator.Less,
                        Value = RecentDays.ToString(CultureInfo.InvariantCulture),
                    },
                ],
            },
            new FactCondition { Id = "bought", Fact = CustomerFact.BoughtCategory, Column = "category", Operator = RuleOperator.In, Values = [BoughtCategory] },
            new FieldCondition { Id = "active", Field = "is_active", Operator = RuleOperator.IsTrue },
        ],
    };

    private static TimeSpan Median(IEnumerable<TimeSpan> values) => BenchmarkRunner.Median(values.Order().ToList());

    private static string Threshold(int run) => (SpendThreshold + run * 0.00001).ToString("0.00000", CultureInfo.InvariantCulture);

    private static DateOnly Today => CustomerOrdersData.Today;

    private static string Since(int days) => $"TIMESTAMP '{Today.AddDays(-days):yyyy-MM-dd}'";

    private static string End => $"TIMESTAMP '{Today.AddDays(1):yyyy-MM-dd}'";

    private static string RegionList => string.Join(", ", Regions.Select(r => $"'{r}'"));

    /// <summary>
    /// <c>segment-count</c>'s hand-written SQL in PostgreSQL: the orders of the customers in those regions who are active,
    /// one GROUP BY with the facts as filtered aggregates, the order conditions in HAVING.
    /// </summary>
    private static string BaselineSql(string threshold) => Flatten(
        $"""
        SELECT count(*) FROM (
            SELECT c.customer_id
            FROM customers c JOIN orders o USING (customer_id)
            WHERE c.region IN ({RegionList}) AND c.is_active
            GROUP BY c.customer_id
            HAVING (coalesce(sum(o.amount) FILTER (WHERE o.order_date >= {Since(SpendDays)} AND o.order_date < {End}), 0) > {threshold}
                    OR count(*) FILTER (WHERE o.order_date >= {Since(OrderDays)} AND o.order_date < {End}) >= {MinOrders})
               AND NOT coalesce(DATE '{Today:yyyy-MM-dd}' - max(o.order_date)::date < {RecentDays}, false)
               AND bool_or(o.category = '{BoughtCategory}')) AS matching
        """);

    /// <summary>The app's clock on the orders' last day (from noon UTC, ticking), as the segment-count portal has it.</summary>
    private sealed class DayClock(DateOnly day) : TimeProvider
    {
        private readonly DateTimeOffset _start = new(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
        private readonly long _started = Stopwatch.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => _start + Stopwatch.GetElapsedTime(_started);

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
