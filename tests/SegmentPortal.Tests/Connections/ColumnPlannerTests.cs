using SegmentPortal.Core.Connections;

namespace SegmentPortal.Tests.Connections;

/// <summary>Warehouse types chosen from the drivers' column types (SQL Server's without a server: its reader reports these).</summary>
public sealed class ColumnPlannerTests
{
    [Theory]
    [InlineData(typeof(bool), "bit", null, null, "BOOLEAN")]
    [InlineData(typeof(byte), "tinyint", null, null, "SMALLINT")]
    [InlineData(typeof(short), "smallint", null, null, "SMALLINT")]
    [InlineData(typeof(int), "int", null, null, "INTEGER")]
    [InlineData(typeof(long), "bigint", null, null, "BIGINT")]
    [InlineData(typeof(float), "real", null, null, "FLOAT")]
    [InlineData(typeof(double), "float", null, null, "DOUBLE")]
    [InlineData(typeof(decimal), "decimal", 18, 4, "DECIMAL(18,4)")]
    [InlineData(typeof(decimal), "decimal", 38, 0, "DECIMAL(38,0)")]
    [InlineData(typeof(decimal), "money", 19, 4, "DECIMAL(19,4)")]
    [InlineData(typeof(string), "nvarchar", null, null, "VARCHAR")]
    [InlineData(typeof(string), "xml", null, null, "VARCHAR")]
    [InlineData(typeof(DateTime), "date", null, null, "DATE")]
    [InlineData(typeof(DateTime), "datetime2", null, null, "TIMESTAMP")]
    [InlineData(typeof(DateTime), "smalldatetime", null, null, "TIMESTAMP")]
    [InlineData(typeof(DateTimeOffset), "datetimeoffset", null, null, "TIMESTAMPTZ")]
    [InlineData(typeof(TimeSpan), "time", null, null, "TIME")]
    [InlineData(typeof(Guid), "uniqueidentifier", null, null, "UUID")]
    [InlineData(typeof(byte[]), "varbinary", null, null, "BLOB")]
    [InlineData(typeof(object), "sql_variant", null, null, "VARCHAR")]
    public void Sql_server_types(Type type, string name, int? precision, int? scale, string expected) =>
        Assert.Equal(expected, ColumnPlanner.PlanTyped(ConnectionKind.SqlServer, type, name, precision, scale).WarehouseType);

    [Theory]
    [InlineData(typeof(decimal), "numeric(12, 2)", "DECIMAL(12,2)")]
    [InlineData(typeof(decimal), "numeric(30)", "DECIMAL(30,0)")]
    [InlineData(typeof(decimal), "numeric", "DOUBLE")]
    [InlineData(typeof(decimal), "numeric(60, 10)", "DOUBLE")]
    [InlineData(typeof(decimal), "money", "DECIMAL(19,2)")]
    [InlineData(typeof(DateTime), "timestamp with time zone", "TIMESTAMPTZ")]
    [InlineData(typeof(DateTime), "timestamp without time zone", "TIMESTAMP")]
    [InlineData(typeof(DateOnly), "date", "DATE")]
    [InlineData(typeof(TimeOnly), "time without time zone", "TIME")]
    [InlineData(typeof(DateTimeOffset), "time with time zone", "VARCHAR")]
    [InlineData(typeof(TimeSpan), "interval", "VARCHAR")]
    [InlineData(typeof(Guid), "uuid", "UUID")]
    [InlineData(typeof(string), "jsonb", "VARCHAR")]
    [InlineData(typeof(char), "char", "VARCHAR")]
    [InlineData(typeof(int[]), "integer[]", "VARCHAR")]
    [InlineData(typeof(System.Net.IPAddress), "inet", "VARCHAR")]
    public void Postgres_types(Type type, string name, string expected) =>
        Assert.Equal(expected, ColumnPlanner.PlanTyped(ConnectionKind.PostgreSql, type, name, null, null).WarehouseType);

    [Fact]
    public void Blank_and_repeated_names_are_made_unique_ignoring_case() =>
        Assert.Equal(
            ["column_1", "a", "A_2", "a_3", "column_5", "b", "a_2_2"],
            ColumnPlanner.UniqueNames(["", "a", "A", "a", "?column?", " b ", "a_2"]));

    [Fact]
    public void Values_without_a_warehouse_type_become_readable_text()
    {
        Assert.Equal("[1,2,3]", ColumnPlanner.FormatAsText(new[] { 1, 2, 3 }));
        Assert.Equal("[\"a\",null]", ColumnPlanner.FormatAsText(new[] { "a", null }));
        Assert.Equal("CAFE", ColumnPlanner.FormatAsText(new byte[] { 0xCA, 0xFE }));
        Assert.Equal("1.5", ColumnPlanner.FormatAsText(1.5m));
        Assert.Equal("10.0.0.1", ColumnPlanner.FormatAsText(System.Net.IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void Sqlite_values_are_converted_to_the_declared_type_or_refused()
    {
        Assert.Equal(3L, SqliteValues.ToInt64(3.0));
        Assert.Equal(42L, SqliteValues.ToInt64(" 42 "));
        Assert.Equal(2.5, SqliteValues.ToDouble("2.5"));
        Assert.True(SqliteValues.ToBoolean("true"));
        Assert.False(SqliteValues.ToBoolean(0L));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5), SqliteValues.ToTimestamp("2024-01-02 03:04:05"));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5), SqliteValues.ToTimestamp("2024-01-02T03:04:05"));
        Assert.Equal(new DateOnly(2024, 1, 2), SqliteValues.ToDate("2024-01-02"));
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(86400), SqliteValues.ToTimestamp(86400L));

        Assert.Equal("'1.5' is not a whole number.", Assert.Throws<InvalidCastException>(() => SqliteValues.ToInt64("1.5")).Message);
        Assert.Throws<InvalidCastException>(() => SqliteValues.ToDate("yesterday"));
        Assert.Throws<InvalidCastException>(() => SqliteValues.ToBoolean("maybe"));
    }
}
