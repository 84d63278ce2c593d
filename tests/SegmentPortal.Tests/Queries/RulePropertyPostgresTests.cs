using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// The rule property on PostgreSQL: the same generated customers and orders loaded into a real PostgreSQL (see
/// <see cref="PostgresServer"/>), the same random rule trees (customer facts and saved segments included) compiled with
/// the PostgreSQL dialect for live datasets that name those tables, run with Npgsql, and compared with
/// <see cref="RuleEvaluator"/> (and, when they differ, with DuckDB's answer for the same tree).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RulePropertyPostgresTests(RulePropertyFixture fixture, PostgresServer server) : IClassFixture<RulePropertyFixture>
{
    private static readonly SemaphoreSlim LoadGate = new(1, 1);
    private static readonly Dictionary<(int Port, RulePropertyFixture Fixture), string> Loaded = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rule_trees_select_the_same_customers_on_PostgreSQL_and_in_memory()
    {
        var database = await DatabaseAsync();
        var seed = Environment.GetEnvironmentVariable("RULE_PROPERTY_SEED") is { Length: > 0 } s ? ulong.Parse(s, CultureInfo.InvariantCulture) : RulePropertyTests.DefaultSeed;
        var trees = Environment.GetEnvironmentVariable("RULE_PROPERTY_TREES") is { Length: > 0 } n ? int.Parse(n, CultureInfo.InvariantCulture) : RulePropertyTests.DefaultTrees;
        var population = fixture.Evaluator.Customers.Count();
        var failures = new List<string>();
        int none = 0, all = 0, failed = 0;
        for (var i = 0; i < trees; i++)
        {
            var treeSeed = SeededRandom.Derive(seed, i);
            var rule = RulePropertyFixture.RoundTrip(fixture.Generator.Generate(new SeededRandom(treeSeed)));
            var expected = fixture.Evaluator.Evaluate(rule);
            none += expected.Ids.Count == 0 ? 1 : 0;
            all += expected.Ids.Count == population ? 1 : 0;
            var problem = await CompareAsync(database, rule, expected);
            if (problem is not null && ++failed <= 3)
            {
                failures.Add($"Tree {i} (seed {seed}, tree seed {treeSeed}):\n{new RuleTree { Root = rule }.ToIndentedJson()}\n{problem}");
            }
        }
        var summary = $"Seed {seed}: {trees} trees on PostgreSQL; {none} select nobody, {all} everybody; {failed} differ.";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        Assert.True(failed == 0, $"{summary}\n\n{string.Join("\n\n", failures)}");
        Assert.True(none + all < trees / 2, summary);
    }

    /// <summary>The examples of the compiler's former bugs (see <see cref="KnownDiscrepancy"/>) on PostgreSQL.</summary>
    [Theory]
    [InlineData("""{"kind":"condition","field":"visits","operator":"notEquals","value":"-1.01"}""")]
    [InlineData("""{"kind":"fact","fact":"orderCount","operator":"equals","value":"4.571"}""")]
    [InlineData("""{"kind":"condition","field":"visits","operator":"less","value":"1e20"}""")]
    [InlineData("""{"kind":"fact","fact":"averageAmount","operator":"lessOrEqual","value":"0"}""")]
    [InlineData("""{"kind":"fact","fact":"averageAmount","operator":"greater","value":"101.3"}""")]
    [InlineData("""{"kind":"condition","field":"name","operator":"isEmpty"}""")]
    [InlineData("""{"kind":"condition","field":"name","operator":"isNotEmpty"}""")]
    [InlineData("""{"kind":"condition","field":"name","operator":"contains","value":"Ö"}""")]
    [InlineData("""{"kind":"condition","field":"city","operator":"equals","value":"são paulo"}""")]
    [InlineData("""{"kind":"condition","field":"city","operator":"endsWith","value":"YORK"}""")]
    [InlineData("""{"kind":"condition","field":"tier","operator":"in","values":["gold","Silver"]}""")]
    [InlineData("""{"kind":"fact","fact":"boughtCategory","column":"category","operator":"in","values":["Toys","Food"],"windowDays":365}""")]
    [InlineData("""{"kind":"fact","fact":"daysSinceLastOrder","operator":"less","value":"30"}""")]
    [InlineData("""{"kind":"condition","field":"signup","operator":"inThis","unit":"weeks"}""")]
    public async Task Single_conditions_select_the_same_customers_on_PostgreSQL(string condition)
    {
        var database = await DatabaseAsync();
        var rule = RuleTree.FromJson("""{"version":1,"root":{"combinator":"and","children":[""" + condition + "]}}").Root;

        var problem = await CompareAsync(database, rule, fixture.Evaluator.Evaluate(rule));

        Assert.True(problem is null, problem);
    }

    public static TheoryData<string> Specs => new()
    {
        "measures by tier", "filtered measures", "customer measures", "customer measures in a window", "days", "weeks", "months", "quarters", "years", "bins",
        "first order cohorts",
    };

    /// <summary>Tiles' and analyses' questions (groups, every measure, filtered measures, periods, bins, customer measures) give DuckDB's rows on PostgreSQL.</summary>
    [Theory]
    [MemberData(nameof(Specs))]
    public async Task Measures_periods_and_customer_measures_equal_DuckDB(string name)
    {
        var database = await DatabaseAsync();
        var spec = SpecFor(fixture.CustomerData.Id, name);

        var duck = await fixture.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec, Ct));
        var pg = await RunAsync(database, await CompileAsync(spec));

        var expected = Rows(duck.Rows);
        var actual = Rows(pg);
        Assert.True(expected.SequenceEqual(actual),
            $"DuckDB ({string.Join(", ", duck.Columns)}):\n{string.Join("\n", expected.Except(actual))}\nPostgreSQL:\n{string.Join("\n", actual.Except(expected))}");
    }

    /// <summary>The specs of <see cref="Measures_periods_and_customer_measures_equal_DuckDB"/> (shared with the T-SQL tests).</summary>
    public static QuerySpec SpecFor(int customers, string name)
    {
        var vip = new RuleGroup { Children = [new FieldCondition { Field = "vip", Operator = RuleOperator.IsTrue }] };
        Measure[] all =
        [
            new(MeasureKind.Count, "count"), new(MeasureKind.CountDistinct, "cities", "city"), new(MeasureKind.Days, "days", "last_login"),
            new(MeasureKind.Sum, "sum", "score"), new(MeasureKind.Sum, "product", "score", Times: "visits"), new(MeasureKind.Average, "average", "visits"),
            new(MeasureKind.Min, "min", "signup"), new(MeasureKind.Max, "max", "last_login"), new(MeasureKind.Customers, "customers"),
        ];
        Measure[] quantiles = [new(MeasureKind.Median, "median", "score"), new(MeasureKind.LowerQuartile, "q1", "visits"), new(MeasureKind.UpperQuartile, "q3", "score")];
        FactColumn[] facts(int? window) =>
        [
            new("orders", CustomerMeasure.OrderCount, window), new("spent", CustomerMeasure.TotalAmount, window), new("aov", CustomerMeasure.AverageAmount, window),
            new("recency", CustomerMeasure.DaysSinceLastOrder, window), new("tenure", CustomerMeasure.DaysSinceFirstOrder, window),
            new("share", CustomerMeasure.CategoryShare, window, "category", ["Toys", "Food"]), new("first", CustomerMeasure.FirstOrderDate, window),
        ];
        QuerySpec ByPeriod(DateBucket bucket) => new() { DatasetId = customers, GroupBy = [new GroupBy("last_login", bucket)], Measures = [new Measure(MeasureKind.Count, "n"), new Measure(MeasureKind.Average, "score", "score")] };
        return name switch
        {
            "measures by tier" => new() { DatasetId = customers, GroupBy = [new GroupBy("tier")], Measures = [.. all, .. quantiles] },
            "filtered measures" => new() { DatasetId = customers, GroupBy = [new GroupBy("vip")], Measures = [.. all.Concat(quantiles).Select(m => m with { Alias = m.Alias + "_vip", Where = vip })] },
            "customer measures" => new() { DatasetId = customers, Columns = [RulePropertyData.CustomerKey], Facts = facts(null), DistinctCustomers = true },
            "customer measures in a window" => new() { DatasetId = customers, Columns = [RulePropertyData.CustomerKey], Facts = facts(365), DistinctCustomers = true },
            "days" => ByPeriod(DateBucket.Day),
            "weeks" => ByPeriod(DateBucket.Week),
            "months" => ByPeriod(DateBucket.Month),
            "quarters" => ByPeriod(DateBucket.Quarter),
            "years" => ByPeriod(DateBucket.Year),
            "bins" => new() { DatasetId = customers, GroupBy = [new GroupBy("score") { BinWidth = 250 }], Measures = [new Measure(MeasureKind.Count, "n")] },
            "first order cohorts" => new()
            {
                DatasetId = customers, Filter = vip, GroupBy = [new GroupBy("first") { Fact = new FactColumn("first", CustomerMeasure.FirstOrderDate) }],
                Measures = [new Measure(MeasureKind.Customers, "n")],
            },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    /// <summary>Result rows comparable across engines: numbers as doubles to 12 significant digits, dates as dates, sorted by their text.</summary>
    public static List<string> Rows(IEnumerable<object?[]> rows) =>
        rows.Select(r => string.Join(" | ", r.Select(Normal))).Order(StringComparer.Ordinal).ToList();

    private static string Normal(object? value) => value switch
    {
        null or DBNull => "∅",
        DateTime t when t.TimeOfDay == TimeSpan.Zero => DateOnly.FromDateTime(t).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        string text => text,
        bool b => b ? "true" : "false",
        System.Numerics.BigInteger n => ((double)n).ToString("G12", CultureInfo.InvariantCulture),
        // 12 significant digits: sums of fractions differ in the last bits with the order they are added in.
        IConvertible n => Convert.ToDouble(n, CultureInfo.InvariantCulture).ToString("G12", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Masked and hashed values of PostgreSQL's dialect equal DuckDB's (and the hash is md5 of the UTF-8 bytes).</summary>
    [Fact]
    public async Task Masks_and_hashes_are_the_same_as_DuckDB()
    {
        var database = await DatabaseAsync();
        string[] values = ["jane.doe@example.com", "a@b.c", "@lead", "13812345678", "Björn Åsa", "short", "", "Zoë@São.br", "1234567"];
        const string key = "k3y-ÄÖ";
        await using var duck = new DuckDBConnection("DataSource=:memory:");
        await duck.OpenAsync(Ct);
        await using var pg = new NpgsqlConnection(database);
        await pg.OpenAsync(Ct);
        foreach (var value in values)
        {
            var expectedHash = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(key + value)))[..16];
            var duckHash = await DuckScalarAsync(duck, $"SELECT {DuckDbDialect.Instance.Hash(DuckDbDialect.Instance.AsText("$v"), "$k")}", value, key);
            var pgHash = await PgScalarAsync(pg, $"SELECT {PostgresSqlDialect.Instance.Hash(PostgresSqlDialect.Instance.AsText("@v"), "@k")}", value, key);
            Assert.Equal(expectedHash, duckHash);
            Assert.Equal(expectedHash, pgHash);

            var duckMask = await DuckScalarAsync(duck, $"SELECT {DuckDbDialect.Instance.Mask(DuckDbDialect.Instance.AsText("$v"))}", value, key);
            var pgMask = await PgScalarAsync(pg, $"SELECT {PostgresSqlDialect.Instance.Mask(PostgresSqlDialect.Instance.AsText("@v"))}", value, key);
            Assert.Equal(duckMask, pgMask);
        }
    }

    private static async Task<string?> DuckScalarAsync(DuckDBConnection connection, string sql, string value, string key)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (sql.Contains("$v", StringComparison.Ordinal))
        {
            command.Parameters.Add(new DuckDBParameter("v", value));
        }
        if (sql.Contains("$k", StringComparison.Ordinal))
        {
            command.Parameters.Add(new DuckDBParameter("k", key));
        }
        return (string?)await command.ExecuteScalarAsync(Ct);
    }

    private static async Task<string?> PgScalarAsync(NpgsqlConnection connection, string sql, string value, string key)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (sql.Contains("@v", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("v", value);
        }
        if (sql.Contains("@k", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("k", key);
        }
        return await command.ExecuteScalarAsync(Ct) as string;
    }

    /// <summary>Null when PostgreSQL selects what the evaluator does (members and count), else what differs.</summary>
    private async Task<string?> CompareAsync(string database, RuleGroup rule, Evaluation expected)
    {
        IReadOnlyList<long> ids;
        long count;
        CompiledQuery? members = null;
        try
        {
            members = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Filter = rule, Columns = [RulePropertyData.CustomerKey], DistinctCustomers = true });
            ids = (await RunAsync(database, members)).Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).Order().ToList();
            var counted = await CompileAsync(new QuerySpec { DatasetId = fixture.CustomerData.Id, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] });
            count = Convert.ToInt64((await RunAsync(database, counted))[0][0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is PostgresException or NpgsqlException or PortalException or InvalidCastException)
        {
            return $"The query failed on PostgreSQL: {ex.GetType().Name}: {ex.Message}\n{members?.Sql}";
        }
        if (expected.Ids.SequenceEqual(ids) && count == ids.Count)
        {
            return null;
        }
        var duck = await fixture.IdsAsync(rule, Ct);
        return $"Expected {expected.Ids.Count} customers; PostgreSQL selected {ids.Count} (counted {count}), DuckDB {duck.Count}. " +
            $"Only expected: [{string.Join(", ", expected.Ids.Except(ids).Take(10))}]; only on PostgreSQL: [{string.Join(", ", ids.Except(expected.Ids).Take(10))}].\n{members.Sql}";
    }

    private Task<CompiledQuery> CompileAsync(QuerySpec spec) => fixture.CompileLiveAsync(spec, SqlEngine.PostgreSql, "public", "customers", "orders", Ct);

    private static async Task<List<object?[]>> RunAsync(string database, CompiledQuery query)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(query.Sql, connection);
        foreach (var (name, value) in query.Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        var rows = new List<object?[]>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
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
    /// A database of the fixture's customers and orders, as tables customers and orders, loaded once per server and
    /// fixture. Its collation is ICU's root locale, so lower() folds every letter as DuckDB's does.
    /// </summary>
    private async Task<string> DatabaseAsync()
    {
        server.Require();
        await LoadGate.WaitAsync(Ct);
        try
        {
            if (Loaded.TryGetValue((server.Port, fixture), out var existing))
            {
                return existing;
            }
            var name = "rules_" + Guid.NewGuid().ToString("N")[..8];
            await using (var admin = new NpgsqlConnection(server.AdminConnectionString("postgres")))
            {
                await admin.OpenAsync(Ct);
                await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C'", admin);
                await create.ExecuteNonQueryAsync(Ct);
            }
            var database = server.AdminConnectionString(name);
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync(Ct);
                await LoadAsync(connection, "customers", fixture.Data.Customers);
                await LoadAsync(connection, "orders", fixture.Data.Orders);
            }
            Loaded[(server.Port, fixture)] = database;
            return database;
        }
        finally
        {
            LoadGate.Release();
        }
    }

    private static async Task LoadAsync(NpgsqlConnection connection, string table, PropertyTable data)
    {
        static (string Sql, NpgsqlDbType Type) TypeOf(ColumnType type) => type switch
        {
            ColumnType.Integer => ("bigint", NpgsqlDbType.Bigint),
            ColumnType.Decimal => ("double precision", NpgsqlDbType.Double),
            ColumnType.Date => ("date", NpgsqlDbType.Date),
            ColumnType.Timestamp => ("timestamp", NpgsqlDbType.Timestamp),
            ColumnType.Boolean => ("boolean", NpgsqlDbType.Boolean),
            _ => ("text", NpgsqlDbType.Text),
        };
        var quoted = PostgresSqlDialect.Instance.Quote(table);
        var columns = string.Join(", ", data.Columns.Select(c => $"{PostgresSqlDialect.Instance.Quote(c.Name)} {TypeOf(c.Type).Sql}"));
        await using (var create = new NpgsqlCommand($"CREATE TABLE {quoted} ({columns})", connection))
        {
            await create.ExecuteNonQueryAsync(Ct);
        }
        var names = string.Join(", ", data.Columns.Select(c => PostgresSqlDialect.Instance.Quote(c.Name)));
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY {quoted} ({names}) FROM STDIN (FORMAT BINARY)", Ct))
        {
            foreach (var row in data.Rows)
            {
                await copy.StartRowAsync(Ct);
                for (var i = 0; i < row.Length; i++)
                {
                    if (row[i] is null)
                    {
                        await copy.WriteNullAsync(Ct);
                    }
                    else
                    {
                        await copy.WriteAsync(row[i], TypeOf(data.Columns[i].Type).Type, Ct);
                    }
                }
            }
            await copy.CompleteAsync(Ct);
        }
        await using var analyze = new NpgsqlCommand($"ANALYZE {quoted}", connection);
        await analyze.ExecuteNonQueryAsync(Ct);
    }
}
