using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Charts of spread: scatter, histogram, box plot.</summary>
public static class DistributionTraces
{
    /// <summary>Above this many points the scatter is drawn with WebGL.</summary>
    public const int WebGlFrom = 2000;

    /// <summary>A point per row: x = measure 0, y = measure 1, a colour per value of dimension 1.</summary>
    public static ChartFigure Scatter(TileDefinition tile, TileData data)
    {
        if (data.Measures.Count < 2)
        {
            // Nothing to plot against: points along dimension 0 instead.
            var line = CategoryTraces.Line(tile, data, area: false);
            foreach (var trace in line.Traces.OfType<Scatter>())
            {
                trace.Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers;
            }
            return line;
        }

        var groups = data.Dimensions.Count >= 2
            ? data.Rows.GroupBy(r => TileRows.Key(TileRows.Dimension(r, 1))).Select(g => (Name: TileRows.Label(tile, 1, TileRows.Dimension(g.First(), 1)), Rows: g.ToList())).ToList()
            : [(Name: data.Measures[1], Rows: data.Rows.ToList())];
        var webGl = data.Rows.Count > WebGlFrom;
        var hover = $"%{{text}}<br>{PlotlyText.Text(data.Measures[0])}: %{{x:{TileFormat.D3Number}}}<br>{PlotlyText.Text(data.Measures[1])}: %{{y:{TileFormat.D3Number}}}<extra>%{{fullData.name}}</extra>";

        return new ChartFigure
        {
            Traces = groups.Select((g, i) =>
            {
                var x = TileTraces.Objects(g.Rows.Select(r => TileRows.Measure(data, r, 0)));
                var y = TileTraces.Objects(g.Rows.Select(r => TileRows.Measure(data, r, 1)));
                var text = g.Rows.Select(r => data.Dimensions.Count > 0 ? TileRows.Label(tile, 0, TileRows.Dimension(r, 0)) : "").ToList();
                return webGl
                    ? (ITrace)new ScatterGl
                    {
                        Name = g.Name, X = x, Y = y, TextArray = text, HoverTemplate = hover,
                        Mode = Plotly.Blazor.Traces.ScatterGlLib.ModeFlag.Markers,
                        Marker = new Plotly.Blazor.Traces.ScatterGlLib.Marker { Color = TileTraces.Color(i), Size = 4, Opacity = 0.7m },
                    }
                    : new Scatter
                    {
                        Name = g.Name, X = x, Y = y, TextArray = text, HoverTemplate = hover,
                        Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                        Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Color = TileTraces.Color(i), Size = 7, Opacity = 0.8m },
                    };
            }).ToList(),
            ShowLegend = groups.Count > 1,
            ConfigureLayout = layout =>
            {
                TileTraces.XTitle(layout, data.Measures[0]);
                TileTraces.YTitle(layout, data.Measures[1]);
                TileTraces.BottomLegend(layout);
            },
            Marks = (trace, point) => trace >= 0 && trace < groups.Count && point[0] >= 0 && point[0] < groups[trace].Rows.Count
                ? TileRows.Values(data, groups[trace].Rows[point[0]])
                : null,
        };
    }

    /// <summary>Bars over the bins: each starts at its row's dimension 0 and is one bin wide.</summary>
    public static ChartFigure Histogram(TileDefinition tile, TileData data)
    {
        var starts = data.Rows.Select(r => TileFormat.ToDouble(TileRows.Dimension(r, 0))).ToList();
        if (starts.Count == 0 || starts.Any(s => s is null))
        {
            // Bins that come as labels ("0–10") are drawn as categories.
            return CategoryTraces.Bar(tile with { Horizontal = false, Stacked = false }, data);
        }

        var width = BinWidth(tile, starts.Select(s => s!.Value).ToList());
        var measure = data.Measures.FirstOrDefault() ?? "Count";
        return new ChartFigure
        {
            Traces =
            [
                new Bar
                {
                    Name = measure,
                    X = TileTraces.Objects(starts),
                    Y = TileTraces.Objects(data.Rows.Select(r => TileRows.Measure(data, r, 0))),
                    // Bars span [start, start + width) with a hairline gap between them.
                    Offset = (decimal)(width * 0.02),
                    Width = (decimal)(width * 0.96),
                    HoverTextArray = starts.Select(s => $"{TileFormat.Number(s)} – {TileFormat.Number(s + width)}").ToList(),
                    HoverTemplate = $"%{{hovertext}}: %{{y:{TileFormat.D3Number}}}<extra></extra>",
                    Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = TileTraces.Color(0) },
                },
            ],
            ConfigureLayout = layout =>
            {
                layout.XAxis[0].Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Linear;
                TileTraces.XTitle(layout, data.Dimensions.FirstOrDefault());
                TileTraces.YTitle(layout, measure);
            },
            Marks = (_, point) => point[0] >= 0 && point[0] < data.Rows.Count ? TileRows.Values(data, data.Rows[point[0]], 1) : null,
        };
    }

    /// <summary>The tile's bin width, else the smallest gap between bin starts, else 1.</summary>
    public static double BinWidth(TileDefinition tile, IReadOnlyList<double> starts)
    {
        if (tile.Dimensions.FirstOrDefault()?.BinWidth is > 0 and var width)
        {
            return width;
        }
        var sorted = starts.Distinct().Order().ToList();
        var gaps = sorted.Zip(sorted.Skip(1), (a, b) => b - a).Where(g => g > 0).ToList();
        return gaps.Count > 0 ? gaps.Min() : 1;
    }

    /// <summary>A box per category from <see cref="TileData.Boxes"/> (min, lower quartile, median, upper quartile, max).</summary>
    public static ChartFigure Box(TileDefinition tile, TileData data)
    {
        var boxes = data.Boxes ?? [];
        var shown = new List<(int Index, string Label, double?[] Stats)>();
        for (var i = 0; i < boxes.Count; i++)
        {
            var stats = boxes[i];
            if (stats.Length < 5 || stats[1] is null || stats[2] is null || stats[3] is null)
            {
                continue;
            }
            var label = i < data.Rows.Count && data.Dimensions.Count > 0
                ? TileRows.Label(tile, 0, TileRows.Dimension(data.Rows[i], 0))
                : data.Measures.FirstOrDefault() ?? "All";
            shown.Add((i, label, stats));
        }

        return new ChartFigure
        {
            Traces = shown.Select((b, n) => (ITrace)new Box
            {
                Name = b.Label,
                X = [b.Label],
                LowerFence = [b.Stats[0] ?? b.Stats[1]!.Value],
                Q1 = [b.Stats[1]!.Value],
                Median = [b.Stats[2]!.Value],
                Q3 = [b.Stats[3]!.Value],
                UpperFence = [b.Stats[4] ?? b.Stats[3]!.Value],
                Marker = new Plotly.Blazor.Traces.BoxLib.Marker { Color = TileTraces.Color(n) },
            }).ToList(),
            ConfigureLayout = layout =>
            {
                TileTraces.CategoryAxis(layout, horizontal: false);
                TileTraces.YTitle(layout, data.Measures.FirstOrDefault());
            },
            Marks = (trace, _) => trace >= 0 && trace < shown.Count && shown[trace].Index < data.Rows.Count
                ? TileRows.Values(data, data.Rows[shown[trace].Index], 1)
                : null,
        };
    }
}
