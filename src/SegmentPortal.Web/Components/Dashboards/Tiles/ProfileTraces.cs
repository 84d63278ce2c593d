using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Cluster profiles: a radar of each cluster's averages, or grouped bars with fewer than three features.</summary>
public static class ProfileTraces
{
    public static ChartFigure ClusterProfile(TileDefinition tile, TileData data)
    {
        var clusters = data.Rows;
        var features = data.Measures;
        if (features.Count < 3)
        {
            // A radar needs three axes; one bar per cluster for each feature reads the same.
            return CategoryTraces.CompareSegments(tile, data);
        }

        // Each feature scaled from the lowest cluster (centre) to the highest (edge), so features in different
        // units share one chart; the hover shows the real averages.
        var values = clusters.Select(r => features.Select((_, f) => TileRows.Measure(data, r, f)).ToArray()).ToList();
        var lows = features.Select((_, f) => values.Select(v => v[f]).Where(v => v is not null).DefaultIfEmpty(0).Min()!.Value).ToArray();
        var highs = features.Select((_, f) => values.Select(v => v[f]).Where(v => v is not null).DefaultIfEmpty(0).Max()!.Value).ToArray();
        var theta = TileTraces.Objects(features.Append(features[0]));
        var closed = Enumerable.Range(0, features.Count + 1).Select(i => i % features.Count).ToList();

        return new ChartFigure
        {
            Traces = clusters.Select((row, c) => (ITrace)new ScatterPolar
            {
                Name = data.Dimensions.Count > 0 ? TileRows.Label(tile, 0, TileRows.Dimension(row, 0)) : $"Cluster {c + 1}",
                Theta = theta,
                R = TileTraces.Objects(closed.Select(f => values[c][f] is { } v && highs[f] > lows[f] ? (v - lows[f]) / (highs[f] - lows[f]) : 0.5)),
                TextArray = closed.Select(f => TileFormat.Number(values[c][f])).ToList(),
                Fill = Plotly.Blazor.Traces.ScatterPolarLib.FillEnum.ToSelf,
                Opacity = 0.6m,
                Line = new Plotly.Blazor.Traces.ScatterPolarLib.Line { Color = TileTraces.Color(c) },
                HoverTemplate = "%{theta}: %{text}<extra>%{fullData.name}</extra>",
            }).ToList(),
            ShowLegend = true,
            ConfigureLayout = layout =>
            {
                layout.Margin = new Plotly.Blazor.LayoutLib.Margin { L = 40, R = 40, T = 20, B = 20 };
                TileTraces.BottomLegend(layout);
                layout.Polar =
                [
                    new Plotly.Blazor.LayoutLib.Polar
                    {
                        BgColor = "rgba(0,0,0,0)",
                        RadialAxis = new Plotly.Blazor.LayoutLib.PolarLib.RadialAxis { Visible = true, Range = [0, 1], ShowTickLabels = false },
                    },
                ];
            },
            Marks = (trace, _) => trace >= 0 && trace < clusters.Count ? TileRows.Values(data, clusters[trace], 1) : null,
        };
    }
}
