using System.Text.Json;
using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Web.Components.Dashboards.Tiles;
using static SegmentPortal.Web.Tests.Components.Dashboards.TileSamples;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

/// <summary>The Plotly figure each chart tile builds from its data, and what a click on it stands for.</summary>
public sealed class TileTracesTests
{
    [Fact]
    public void A_bar_tile_draws_one_bar_per_category()
    {
        var figure = TileTraces.For(Tile(TileType.Bar), ByCountry(TileType.Bar), dark: false);

        var bar = Assert.IsType<Bar>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["France", "Germany", "Spain", "Italy"], bar.X);
        Assert.Equal<object>([1200.5, 3400.0, 800.25, 2100.0], bar.Y);
        Assert.False(figure.ShowLegend);
        Assert.Equal(new Dictionary<string, object?> { ["Country"] = "Spain" }, figure.MarkAt(0, 2));
    }

    [Fact]
    public void A_second_dimension_makes_a_series_each_with_gaps_where_a_category_has_no_row()
    {
        var tile = Quarterly(TileType.Bar) with { Stacked = true };
        var figure = TileTraces.For(tile, ByQuarterAndChannel(TileType.Bar), dark: false);

        Assert.Equal(2, figure.Traces.Count);
        var web = (Bar)figure.Traces[0];
        var store = (Bar)figure.Traces[1];
        Assert.Equal("Web", web.Name);
        Assert.Equal<object>(["2025 Q1", "2025 Q2", "2025 Q3"], web.X);
        Assert.Equal<object?>([50.0, 70.0, null], store.Y);
        Assert.True(figure.ShowLegend);
        var layout = new Plotly.Blazor.Layout { XAxis = [new()], YAxis = [new()] };
        figure.ConfigureLayout!(layout);
        Assert.Equal(Plotly.Blazor.LayoutLib.BarModeEnum.Stack, layout.BarMode);

        var mark = figure.MarkAt(1, 1)!;
        Assert.Equal(new DateTime(2025, 4, 1), mark["Quarter"]);
        Assert.Equal("Store", mark["Channel"]);
    }

    [Fact]
    public void A_horizontal_bar_tile_puts_the_categories_on_the_y_axis()
    {
        var figure = TileTraces.For(Tile(TileType.Bar) with { Horizontal = true }, ByCountry(TileType.Bar), dark: false);

        var bar = (Bar)figure.Traces[0];
        Assert.Equal(Plotly.Blazor.Traces.BarLib.OrientationEnum.H, bar.Orientation);
        Assert.Equal<object>(["France", "Germany", "Spain", "Italy"], bar.Y);
    }

    [Fact]
    public void Without_a_second_dimension_each_measure_is_a_line()
    {
        var data = DataOf(TileType.Line, ["Month"], ["Orders", "Customers"],
            [new DateTime(2025, 1, 1), 10L, 8L],
            [new DateTime(2025, 2, 1), 12L, 9L]);
        var tile = Tile(TileType.Line) with { Dimensions = [new TileDimension("order_date", DateBucket.Month)] };

        var figure = TileTraces.For(tile, data, dark: false);

        Assert.All(figure.Traces, t => Assert.IsType<Scatter>(t));
        Assert.Equal(["Orders", "Customers"], figure.Traces.Cast<Scatter>().Select(s => s.Name));
        Assert.Equal<object>(["Jan 2025", "Feb 2025"], ((Scatter)figure.Traces[0]).X);
        Assert.Equal(new Dictionary<string, object?> { ["Month"] = new DateTime(2025, 2, 1) }, figure.MarkAt(1, 1));
    }

    [Fact]
    public void A_stacked_area_tile_stacks_its_series_and_an_unstacked_one_fills_to_zero()
    {
        var stacked = TileTraces.For(Quarterly(TileType.Area) with { Stacked = true }, ByQuarterAndChannel(TileType.Area), dark: false);
        var overlaid = TileTraces.For(Quarterly(TileType.Area), ByQuarterAndChannel(TileType.Area), dark: false);

        Assert.All(stacked.Traces.Cast<Scatter>(), s => Assert.Equal("stack", s.StackGroup));
        Assert.All(overlaid.Traces.Cast<Scatter>(), s => Assert.Equal(Plotly.Blazor.Traces.ScatterLib.FillEnum.ToZeroY, s.Fill));
    }

    [Fact]
    public void A_donut_is_a_pie_with_a_hole_in_the_rows_order()
    {
        var figure = TileTraces.For(Tile(TileType.Pie) with { Donut = true }, ByCountry(TileType.Pie), dark: false);

        var pie = Assert.IsType<Pie>(Assert.Single(figure.Traces));
        Assert.Equal(0.5m, pie.Hole);
        Assert.False(pie.Sort);
        Assert.Equal<object>(["France", "Germany", "Spain", "Italy"], pie.Labels);
        Assert.Equal(new Dictionary<string, object?> { ["Country"] = "Germany" }, figure.MarkAt(0, 1));
    }

    [Fact]
    public void A_scatter_plots_measure_0_against_measure_1_with_a_colour_per_value_of_dimension_1()
    {
        var data = DataOf(TileType.Scatter, ["Customer", "Country"], ["Orders", "Revenue"],
            ["c1", "France", 3L, 120.0],
            ["c2", "Spain", 5L, 300.0],
            ["c3", "France", 1L, 40.0]);

        var figure = TileTraces.For(Tile(TileType.Scatter), data, dark: false);

        Assert.Equal(2, figure.Traces.Count);
        var france = Assert.IsType<Scatter>(figure.Traces[0]);
        Assert.Equal("France", france.Name);
        Assert.Equal<object>([3.0, 1.0], france.X);
        Assert.Equal<object>([120.0, 40.0], france.Y);
        Assert.Equal(["c1", "c3"], france.TextArray);
        Assert.Equal(new Dictionary<string, object?> { ["Customer"] = "c3", ["Country"] = "France" }, figure.MarkAt(0, 1));
    }

    [Fact]
    public void A_histogram_draws_bars_from_each_bin_start_one_bin_wide()
    {
        var data = DataOf(TileType.Histogram, ["Age"], ["Customers"], [20.0, 5L], [30.0, 9L], [40.0, 4L]);
        var tile = Tile(TileType.Histogram) with { Dimensions = [new TileDimension("age", BinWidth: 10)] };

        var figure = TileTraces.For(tile, data, dark: false);

        var bar = Assert.IsType<Bar>(Assert.Single(figure.Traces));
        Assert.Equal<object>([20.0, 30.0, 40.0], bar.X);
        Assert.Equal<object>([5.0, 9.0, 4.0], bar.Y);
        Assert.Equal(0.2m, bar.Offset);
        Assert.Equal(9.6m, bar.Width);
        Assert.Equal("30 – 40", bar.HoverTextArray[1]);
        Assert.Equal(new Dictionary<string, object?> { ["Age"] = 30.0 }, figure.MarkAt(0, 1));
    }

    [Fact]
    public void Without_a_set_width_the_histogram_bins_are_as_wide_as_the_gap_between_them() =>
        Assert.Equal(5, DistributionTraces.BinWidth(Tile(TileType.Histogram), [0, 5, 10, 20]));

    [Fact]
    public void A_box_tile_draws_a_box_per_category_from_the_five_figures()
    {
        var data = DataOf(TileType.Box, ["Channel"], ["Order value"], ["Web"], ["Store"]) with
        {
            Boxes = [[1, 10, 20, 35, 90], [5, 12, 18, 25, 60]],
        };

        var figure = TileTraces.For(Tile(TileType.Box), data, dark: false);

        Assert.Equal(2, figure.Traces.Count);
        var web = Assert.IsType<Box>(figure.Traces[0]);
        Assert.Equal("Web", web.Name);
        Assert.Equal<object>([1.0], web.LowerFence);
        Assert.Equal<object>([10.0], web.Q1);
        Assert.Equal<object>([20.0], web.Median);
        Assert.Equal<object>([35.0], web.Q3);
        Assert.Equal<object>([90.0], web.UpperFence);
        Assert.Equal(new Dictionary<string, object?> { ["Channel"] = "Store" }, figure.MarkAt(1, 0));
    }

    [Fact]
    public void A_heatmap_lays_dimension_0_down_and_dimension_1_across_and_a_cell_click_gives_both()
    {
        var data = DataOf(TileType.Heatmap, ["Country", "Channel"], ["Orders"],
            ["France", "Web", 10L], ["France", "Store", 4L], ["Spain", "Web", 7L]);

        var figure = TileTraces.For(Tile(TileType.Heatmap), data, dark: false);

        var heatmap = Assert.IsType<HeatMap>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["France", "Spain"], heatmap.Y);
        Assert.Equal<object>(["Web", "Store"], heatmap.X);
        Assert.Equal<object>([10.0, 4.0], (IEnumerable<object>)heatmap.Z[0]);
        Assert.Equal<object?>([7.0, null], (IEnumerable<object>)heatmap.Z[1]);
        // Plotly reports a heatmap cell as [row, column].
        var cell = JsonDocument.Parse("[1, 0]").RootElement;
        Assert.Equal(new Dictionary<string, object?> { ["Country"] = "Spain", ["Channel"] = "Web" }, figure.MarkAt(0, cell));
    }

    [Fact]
    public void A_funnel_keeps_the_stages_in_order()
    {
        var data = DataOf(TileType.Funnel, ["Stage"], ["Customers"], ["Visited", 1000L], ["Carted", 300L], ["Bought", 120L]);

        var figure = TileTraces.For(Tile(TileType.Funnel), data, dark: false);

        var funnel = Assert.IsType<Funnel>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["Visited", "Carted", "Bought"], funnel.Y);
        Assert.Equal<object>([1000.0, 300.0, 120.0], funnel.X);
    }

    [Fact]
    public void Lifecycle_stages_are_a_funnel_from_new_to_lost_with_each_stages_share_of_all_customers()
    {
        var data = DataOf(TileType.LifecycleStages, ["Lifecycle stage"], ["Customers"],
            ["new", 10.0], ["active", 40.0], ["returning", 5.0], ["at risk", 20.0], ["dormant", 15.0], ["lost", 10.0]);

        var figure = TileTraces.For(Tile(TileType.LifecycleStages), data, dark: false);

        var funnel = Assert.IsType<Funnel>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["new", "active", "returning", "at risk", "dormant", "lost"], funnel.Y);
        Assert.Equal<object>([10.0, 40.0, 5.0, 20.0, 15.0, 10.0], funnel.X);
        Assert.True(funnel.TextInfo!.Value.HasFlag(Plotly.Blazor.Traces.FunnelLib.TextInfoFlag.PercentTotal));
        Assert.Contains("of all", funnel.HoverTemplate);
    }

    [Fact]
    public void A_treemap_nests_dimension_1_under_dimension_0_with_totals_on_the_parents()
    {
        var data = DataOf(TileType.Treemap, ["Region", "City"], ["Revenue"],
            ["North", "Lille", 10.0], ["North", "Amiens", 5.0], ["South", "Nice", 8.0]);

        var figure = TileTraces.For(Tile(TileType.Treemap), data, dark: false);

        var treemap = Assert.IsType<TreeMap>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["North", "Lille", "Amiens", "South", "Nice"], treemap.Labels);
        Assert.Equal<object>(["", "n0", "n0", "", "n1"], treemap.Parents);
        Assert.Equal<object>([15.0, 10.0, 5.0, 8.0, 8.0], treemap.Values);
        Assert.Equal(new Dictionary<string, object?> { ["Region"] = "North" }, figure.MarkAt(0, 0));
        Assert.Equal(new Dictionary<string, object?> { ["Region"] = "North", ["City"] = "Amiens" }, figure.MarkAt(0, 2));
    }

    [Fact]
    public void Comparing_segments_on_measures_draws_one_bar_per_segment()
    {
        var data = DataOf(TileType.CompareSegments, ["Segment"], ["Customers", "Average order"],
            ["Champions", 120L, 85.0], ["At risk", 300L, 40.0], ["New", 80L, 30.0]);

        var figure = TileTraces.For(Tile(TileType.CompareSegments), data, dark: false);

        Assert.Equal(["Champions", "At risk", "New"], figure.Traces.Cast<Bar>().Select(b => b.Name));
        Assert.All(figure.Traces.Cast<Bar>(), b => Assert.Equal<object>(["Customers", "Average order"], b.X));
        Assert.Equal<object>([300.0, 40.0], ((Bar)figure.Traces[1]).Y);
        Assert.True(figure.ShowLegend);
        Assert.Equal(new Dictionary<string, object?> { ["Segment"] = "New" }, figure.MarkAt(2, 0));
    }

    [Fact]
    public void Comparing_segments_by_a_category_groups_a_bar_per_segment_in_each_category()
    {
        var data = DataOf(TileType.CompareSegments, ["Country", "Segment"], ["Customers"],
            ["France", "Champions", 10L], ["France", "New", 4L], ["Spain", "Champions", 6L], ["Spain", "New", 9L]);

        var figure = TileTraces.For(Tile(TileType.CompareSegments) with { Stacked = true }, data, dark: false);

        Assert.Equal(["Champions", "New"], figure.Traces.Cast<Bar>().Select(b => b.Name));
        var layout = new Plotly.Blazor.Layout { XAxis = [new()], YAxis = [new()] };
        figure.ConfigureLayout!(layout);
        Assert.Equal(Plotly.Blazor.LayoutLib.BarModeEnum.Group, layout.BarMode);
    }

    [Fact]
    public void Segment_size_is_a_line_over_the_refreshes()
    {
        var data = DataOf(TileType.SegmentSize, ["Refreshed"], ["Customers"],
            [new DateTime(2025, 3, 1), 100L], [new DateTime(2025, 3, 8), 130L], [new DateTime(2025, 3, 15), 90L]);

        var figure = TileTraces.For(Tile(TileType.SegmentSize), data, dark: false);

        var line = Assert.IsType<Scatter>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["2025-03-01", "2025-03-08", "2025-03-15"], line.X);
        Assert.Equal<object>([100.0, 130.0, 90.0], line.Y);
    }

    [Fact]
    public void A_cohort_tile_shows_each_share_as_a_percentage_with_the_months_in_order()
    {
        var data = DataOf(TileType.Cohort, ["Cohort", "Month"], ["Share", "Customers"],
            [new DateTime(2025, 1, 1), 1, 0.4, 40L],
            [new DateTime(2025, 1, 1), 0, 1.0, 100L],
            [new DateTime(2025, 2, 1), 0, 1.0, 80L]);

        var figure = TileTraces.For(Tile(TileType.Cohort), data, dark: false);

        var heatmap = Assert.IsType<HeatMap>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["Jan 2025", "Feb 2025"], heatmap.Y);
        Assert.Equal<object>(["0", "1"], heatmap.X);
        Assert.Equal<object>(["100%", "40%"], (IEnumerable<object>)heatmap.Text[0]);
        Assert.Equal<object?>([1.0, null], (IEnumerable<object>)heatmap.Z[1]);
        Assert.Contains("40 customers", (string)((IList<object>)heatmap.HoverText[0])[1]);
        Assert.Equal(0.4m, heatmap.ZMax);
        var mark = figure.MarkAt(0, JsonDocument.Parse("[0, 1]").RootElement)!;
        Assert.Equal(new DateTime(2025, 1, 1), mark["Cohort"]);
        Assert.Equal(1, mark["Month"]);
    }

    [Fact]
    public void The_rfm_grid_is_always_five_by_five_with_the_customers_in_each_cell()
    {
        var data = DataOf(TileType.RfmGrid, ["R", "F", "Group"], ["Customers", "Average spent"],
            [5L, 5L, "Champions", 40L, 900.0],
            [1L, 1L, "Lost", 70L, 35.0],
            [3L, 2L, "Need attention", 12L, 110.0]);

        var figure = TileTraces.For(Tile(TileType.RfmGrid), data, dark: false);

        var heatmap = Assert.IsType<HeatMap>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["F 1", "F 2", "F 3", "F 4", "F 5"], heatmap.X);
        Assert.Equal(5, heatmap.Z.Count);
        Assert.Equal(40.0, ((IList<object>)heatmap.Z[4])[4]);
        Assert.Equal(12.0, ((IList<object>)heatmap.Z[2])[1]);
        Assert.Equal(0.0, ((IList<object>)heatmap.Z[0])[4]);
        Assert.Contains("Need attention", (string)((IList<object>)heatmap.HoverText[2])[1]);
        var mark = figure.MarkAt(0, new[] { 2, 1 })!;
        Assert.Equal(3L, mark["R"]);
        Assert.Equal(2L, mark["F"]);
        Assert.False(mark.ContainsKey("Group"));
    }

    [Fact]
    public void A_cluster_profile_is_a_radar_per_cluster_scaled_per_feature()
    {
        var data = DataOf(TileType.ClusterProfile, ["Cluster"], ["Recency", "Orders", "Spent"],
            ["Loyal", 10.0, 12.0, 900.0],
            ["Lapsed", 200.0, 2.0, 100.0]);

        var figure = TileTraces.For(Tile(TileType.ClusterProfile), data, dark: false);

        Assert.Equal(2, figure.Traces.Count);
        var loyal = Assert.IsType<ScatterPolar>(figure.Traces[0]);
        Assert.Equal("Loyal", loyal.Name);
        Assert.Equal<object>(["Recency", "Orders", "Spent", "Recency"], loyal.Theta);
        Assert.Equal<object>([0.0, 1.0, 1.0, 0.0], loyal.R);
        Assert.Equal("900", loyal.TextArray[2]);
        Assert.Equal(new Dictionary<string, object?> { ["Cluster"] = "Lapsed" }, figure.MarkAt(1, 0));
    }

    [Fact]
    public void A_clv_distribution_draws_a_bar_per_bin_named_by_its_edges()
    {
        var data = DataOf(TileType.ClvDistribution, ["CLV from", "CLV to"], ["Customers"], [0.0, 50.0, 30.0], [50.0, 100.0, 12.0], [100.0, 150.0, 3.0]);

        var figure = TileTraces.For(Tile(TileType.ClvDistribution), data, dark: false);

        var bar = Assert.IsType<Bar>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["0–50", "50–100", "100–150"], bar.X);
        Assert.Equal<object>([30.0, 12.0, 3.0], bar.Y);
        // The bins are the analysis's, not values of a column: a click cross-filters nothing.
        Assert.Null(figure.MarkAt(0, 1));
    }

    [Fact]
    public void The_alive_matrix_lays_the_bands_up_and_the_repeat_purchases_across_with_the_average_clv_on_hover()
    {
        var data = DataOf(TileType.AliveMatrix, ["P(alive)", "Repeat purchases"], ["Customers", "Average CLV"],
            ["0–10%", "0", 5.0, 12.5], ["0–10%", "1", 0.0, null], ["90–100%", "0", 2.0, 40.0], ["90–100%", "1", 8.0, 120.0]);

        var figure = TileTraces.For(Tile(TileType.AliveMatrix), data, dark: false);

        var heatmap = Assert.IsType<HeatMap>(Assert.Single(figure.Traces));
        Assert.Equal<object>(["0–10%", "90–100%"], heatmap.Y);
        Assert.Equal<object>(["0", "1"], heatmap.X);
        Assert.Equal<object>([5.0, 0.0], (IList<object>)heatmap.Z[0]);
        Assert.Equal<object>([2.0, 8.0], (IList<object>)heatmap.Z[1]);
        Assert.Contains("average CLV 120", (string)((IList<object>)heatmap.HoverText[1])[1]);
        Assert.DoesNotContain("average CLV", (string)((IList<object>)heatmap.HoverText[0])[1]);
        Assert.Null(figure.MarkAt(0, new[] { 1, 1 }));
    }

    [Fact]
    public void Survival_curves_are_a_step_line_per_group_over_its_shaded_band()
    {
        var data = DataOf(TileType.SurvivalCurves, ["Group", "Days"], ["Survival", "Lower", "Upper", "At risk"],
            ["North", 0.0, 1.0, 1.0, 1.0, 20.0], ["North", 40.0, 0.65, 0.44, 0.86, 20.0], ["North", 50.0, 0.3, 0.1, 0.5, 13.0],
            ["South", 0.0, 1.0, 1.0, 1.0, 20.0], ["South", 80.0, 0.8, 0.62, 0.98, 20.0], ["South", 200.0, 0.8, 0.62, 0.98, 3.0]);

        var figure = TileTraces.For(Tile(TileType.SurvivalCurves), data, dark: false);

        // Per group: the band's upper edge, its lower edge filled up to it, then the curve.
        Assert.Equal(6, figure.Traces.Count);
        var lines = figure.Traces.OfType<Scatter>().Where(t => t.LegendGroup is null).ToList();
        Assert.Equal(["North (20)", "South (20)"], lines.Select(l => l.Name));
        Assert.All(lines, l => Assert.Equal(Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum.Hv, l.Line.Shape));
        Assert.Equal<object>([0.0, 80.0, 200.0], lines[1].X);
        Assert.Equal<object>([1.0, 0.8, 0.8], lines[1].Y);
        var bands = figure.Traces.OfType<Scatter>().Where(t => t.LegendGroup == SurvivalTraces.BandLegendGroup).ToList();
        Assert.Equal(4, bands.Count);
        Assert.Equal<object>([1.0, 0.44, 0.1], bands[1].Y);
        Assert.Equal(Plotly.Blazor.Traces.ScatterLib.FillEnum.ToNextY, bands[1].Fill);
        // One legend entry shows or hides every band.
        Assert.Single(bands, b => b.ShowLegend == true);
        Assert.True(figure.ShowLegend);
        Assert.Null(figure.MarkAt(2, 1));
    }

    [Fact]
    public void Tiles_that_are_not_charts_have_no_figure()
    {
        Assert.Empty(TileTraces.For(Tile(TileType.Table), ByCountry(TileType.Table), dark: false).Traces);
        Assert.False(TileTraces.IsChart(TileType.Kpi));
        Assert.True(TileTraces.IsChart(TileType.RfmGrid));
    }

    [Theory]
    [InlineData(TileType.Bar)]
    [InlineData(TileType.Line)]
    [InlineData(TileType.Pie)]
    [InlineData(TileType.Heatmap)]
    [InlineData(TileType.Treemap)]
    [InlineData(TileType.Funnel)]
    [InlineData(TileType.Scatter)]
    public void A_click_outside_the_data_stands_for_nothing(TileType type)
    {
        var figure = TileTraces.For(Tile(type), ByCountry(type), dark: false);

        Assert.Null(figure.MarkAt(5, 99));
        Assert.Null(figure.MarkAt(0, null));
    }
}
