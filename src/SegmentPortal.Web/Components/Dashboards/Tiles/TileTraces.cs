using Plotly.Blazor;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;
using XAxisType = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum;
using YAxisRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum;
using YAxisType = Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>
/// The Plotly figure of each chart tile, built from its <see cref="TileData"/> in plain C# so it can be tested without
/// a browser. The data each type expects:
/// <list type="bullet">
/// <item>Bar, line, area: dimension 0 along the axis; one series per value of dimension 1, or per measure without it.</item>
/// <item>Pie, funnel: dimension 0's values and measure 0, in row order. Treemap: dimension 0, nested by dimension 1 if any.</item>
/// <item>Scatter: a point per row, x = measure 0, y = measure 1, colour by dimension 1, hover names dimension 0.</item>
/// <item>Histogram: dimension 0 is the bin start, measure 0 the count. Box: <see cref="TileData.Boxes"/>, one per row's dimension 0.</item>
/// <item>Heatmap: dimension 0 (rows) × dimension 1 (columns) → measure 0.</item>
/// <item>Compare segments: the last dimension is the segment; one bar per segment for each value of dimension 0, or for each measure.</item>
/// <item>Segment size: dimension 0 the refresh date, measure 0 the size (a line per dimension 1 if any).</item>
/// <item>Cohort: dimension 0 the cohort month, dimension 1 the months since the first order, measure 0 the share still
/// ordering (0–1), measure 1 (optional) the customers.</item>
/// <item>RFM grid: dimension 0 the R score, dimension 1 the F score (1–5), dimension 2 (optional) the group, measure 0
/// the customers, measure 1 (optional) shown on hover.</item>
/// <item>Cluster profile: a row per cluster (dimension 0), a measure per feature.</item>
/// <item>CLV distribution: a bin per row, dimensions 0 and 1 its edges, measure 0 the customers. P(alive) matrix:
/// dimension 0 the band, dimension 1 the repeat purchases, measure 0 the customers, measure 1 the average CLV.</item>
/// <item>Survival curves: dimension 0 the group, dimension 1 the days, measures the survival, its lower and upper bound
/// and the customers at risk (see <see cref="SurvivalTraces.Curves"/>).</item>
/// </list>
/// </summary>
public static class TileTraces
{
    /// <summary>The figure for a chart tile; <see cref="ChartFigure.Empty"/> for tiles that are not charts.</summary>
    /// <remarks>
    /// Text from the data (labels, series names, titles) reaches Plotly escaped (<see cref="PlotlyText"/>); clicks
    /// still map back to the raw values.
    /// </remarks>
    public static ChartFigure For(TileDefinition tile, TileData data, bool dark) => Draw(Shown(tile, data), data, dark).AsText();

    /// <summary>The tile as its data was grouped: after a drill the first grouping is the finer level (weeks of a month…).</summary>
    public static TileDefinition Shown(TileDefinition tile, TileData data) =>
        data.Grouping.Count == tile.Dimensions.Count && data.Grouping.Count > 0 ? tile with { Dimensions = data.Grouping } : tile;

    private static ChartFigure Draw(TileDefinition tile, TileData data, bool dark) => tile.Type switch
    {
        TileType.Bar => CategoryTraces.Bar(tile, data),
        TileType.Line => CategoryTraces.Line(tile, data, area: false),
        TileType.Area => CategoryTraces.Line(tile, data, area: true),
        TileType.CompareSegments => CategoryTraces.CompareSegments(tile, data),
        TileType.SegmentSize => CategoryTraces.SegmentSize(tile, data),
        TileType.Pie => PartTraces.Pie(tile, data),
        TileType.Funnel => PartTraces.Funnel(tile, data),
        TileType.Treemap => PartTraces.Treemap(tile, data),
        TileType.Scatter => DistributionTraces.Scatter(tile, data),
        TileType.Histogram => DistributionTraces.Histogram(tile, data),
        TileType.Box => DistributionTraces.Box(tile, data),
        TileType.Heatmap => GridTraces.Heatmap(tile, data, dark),
        TileType.Cohort => GridTraces.Cohort(tile, data, dark),
        TileType.RfmGrid => GridTraces.RfmGrid(tile, data, dark),
        TileType.ClusterProfile => ProfileTraces.ClusterProfile(tile, data),
        // The stages from new to lost as a funnel, each with its share of all customers.
        TileType.LifecycleStages => PartTraces.Funnel(tile, data, shareOfTotal: true),
        TileType.ClvDistribution => LifetimeTraces.ClvDistribution(data),
        TileType.AliveMatrix => LifetimeTraces.AliveMatrix(data, dark),
        TileType.SurvivalCurves => SurvivalTraces.Curves(data),
        _ => ChartFigure.Empty,
    };

    /// <summary>Whether the tile is drawn as a Plotly chart (and so can be exported as an image).</summary>
    public static bool IsChart(TileType type) => type is not (TileType.Kpi or TileType.Table or TileType.Pivot or TileType.Text);

    /// <summary>The <paramref name="index"/>th colour of the app's palette, repeating.</summary>
    public static string Color(int index) => ChartTheme.Colorway[index % ChartTheme.Colorway.Length];

    /// <summary>A Plotly value list (Plotly.Blazor takes lists of objects; nulls leave gaps).</summary>
    internal static List<object> Objects<T>(IEnumerable<T> values) => values.Select(v => (object)v!).ToList();

    /// <summary>Keeps labels such as "2011" or "85123A" as categories instead of reading them as numbers or dates.</summary>
    internal static void CategoryAxis(Plotly.Blazor.Layout layout, bool horizontal)
    {
        if (horizontal)
        {
            layout.YAxis[0].Type = YAxisType.Category;
            // The first category at the top, as it reads in a list.
            layout.YAxis[0].AutoRange = YAxisRange.Reversed;
        }
        else
        {
            layout.XAxis[0].Type = XAxisType.Category;
        }
    }

    internal static void XTitle(Plotly.Blazor.Layout layout, string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            layout.XAxis[0].Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = text };
        }
    }

    internal static void YTitle(Plotly.Blazor.Layout layout, string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            layout.YAxis[0].Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = text };
        }
    }

    /// <summary>A horizontal legend under the plot, which leaves the small tile its width.</summary>
    internal static void BottomLegend(Plotly.Blazor.Layout layout) =>
        layout.Legend = [new Plotly.Blazor.LayoutLib.Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, Y = -0.2m }];

    /// <summary>Hover text for a measure value: "label<br>series: value".</summary>
    internal static string HoverTemplate(string category, string value) =>
        $"%{{{category}}}<br>%{{fullData.name}}: %{{{value}:{TileFormat.D3Number}}}<extra></extra>";
}
