using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using static SegmentPortal.Benchmarks.Scenarios.SqlText;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// The <c>segment-count</c> question on a live dataset: the same customers and orders (<see cref="CustomerOrdersData"/>)
/// loaded into a PostgreSQL server the scenario starts (<see cref="PostgresCluster"/>, Debian's binaries; primary key
/// on the customers, an index on the orders' customer id, ANALYZE), the customer list and its orders as live datasets of
/// that server, and the count asked as <see cref="SegmentService"/> counts a segment. The app side compiles the count's
/// <see cref="QuerySpec"/> with the query layer's compiler in the PostgreSQL dialect for the live datasets and runs it on
/// the server; the baseline is the same question as hand-written PostgreSQL SQL (one GROUP BY over the orders of the
/// region/active customers, facts as FILTER aggregates, the rest in HAVING). Both sides use one pooled Npgsql data
/// source as the read-only login over TCP, and alternate run by run.
/// <para>
/// Every run asks with a slightly different spend threshold (as <c>segment-count</c> does), and the sides must agree on
/// the count every run; the first run's count is also checked against the DuckDB warehouse's answer for the same rule.
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
    private const string Reader = "live_reader";
    private const string ReaderPassword = "Live-reader-8642";

    private CustomerOrdersData? _data;
    private PostgresCluster? _server;
    private NpgsqlDataSource? _source;
    private QueryDataset _customers = null!;
    private FactSource _facts = null!;
    private readonly Dictionary<int, long> _appCounts = [];

    public override string Name => "live-count";

    public override string BaselineName => "postgres-sql";

    public override string Description =>
        "The segment-count question (a 6-condition nested rule with order facts, counted as SegmentService counts a segment) " +
        "on the same customers and orders loaded into a PostgreSQL server the scenario starts, asked of live datasets of " +
        "that server through the query layer's compiler in the PostgreSQL dialect, against hand-written PostgreSQL SQL for " +
        "the same question on the same server. --size N: N orders and N/10 customers (default " +
        $"{CustomerOrdersData.DefaultOrders:N0}; the data is the segment-count data, generated and cached under results/cache).";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        ScenarioContext.Log("Starting PostgreSQL and loading the customers and orders");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        _server = await PostgresCluster.StartAsync(cancellationToken);
        await LoadAsync(_server, _data, cancellationToken);
        ScenarioContext.Log($"Loaded in {Format.Seconds(watch.Elapsed)}");
        _source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = _server.Port, Database = PostgresCluster.Database, Username = Reader, Password = ReaderPassword,
            CommandTimeout = 600, MaxPoolSize = 4,
        }.ConnectionString);

        _customers = Live(QueryDataset.From(_data.Customers), "customers");
        _facts = _data.Facts with { Orders = Live(QueryDataset.From(_data.Orders), "orders") };

        context.Note($"PostgreSQL {await ScalarAsync<string>("SHOW server_version", cancellationToken)} from {_server.Root} (Debian's binaries, " +
            "fsync off, shared_buffers 128MB, default parallel workers); tables public.customers (primary key customer_id) and public.orders " +
            $"(index on customer_id), ANALYZEd; loaded from the same CSV files in {Format.Seconds(watch.Elapsed)} (not part of the scenario). " +
            "Both sides: one pooled Npgsql data source, the read-only login over TCP 127.0.0.1.");
        var rule = Rule(Threshold(0));
        context.Note($"Rule: {RuleSummary.Describe(new RuleTree { Root = rule }, _ => null)}");
        var compiled = Compile(rule);
        context.Note($"App SQL (QueryCompiler, PostgreSQL dialect, run 0): {compiled.Sql}");
        context.Note($"App parameters: {SqlText.Parameters(compiled)}");
        context.Note($"Baseline SQL (run 0): {BaselineSql(Threshold(0))}");

        // The same rule on the DuckDB warehouse (the segment-count side), once: the live answer must be the imported one.
        await using var scope = _data.Host.Services.CreateAsyncScope();
        var warehouse = await scope.ServiceProvider.GetRequiredService<QueryService>().RunAsync(
            new QuerySpec { DatasetId = _data.Customers.Id, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] }, cancellationToken);
        var live = await CountAsync(compiled, cancellationToken);
        var imported = Convert.ToInt64(warehouse.Scalar("n"), CultureInfo.InvariantCulture);
        if (live != imported)
        {
            throw new InvalidOperationException($"The live count ({live:N0}) is not the warehouse's ({imported:N0}) for the same rule and rows.");
        }
        context.Note($"The live count equals the DuckDB warehouse's for the same rule: {live:N0} customers.");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var rule = Rule(Threshold(run.Index));
        var count = await run.MeasureAsync(() => CountAsync(Compile(rule), cancellationToken));
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

    public override async Task CleanupAsync(ScenarioContext context)
    {
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

    /// <summary>A warehouse dataset's columns and roles as a live dataset of the PostgreSQL server's table.</summary>
    private static QueryDataset Live(QueryDataset dataset, string table) =>
        dataset with { Live = new LiveSource(0, SqlEngine.PostgreSql, "public", table, null, 0) };

    /// <summary>The count's spec (as SegmentService counts a segment), compiled for the live datasets in PostgreSQL's dialect.</summary>
    private CompiledQuery Compile(RuleGroup rule) => QueryCompiler.Compile(
        new QuerySpec { DatasetId = _customers.Id, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] },
        new CompileContext
        {
            Dataset = _customers,
            Facts = _facts,
            Today = CustomerOrdersData.Today,
            Dialect = SqlDialects.For(SqlEngine.PostgreSql),
            CustomerKeyUnique = true,
        });

    private async Task<long> CountAsync(CompiledQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await _source!.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(query.Sql, connection);
        foreach (var (name, value) in query.Parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
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
}
