using System.Globalization;
using Npgsql;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// Live datasets on a sharded PostgreSQL (<see cref="ShardedPostgres"/>: a coordinator whose orders and customers are
/// partitioned over two shards with postgres_fdw). Each question — segment counts with order facts, board tiles grouped
/// by month, region and category, top customers, a member list with facts — is compiled by the query layer once in the
/// PostgreSQL dialect for the live datasets and run on the coordinator (as the read-only login, over TCP), and once in
/// DuckDB's dialect for the same rows in DuckDB (<see cref="ShardedDuckDb"/>); the answers must be the same. The plans
/// show the grouped work pushed to the shards.
/// </summary>
[Collection(ShardedPostgresCollection.Name)]
public sealed class ShardedPostgresTests(ShardedPostgres pg, ShardedDuckDb duck, ITestOutputHelper output) : IClassFixture<ShardedDuckDb>
{
    private static readonly DateTimeOffset Version = new(2024, 6, 15, 0, 0, 0, TimeSpan.Zero);

    private static QueryDataset Customers(bool live) => new(1, "Customers", "customers",
    [
        new QueryField("customer_id", ColumnType.Integer, FieldRole.CustomerId),
        new QueryField("name", ColumnType.Text, FieldRole.None),
        new QueryField("region", ColumnType.Text, FieldRole.Dimension),
        new QueryField("is_active", ColumnType.Boolean, FieldRole.None),
        new QueryField("signup_date", ColumnType.Date, FieldRole.None),
    ], Version)
    { Live = live ? new LiveSource(1, SqlEngine.PostgreSql, "public", "customers", null, 0) : null };

    private static QueryDataset Orders(bool live) => new(2, "Orders", "orders",
    [
        new QueryField("order_id", ColumnType.Integer, FieldRole.OrderId),
        new QueryField("customer_id", ColumnType.Integer, FieldRole.CustomerId),
        new QueryField("order_date", ColumnType.Date, FieldRole.EventDate),
        new QueryField("amount", ColumnType.Decimal, FieldRole.Amount),
        new QueryField("category", ColumnType.Text, FieldRole.Dimension),
    ], Version)
    { Live = live ? new LiveSource(1, SqlEngine.PostgreSql, "public", "orders", null, 0) : null };

    /// <summary>A spend threshold and an order count that split the customers (both sides must agree on the split).</summary>
    private static RuleGroup ValueRule() => All(
        FieldIn("region", RuleOperator.In, "North", "East"),
        Field("is_active", RuleOperator.IsTrue),
        Any(Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "12000", 365), Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "7", 365)),
        new RuleGroup { Not = true, Children = [Fact(CustomerFact.DaysSinceLastOrder, RuleOperator.Less, "30")] });

    /// <summary>The questions, by name: the spec and whether it reads the customers (with facts from the orders) or the orders.</summary>
    internal static readonly Dictionary<string, (bool OnCustomers, QuerySpec Spec)> Questions = new()
    {
        ["segment count"] = (true, new QuerySpec { DatasetId = 1, Filter = ValueRule(), Measures = [new Measure(MeasureKind.Customers, "n")] }),
        ["segment count, order facts only"] = (true, new QuerySpec
        {
            DatasetId = 1,
            Filter = All(Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "20000"), Fact(CustomerFact.AverageAmount, RuleOperator.Less, "1000")),
            Measures = [new Measure(MeasureKind.Customers, "n")],
        }),
        ["segment by region"] = (true, new QuerySpec
        {
            DatasetId = 1,
            Filter = All(Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "12")),
            GroupBy = [new GroupBy("region")],
            Measures = [new Measure(MeasureKind.Customers, "customers"), new Measure(MeasureKind.Count, "rows")],
        }),
        ["members with facts"] = (true, new QuerySpec
        {
            DatasetId = 1,
            Filter = ValueRule(),
            Columns = ["customer_id", "region", "signup_date"],
            Facts =
            [
                new FactColumn("orders", CustomerMeasure.OrderCount),
                new FactColumn("spent", CustomerMeasure.TotalAmount, 365),
                new FactColumn("since", CustomerMeasure.DaysSinceLastOrder),
                new FactColumn("first", CustomerMeasure.FirstOrderDate),
            ],
            DistinctCustomers = true,
            Limit = 40,
        }),
        ["orders by month"] = (false, new QuerySpec
        {
            DatasetId = 2,
            GroupBy = [new GroupBy("order_date", DateBucket.Month, "month")],
            Measures =
            [
                new Measure(MeasureKind.Count, "orders"), new Measure(MeasureKind.Sum, "revenue", "amount"),
                new Measure(MeasureKind.Customers, "customers"), new Measure(MeasureKind.Average, "average", "amount"),
            ],
            Sort = [new SortBy("month")],
        }),
        ["revenue by category in the last quarter"] = (false, new QuerySpec
        {
            DatasetId = 2,
            Filter = All(Field("order_date", RuleOperator.InLast, "3", unit: RelativeUnit.Months), Field("amount", RuleOperator.Greater, "100")),
            GroupBy = [new GroupBy("category")],
            Measures =
            [
                new Measure(MeasureKind.Sum, "revenue", "amount"), new Measure(MeasureKind.CountDistinct, "buyers", "customer_id"),
                // No median here: DuckDB's median of a DECIMAL column keeps the column's scale (1032.88 where PostgreSQL
                // interpolates 1032.885), so the engines differ in the third decimal.
                new Measure(MeasureKind.Max, "largest", "amount"),
                new Measure(MeasureKind.Count, "books", Where: All(FieldIn("category", RuleOperator.In, "Books"))),
            ],
        }),
        ["top customers"] = (false, new QuerySpec
        {
            DatasetId = 2,
            GroupBy = [new GroupBy("customer_id")],
            Measures = [new Measure(MeasureKind.Sum, "revenue", "amount"), new Measure(MeasureKind.Count, "orders")],
            Sort = [new SortBy("revenue", Descending: true), new SortBy("customer_id")],
            Limit = 10,
        }),
        ["KPIs"] = (false, new QuerySpec
        {
            DatasetId = 2,
            Measures =
            [
                new Measure(MeasureKind.Count, "orders"), new Measure(MeasureKind.Sum, "revenue", "amount"),
                new Measure(MeasureKind.Customers, "customers"), new Measure(MeasureKind.Days, "days", "order_date"),
                new Measure(MeasureKind.Min, "first", "order_date"),
            ],
        }),
    };

    public static TheoryData<string> QuestionNames => [.. Questions.Keys];

    [Theory]
    [MemberData(nameof(QuestionNames))]
    public async Task A_live_dataset_on_the_sharded_coordinator_answers_as_DuckDB_does_on_the_same_rows(string question)
    {
        pg.Require();
        var (onCustomers, spec) = Questions[question];
        var live = Compile(spec, onCustomers, live: true);
        var local = Compile(spec, onCustomers, live: false);

        var expected = Normalize(await duck.RunAsync(local), spec);
        var actual = Normalize(await RunLiveAsync(live), spec);

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
        output.WriteLine($"{question}: {actual.Count} rows, the first: {actual[0]}");
    }

    [Fact]
    public async Task A_grouped_aggregation_on_the_customer_id_runs_on_the_shards()
    {
        pg.Require();
        var plan = await pg.ExplainAsync(Compile(Questions["top customers"].Spec, onCustomers: false, live: true));
        output.WriteLine(plan);

        // One foreign scan per shard, each sending its GROUP BY (a partitionwise aggregate), and nothing grouped here but the
        // already grouped rows' sort and limit.
        var remote = RemoteSql(plan);
        Assert.Equal(2, remote.Count);
        Assert.All(remote, sql => Assert.Matches(@"^SELECT .*sum\(.*\bGROUP BY\b", sql));
        Assert.Contains("Async Foreign Scan", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Partial", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_segment_counts_order_facts_are_grouped_on_the_shards()
    {
        pg.Require();
        var plan = await pg.ExplainAsync(Compile(Questions["segment count"].Spec, onCustomers: true, live: true));
        output.WriteLine(plan);

        // The customers' facts (one GROUP BY over their orders) are computed where the orders are: the shards.
        var remote = RemoteSql(plan);
        Assert.Contains(remote, sql => sql.Contains("GROUP BY", StringComparison.Ordinal) && sql.Contains("orders_p0", StringComparison.Ordinal));
        Assert.Contains(remote, sql => sql.Contains("GROUP BY", StringComparison.Ordinal) && sql.Contains("orders_p1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_shards_hold_the_rows_between_them_and_the_coordinator_none()
    {
        pg.Require();
        var onShards = await pg.ScalarAsync<long>("SELECT count(*) FROM orders_p0", node: 1) + await pg.ScalarAsync<long>("SELECT count(*) FROM orders_p1", node: 2);
        Assert.Equal(ShardedShopData.OrderCount, onShards);
        Assert.InRange(await pg.ScalarAsync<long>("SELECT count(*) FROM orders_p0", node: 1), ShardedShopData.OrderCount / 3, ShardedShopData.OrderCount * 2 / 3);
        Assert.Equal(ShardedShopData.CustomerCount, await pg.ScalarAsync<long>("SELECT count(*) FROM customers"));
        Assert.Equal(0, await pg.ScalarAsync<long>(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"));
    }

    internal static CompiledQuery Compile(QuerySpec spec, bool onCustomers, bool live)
    {
        var orders = Orders(live);
        var context = new CompileContext
        {
            Dataset = onCustomers ? Customers(live) : orders,
            Facts = onCustomers ? new FactSource(orders, "customer_id", "order_date", "amount", "order_id") : null,
            Today = ShardedShopData.Today,
            Dialect = live ? SqlDialects.For(SqlEngine.PostgreSql) : DuckDbDialect.Instance,
            CustomerKeyUnique = onCustomers,
        };
        return QueryCompiler.Compile(spec, context);
    }

    private async Task<List<object?[]>> RunLiveAsync(CompiledQuery query)
    {
        await using var connection = new NpgsqlConnection(pg.ReaderConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(query.Sql, connection);
        foreach (var (name, value) in query.Parameters)
        {
            command.Parameters.Add(ShardedPostgres.Parameter(name, value));
        }
        var rows = new List<object?[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Rows as comparable text: numbers to 4 decimals (a sum is an exact decimal on one side and may be a double on the
    /// other), dates as yyyy-MM-dd, in the spec's order when it sorts, else sorted.
    /// </summary>
    internal static List<string> Normalize(List<object?[]> rows, QuerySpec spec)
    {
        var texts = rows.Select(row => string.Join(" | ", row.Select(value => value switch
        {
            null => "∅",
            double or float or decimal or long or int or short or System.Numerics.BigInteger =>
                Math.Round((decimal)QueryValue.ToDouble(value)!.Value, 4).ToString("0.####", CultureInfo.InvariantCulture),
            _ => QueryValue.ToText(value),
        }))).ToList();
        return spec.Sort.Count > 0 || spec.DistinctCustomers ? texts : [.. texts.Order(StringComparer.Ordinal)];
    }

    /// <summary>The SQL each foreign scan sends to its shard.</summary>
    private static List<string> RemoteSql(string plan) =>
        plan.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith("Remote SQL:", StringComparison.Ordinal))
            .Select(line => line["Remote SQL:".Length..].Trim()).ToList();
}
