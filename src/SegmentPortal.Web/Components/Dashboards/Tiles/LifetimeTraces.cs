using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>A lifetime-value analysis on a board: its CLV histogram and its P(alive) × repeat purchases matrix.</summary>
public static class LifetimeTraces
{
    /// <summary>A bar per CLV bin (dimension 0 its lower edge, dimension 1 its upper edge, measure 0 the customers), in row order.</summary>
    public static ChartFigure ClvDistribution(TileData data)
    {
        var edges = data.Rows.Select(r => (From: TileFormat.ToDouble(TileRows.Dimension(r, 0)), To: TileFormat.ToDouble(TileRows.Dimension(r, 1)))).ToList();
        // Bins 10 or more wide read as whole amounts (0–274, 274–548); narrower ones keep their decimals.
        var whole = edges.Count > 0 && edges[0].To - edges[0].From >= 10;
        string Edge(double? value) => TileFormat.Number(whole && value is { } v ? Math.Round(v) : value);
        var labels = edges.Select(e => $"{Edge(e.From)}–{Edge(e.To)}").ToList();
        return new ChartFigure
        {
            Traces =
            [
                new Bar
                {
                    Name = data.Measures.FirstOrDefault() ?? "Customers",
                    X = TileTraces.Objects(labels),
                    Y = TileTraces.Objects(data.Rows.Select(r => TileRows.Measure(data, r, 0))),
                    Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = TileTraces.Color(0) },
                    HoverTemplate = $"CLV %{{x}}: %{{y:{TileFormat.D3Number}}} customers<extra></extra>",
                },
            ],
            ConfigureLayout = layout =>
            {
                TileTraces.CategoryAxis(layout, horizontal: false);
                layout.XAxis[0].TickAngle = -45;
                TileTraces.XTitle(layout, "CLV (the last bin holds the top 1%)");
                TileTraces.YTitle(layout, "Customers");
            },
            // The bins are the analysis's, not values of a column: a click filters nothing.
            Marks = null,
        };
    }

    /// <summary>
    /// P(alive) bands up (dimension 0, the first band at the bottom), repeat purchases across (dimension 1), the
    /// customers (measure 0) as colour and text, the average CLV (measure 1) on hover.
    /// </summary>
    public static ChartFigure AliveMatrix(TileData data, bool dark)
    {
        var bands = TileRows.Distinct(data, 0);
        var frequencies = TileRows.Distinct(data, 1);
        var bandAt = bands.Select((b, i) => (b, i)).ToDictionary(x => TileRows.Key(x.b), x => x.i);
        var frequencyAt = frequencies.Select((f, i) => (f, i)).ToDictionary(x => TileRows.Key(x.f), x => x.i);
        var customers = new double[bands.Count, frequencies.Count];
        var average = new double?[bands.Count, frequencies.Count];
        foreach (var row in data.Rows)
        {
            if (bandAt.TryGetValue(TileRows.Key(TileRows.Dimension(row, 0)), out var b) && frequencyAt.TryGetValue(TileRows.Key(TileRows.Dimension(row, 1)), out var f))
            {
                customers[b, f] = TileRows.Measure(data, row, 0) ?? 0;
                average[b, f] = TileRows.Measure(data, row, 1);
            }
        }
        var bandLabels = bands.Select(b => TileFormat.Value(b)).ToList();
        var frequencyLabels = frequencies.Select(f => TileFormat.Value(f)).ToList();
        List<object> Cells(Func<int, int, object> cell) =>
            Enumerable.Range(0, bands.Count).Select(b => (object)Enumerable.Range(0, frequencies.Count).Select(f => cell(b, f)).ToList()).ToList();

        return new ChartFigure
        {
            Traces =
            [
                new HeatMap
                {
                    X = TileTraces.Objects(frequencyLabels),
                    Y = TileTraces.Objects(bandLabels),
                    Z = Cells((b, f) => customers[b, f]),
                    Text = Cells((b, f) => TileFormat.Number(customers[b, f])),
                    // Line breaks as \n: the figure is escaped as a whole, which turns them into Plotly's <br>.
                    HoverText = Cells((b, f) => $"P(alive) {bandLabels[b]}, {frequencyLabels[f]} repeat purchases\n{TileFormat.Number(customers[b, f])} customers"
                        + (average[b, f] is { } value ? $"\naverage CLV {TileFormat.Number(value)}" : "")),
                    TextTemplate = "%{text}",
                    HoverTemplate = "%{hovertext}<extra></extra>",
                    ColorScale = "Blues",
                    ReverseScale = !dark,
                    ShowScale = false,
                    XGap = 1,
                    YGap = 1,
                },
            ],
            ConfigureLayout = layout =>
            {
                layout.XAxis[0].Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category;
                layout.YAxis[0].Type = Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Category;
                layout.XAxis[0].ShowGrid = false;
                layout.YAxis[0].ShowGrid = false;
                TileTraces.XTitle(layout, "Repeat purchases");
                TileTraces.YTitle(layout, "P(alive)");
            },
            Marks = null,
        };
    }
}
