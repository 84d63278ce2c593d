using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Queries;

/// <summary>The compile stage writes identifiers and parameters only through its <see cref="ISqlDialect"/>.</summary>
public sealed class SqlDialectTests
{
    /// <summary>SQL Server's quoting and parameters over DuckDB's functions: enough to see which dialect wrote each name.</summary>
    private sealed class BracketDialect : ISqlDialect
    {
        private readonly DuckDbDialect _duck = DuckDbDialect.Instance;

        public string Quote(string identifier) => "[" + identifier.Replace("]", "]]", StringComparison.Ordinal) + "]";

        public string Parameter(string name) => "@" + name;

        public string Lower(string expression) => _duck.Lower(expression);

        public string ContainsText(string haystack, string needle) => _duck.ContainsText(haystack, needle);

        public string StartsWithText(string text, string prefix) => _duck.StartsWithText(text, prefix);

        public string EndsWithText(string text, string suffix) => _duck.EndsWithText(text, suffix);

        public string AsDate(string expression) => _duck.AsDate(expression);

        public string AsText(string expression) => _duck.AsText(expression);

        public string AsDouble(string expression) => _duck.AsDouble(expression);

        public string IsBlank(string text) => _duck.IsBlank(text);

        public string DaysBetween(string from, string to) => _duck.DaysBetween(from, to);

        public string Truncate(DateBucket bucket, string expression) => _duck.Truncate(bucket, expression);

        public string Median(string expression) => _duck.Median(expression);

        public string Quantile(string expression, double fraction) => _duck.Quantile(expression, fraction);

        public string Filtered(Func<string, string> aggregate, string argument, string condition) => _duck.Filtered(aggregate, argument, condition);

        public string LimitOffset(int? limit, int offset) => _duck.LimitOffset(limit, offset);

        public string Mask(string text) => _duck.Mask(text);

        public string Hash(string text, string key) => _duck.Hash(text, key);

        public string Condition(bool value) => _duck.Condition(value);

        public string Boolean(bool value) => _duck.Boolean(value);

        public string Flag(string condition) => _duck.Flag(condition);

        public string AnyTrue(string flag) => _duck.AnyTrue(flag);

        public string Holds(string flag) => _duck.Holds(flag);

        public string InList(string expression, IReadOnlyList<string> values, Func<object, string> parameter) => _duck.InList(expression, values, parameter);

        public string Divide(string dividend, string divisor) => _duck.Divide(dividend, divisor);

        public string Average(string expression) => _duck.Average(expression);

        public string EqualsText(string text, string value) => _duck.EqualsText(text, value);

        public string OnePerKey(string key, IReadOnlyList<string> select, IReadOnlyList<string> columns, string fromWhere, bool distinct) =>
            _duck.OnePerKey(key, select, columns, fromWhere, distinct);

        public string Page(string query, IReadOnlyList<(string Column, bool Descending)> sort, int? limit, int offset) => _duck.Page(query, sort, limit, offset);
    }

    private static readonly QueryDataset People = new(7, "People", "people_live",
        [new QueryField("customer_id", ColumnType.Integer, FieldRole.CustomerId), new QueryField("region", ColumnType.Text, FieldRole.Dimension)],
        DateTimeOffset.UnixEpoch);

    private static readonly QuerySpec CountByRegion = new()
    {
        DatasetId = 7,
        Filter = All(FieldIn("region", RuleOperator.In, "North", "East")),
        GroupBy = [new GroupBy("region")],
        Measures = [new Measure(MeasureKind.Count, "n")],
    };

    private static CompiledQuery Compile(ISqlDialect dialect) =>
        QueryCompiler.Compile(CountByRegion, new CompileContext { Dataset = People, Today = new DateOnly(2024, 6, 15), Dialect = dialect });

    [Fact]
    public void Names_and_parameters_come_from_the_dialect()
    {
        var sql = Compile(new BracketDialect()).Sql;

        Assert.Contains("[people_live]", sql, StringComparison.Ordinal);
        Assert.Contains("[region]", sql, StringComparison.Ordinal);
        Assert.Contains("@p1", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("\"", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("$p", sql, StringComparison.Ordinal);
    }

    [Fact]
    public void DuckDb_is_the_default_dialect()
    {
        var sql = QueryCompiler.Compile(CountByRegion, new CompileContext { Dataset = People, Today = new DateOnly(2024, 6, 15) }).Sql;

        Assert.Equal(Compile(DuckDbDialect.Instance).Sql, sql);
        Assert.Contains("\"people_live\"", sql, StringComparison.Ordinal);
        Assert.Contains("$p1", sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_engine_has_its_dialect()
    {
        Assert.Same(DuckDbDialect.Instance, SqlDialects.For(SqlEngine.DuckDb));
        Assert.Same(PostgresSqlDialect.Instance, SqlDialects.For(SqlEngine.PostgreSql));
        Assert.Same(TSqlDialect.Instance, SqlDialects.For(SqlEngine.SqlServer));
        Assert.Same(DuckDbDialect.Instance, SqlDialects.For(People));
        Assert.Same(TSqlDialect.Instance, SqlDialects.For(People with { Live = new LiveSource(1, SqlEngine.SqlServer, "dbo", "people", null, 0) }));
    }

    [Fact]
    public void PostgreSQL_takes_a_list_as_one_array_parameter_and_reads_the_live_table()
    {
        var live = People with { Live = new LiveSource(1, SqlEngine.PostgreSql, "crm", "people", null, 0) };

        var query = QueryCompiler.Compile(CountByRegion, new CompileContext { Dataset = live, Today = new DateOnly(2024, 6, 15), Dialect = PostgresSqlDialect.Instance });

        Assert.Equal("SELECT t0.\"region\" AS \"region\", count(*) AS \"n\" FROM \"crm\".\"people\" AS t0 WHERE (CAST(t0.\"region\" AS text) = ANY(@p1)) GROUP BY t0.\"region\"", query.Sql);
        Assert.Equal(["North", "East"], Assert.IsType<string[]>(query.Parameters["p1"]));
    }

    [Fact]
    public void DuckDB_takes_a_list_as_one_list_parameter()
    {
        var query = Compile(DuckDbDialect.Instance);

        Assert.Contains("list_contains($p1, CAST(t0.\"region\" AS VARCHAR))", query.Sql, StringComparison.Ordinal);
        Assert.Equal(["North", "East"], Assert.IsType<List<string>>(query.Parameters["p1"]));
    }
}
