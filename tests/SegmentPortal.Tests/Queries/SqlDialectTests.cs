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
}
