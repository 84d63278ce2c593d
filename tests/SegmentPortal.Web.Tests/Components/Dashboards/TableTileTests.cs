using Bunit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Dashboards.Tiles;
using SegmentPortal.Web.Tests.Infrastructure;
using static SegmentPortal.Web.Tests.Components.Dashboards.TileSamples;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

/// <summary>Table and pivot tiles.</summary>
public sealed class TableTileTests : PortalTestContext
{
    /// <summary>25 customers with a country and revenue; c7 has no revenue.</summary>
    private static TileData Customers() => DataOf(TileType.Table, ["Customer", "Country"], ["Revenue", "Orders"],
        [.. Enumerable.Range(1, 25).Select(i => new object?[] { $"c{i:00}", i % 2 == 0 ? "France" : "Spain", i == 7 ? null : i * 1000.5, (long)i })])
        with { Totals = [300000.25, 325] };

    private IRenderedComponent<TileView> RenderTable(TileData data, Action<TileMark>? clicked = null) => Render<TileView>(p =>
    {
        p.Add(t => t.Tile, Tile(TileType.Table)).Add(t => t.Data, data).Add(t => t.PageSize, 10);
        if (clicked is not null)
        {
            p.Add(t => t.OnMarkClicked, clicked);
        }
    });

    private static List<string> Column(IRenderedComponent<TileView> cut, int column) =>
        cut.FindAll("[data-testid=tile-table] tbody tr").Select(r => r.Children[column].TextContent.Trim()).ToList();

    [Fact]
    public void The_first_page_shows_the_rows_with_numbers_formatted_and_right_aligned()
    {
        var cut = RenderTable(Customers());

        var rows = cut.FindAll("[data-testid=tile-table] tbody tr");
        Assert.Equal(10, rows.Count);
        Assert.Equal(["Customer", "Country", "Revenue", "Orders"], cut.FindAll("[data-testid=tile-table] thead th").Select(h => h.TextContent.Trim()));
        var revenue = rows[1].Children[2];
        Assert.Equal("2,001", revenue.TextContent);
        Assert.Contains("num", revenue.ClassList);
        Assert.DoesNotContain("num", rows[1].Children[0].ClassList);
        Assert.Equal("—", rows[6].Children[2].TextContent);
        Assert.Equal("1–10 of 25", cut.Find("[data-testid=tile-page-info]").TextContent);
    }

    [Fact]
    public void The_totals_row_shows_the_totals_over_all_rows_not_the_page()
    {
        var cut = RenderTable(Customers());

        var totals = cut.Find("[data-testid=tile-table-totals] tr");
        Assert.Equal("Total", totals.Children[0].TextContent);
        Assert.Equal("2", totals.Children[0].GetAttribute("colspan"));
        Assert.Equal("300,000", totals.Children[1].TextContent);
        Assert.Equal("325", totals.Children[2].TextContent);
    }

    [Fact]
    public void Clicking_a_measure_header_sorts_from_the_largest_then_the_other_way_with_empty_cells_last()
    {
        var cut = RenderTable(Customers());

        cut.Find("[data-testid=sort-2]").Click();
        Assert.Equal("c25", Column(cut, 0)[0]);
        Assert.Equal("descending", cut.Find("th:nth-child(3)").GetAttribute("aria-sort"));

        cut.Find("[data-testid=sort-2]").Click();
        Assert.Equal(["c01", "c02", "c03"], Column(cut, 0).Take(3));
        Assert.Equal("ascending", cut.Find("th:nth-child(3)").GetAttribute("aria-sort"));

        cut.Find("[data-testid=tile-page-next]").Click();
        cut.Find("[data-testid=tile-page-next]").Click();
        Assert.Equal("c07", Column(cut, 0)[^1]);
    }

    [Fact]
    public void Clicking_a_text_header_sorts_from_a()
    {
        var cut = RenderTable(Customers());

        cut.Find("[data-testid=sort-1]").Click();

        Assert.All(Column(cut, 1), c => Assert.Equal("France", c));
    }

    [Fact]
    public void The_pager_moves_between_pages_and_stops_at_the_ends()
    {
        var cut = RenderTable(Customers());
        Assert.True(cut.Find("[data-testid=tile-page-prev]").HasAttribute("disabled"));

        cut.Find("[data-testid=tile-page-next]").Click();
        Assert.Equal("11–20 of 25", cut.Find("[data-testid=tile-page-info]").TextContent);
        Assert.Equal("c11", Column(cut, 0)[0]);

        cut.Find("[data-testid=tile-page-next]").Click();
        Assert.Equal("21–25 of 25", cut.Find("[data-testid=tile-page-info]").TextContent);
        Assert.Equal(5, Column(cut, 0).Count);
        Assert.True(cut.Find("[data-testid=tile-page-next]").HasAttribute("disabled"));

        cut.Find("[data-testid=tile-page-prev]").Click();
        Assert.Equal("c11", Column(cut, 0)[0]);
    }

    [Fact]
    public void Numbers_in_a_column_share_their_decimals()
    {
        var data = DataOf(TileType.Table, ["Country"], ["Average order"], ["France", 12.5], ["Spain", 40.0], ["Italy", 7.125]);

        var cut = RenderTable(data);

        Assert.Equal(["12.50", "40.00", "7.13"], Column(cut, 1));
    }

    [Fact]
    public void A_short_table_has_no_pager()
    {
        var cut = RenderTable(ByCountry(TileType.Table));

        Assert.Empty(cut.FindAll("[data-testid=tile-page-info]"));
        Assert.Empty(cut.FindAll("[data-testid=tile-table-totals]"));
    }

    [Fact]
    public void Clicking_a_row_raises_its_dimension_values()
    {
        TileMark? mark = null;
        var cut = RenderTable(Customers(), m => mark = m);

        cut.FindAll("[data-testid=tile-table] tbody tr")[2].Click();

        Assert.Equal(new Dictionary<string, object?> { ["Customer"] = "c03", ["Country"] = "Spain" }, mark!.Values);
    }

    private static TileData Sales() => DataOf(TileType.Pivot, ["Country", "Channel"], ["Revenue"],
        ["France", "Web", 100.0], ["France", "Store", 50.0], ["Spain", "Web", 30.0], ["Italy", "Store", 20.0]);

    [Fact]
    public void A_pivot_lays_dimension_0_down_dimension_1_across_with_row_column_and_grand_totals()
    {
        var tile = Tile(TileType.Pivot) with { Measures = [new TileMeasure(TileMeasureKind.Sum, "amount")] };
        var cut = Render<TileView>(p => p.Add(t => t.Tile, tile).Add(t => t.Data, Sales()));

        var table = cut.Find("[data-testid=tile-pivot]");
        Assert.Equal(["Country \\ Channel", "Web", "Store", "Total"], table.QuerySelectorAll("thead th").Select(h => h.TextContent.Trim()));
        Assert.Equal(["France", "Spain", "Italy"], table.QuerySelectorAll("tbody th").Select(h => h.TextContent));
        Assert.Equal(["100", "50", "150"], table.QuerySelectorAll("tbody tr")[0].QuerySelectorAll("td").Select(d => d.TextContent));
        Assert.Equal("—", table.QuerySelectorAll("tbody tr")[1].QuerySelectorAll("td")[1].TextContent);
        Assert.Equal(["150", "30", "20"], cut.FindAll("[data-testid=pivot-row-total]").Select(d => d.TextContent));
        Assert.Equal(["130", "70"], cut.FindAll("[data-testid=pivot-column-total]").Select(d => d.TextContent));
        Assert.Equal("200", cut.Find("[data-testid=pivot-grand-total]").TextContent);
    }

    [Fact]
    public void Averages_do_not_add_up_so_the_pivot_shows_no_totals_for_them()
    {
        var tile = Tile(TileType.Pivot) with { Measures = [new TileMeasure(TileMeasureKind.Average, "amount")] };
        var cut = Render<TileView>(p => p.Add(t => t.Tile, tile).Add(t => t.Data, Sales()));

        Assert.All(cut.FindAll("[data-testid=pivot-row-total]"), d => Assert.Equal("—", d.TextContent));
        Assert.Equal("—", cut.Find("[data-testid=pivot-grand-total]").TextContent);
        Assert.Contains("does not add up", cut.Find("[data-testid=pivot-grand-total]").GetAttribute("title"));
    }

    [Fact]
    public void Pivot_totals_of_a_maximum_are_the_largest_cell()
    {
        var pivot = PivotModel.From(Sales(), TileMeasureKind.Max);

        Assert.Equal([100.0, 50.0], pivot.ColumnTotals);
        Assert.Equal(100.0, pivot.GrandTotal);
    }

    [Fact]
    public void Clicking_a_pivot_cell_raises_both_dimensions()
    {
        TileMark? mark = null;
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Pivot)).Add(t => t.Data, Sales()).Add(t => t.OnMarkClicked, m => mark = m));

        cut.Find("[data-testid=tile-pivot] tbody tr:nth-child(2) td:nth-of-type(1)").Click();

        Assert.Equal(new Dictionary<string, object?> { ["Country"] = "Spain", ["Channel"] = "Web" }, mark!.Values);
    }
}
