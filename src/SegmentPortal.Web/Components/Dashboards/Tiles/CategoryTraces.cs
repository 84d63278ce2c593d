using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;
using BarMode = Plotly.Blazor.LayoutLib.BarModeEnum;
using BarOrientation = Plotly.Blazor.Traces.BarLib.OrientationEnum;
using ScatterMode = Plotly.Blazor.Traces.ScatterLib.ModeFlag;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Charts along categories or time: bar, line, area, compare segments, segment size.</summary>
public static class CategoryTraces
{
    public static ChartFigure Bar(TileDefinition tile, TileData data)
    {
        var grid = CategorySeries.From(tile, data);
        var labels = TileTraces.Objects(grid.Categories.Select(c => TileRows.Label(tile, 0, c)));
        var horizontal = tile.Horizontal;
        return new ChartFigure
        {
            Traces = grid.Series.Select((s, i) => (ITrace)new Bar
            {
                Name = s.Name,
                X = horizontal ? TileTraces.Objects(s.Values) : labels,
                Y = horizontal ? labels : TileTraces.Objects(s.Values),
                Orientation = horizontal ? BarOrientation.H : BarOrientation.V,
                Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = TileTraces.Color(i) },
                HoverTemplate = horizontal ? TileTraces.HoverTemplate("y", "x") : TileTraces.HoverTemplate("x", "y"),
            }).ToList(),
            ShowLegend = grid.Series.Count > 1,
            ConfigureLayout = layout =>
            {
                layout.BarMode = tile.Stacked ? BarMode.Stack : BarMode.Group;
                TileTraces.CategoryAxis(layout, horizontal);
                TileTraces.BottomLegend(layout);
            },
            Marks = (trace, point) => grid.MarkAt(data, trace, point[0]),
        };
    }

    public static ChartFigure Line(TileDefinition tile, TileData data, bool area)
    {
        var grid = CategorySeries.From(tile, data);
        var labels = TileTraces.Objects(grid.Categories.Select(c => TileRows.Label(tile, 0, c)));
        return new ChartFigure
        {
            Traces = grid.Series.Select((s, i) => (ITrace)new Scatter
            {
                Name = s.Name,
                X = labels,
                Y = TileTraces.Objects(s.Values),
                Mode = ScatterMode.Lines | ScatterMode.Markers,
                Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = TileTraces.Color(i), Width = 2 },
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Color = TileTraces.Color(i), Size = 5 },
                Fill = area && !tile.Stacked ? Plotly.Blazor.Traces.ScatterLib.FillEnum.ToZeroY : null,
                StackGroup = area && tile.Stacked ? "stack" : null,
                HoverTemplate = TileTraces.HoverTemplate("x", "y"),
            }).ToList(),
            ShowLegend = grid.Series.Count > 1,
            ConfigureLayout = layout =>
            {
                TileTraces.CategoryAxis(layout, horizontal: false);
                TileTraces.BottomLegend(layout);
            },
            Marks = (trace, point) => grid.MarkAt(data, trace, point[0]),
        };
    }

    /// <summary>
    /// One bar per segment (the last dimension): for each value of dimension 0 when there are two dimensions, else
    /// for each measure.
    /// </summary>
    public static ChartFigure CompareSegments(TileDefinition tile, TileData data)
    {
        if (data.Dimensions.Count != 1)
        {
            var bars = Bar(tile with { Stacked = false }, data);
            return new ChartFigure { Traces = bars.Traces, ShowLegend = true, ConfigureLayout = bars.ConfigureLayout, Marks = bars.Marks };
        }

        var measures = TileTraces.Objects(data.Measures);
        var segments = data.Rows;
        return new ChartFigure
        {
            Traces = segments.Select((row, i) => (ITrace)new Bar
            {
                Name = TileRows.Label(tile, 0, TileRows.Dimension(row, 0)),
                X = measures,
                Y = TileTraces.Objects(data.Measures.Select((_, m) => TileRows.Measure(data, row, m))),
                Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = TileTraces.Color(i) },
                HoverTemplate = TileTraces.HoverTemplate("x", "y"),
            }).ToList(),
            ShowLegend = true,
            ConfigureLayout = layout =>
            {
                layout.BarMode = BarMode.Group;
                TileTraces.CategoryAxis(layout, horizontal: false);
                TileTraces.BottomLegend(layout);
            },
            Marks = (trace, _) => trace >= 0 && trace < segments.Count ? TileRows.Values(data, segments[trace]) : null,
        };
    }

    /// <summary>A segment's size at each refresh: a line from zero, so growth is not exaggerated.</summary>
    public static ChartFigure SegmentSize(TileDefinition tile, TileData data)
    {
        var line = Line(tile, data, area: false);
        return new ChartFigure
        {
            Traces = line.Traces,
            ShowLegend = line.ShowLegend,
            Marks = line.Marks,
            ConfigureLayout = layout =>
            {
                line.ConfigureLayout?.Invoke(layout);
                layout.YAxis[0].RangeMode = Plotly.Blazor.LayoutLib.YAxisLib.RangeModeEnum.ToZero;
                TileTraces.YTitle(layout, data.Measures.FirstOrDefault());
            },
        };
    }
}
