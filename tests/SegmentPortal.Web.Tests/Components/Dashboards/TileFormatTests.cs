using System.Text.Json;
using SegmentPortal.Core.Queries;
using SegmentPortal.Web.Components.Dashboards.Tiles;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

public sealed class TileFormatTests
{
    [Theory]
    [InlineData(1234567.891, "1,234,568")]
    [InlineData(1234.5, "1,235")]
    [InlineData(12.345, "12.35")]
    [InlineData(12.0, "12")]
    [InlineData(0.12345, "0.123")]
    [InlineData(-2500.0, "-2,500")]
    public void Numbers_get_thousands_separators_and_few_decimals(double value, string expected) =>
        Assert.Equal(expected, TileFormat.Number(value));

    [Fact]
    public void A_column_of_numbers_keeps_one_number_of_decimals()
    {
        Assert.Equal("N0", TileFormat.ColumnFormat([3, 4, null]));
        Assert.Equal("N0", TileFormat.ColumnFormat([1500.5, 2.25]));
        Assert.Equal("N2", TileFormat.ColumnFormat([1.5, 20]));
        Assert.Equal("0.###", TileFormat.ColumnFormat([0.25, 0.5]));
        Assert.Equal("20.00", TileFormat.Number(20, "N2"));
        Assert.Equal("1,235", TileFormat.Number(1234.5, "N0"));
        Assert.Equal("—", TileFormat.Number(null, "N2"));
    }

    [Fact]
    public void Missing_and_non_finite_numbers_show_a_dash()
    {
        Assert.Equal("—", TileFormat.Number(null));
        Assert.Equal("—", TileFormat.Number(double.NaN));
        Assert.Equal("—", TileFormat.Percent(null));
    }

    [Fact]
    public void Shares_and_changes_read_as_percentages_with_a_sign()
    {
        Assert.Equal("12.3%", TileFormat.Percent(0.1234));
        Assert.Equal("+12.3%", TileFormat.Change(0.1234));
        Assert.Equal("−5.0%", TileFormat.Change(-0.05));
        Assert.Equal("0.0%", TileFormat.Change(0));
    }

    [Theory]
    [InlineData(DateBucket.Year, "2025")]
    [InlineData(DateBucket.Quarter, "2025 Q2")]
    [InlineData(DateBucket.Month, "May 2025")]
    [InlineData(DateBucket.Week, "2025-W19")]
    [InlineData(DateBucket.Day, "2025-05-07")]
    public void Dates_read_as_their_bucket(DateBucket bucket, string expected) =>
        Assert.Equal(expected, TileFormat.Date(new DateTime(2025, 5, 7), bucket));

    [Fact]
    public void Cells_of_any_type_become_text()
    {
        Assert.Equal("(blank)", TileFormat.Value(null));
        Assert.Equal("(blank)", TileFormat.Value(""));
        Assert.Equal("Yes", TileFormat.Value(true));
        Assert.Equal("1,500", TileFormat.Value(1500L));
        Assert.Equal("2025 Q1", TileFormat.Value(new DateOnly(2025, 2, 1), DateBucket.Quarter));
        Assert.Equal("North", TileFormat.Value(JsonDocument.Parse("\"North\"").RootElement));
    }

    [Fact]
    public void Measure_cells_of_every_numeric_type_read_as_numbers()
    {
        Assert.Equal(3.0, TileFormat.ToDouble(3));
        Assert.Equal(3.5, TileFormat.ToDouble(3.5m));
        Assert.Equal(7.0, TileFormat.ToDouble(JsonDocument.Parse("7").RootElement));
        Assert.Null(TileFormat.ToDouble("north"));
        Assert.Null(TileFormat.ToDouble(double.PositiveInfinity));
    }
}
