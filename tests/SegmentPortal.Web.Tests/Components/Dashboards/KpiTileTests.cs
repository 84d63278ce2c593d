using Bunit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Web.Components.Dashboards.Tiles;
using SegmentPortal.Web.Tests.Infrastructure;
using static SegmentPortal.Web.Tests.Components.Dashboards.TileSamples;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

public sealed class KpiTileTests : PortalTestContext
{
    private static TileData Kpi(double? value, double? previous, params double?[] spark) =>
        DataOf(TileType.Kpi, [], ["Revenue"]) with { Kpi = new KpiData(value, previous, "Jun 2025", spark.Select((_, i) => $"M{i + 1}").ToList(), spark) };

    [Fact]
    public void A_rise_shows_the_value_the_change_with_an_up_arrow_and_a_sparkline()
    {
        var cut = Render<TileView>(p => p
            .Add(t => t.Tile, Tile(TileType.Kpi) with { Period = DateBucket.Month })
            .Add(t => t.Data, Kpi(125000, 100000, 90000, null, 100000, 125000)));

        Assert.Equal("125,000", cut.Find("[data-testid=kpi-value]").TextContent);
        var change = cut.Find("[data-testid=kpi-change]");
        Assert.Contains("kpi-up", change.ClassList);
        Assert.Contains("+25.0%", change.TextContent);
        Assert.Contains("vs previous month (100,000)", change.TextContent);
        Assert.NotNull(change.QuerySelector("svg.mud-icon-root"));
        Assert.Contains("Revenue · Jun 2025", cut.Find(".kpi-label").TextContent);
        var sparkline = cut.Find("[data-testid=kpi-sparkline]");
        // The missing month splits the line: a dot for the first month, a line for the last two.
        Assert.Single(sparkline.QuerySelectorAll("polyline"));
        Assert.Single(sparkline.QuerySelectorAll("circle"));
    }

    [Fact]
    public void A_fall_is_marked_down()
    {
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Kpi) with { Period = DateBucket.Quarter }).Add(t => t.Data, Kpi(80, 100)));

        var change = cut.Find("[data-testid=kpi-change]");
        Assert.Contains("kpi-down", change.ClassList);
        Assert.Contains("−20.0%", change.TextContent);
        Assert.Contains("vs previous quarter", change.TextContent);
        Assert.Empty(cut.FindAll("[data-testid=kpi-sparkline]"));
    }

    [Fact]
    public void Without_a_previous_period_there_is_nothing_to_compare()
    {
        var cut = Render<TileView>(p => p.Add(t => t.Tile, Tile(TileType.Kpi)).Add(t => t.Data, Kpi(42, null)));

        var change = cut.Find("[data-testid=kpi-change]");
        Assert.Contains("kpi-flat", change.ClassList);
        Assert.Contains("No previous month to compare", change.TextContent);
    }

    [Fact]
    public void A_metric_KPI_is_written_the_metric_s_way_over_its_period_with_its_status_and_direction()
    {
        // Cancellations: lower is better, so a fall is drawn as good news; the period is the metric's quarter.
        var metric = new TileMetric(7, "Cancellations", SegmentPortal.Core.Metrics.MetricFormat.Percent, null, 1, DateBucket.Quarter,
            SegmentPortal.Core.Metrics.MetricDirection.LowerIsBetter, Target: 0.05, WarnAt: 0.08, BadAt: null);
        var data = Kpi(0.06, 0.075) with { Measures = ["Cancellations"], Metric = metric };

        var cut = Render<TileView>(p => p.Add(t => t.Tile, new TileDefinition { Id = "k", Type = TileType.Kpi, Title = "Cancellations", MetricId = 7 }).Add(t => t.Data, data));

        Assert.Equal("6.0%", cut.Find("[data-testid=kpi-value]").TextContent);
        Assert.Equal("Off target", cut.Find("[data-testid=metric-status]").TextContent.Trim());
        var change = cut.Find("[data-testid=kpi-change]");
        Assert.Contains("kpi-up", change.ClassList);
        Assert.Contains("−20.0%", change.TextContent);
        Assert.Contains("vs previous quarter (7.5%)", change.TextContent);
    }

    [Fact]
    public void A_metric_KPI_whose_period_is_not_over_is_compared_with_the_same_days_before()
    {
        var metric = new TileMetric(7, "Revenue", SegmentPortal.Core.Metrics.MetricFormat.Number, "orders", 0, DateBucket.Month,
            SegmentPortal.Core.Metrics.MetricDirection.HigherIsBetter, null, null, null);
        var data = Kpi(120, 1000) with
        {
            Measures = ["Revenue"], Metric = metric,
            Kpi = new KpiData(120, 1000, "June 2024", [], []) { SameDays = 100, SameDaysLabel = "Month to date vs same days of May" },
        };

        var cut = Render<TileView>(p => p.Add(t => t.Tile, new TileDefinition { Id = "k", Type = TileType.Kpi, MetricId = 7 }).Add(t => t.Data, data));

        var change = cut.Find("[data-testid=kpi-change]");
        Assert.Contains("+20.0%", change.TextContent); // not −88% against the whole of May
        Assert.Contains("Month to date vs same days of May (100 orders)", change.TextContent);
        Assert.Equal("Whole previous month: 1,000 orders", change.QuerySelector(".kpi-vs")!.GetAttribute("title"));
    }

    [Fact]
    public void A_tile_whose_metric_is_gone_shows_why()
    {
        var data = DataOf(TileType.Kpi, [], []) with { Notice = "The metric this tile shows was deleted, or you may not see it." };

        var cut = Render<TileView>(p => p.Add(t => t.Tile, new TileDefinition { Id = "k", Type = TileType.Kpi, MetricId = 7 }).Add(t => t.Data, data));

        Assert.Contains("was deleted, or you may not see it", cut.Find("[data-testid=tile-notice]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=tile-empty]"));
    }

    [Fact]
    public void The_sparkline_puts_the_highest_value_at_the_top()
    {
        var runs = Sparkline.Runs([1, 3, 2], 100, 20);

        var run = Assert.Single(runs);
        Assert.Equal([(0, 18), (50, 2), (100, 10)], run);
    }
}
