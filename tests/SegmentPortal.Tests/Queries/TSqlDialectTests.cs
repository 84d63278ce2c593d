using System.Data;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.SqlClient;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using ColumnType = SegmentPortal.Core.Warehouse.ColumnType;
using SegmentPortal.Core;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// The T-SQL dialect, operator by operator, over the rule property's data (see <see cref="RulePropertyFixture"/>) as live
/// SQL Server tables: each compiled query's text and parameters are asserted, the text parses as T-SQL (SQL Server's own
/// parser, ScriptDom) and holds none of the other dialects' syntax. With SEGMENTPORTAL_SQLSERVER (a connection string),
/// the same queries also run on that server, on the same rows, and must select what DuckDB and the in-memory evaluator do.
/// </summary>
public sealed partial class TSqlDialectTests(RulePropertyFixture fixture) : IClassFixture<RulePropertyFixture>
{
    private static readonly TSqlDialect T = TSqlDialect.Instance;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>DuckDB's and PostgreSQL's syntax that SQL Server does not have.</summary>
    [GeneratedRegex(@"\btrue\b|\bfalse\b|\bFILTER\s*\(|NULLS\s+(LAST|FIRST)|\bLIMIT\b|DISTINCT\s+ON|::|\|\||list_contains|bool_or|date_diff|date_trunc|regexp|\bILIKE\b|\$p|""|\bGROUP BY \d", RegexOptions.IgnoreCase)]
    private static partial Regex ForeignSyntax();

    public static TheoryData<string, string, string[]> Conditions => new()
    {
        // Text: case-insensitive, trailing spaces significant (a sentinel after both sides), NULL kept out by the two-valued forms.
        { "text equals", """{"kind":"condition","field":"name","operator":"equals","value":"ann"}""", ["(LOWER(CAST(t0.[name] AS nvarchar(max))) + N'|') COLLATE Latin1_General_100_BIN2 = (LOWER(@p1) + N'|')"] },
        { "text not equals", """{"kind":"condition","field":"name","operator":"notEquals","value":"ann"}""", ["(t0.[name] IS NULL OR NOT (LOWER(CAST(t0.[name] AS nvarchar(max))) + N'|') COLLATE Latin1_General_100_BIN2 = (LOWER(@p1) + N'|'))"] },
        { "contains", """{"kind":"condition","field":"name","operator":"contains","value":"AN"}""", ["CHARINDEX(LOWER(@p1), LOWER(CAST(t0.[name] AS nvarchar(max))) COLLATE Latin1_General_100_BIN2) > 0"] },
        { "does not contain", """{"kind":"condition","field":"name","operator":"notContains","value":"an"}""", ["(t0.[name] IS NULL OR NOT CHARINDEX(LOWER(@p1), LOWER(CAST(t0.[name] AS nvarchar(max))) COLLATE Latin1_General_100_BIN2) > 0)"] },
        { "starts with", """{"kind":"condition","field":"city","operator":"startsWith","value":"new"}""", ["(LEFT(LOWER(CAST(t0.[city] AS nvarchar(max))), (DATALENGTH(CAST(@p1 AS nvarchar(max))) / 2)) + N'|') COLLATE Latin1_General_100_BIN2 = (LOWER(@p1) + N'|')"] },
        { "does not start with", """{"kind":"condition","field":"city","operator":"notStartsWith","value":"new"}""", ["(t0.[city] IS NULL OR NOT (LEFT("] },
        { "ends with", """{"kind":"condition","field":"city","operator":"endsWith","value":"YORK"}""", ["(RIGHT(LOWER(CAST(t0.[city] AS nvarchar(max))), (DATALENGTH(CAST(@p1 AS nvarchar(max))) / 2)) + N'|') COLLATE Latin1_General_100_BIN2 = (LOWER(@p1) + N'|')"] },
        { "text is empty", """{"kind":"condition","field":"name","operator":"isEmpty"}""", ["(t0.[name] IS NULL OR TRANSLATE(CAST(t0.[name] AS nvarchar(max)), NCHAR(9) + NCHAR(10)", "REPLICATE(N' ', 24)) COLLATE Latin1_General_100_BIN2 = N'')"] },
        { "text is not empty", """{"kind":"condition","field":"name","operator":"isNotEmpty"}""", ["(t0.[name] IS NOT NULL AND NOT TRANSLATE("] },
        { "in (one parameter per value, exact)", """{"kind":"condition","field":"tier","operator":"in","values":["gold","Silver"]}""", ["(CAST(t0.[tier] AS nvarchar(max)) + N'|') COLLATE Latin1_General_100_BIN2 IN (@p1 + N'|', @p2 + N'|')"] },
        { "not in", """{"kind":"condition","field":"tier","operator":"notIn","values":["Gold"]}""", ["(t0.[tier] IS NULL OR NOT (CAST(t0.[tier] AS nvarchar(max)) + N'|') COLLATE Latin1_General_100_BIN2 IN (@p1 + N'|'))"] },
        // Numbers: whole numbers as bigint parameters, others compared as float.
        { "number equals", """{"kind":"condition","field":"visits","operator":"equals","value":"12"}""", ["(t0.[visits] = @p1)"] },
        { "number equals a fraction", """{"kind":"condition","field":"visits","operator":"equals","value":"2.5"}""", ["(t0.[visits] = CAST(@p1 AS float))"] },
        { "number not equals", """{"kind":"condition","field":"score","operator":"notEquals","value":"-1.01"}""", ["(t0.[score] IS NULL OR t0.[score] <> CAST(@p1 AS float))"] },
        { "less", """{"kind":"condition","field":"visits","operator":"less","value":"10"}""", ["(t0.[visits] < @p1)"] },
        { "less or equal", """{"kind":"condition","field":"visits","operator":"lessOrEqual","value":"10"}""", ["(t0.[visits] <= @p1)"] },
        { "greater", """{"kind":"condition","field":"score","operator":"greater","value":"100.5"}""", ["(t0.[score] > CAST(@p1 AS float))"] },
        { "greater or equal", """{"kind":"condition","field":"visits","operator":"greaterOrEqual","value":"10"}""", ["(t0.[visits] >= @p1)"] },
        { "between", """{"kind":"condition","field":"visits","operator":"between","value":"5","value2":"50"}""", ["(t0.[visits] BETWEEN @p1 AND @p2)"] },
        { "number is empty", """{"kind":"condition","field":"visits","operator":"isEmpty"}""", ["t0.[visits] IS NULL"] },
        { "number is not empty", """{"kind":"condition","field":"score","operator":"isNotEmpty"}""", ["t0.[score] IS NOT NULL"] },
        // Dates: a date or date-time column against day boundaries.
        { "on a day", """{"kind":"condition","field":"signup","operator":"on","value":"2023-05-01"}""", ["(t0.[signup] >= @p1 AND t0.[signup] < @p2)"] },
        { "before", """{"kind":"condition","field":"signup","operator":"before","value":"2023-05-01"}""", ["(t0.[signup] < @p1)"] },
        { "after (a date-time)", """{"kind":"condition","field":"last_login","operator":"after","value":"2023-05-01"}""", ["(t0.[last_login] >= @p1)"] },
        { "dates between", """{"kind":"condition","field":"last_login","operator":"between","value":"2023-01-01","value2":"2023-12-31"}""", ["(t0.[last_login] >= @p1 AND t0.[last_login] < @p2)"] },
        { "in the last", """{"kind":"condition","field":"signup","operator":"inLast","value":"3","unit":"months"}""", ["(t0.[signup] >= @p1 AND t0.[signup] < @p2)"] },
        { "not in the last", """{"kind":"condition","field":"signup","operator":"notInLast","value":"2","unit":"weeks"}""", ["(t0.[signup] IS NULL OR NOT (t0.[signup] >= @p1 AND t0.[signup] < @p2))"] },
        { "in this", """{"kind":"condition","field":"signup","operator":"inThis","unit":"quarters"}""", ["((t0.[signup] >= @p1 AND t0.[signup] < @p2))"] },
        { "in the previous", """{"kind":"condition","field":"last_login","operator":"inPrevious","unit":"years"}""", ["((t0.[last_login] >= @p1 AND t0.[last_login] < @p2))"] },
        { "date is empty", """{"kind":"condition","field":"signup","operator":"isEmpty"}""", ["t0.[signup] IS NULL"] },
        // Booleans: bit columns against 1 and 0.
        { "is true", """{"kind":"condition","field":"vip","operator":"isTrue"}""", ["(t0.[vip] = 1)"] },
        { "is false", """{"kind":"condition","field":"vip","operator":"isFalse"}""", ["(t0.[vip] = 0)"] },
        // Groups: NOT makes its conditions two-valued with CASE flags; an empty NOT group selects nobody.
        { "not group", """{"kind":"group","combinator":"or","not":true,"children":[{"kind":"condition","field":"visits","operator":"greater","value":"10"},{"kind":"condition","field":"vip","operator":"isTrue"}]}""",
            ["(NOT ((coalesce(CASE WHEN t0.[visits] > @p1 THEN 1 ELSE 0 END, 0) = 1) OR (coalesce(CASE WHEN t0.[vip] = 1 THEN 1 ELSE 0 END, 0) = 1)))"] },
        { "empty not group", """{"kind":"group","combinator":"and","not":true,"children":[]}""", ["WHERE (1 = 0)"] },
        { "any of whole numbers", """{"kind":"group","combinator":"or","children":[{"kind":"condition","field":"visits","operator":"equals","value":"1"},{"kind":"condition","field":"visits","operator":"equals","value":"2"}]}""",
            ["(t0.[visits] IN (@p1, @p2))"] },
        // Customer facts: one grouped pass over the orders, windows as CASE inside the aggregate.
        { "order count", """{"kind":"fact","fact":"orderCount","operator":"greater","value":"2"}""", ["count(DISTINCT ot0.[order_id]) AS v1", "GROUP BY ot0.[customer_id]", "(coalesce(f1.v1, 0) > @p1)"] },
        { "order count in a window", """{"kind":"fact","fact":"orderCount","windowDays":90,"operator":"greaterOrEqual","value":"1"}""",
            ["count(DISTINCT CASE WHEN ot0.[order_date] >= @p1 AND ot0.[order_date] < @p2 THEN ot0.[order_id] END) AS v1"] },
        { "total amount", """{"kind":"fact","fact":"totalAmount","operator":"less","value":"100"}""", ["sum(ot0.[amount]) AS v1", "(coalesce(f1.v1, 0) < CAST(@p1 AS float))"] },
        { "average amount", """{"kind":"fact","fact":"averageAmount","windowDays":365,"operator":"greater","value":"50"}""",
            ["CAST(coalesce(sum(CASE WHEN ot0.[order_date] >= @p1 AND ot0.[order_date] < @p2 THEN ot0.[amount] END), 0) AS float) / nullif(count(DISTINCT CASE WHEN ot0.[order_date] >= @p3 AND ot0.[order_date] < @p4 THEN ot0.[order_id] END), 0) AS v1"] },
        { "first order date", """{"kind":"fact","fact":"firstOrderDate","operator":"before","value":"2023-01-01"}""", ["CAST(min(ot0.[order_date]) AS date) AS v1", "(f1.v1 < @p1)"] },
        { "last order date", """{"kind":"fact","fact":"lastOrderDate","operator":"inLast","value":"30","unit":"days"}""", ["CAST(max(ot0.[order_date]) AS date) AS v1"] },
        { "days since the last order", """{"kind":"fact","fact":"daysSinceLastOrder","operator":"less","value":"30"}""", ["DATEDIFF(day, CAST(max(ot0.[order_date]) AS date), @p1) AS v1", "(f1.v1 < @p2)"] },
        { "bought a category", """{"kind":"fact","fact":"boughtCategory","column":"category","operator":"in","values":["Toys","Food"],"windowDays":365}""",
            ["max(CASE WHEN ot0.[order_date] >= @p3 AND ot0.[order_date] < @p4 THEN CASE WHEN (CAST(ot0.[category] AS nvarchar(max)) + N'|') COLLATE Latin1_General_100_BIN2 IN (@p1 + N'|', @p2 + N'|') THEN 1 ELSE 0 END END) AS v1", "((coalesce(f1.v1, 0) = 1))"] },
        { "did not buy a category", """{"kind":"fact","fact":"boughtCategory","column":"category","operator":"notIn","values":["Toys"]}""",
            ["max(CASE WHEN (CAST(ot0.[category] AS nvarchar(max)) + N'|') COLLATE Latin1_General_100_BIN2 IN (@p1 + N'|') THEN 1 ELSE 0 END) AS v1", "NOT (coalesce(f1.v1, 0) = 1)"] },
    };

    [Theory]
    [MemberData(nameof(Conditions))]
    public async Task Each_rule_operator_compiles_to_TSql(string name, string condition, string[] fragments)
    {
        var rule = Rule(condition);

        var members = await CompileAsync(Members(rule));
        var count = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] });

        foreach (var fragment in fragments)
        {
            Assert.True(members.Sql.Contains(fragment, StringComparison.Ordinal), $"{name}: “{fragment}” is not in\n{members.Sql}");
        }
        AssertTSql(members);
        AssertTSql(count);
        Assert.All(members.Parameters.Values, v => Assert.True(v is string or long or double or DateOnly, $"{name}: parameter {v} ({v?.GetType().Name})"));
        await CompareOnServerAsync(rule);
    }

    [Fact]
    public async Task Values_are_parameters_one_per_value()
    {
        var query = await CompileAsync(Members(Rule("""{"kind":"condition","field":"tier","operator":"in","values":["gold","Silver","x' OR 1=1 --"]}""")));

        Assert.Equal(["gold", "Silver", "x' OR 1=1 --"], query.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value));
        Assert.DoesNotContain("OR 1=1", query.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Saved_segments_are_common_table_expressions()
    {
        var ids = fixture.Segments.Keys.Order().ToList();
        var rule = Rule($$"""{"kind":"segment","segmentId":{{ids[^1]}},"in":true}""");

        var query = await CompileAsync(Members(rule));

        Assert.StartsWith("WITH ", query.Sql, StringComparison.Ordinal);
        Assert.Contains("EXISTS (SELECT 1 FROM s", query.Sql, StringComparison.Ordinal);
        AssertTSql(query);
        await CompareOnServerAsync(rule);
        await CompareOnServerAsync(Rule($$"""{"kind":"segment","segmentId":{{ids[0]}},"in":false}"""));
    }

    [Fact]
    public async Task Members_are_one_row_per_customer_by_row_number()
    {
        var query = await CompileAsync(Members(Rule("""{"kind":"condition","field":"vip","operator":"isTrue"}""")));

        // The fixture's customer list has keys on two rows, so rows are not customers.
        Assert.StartsWith("SELECT members.[id] FROM (SELECT t0.[id] AS [id], ROW_NUMBER() OVER (PARTITION BY t0.[id] ORDER BY t0.[id]) AS [row#] FROM [dbo].[customers] AS t0", query.Sql, StringComparison.Ordinal);
        Assert.EndsWith(") AS members WHERE members.[row#] = 1", query.Sql, StringComparison.Ordinal);
        AssertTSql(query);
    }

    [Fact]
    public async Task Sorting_puts_empty_values_last_and_pages_with_offset_fetch()
    {
        var query = await CompileAsync(new QuerySpec
        {
            DatasetId = fixture.CustomerData.Id,
            GroupBy = [new GroupBy("tier")],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("n", Descending: true), new SortBy("tier")],
            Limit = 5,
            Offset = 10,
        });
        var unsorted = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Columns = ["id"], Limit = 3 });

        Assert.Equal(
            "SELECT * FROM (SELECT t0.[tier] AS [tier], count(*) AS [n] FROM [dbo].[customers] AS t0 GROUP BY t0.[tier]) AS q " +
            "ORDER BY CASE WHEN q.[n] IS NULL THEN 1 ELSE 0 END, q.[n] DESC, CASE WHEN q.[tier] IS NULL THEN 1 ELSE 0 END, q.[tier] ASC OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY",
            query.Sql);
        Assert.Equal("SELECT * FROM (SELECT t0.[id] AS [id] FROM [dbo].[customers] AS t0) AS q ORDER BY (SELECT NULL) OFFSET 0 ROWS FETCH NEXT 3 ROWS ONLY", unsorted.Sql);
        AssertTSql(query);
        AssertTSql(unsorted);
    }

    public static TheoryData<MeasureKind, string?, string> Measures => new()
    {
        { MeasureKind.Count, null, "count(*) AS [m]" },
        { MeasureKind.CountDistinct, "tier", "count(DISTINCT t0.[tier]) AS [m]" },
        { MeasureKind.Days, "last_login", "count(DISTINCT CAST(t0.[last_login] AS date)) AS [m]" },
        { MeasureKind.Sum, "score", "sum(t0.[score]) AS [m]" },
        { MeasureKind.Average, "visits", "avg(CAST(t0.[visits] AS float)) AS [m]" },
        { MeasureKind.Min, "signup", "min(t0.[signup]) AS [m]" },
        { MeasureKind.Max, "score", "max(t0.[score]) AS [m]" },
        { MeasureKind.Customers, null, "count(DISTINCT t0.[id]) AS [m]" },
    };

    [Theory]
    [MemberData(nameof(Measures))]
    public async Task Each_measure_compiles_to_TSql_with_and_without_a_condition(MeasureKind kind, string? column, string expected)
    {
        var where = Rule("""{"kind":"condition","field":"vip","operator":"isTrue"}""");

        var plain = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Measures = [new Measure(kind, "m", column)] });
        var filtered = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Measures = [new Measure(kind, "m", column, where)] });

        Assert.Contains(expected, plain.Sql, StringComparison.Ordinal);
        // No FILTER: the condition moves into the argument (count(*) counts 1 for each matching row).
        var argument = column is null ? kind == MeasureKind.Customers ? "t0.[id]" : "*" : null;
        Assert.Contains("CASE WHEN (t0.[vip] = 1) THEN ", filtered.Sql, StringComparison.Ordinal);
        if (argument == "*")
        {
            Assert.Contains("count(CASE WHEN (t0.[vip] = 1) THEN 1 END) AS [m]", filtered.Sql, StringComparison.Ordinal);
        }
        AssertTSql(plain);
        AssertTSql(filtered);
        await CompareMeasureOnServerAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Measures = [new Measure(kind, "m", column, where)] });
    }

    public static TheoryData<string> Specs => RulePropertyPostgresTests.Specs;

    /// <summary>The PostgreSQL comparison's tile and analysis questions (without medians and quartiles) compile to T-SQL, and give DuckDB's rows on a server.</summary>
    [Theory]
    [MemberData(nameof(Specs))]
    public async Task Measures_periods_and_customer_measures_compile_to_TSql(string name)
    {
        var spec = RulePropertyPostgresTests.SpecFor(fixture.CustomerData.Id, name);
        spec = spec with { Measures = spec.Measures.Where(m => m.Kind is not (MeasureKind.Median or MeasureKind.LowerQuartile or MeasureKind.UpperQuartile)).ToList() };

        AssertTSql(await CompileAsync(spec));
        if (HasServer)
        {
            var (customers, orders) = await TablesAsync();
            var server = await RunAsync(await CompileAsync(spec, customers, orders));
            var duck = await fixture.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec, Ct));
            Assert.Equal(RulePropertyPostgresTests.Rows(duck.Rows), RulePropertyPostgresTests.Rows(server));
        }
    }

    [Fact]
    public async Task A_sum_of_a_product_keeps_both_columns_in_the_condition()
    {
        var query = await CompileAsync(new QuerySpec
        {
            DatasetId = fixture.CustomerData.Id,
            Measures = [new Measure(MeasureKind.Sum, "m", "score", Rule("""{"kind":"condition","field":"visits","operator":"greater","value":"3"}"""), Times: "visits")],
        });

        Assert.Contains("sum(CASE WHEN (t0.[visits] > @p1) THEN t0.[score] * t0.[visits] END) AS [m]", query.Sql, StringComparison.Ordinal);
        AssertTSql(query);
    }

    [Theory]
    [InlineData(MeasureKind.Median)]
    [InlineData(MeasureKind.LowerQuartile)]
    [InlineData(MeasureKind.UpperQuartile)]
    public async Task Medians_and_quartiles_are_refused_naming_SQL_Server(MeasureKind kind)
    {
        var error = await Assert.ThrowsAsync<PortalException>(() => CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Measures = [new Measure(kind, "m", "score")] }));

        Assert.Contains("SQL Server", error.Message, StringComparison.Ordinal);
        Assert.Contains("median", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<DateBucket, string> Buckets => new()
    {
        { DateBucket.Day, "CAST(t0.[signup] AS date)" },
        { DateBucket.Week, "DATEADD(day, -((DATEPART(weekday, CAST(t0.[signup] AS date)) + @@DATEFIRST - 2) % 7), CAST(t0.[signup] AS date))" },
        { DateBucket.Month, "DATEFROMPARTS(YEAR(CAST(t0.[signup] AS date)), MONTH(CAST(t0.[signup] AS date)), 1)" },
        { DateBucket.Quarter, "DATEFROMPARTS(YEAR(CAST(t0.[signup] AS date)), (DATEPART(quarter, CAST(t0.[signup] AS date)) - 1) * 3 + 1, 1)" },
        { DateBucket.Year, "DATEFROMPARTS(YEAR(CAST(t0.[signup] AS date)), 1, 1)" },
    };

    [Theory]
    [MemberData(nameof(Buckets))]
    public async Task Date_buckets_work_before_SQL_Server_2022(DateBucket bucket, string expected)
    {
        var query = await CompileAsync(new QuerySpec
        {
            DatasetId = fixture.CustomerData.Id,
            GroupBy = [new GroupBy("signup", bucket)],
            Measures = [new Measure(MeasureKind.Count, "n")],
        });

        Assert.Equal($"SELECT {expected} AS [signup], count(*) AS [n] FROM [dbo].[customers] AS t0 GROUP BY {expected}", query.Sql);
        Assert.DoesNotContain("DATETRUNC", query.Sql, StringComparison.Ordinal);
        AssertTSql(query);
        await CompareMeasureOnServerAsync(new QuerySpec
        {
            DatasetId = fixture.CustomerData.Id,
            GroupBy = [new GroupBy("signup", bucket)],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("signup")],
        });
    }

    /// <summary>
    /// The week formula under both common DATEFIRST settings, computed as SQL Server computes DATEPART(weekday): every
    /// day of two years goes to the Monday on or before it, as DuckDB's date_trunc('week').
    /// </summary>
    [Theory]
    [InlineData(7)]
    [InlineData(1)]
    public void The_week_starts_on_Monday_whatever_DATEFIRST(int dateFirst)
    {
        for (var day = new DateOnly(2023, 1, 1); day < new DateOnly(2025, 1, 1); day = day.AddDays(1))
        {
            var isoDay = day.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)day.DayOfWeek; // Monday 1 … Sunday 7
            var weekday = ((isoDay - dateFirst + 7) % 7) + 1; // DATEPART(weekday): 1 on the DATEFIRST day
            var monday = day.AddDays(-((weekday + dateFirst - 2) % 7));

            Assert.Equal(DayOfWeek.Monday, monday.DayOfWeek);
            Assert.InRange(day.DayNumber - monday.DayNumber, 0, 6);
        }
    }

    [Fact]
    public async Task Bins_divide_as_floats()
    {
        var query = await CompileAsync(new QuerySpec
        {
            DatasetId = fixture.CustomerData.Id,
            GroupBy = [new GroupBy("visits") { BinWidth = 25 }],
            Measures = [new Measure(MeasureKind.Count, "n")],
        });

        Assert.Contains("floor(CAST(t0.[visits] AS float) / @p1) * @p1 AS [visits]", query.Sql, StringComparison.Ordinal);
        AssertTSql(query);
    }

    [Fact]
    public void Masks_and_hashes_are_written_for_SQL_Server()
    {
        var mask = T.Mask("@v");
        var hash = T.Hash("@v", "@k");

        Assert.Equal(
            "CASE WHEN @v IS NULL THEN NULL WHEN CHARINDEX(N'@', @v) > 1 THEN LEFT(@v, 1) + N'***' + SUBSTRING(@v, CHARINDEX(N'@', @v), (DATALENGTH(@v) / 2)) " +
            "WHEN (DATALENGTH(@v) / 2) > 7 THEN LEFT(@v, 3) + REPLICATE(N'*', (DATALENGTH(@v) / 2) - 7) + RIGHT(@v, 4) ELSE REPLICATE(N'*', (DATALENGTH(@v) / 2)) END",
            mask);
        // MD5 of the UTF-8 bytes of key + text, in lower-case hex, its first 16 digits: DuckDB's left(md5(key || text), 16).
        Assert.Equal(
            "LOWER(LEFT(CONVERT(varchar(32), HASHBYTES('MD5', CAST((CAST(@k AS nvarchar(max)) + @v) COLLATE Latin1_General_100_BIN2_UTF8 AS varchar(max))), 2), 16))",
            hash);
        AssertParses($"SELECT {mask}, {hash}");
    }

    [Fact]
    public async Task Masks_and_hashes_equal_DuckDB_on_SQL_Server()
    {
        var connectionString = Server();
        string[] values = ["jane.doe@example.com", "a@b.c", "@lead", "13812345678", "Björn Åsa", "short", "", "Zoë@São.br", "1234567"];
        const string key = "k3y-ÄÖ";
        await using var duck = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        await duck.OpenAsync(Ct);
        await using var server = new SqlConnection(connectionString);
        await server.OpenAsync(Ct);
        foreach (var value in values)
        {
            var duckDb = DuckDbDialect.Instance;
            await using var duckCommand = duck.CreateCommand();
            duckCommand.CommandText = $"SELECT {duckDb.Mask(duckDb.AsText("$v"))}, {duckDb.Hash(duckDb.AsText("$v"), "$k")}";
            duckCommand.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("v", value));
            duckCommand.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("k", key));
            await using var duckReader = await duckCommand.ExecuteReaderAsync(Ct);
            await duckReader.ReadAsync(Ct);

            await using var command = new SqlCommand($"SELECT {T.Mask(T.AsText("@v"))}, {T.Hash(T.AsText("@v"), "@k")}", server);
            command.Parameters.AddWithValue("v", value);
            command.Parameters.AddWithValue("k", key);
            await using var reader = await command.ExecuteReaderAsync(Ct);
            await reader.ReadAsync(Ct);

            Assert.Equal(duckReader.GetString(0), reader.GetString(0));
            Assert.Equal(duckReader.GetString(1), reader.GetString(1));
        }
    }

    [Fact]
    public async Task Random_rule_trees_select_the_same_customers_on_SQL_Server()
    {
        Server();
        var failures = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            var rule = RulePropertyFixture.RoundTrip(fixture.Generator.Generate(new SeededRandom(SeededRandom.Derive(RulePropertyTests.DefaultSeed, i))));
            if (await DifferenceAsync(rule) is { } problem && failures.Count < 3)
            {
                failures.Add($"Tree {i}:\n{new RuleTree { Root = rule }.ToIndentedJson()}\n{problem}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static RuleGroup Rule(string condition) =>
        RuleTree.FromJson("""{"version":1,"root":{"combinator":"and","children":[""" + condition + "]}}").Root;

    private QuerySpec Members(RuleGroup rule) =>
        new() { DatasetId = fixture.CustomerData.Id, Filter = rule, Columns = [RulePropertyData.CustomerKey], DistinctCustomers = true };

    private Task<CompiledQuery> CompileAsync(QuerySpec spec, string customers = "customers", string orders = "orders") =>
        fixture.CompileLiveAsync(spec, SqlEngine.SqlServer, "dbo", customers, orders, Ct);

    /// <summary>The query parses as T-SQL and has no other dialect's syntax.</summary>
    private static void AssertTSql(CompiledQuery query)
    {
        AssertParses(query.Sql);
        var foreign = ForeignSyntax().Match(query.Sql);
        Assert.False(foreign.Success, $"Not T-SQL: “{foreign.Value}” in\n{query.Sql}");
        foreach (var name in query.Parameters.Keys)
        {
            Assert.Contains("@" + name, query.Sql, StringComparison.Ordinal);
        }
    }

    private static void AssertParses(string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        parser.Parse(new StringReader(sql), out var errors);
        Assert.True(errors.Count == 0, $"{string.Join("\n", errors.Select(e => $"line {e.Line} col {e.Column}: {e.Message}"))}\n{sql}");
    }

    // ---- On a real SQL Server (SEGMENTPORTAL_SQLSERVER) ----

    private static readonly SemaphoreSlim LoadGate = new(1, 1);
    private static readonly Dictionary<RulePropertyFixture, (string Customers, string Orders)> Loaded = [];

    /// <summary>The connection string of a SQL Server to run on; skips the calling test without one.</summary>
    private static string Server()
    {
        var connectionString = Environment.GetEnvironmentVariable("SEGMENTPORTAL_SQLSERVER");
        Assert.SkipWhen(string.IsNullOrWhiteSpace(connectionString),
            "SEGMENTPORTAL_SQLSERVER is not set (a connection string to a SQL Server 2019 or later database where tables may be created): the compiled SQL was checked, not run.");
        return connectionString!;
    }

    private static bool HasServer => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("SEGMENTPORTAL_SQLSERVER"));

    private async Task CompareOnServerAsync(RuleGroup rule)
    {
        if (HasServer && await DifferenceAsync(rule) is { } problem)
        {
            Assert.Fail(problem);
        }
    }

    private async Task<string?> DifferenceAsync(RuleGroup rule)
    {
        var (customers, orders) = await TablesAsync();
        var members = await CompileAsync(Members(rule), customers, orders);
        var ids = (await RunAsync(members)).Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).Order().ToList();
        var counted = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] }, customers, orders);
        var count = Convert.ToInt64((await RunAsync(counted))[0][0], CultureInfo.InvariantCulture);
        var expected = fixture.Evaluator.Evaluate(rule).Ids;
        var duck = await fixture.IdsAsync(rule, Ct);
        return expected.SequenceEqual(ids) && duck.SequenceEqual(ids) && count == ids.Count ? null
            : $"Evaluator {expected.Count}, DuckDB {duck.Count}, SQL Server {ids.Count} (counted {count}); only on SQL Server: [{string.Join(", ", ids.Except(expected).Take(10))}], " +
              $"missing there: [{string.Join(", ", expected.Except(ids).Take(10))}]\n{members.Sql}";
    }

    /// <summary>A measure's result on SQL Server equals DuckDB's (as <see cref="RulePropertyPostgresTests.Rows"/> compares them).</summary>
    private async Task CompareMeasureOnServerAsync(QuerySpec spec)
    {
        if (!HasServer)
        {
            return;
        }
        var (customers, orders) = await TablesAsync();
        var server = await RunAsync(await CompileAsync(spec, customers, orders));
        var duck = await fixture.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec, Ct));
        Assert.Equal(RulePropertyPostgresTests.Rows(duck.Rows), RulePropertyPostgresTests.Rows(server));
    }

    private static async Task<List<object?[]>> RunAsync(CompiledQuery query)
    {
        await using var connection = new SqlConnection(Environment.GetEnvironmentVariable("SEGMENTPORTAL_SQLSERVER"));
        await connection.OpenAsync(Ct);
        await using var command = new SqlCommand(query.Sql, connection);
        foreach (var (name, value) in query.Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        var rows = new List<object?[]>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            var row = new object?[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The fixture's customers and orders as tables of their own in the server's database, loaded once per fixture.</summary>
    private async Task<(string Customers, string Orders)> TablesAsync()
    {
        await LoadGate.WaitAsync(Ct);
        try
        {
            if (Loaded.TryGetValue(fixture, out var tables))
            {
                return tables;
            }
            var suffix = Guid.NewGuid().ToString("N")[..8];
            tables = ($"sp_customers_{suffix}", $"sp_orders_{suffix}");
            await using var connection = new SqlConnection(Server());
            await connection.OpenAsync(Ct);
            await LoadAsync(connection, tables.Customers, fixture.Data.Customers);
            await LoadAsync(connection, tables.Orders, fixture.Data.Orders);
            Loaded[fixture] = tables;
            return tables;
        }
        finally
        {
            LoadGate.Release();
        }
    }

    private static async Task LoadAsync(SqlConnection connection, string table, PropertyTable data)
    {
        static (string Sql, Type Type) TypeOf(ColumnType type) => type switch
        {
            ColumnType.Integer => ("bigint", typeof(long)),
            ColumnType.Decimal => ("float", typeof(double)),
            ColumnType.Date => ("date", typeof(DateTime)),
            ColumnType.Timestamp => ("datetime2", typeof(DateTime)),
            ColumnType.Boolean => ("bit", typeof(bool)),
            _ => ("nvarchar(400)", typeof(string)),
        };
        var columns = string.Join(", ", data.Columns.Select(c => $"{T.Quote(c.Name)} {TypeOf(c.Type).Sql}"));
        await using (var create = new SqlCommand($"CREATE TABLE [dbo].{T.Quote(table)} ({columns})", connection))
        {
            await create.ExecuteNonQueryAsync(Ct);
        }
        using var rows = new DataTable();
        foreach (var column in data.Columns)
        {
            rows.Columns.Add(column.Name, TypeOf(column.Type).Type);
        }
        foreach (var row in data.Rows)
        {
            rows.Rows.Add(row.Select(v => v switch { null => DBNull.Value, DateOnly d => d.ToDateTime(TimeOnly.MinValue), _ => v }).ToArray());
        }
        using var copy = new SqlBulkCopy(connection) { DestinationTableName = $"[dbo].{T.Quote(table)}" };
        await copy.WriteToServerAsync(rows, Ct);
    }
}
