using System.Text.Json;
using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.Interop;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Dashboards.Tiles;
using SegmentPortal.Web.Components.Shared.Charts;
using SegmentPortal.Web.Tests.Infrastructure;
using static SegmentPortal.Web.Tests.Components.Dashboards.TileSamples;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

/// <summary>The tile shell: title, menu, spinner, error, empty state, notes, and clicks on its marks.</summary>
public sealed class TileViewTests : PortalTestContext
{
    [Fact]
    public void While_loading_without_data_the_tile_shows_its_own_spinner()
    {
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Bar)).Add(t => t.Loading, true));

        Assert.NotNull(cut.Find(".tile-body [data-testid=tile-loading]"));
        Assert.Empty(cut.FindAll("[data-testid=tile-empty]"));
        Assert.Empty(cut.FindAll("[data-testid=chart-bar]"));
    }

    [Fact]
    public void While_reloading_the_previous_data_stays_with_a_spinner_beside_the_title()
    {
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Table)).Add(t => t.Data, ByCountry(TileType.Table)).Add(t => t.Loading, true));

        Assert.NotNull(cut.Find(".tile-header [data-testid=tile-loading]"));
        Assert.Equal(4, cut.FindAll("[data-testid=tile-table] tbody tr").Count);
    }

    [Fact]
    public void An_error_shows_in_the_tile_instead_of_its_content()
    {
        var cut = Render<TileView>(p => p
            .Add(t => t.Tile, Tile(TileType.Table))
            .Add(t => t.Data, ByCountry(TileType.Table))
            .Add(t => t.Error, "The column “country” no longer exists."));

        Assert.Contains("no longer exists", cut.Find("[data-testid=tile-error]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=tile-table]"));
        Assert.Equal("Revenue by country", cut.Find("[data-testid=tile-title]").TextContent);
    }

    [Theory]
    [InlineData(TileType.Bar)]
    [InlineData(TileType.Table)]
    [InlineData(TileType.Pivot)]
    [InlineData(TileType.Kpi)]
    [InlineData(TileType.Box)]
    public void No_rows_shows_the_empty_state(TileType type)
    {
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(type)).Add(t => t.Data, DataOf(type, ["Country"], ["Revenue"])));

        Assert.Contains("No data for these filters", cut.Find("[data-testid=tile-empty]").TextContent);
    }

    [Fact]
    public void A_text_tile_needs_no_data_and_renders_its_markdown_safely()
    {
        var tile = Tile(TileType.Text, title: "Notes") with { Markdown = "## Read me\n<script>alert(1)</script> and [bad](javascript:alert(1))" };

        var cut = Render<TileView>(p => p.Add(t => t.Tile, tile));

        Assert.Equal("Read me", cut.Find("[data-testid=tile-markdown] h5").TextContent);
        Assert.Empty(cut.FindAll("script"));
        Assert.Empty(cut.FindAll("[data-testid=tile-markdown] a"));
        Assert.Empty(cut.FindAll("[data-testid=tile-empty]"));
    }

    [Fact]
    public void Cut_rows_say_they_are_the_top_n()
    {
        var data = ByCountry(TileType.Bar) with { Truncated = true };

        var top = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Bar) with { TopN = 4 }).Add(t => t.Data, data));
        var first = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Table) with { TopN = null }).Add(t => t.Data, data));
        var whole = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Bar)).Add(t => t.Data, ByCountry(TileType.Bar)));

        Assert.Equal("Showing the top 4, the rest as “Other”", top.Find("[data-testid=tile-truncated]").TextContent);
        Assert.Equal("Showing the first 4 rows", first.Find("[data-testid=tile-truncated]").TextContent);
        Assert.Empty(whole.FindAll("[data-testid=tile-truncated]"));
    }

    [Fact]
    public void A_tile_that_fails_to_draw_shows_why_and_leaves_the_other_tiles_alone()
    {
        var broken = DataOf(TileType.Table, ["Country"], ["Revenue"], [new Unprintable(), 1.0]);
        var cut = Render(builder =>
        {
            builder.OpenComponent<TileView>(0);
            builder.AddAttribute(1, nameof(TileView.Tile), Tile(TileType.Table, id: "broken"));
            builder.AddAttribute(2, nameof(TileView.Data), broken);
            builder.CloseComponent();
            builder.OpenComponent<TileView>(3);
            builder.AddAttribute(4, nameof(TileView.Tile), Tile(TileType.Table, id: "fine"));
            builder.AddAttribute(5, nameof(TileView.Data), ByCountry(TileType.Table));
            builder.CloseComponent();
        });

        Assert.Contains("could not be drawn", cut.Find("[data-testid=tile-broken] [data-testid=tile-error]").TextContent);
        Assert.Equal(4, cut.FindAll("[data-testid=tile-fine] [data-testid=tile-table] tbody tr").Count);
    }

    /// <summary>A cell value that cannot be written out, as a driver bug might hand over.</summary>
    private sealed class Unprintable
    {
        public override string ToString() => throw new InvalidOperationException("Unreadable cell");
    }

    [Fact]
    public void An_untitled_tile_says_so() =>
        Assert.Equal("Untitled tile", Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Text, title: " "))).Find("[data-testid=tile-title]").TextContent);

    [Theory]
    [MemberData(nameof(ChartTiles))]
    public void Chart_tiles_draw_their_figure_into_a_div_with_a_stable_id(TileType type, string testId)
    {
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(type, id: "sales-2025")).Add(t => t.Data, SampleFor(type)));

        var figure = cut.Find($"[data-testid={testId}]");
        Assert.Equal("tile-chart-sales-2025", figure.Id);
        Assert.NotEmpty(cut.FindComponent<Figure>().Instance.Drawn.Traces);
        var firstPlot = cut.FindComponent<Plotly.Blazor.PlotlyChart>().Instance.Id;

        // New data redraws with a new plot: its own element id, so the old plot's purge (by id, when it is disposed)
        // cannot empty the new one; the figure keeps its stable id for exports.
        cut.Render(p => p.Add(t => t.Data, SampleFor(type) with { }));
        Assert.Equal("tile-chart-sales-2025", cut.Find($"[data-testid={testId}]").Id);
        Assert.NotEqual(firstPlot, cut.FindComponent<Plotly.Blazor.PlotlyChart>().Instance.Id);
    }

    public static TheoryData<TileType, string> ChartTiles() => new()
    {
        { TileType.Bar, "chart-bar" },
        { TileType.Line, "chart-line" },
        { TileType.Area, "chart-area" },
        { TileType.Pie, "chart-pie" },
        { TileType.Scatter, "chart-scatter" },
        { TileType.Histogram, "chart-histogram" },
        { TileType.Box, "chart-box" },
        { TileType.Heatmap, "chart-heatmap" },
        { TileType.Funnel, "chart-funnel" },
        { TileType.Treemap, "chart-treemap" },
        { TileType.CompareSegments, "chart-compare-segments" },
        { TileType.SegmentSize, "chart-segment-size" },
        { TileType.Cohort, "chart-cohort" },
        { TileType.RfmGrid, "chart-rfm-grid" },
        { TileType.ClusterProfile, "chart-cluster-profile" },
        { TileType.ClvDistribution, "chart-clv-distribution" },
        { TileType.AliveMatrix, "chart-alive-matrix" },
        { TileType.SurvivalCurves, "chart-survival-curves" },
    };

    [Fact]
    public void The_chart_id_is_safe_for_the_dom_whatever_the_tile_id() =>
        Assert.Equal("tile-chart-a-b-c_1", TileView.ChartElementId("a b/c_1"));

    [Fact]
    public void A_chart_listens_for_plotly_clicks_once_drawn()
    {
        Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Bar)).Add(t => t.Data, ByCountry(TileType.Bar)));

        Assert.Contains(JSInterop.Invocations, i => i.Identifier == "subscribeClickEvent");
    }

    [Fact]
    public async Task Clicking_a_bar_raises_the_mark_with_its_dimension_values()
    {
        var marks = new List<TileMark>();
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Bar)).Add(t => t.Data, ByCountry(TileType.Bar)).Add(t => t.OnMarkClicked, marks.Add));

        await ClickPlotlyAsync(cut, new EventDataPoint { TraceIndex = 0, PointNumber = JsonDocument.Parse("2").RootElement });

        cut.WaitForAssertion(() => Assert.Single(marks));
        Assert.Equal("t1", marks[0].TileId);
        Assert.Equal(new Dictionary<string, object?> { ["Country"] = "Spain" }, marks[0].Values);
    }

    [Fact]
    public async Task Clicking_a_heatmap_cell_raises_both_of_its_dimensions()
    {
        var marks = new List<TileMark>();
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Heatmap)).Add(t => t.Data, SampleFor(TileType.Heatmap)).Add(t => t.OnMarkClicked, marks.Add));

        await ClickPlotlyAsync(cut, new EventDataPoint { TraceIndex = 0, PointNumber = JsonDocument.Parse("[0, 1]").RootElement });

        cut.WaitForAssertion(() => Assert.Single(marks));
        Assert.Equal(new Dictionary<string, object?> { ["Country"] = "France", ["Channel"] = "Store" }, marks[0].Values);
    }

    [Fact]
    public async Task A_clicked_mark_can_be_drilled_into_or_its_customers_viewed_when_the_dimension_has_a_finer_level()
    {
        var tile = Tile(TileType.Bar) with { Dimensions = [new TileDimension("country", Hierarchy: ["country", "city"])] };
        TileMark? drilled = null, customers = null;
        var cut = Render<TileView>(p => p
            .Add(t => t.Tile, tile)
            .Add(t => t.Data, ByCountry(TileType.Bar))
            .Add(t => t.OnDrill, m => drilled = m)
            .Add(t => t.OnViewCustomers, m => customers = m));
        Assert.Empty(cut.FindAll("[data-testid=tile-selection]"));

        await ClickPlotlyAsync(cut, new EventDataPoint { TraceIndex = 0, PointNumber = 1 });

        cut.WaitForAssertion(() => Assert.Contains("Country: Germany", cut.Find("[data-testid=tile-selection]").TextContent));
        cut.Find("[data-testid=tile-drill]").Click();
        Assert.Equal("Germany", drilled!.Values["Country"]);
        cut.Find("[data-testid=tile-selection-customers]").Click();
        Assert.Equal("Germany", customers!.Values["Country"]);
        cut.Find("[data-testid=tile-selection-clear]").Click();
        Assert.Empty(cut.FindAll("[data-testid=tile-selection]"));
    }

    [Fact]
    public async Task Drilling_is_not_offered_at_the_finest_level()
    {
        var tile = Tile(TileType.Bar) with { Dimensions = [new TileDimension("city", Hierarchy: ["country", "city"])] };
        var cut = Render<TileView>(p => p.Add(t => t.Tile, tile).Add(t => t.Data, ByCountry(TileType.Bar)).Add(t => t.OnDrill, (TileMark _) => { }));

        await ClickPlotlyAsync(cut, new EventDataPoint { TraceIndex = 0, PointNumber = 1 });

        Assert.Empty(cut.FindAll("[data-testid=tile-drill]"));
        Assert.False(TileView.Drillable(tile));
        Assert.True(TileView.Drillable(Quarterly(TileType.Line)));
    }

    [Fact]
    public async Task The_menu_raises_the_exports_and_view_customers_for_the_whole_tile()
    {
        var calls = new List<string>();
        TileMark? customers = null;
        var cut = RenderWithPopovers(Tile(TileType.Bar), ByCountry(TileType.Bar), new()
        {
            [nameof(TileView.OnExportCsv)] = EventCallback.Factory.Create(this, () => calls.Add("csv")),
            [nameof(TileView.OnExportExcel)] = EventCallback.Factory.Create(this, () => calls.Add("excel")),
            [nameof(TileView.OnExportPng)] = EventCallback.Factory.Create(this, () => calls.Add("png")),
            [nameof(TileView.OnViewCustomers)] = EventCallback.Factory.Create<TileMark>(this, m => customers = m),
        });

        foreach (var item in new[] { "tile-export-csv", "tile-export-excel", "tile-export-png", "tile-view-customers" })
        {
            await ClickMenuItemAsync(cut, item);
        }

        Assert.Equal(["csv", "excel", "png"], calls);
        Assert.True(customers!.IsAll);
        Assert.Equal("t1", customers.TileId);
    }

    [Fact]
    public async Task A_table_cannot_be_exported_as_an_image_and_text_offers_no_customers()
    {
        var handlers = new Dictionary<string, object>
        {
            [nameof(TileView.OnExportCsv)] = EventCallback.Factory.Create(this, () => { }),
            [nameof(TileView.OnExportPng)] = EventCallback.Factory.Create(this, () => { }),
            [nameof(TileView.OnViewCustomers)] = EventCallback.Factory.Create<TileMark>(this, _ => { }),
        };
        var table = RenderWithPopovers(Tile(TileType.Table), ByCountry(TileType.Table), handlers);
        await OpenMenuAsync(table);
        Assert.NotNull(table.Find("[data-testid=tile-export-csv]"));
        Assert.Empty(table.FindAll("[data-testid=tile-export-png]"));

        Assert.False(TileView.ViewsCustomers(TileType.Text));
        Assert.False(TileView.ViewsCustomers(TileType.SegmentSize));
    }

    [Fact]
    public void Without_any_action_there_is_no_menu() =>
        Assert.Empty(Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Bar)).Add(t => t.Data, ByCountry(TileType.Bar))).FindAll(".mud-menu"));

    [Fact]
    public void New_data_keeps_the_selection_while_its_mark_is_in_it()
    {
        var tile = Quarterly(TileType.Table);
        var data = ByQuarterAndChannel(TileType.Table);
        var cut = Render<TileView>(p => p.Add(t => t.Tile, tile).Add(t => t.Data, data).Add(t => t.OnDrill, (TileMark _) => { }));
        cut.Find("[data-testid=tile-table] tbody tr").Click();
        Assert.NotNull(cut.Find("[data-testid=tile-selection]"));

        cut.Render(p => p.Add(t => t.Data, data with { Truncated = false }));
        Assert.NotNull(cut.Find("[data-testid=tile-selection]"));

        cut.Render(p => p.Add(t => t.Data, data with { Rows = data.Rows.Skip(1).ToList() }));
        Assert.Empty(cut.FindAll("[data-testid=tile-selection]"));
    }

    /// <summary>A Plotly click as its JS interop reports it to the chart.</summary>
    private static Task ClickPlotlyAsync(IRenderedComponent<TileView> cut, EventDataPoint point)
    {
        var chart = cut.FindComponent<PlotlyChart>();
        return cut.InvokeAsync(() => chart.Instance.ClickEvent([point]));
    }

    /// <summary>The tile with a popover provider beside it, as the dashboard page has (MudMenu draws its items there).</summary>
    private IRenderedComponent<ContainerFragment> RenderWithPopovers(TileDefinition tile, TileData data, Dictionary<string, object> handlers) => Render(builder =>
    {
        builder.OpenComponent<MudPopoverProvider>(0);
        builder.CloseComponent();
        builder.OpenComponent<TileView>(1);
        builder.AddAttribute(2, nameof(TileView.Tile), tile);
        builder.AddAttribute(3, nameof(TileView.Data), data);
        builder.AddMultipleAttributes(4, handlers);
        builder.CloseComponent();
    });

    private static async Task OpenMenuAsync(IRenderedComponent<ContainerFragment> cut)
    {
        var menu = cut.FindComponent<MudMenu>();
        await cut.InvokeAsync(() => menu.Instance.OpenMenuAsync(new MouseEventArgs()));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[role=menuitem]")));
    }

    private static async Task ClickMenuItemAsync(IRenderedComponent<ContainerFragment> cut, string testId)
    {
        await OpenMenuAsync(cut);
        IElement Item() => cut.Find($"[data-testid={testId}]");
        await Item().TriggerEventAsync("onclick", new MouseEventArgs());
    }

    /// <summary>Data of the shape each tile type expects.</summary>
    internal static TileData SampleFor(TileType type) => type switch
    {
        TileType.Scatter => DataOf(type, ["Customer", "Country"], ["Orders", "Revenue"], ["c1", "France", 3L, 120.0], ["c2", "Spain", 5L, 300.0]),
        TileType.Histogram => DataOf(type, ["Age"], ["Customers"], [20.0, 5L], [30.0, 9L]),
        TileType.Box => DataOf(type, ["Channel"], ["Order value"], ["Web"], ["Store"]) with { Boxes = [[1, 10, 20, 35, 90], [5, 12, 18, 25, 60]] },
        TileType.Heatmap or TileType.Treemap => DataOf(type, ["Country", "Channel"], ["Orders"], ["France", "Web", 10L], ["France", "Store", 4L], ["Spain", "Web", 7L]),
        TileType.CompareSegments => DataOf(type, ["Segment"], ["Customers", "Average order"], ["Champions", 120L, 85.0], ["New", 80L, 30.0]),
        TileType.SegmentSize => DataOf(type, ["Refreshed"], ["Customers"], [new DateTime(2025, 3, 1), 100L], [new DateTime(2025, 3, 8), 130L]),
        TileType.Cohort => DataOf(type, ["Cohort", "Month"], ["Share"], [new DateTime(2025, 1, 1), 0, 1.0], [new DateTime(2025, 1, 1), 1, 0.4]),
        TileType.RfmGrid => DataOf(type, ["R", "F"], ["Customers"], [5L, 5L, 40L], [1L, 1L, 70L]),
        TileType.ClusterProfile => DataOf(type, ["Cluster"], ["Recency", "Orders", "Spent"], ["Loyal", 10.0, 12.0, 900.0], ["Lapsed", 200.0, 2.0, 100.0]),
        TileType.ClvDistribution => DataOf(type, ["CLV from", "CLV to"], ["Customers"], [0.0, 50.0, 30.0], [50.0, 100.0, 12.0]),
        TileType.AliveMatrix => DataOf(type, ["P(alive)", "Repeat purchases"], ["Customers", "Average CLV"], ["0–10%", "0", 5.0, null], ["90–100%", "1", 8.0, 120.0]),
        TileType.SurvivalCurves => DataOf(type, ["Group", "Days"], ["Survival", "Lower", "Upper", "At risk"],
            ["North", 0.0, 1.0, 1.0, 1.0, 20.0], ["North", 40.0, 0.65, 0.44, 0.86, 20.0]),
        _ => ByCountry(type),
    };
}
