using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Charts of parts of a whole: pie (or donut), funnel, treemap.</summary>
public static class PartTraces
{
    public static ChartFigure Pie(TileDefinition tile, TileData data)
    {
        var (categories, values) = Totals(tile, data);
        return new ChartFigure
        {
            Traces =
            [
                new Pie
                {
                    Labels = TileTraces.Objects(categories.Select(c => TileRows.Label(tile, 0, c))),
                    Values = TileTraces.Objects(values),
                    Hole = tile.Donut ? 0.5m : null,
                    // Keep the rows' order: the tile already sorted them, with "Other" last.
                    Sort = false,
                    TextInfo = Plotly.Blazor.Traces.PieLib.TextInfoFlag.Percent,
                    HoverTemplate = $"%{{label}}: %{{value:{TileFormat.D3Number}}} (%{{percent}})<extra></extra>",
                    Marker = new Plotly.Blazor.Traces.PieLib.Marker { Colors = TileTraces.Objects(categories.Select((_, i) => TileTraces.Color(i))) },
                },
            ],
            ShowLegend = true,
            ConfigureLayout = layout =>
            {
                layout.Margin = new Plotly.Blazor.LayoutLib.Margin { L = 10, R = 10, T = 10, B = 10 };
                layout.Legend = [new Plotly.Blazor.LayoutLib.Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.V }];
            },
            Marks = (_, point) => CategoryMark(data, categories, point[0]),
        };
    }

    /// <summary>
    /// Stages as a funnel, in the rows' order, each with its value and its share of the first stage — or, with
    /// <paramref name="shareOfTotal"/> (stages that are not steps of one path, like lifecycle stages), of all of them.
    /// </summary>
    public static ChartFigure Funnel(TileDefinition tile, TileData data, bool shareOfTotal = false)
    {
        var (categories, values) = Totals(tile, data);
        var share = shareOfTotal ? Plotly.Blazor.Traces.FunnelLib.TextInfoFlag.PercentTotal : Plotly.Blazor.Traces.FunnelLib.TextInfoFlag.PercentInitial;
        return new ChartFigure
        {
            Traces =
            [
                new Funnel
                {
                    Name = data.Measures.FirstOrDefault() ?? "",
                    Y = TileTraces.Objects(categories.Select(c => TileRows.Label(tile, 0, c))),
                    X = TileTraces.Objects(values),
                    TextInfo = Plotly.Blazor.Traces.FunnelLib.TextInfoFlag.Value | share,
                    Marker = new Plotly.Blazor.Traces.FunnelLib.Marker { Color = TileTraces.Color(0) },
                    HoverTemplate = shareOfTotal
                        ? $"%{{y}}: %{{x:{TileFormat.D3Number}}} (%{{percentTotal}} of all)<extra></extra>"
                        : $"%{{y}}: %{{x:{TileFormat.D3Number}}} (%{{percentInitial}} of the first)<extra></extra>",
                },
            ],
            ConfigureLayout = layout =>
            {
                layout.YAxis[0].Type = Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Category;
                layout.Margin = new Plotly.Blazor.LayoutLib.Margin { L = 10, R = 10, T = 10, B = 20 };
            },
            Marks = (_, point) => CategoryMark(data, categories, point[0]),
        };
    }

    /// <summary>Boxes sized by measure 0 for dimension 0's values, nested by dimension 1 when there is one.</summary>
    public static ChartFigure Treemap(TileDefinition tile, TileData data)
    {
        var nodes = new List<(string Id, string Label, string Parent, double Value, IReadOnlyDictionary<string, object?> Mark)>();
        if (data.Dimensions.Count >= 2)
        {
            var parents = TileRows.Distinct(data, 0);
            for (var p = 0; p < parents.Count; p++)
            {
                var key = TileRows.Key(parents[p]);
                var children = data.Rows.Where(r => TileRows.Key(TileRows.Dimension(r, 0)).Equals(key)).ToList();
                var id = $"n{p}";
                nodes.Add((id, TileRows.Label(tile, 0, parents[p]), "", children.Sum(r => Size(data, r)), TileRows.Values(data, children[0], 1)));
                nodes.AddRange(children.Select((r, c) =>
                    ($"{id}/{c}", TileRows.Label(tile, 1, TileRows.Dimension(r, 1)), id, Size(data, r), (IReadOnlyDictionary<string, object?>)TileRows.Values(data, r, 2))));
            }
        }
        else
        {
            nodes.AddRange(data.Rows.Select((r, i) =>
                ($"n{i}", TileRows.Label(tile, 0, TileRows.Dimension(r, 0)), "", Size(data, r), (IReadOnlyDictionary<string, object?>)TileRows.Values(data, r, 1))));
        }

        return new ChartFigure
        {
            Traces =
            [
                new TreeMap
                {
                    Ids = TileTraces.Objects(nodes.Select(n => n.Id)),
                    Labels = TileTraces.Objects(nodes.Select(n => n.Label)),
                    Parents = TileTraces.Objects(nodes.Select(n => n.Parent)),
                    Values = TileTraces.Objects(nodes.Select(n => n.Value)),
                    BranchValues = Plotly.Blazor.Traces.TreeMapLib.BranchValuesEnum.Total,
                    TextInfo = Plotly.Blazor.Traces.TreeMapLib.TextInfoFlag.Label | Plotly.Blazor.Traces.TreeMapLib.TextInfoFlag.Value,
                    HoverTemplate = $"<b>%{{label}}</b><br>%{{value:{TileFormat.D3Number}}}<extra></extra>",
                },
            ],
            ConfigureLayout = layout => layout.Margin = new Plotly.Blazor.LayoutLib.Margin { L = 0, R = 0, T = 0, B = 0 },
            Marks = (_, point) => point[0] >= 0 && point[0] < nodes.Count ? nodes[point[0]].Mark : null,
        };
    }

    /// <summary>Measure 0 per value of dimension 0, summed over dimension 1 if the rows have one.</summary>
    private static (IReadOnlyList<object?> Categories, IReadOnlyList<double?> Values) Totals(TileDefinition tile, TileData data)
    {
        var grid = CategorySeries.From(tile, data);
        var values = grid.Categories.Select((_, i) =>
        {
            var parts = grid.Series.Select(s => s.Values[i]).Where(v => v is not null).ToList();
            return parts.Count == 0 ? null : (double?)parts.Sum();
        }).ToList();
        // With several measures and one dimension the pie shows the first measure only.
        if (!grid.SeriesByDimension && grid.Series.Count > 0)
        {
            values = grid.Series[0].Values.ToList();
        }
        return (grid.Categories, values);
    }

    private static IReadOnlyDictionary<string, object?>? CategoryMark(TileData data, IReadOnlyList<object?> categories, int index) =>
        data.Dimensions.Count > 0 && index >= 0 && index < categories.Count
            ? new Dictionary<string, object?> { [data.Dimensions[0]] = categories[index] }
            : null;

    /// <summary>A treemap box cannot be negative or empty.</summary>
    private static double Size(TileData data, object?[] row) => Math.Max(0, TileRows.Measure(data, row, 0) ?? 0);
}
