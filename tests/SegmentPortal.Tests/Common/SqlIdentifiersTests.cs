using SegmentPortal.Core.Common;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Tests.Common;

public sealed class SqlIdentifiersTests
{
    [Theory]
    [InlineData("id", "\"id\"")]
    [InlineData("order date", "\"order date\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("\"", "\"\"\"\"")]
    [InlineData("", "\"\"")]
    public void Identifiers_go_in_double_quotes_with_their_quotes_doubled(string identifier, string quoted) =>
        Assert.Equal(quoted, SqlIdentifiers.DoubleQuote(identifier));

    [Theory]
    [InlineData("customers")]
    [InlineData("a \"quoted\" name")]
    [InlineData("x\"; DROP TABLE t; --")]
    public void The_warehouse_its_dialect_and_SQLite_sources_quote_by_the_one_rule(string identifier)
    {
        var expected = SqlIdentifiers.DoubleQuote(identifier);

        Assert.Equal(expected, WarehouseNames.Quote(identifier));
        Assert.Equal(expected, DuckDbDialect.Instance.Quote(identifier));
        Assert.Equal(expected, SqliteDialect.Instance.Quote(identifier));
    }

    [Fact]
    public void The_warehouse_still_refuses_an_empty_name() =>
        Assert.Throws<ArgumentException>(() => WarehouseNames.Quote(""));
}
