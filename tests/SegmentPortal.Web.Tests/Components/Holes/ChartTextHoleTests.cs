using Bunit;
using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Dashboards.Tiles;
using SegmentPortal.Web.Components.Shared.Charts;
using SegmentPortal.Web.Tests.Infrastructure;
using static SegmentPortal.Web.Tests.Components.Dashboards.TileSamples;

namespace SegmentPortal.Web.Tests.Components.Holes;

/// <summary>
/// Issue 12: Plotly renders a subset of HTML (bold, links, styles) in labels, names, hover text and titles. Text that
/// comes from the data is shown as text: its <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> reach Plotly escaped.
/// </summary>
public sealed class ChartTextHoleTests : PortalTestContext
{
    private const string Link = "<a href=\"https://evil.example\">Click</a>";
    private const string EscapedLink = "&lt;a href=\"https://evil.example\"&gt;Click&lt;/a&gt;";

    [Fact]
    public void C1_category_labels_and_series_names_from_the_data_reach_plotly_as_text_and_clicks_still_report_the_raw_value()
    {
        var data = DataOf(TileType.Bar, ["Country", "Channel"], ["Revenue"],
            ["<b>France</b>", Link, 10.0],
            ["R&D", "Web", 20.0]);

        var figure = TileTraces.For(Tile(TileType.Bar), data, dark: false);

        var linked = (Bar)figure.Traces[0];
        Assert.Equal(EscapedLink, linked.Name);
        Assert.Equal<object>(["&lt;b&gt;France&lt;/b&gt;", "R&amp;D"], linked.X);
        Assert.Equal("<b>France</b>", figure.MarkAt(0, 0)!["Country"]);
        Assert.Equal(Link, figure.MarkAt(0, 0)!["Channel"]);
    }

    [Fact]
    public void C2_measure_names_in_axis_titles_and_hover_templates_are_escaped()
    {
        var data = DataOf(TileType.Scatter, ["Customer"], ["<i>Orders</i>", "Revenue <b>net</b>"],
            ["<b>Ann</b>", 3.0, 300.0]);

        var figure = TileTraces.For(Tile(TileType.Scatter), data, dark: false);
        var layout = new Plotly.Blazor.Layout { XAxis = [new()], YAxis = [new()] };
        figure.ConfigureLayout!(layout);

        var points = (Scatter)Assert.Single(figure.Traces);
        Assert.Equal("&lt;i&gt;Orders&lt;/i&gt;", layout.XAxis[0].Title.Text);
        Assert.Equal("Revenue &lt;b&gt;net&lt;/b&gt;", layout.YAxis[0].Title.Text);
        Assert.Contains("&lt;i&gt;Orders&lt;/i&gt;: %{x", points.HoverTemplate);
        Assert.DoesNotContain("<i>", points.HoverTemplate);
        Assert.Equal<object>(["&lt;b&gt;Ann&lt;/b&gt;"], points.TextArray);
    }

    [Fact]
    public void C3_hover_text_keeps_its_own_line_breaks_while_group_names_from_the_data_are_escaped()
    {
        var data = DataOf(TileType.RfmGrid, ["R", "F", "Group"], ["Customers"], [5L, 5L, Link, 40L]);

        var figure = TileTraces.For(Tile(TileType.RfmGrid), data, dark: false);

        var hover = (string)((IList<object>)((HeatMap)Assert.Single(figure.Traces)).HoverText[4])[4];
        Assert.StartsWith(EscapedLink + "<br>", hover);
        Assert.DoesNotContain("<a", hover);
    }

    [Fact]
    public void C4_the_shared_figure_used_by_the_analysis_pages_escapes_names_and_labels_too()
    {
        var cut = Render<Figure>(p => p
            .Add(f => f.AriaLabel, "Groups")
            .Add(f => f.Traces, _ => [new Bar { Name = Link, X = ["<b>Champions</b>"], Y = [3] }])
            .Add(f => f.ConfigureLayout, (layout, _) => layout.XAxis[0].Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "<i>Group</i>" }));

        var chart = cut.FindComponent<PlotlyChart>().Instance;
        var bar = (Bar)Assert.Single(chart.Data);
        Assert.Equal(EscapedLink, bar.Name);
        Assert.Equal<object>(["&lt;b&gt;Champions&lt;/b&gt;"], bar.X);
        Assert.Equal("&lt;i&gt;Group&lt;/i&gt;", chart.Layout.XAxis[0].Title.Text);
    }

    [Fact]
    public void C5_the_escaping_leaves_plotly_templates_alone_and_turns_line_breaks_in_text_into_plotly_breaks()
    {
        var bar = new Bar { Name = "a < b & c > d", HoverTemplate = "<b>%{x}</b><extra></extra>", Text = "first\nsecond <i>" };

        PlotlyText.Escape([bar]);

        Assert.Equal("a &lt; b &amp; c &gt; d", bar.Name);
        Assert.Equal("<b>%{x}</b><extra></extra>", bar.HoverTemplate);
        Assert.Equal("first<br>second &lt;i&gt;", bar.Text);
    }
}
