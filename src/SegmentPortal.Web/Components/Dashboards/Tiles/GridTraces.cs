using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Web.Components.Shared.Charts;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Cell charts: heatmap, cohort retention, RFM grid.</summary>
public static class GridTraces
{
    /// <summary>Up to this many cells the values are written in them.</summary>
    public const int CellTextUpTo = 150;

    /// <summary>Rows are dimension 0, columns dimension 1 (or the measure when there is none), colour is measure 0.</summary>
    public static ChartFigure Heatmap(TileDefinition tile, TileData data, bool dark)
    {
        var cells = Cells.From(data, TileRows.Distinct(data, 0), data.Dimensions.Count >= 2 ? TileRows.Distinct(data, 1) : [null]);
        var rowLabels = cells.Rows.Select(r => TileRows.Label(tile, 0, r)).ToList();
        var columnLabels = data.Dimensions.Count >= 2
            ? cells.Columns.Select(c => TileRows.Label(tile, 1, c)).ToList()
            : [data.Measures.FirstOrDefault() ?? ""];
        var measure = data.Measures.FirstOrDefault() ?? "";
        var text = cells.Map(v => TileFormat.Number(v));
        return new ChartFigure
        {
            Traces =
            [
                new HeatMap
                {
                    X = TileTraces.Objects(columnLabels),
                    Y = TileTraces.Objects(rowLabels),
                    Z = cells.Rows2D(v => v),
                    Text = Rows2D(text),
                    TextTemplate = cells.Count <= CellTextUpTo ? "%{text}" : null,
                    HoverTemplate = $"%{{y}} · %{{x}}<br>{PlotlyText.Text(measure)}: %{{text}}<extra></extra>",
                    ColorScale = "Blues",
                    ReverseScale = !dark,
                    ShowScale = false,
                    XGap = 1,
                    YGap = 1,
                },
            ],
            ConfigureLayout = layout => GridLayout(layout, data.Dimensions.ElementAtOrDefault(1), data.Dimensions.ElementAtOrDefault(0), reversed: true),
            Marks = (_, point) => cells.MarkAt(data, point),
        };
    }

    /// <summary>Cohorts (first-order month) down, months since the first order across, the share still ordering as colour and text.</summary>
    public static ChartFigure Cohort(TileDefinition tile, TileData data, bool dark)
    {
        if (data.Dimensions.Count < 2)
        {
            return Heatmap(tile, data, dark);
        }
        var columns = TileRows.Distinct(data, 1);
        if (columns.All(c => TileFormat.ToDouble(c) is not null))
        {
            columns = columns.OrderBy(c => TileFormat.ToDouble(c)).ToList();
        }
        var cells = Cells.From(data, TileRows.Distinct(data, 0), columns);
        var customers = data.Measures.Count >= 2 ? Cells.From(data, cells.Rows, cells.Columns, measure: 1) : null;
        var bucket = TileRows.Bucket(tile, 0) ?? DateBucket.Month;
        var rowLabels = cells.Rows.Select(r => TileFormat.Value(r, bucket)).ToList();
        var columnLabels = cells.Columns.Select(c => TileFormat.Value(c)).ToList();
        var hover = new string[cells.Rows.Count][];
        for (var r = 0; r < cells.Rows.Count; r++)
        {
            hover[r] = new string[cells.Columns.Count];
            for (var c = 0; c < cells.Columns.Count; c++)
            {
                // Line breaks as \n: the figure is escaped as a whole, which turns them into Plotly's <br>.
                var count = customers?.Values[r, c] is { } n ? $"\n{TileFormat.Number(n)} customers" : "";
                hover[r][c] = $"Cohort {rowLabels[r]}, month {columnLabels[c]}\n{TileFormat.Percent(cells.Values[r, c])} still ordering{count}";
            }
        }
        // The first month is 100% by definition; scale the colours on the months after it so they stay readable.
        var later = Enumerable.Range(0, cells.Rows.Count)
            .SelectMany(r => Enumerable.Range(cells.Columns.Count > 1 ? 1 : 0, Math.Max(0, cells.Columns.Count - (cells.Columns.Count > 1 ? 1 : 0))).Select(c => cells.Values[r, c]))
            .Where(v => v is not null).Select(v => v!.Value).ToList();
        var top = later.Count > 0 && later.Max() > 0 ? later.Max() : 1;

        return new ChartFigure
        {
            Traces =
            [
                new HeatMap
                {
                    X = TileTraces.Objects(columnLabels),
                    Y = TileTraces.Objects(rowLabels),
                    Z = cells.Rows2D(v => v),
                    Text = Rows2D(cells.Map(v => TileFormat.Percent(v, 0))),
                    HoverText = Rows2D(hover),
                    TextTemplate = cells.Count <= CellTextUpTo * 2 ? "%{text}" : null,
                    HoverTemplate = "%{hovertext}<extra></extra>",
                    ColorScale = "Blues",
                    ReverseScale = !dark,
                    ZMin = 0,
                    ZMax = (decimal)top,
                    ShowScale = false,
                    XGap = 1,
                    YGap = 1,
                },
            ],
            ConfigureLayout = layout => GridLayout(layout, "Months since the first order", "First order", reversed: true),
            Marks = (_, point) => cells.MarkAt(data, point),
        };
    }

    /// <summary>The R × F grid of an RFM analysis: customers per pair of scores, 1 to 5.</summary>
    public static ChartFigure RfmGrid(TileDefinition tile, TileData data, bool dark)
    {
        if (data.Dimensions.Count < 2)
        {
            return Heatmap(tile, data, dark);
        }
        var scores = Enumerable.Range(1, 5).ToList();
        var customers = new double?[5, 5];
        var extra = new double?[5, 5];
        var groups = new string?[5, 5];
        var rows = new object?[5, 5][];
        foreach (var row in data.Rows)
        {
            if (Score(TileRows.Dimension(row, 0)) is not { } r || Score(TileRows.Dimension(row, 1)) is not { } f)
            {
                continue;
            }
            customers[r - 1, f - 1] = (customers[r - 1, f - 1] ?? 0) + (TileRows.Measure(data, row, 0) ?? 0);
            extra[r - 1, f - 1] = TileRows.Measure(data, row, 1);
            groups[r - 1, f - 1] = data.Dimensions.Count >= 3 ? TileFormat.Value(TileRows.Dimension(row, 2)) : null;
            rows[r - 1, f - 1] = row;
        }
        var second = data.Measures.ElementAtOrDefault(1);
        var hover = scores.Select(r => (object)scores.Select(f =>
        {
            var lines = new List<string>();
            if (groups[r - 1, f - 1] is { } group)
            {
                lines.Add(group);
            }
            lines.Add($"R {r}, F {f}: {TileFormat.Number(customers[r - 1, f - 1] ?? 0)} customers");
            if (second is not null)
            {
                lines.Add($"{second}: {TileFormat.Number(extra[r - 1, f - 1])}");
            }
            return (object)string.Join("\n", lines);
        }).ToList()).ToList();

        return new ChartFigure
        {
            Traces =
            [
                new HeatMap
                {
                    X = TileTraces.Objects(scores.Select(s => $"F {s}")),
                    Y = TileTraces.Objects(scores.Select(s => $"R {s}")),
                    Z = scores.Select(r => (object)scores.Select(f => (object)(customers[r - 1, f - 1] ?? 0)).ToList()).ToList(),
                    Text = scores.Select(r => (object)scores.Select(f => (object)TileFormat.Number(customers[r - 1, f - 1] ?? 0)).ToList()).ToList(),
                    HoverText = hover,
                    TextTemplate = "%{text}",
                    HoverTemplate = "%{hovertext}<extra></extra>",
                    ColorScale = "Blues",
                    ReverseScale = !dark,
                    ShowScale = false,
                    XGap = 1,
                    YGap = 1,
                },
            ],
            ConfigureLayout = layout => GridLayout(layout, "Frequency score", "Recency score", reversed: false),
            Marks = (_, point) =>
            {
                if (point.Count < 2 || point[0] is < 0 or > 4 || point[1] is < 0 or > 4)
                {
                    return null;
                }
                if (rows[point[0], point[1]] is { } row)
                {
                    return TileRows.Values(data, row, 2);
                }
                return data.Dimensions.Count >= 2
                    ? new Dictionary<string, object?> { [data.Dimensions[0]] = point[0] + 1, [data.Dimensions[1]] = point[1] + 1 }
                    : null;
            },
        };
    }

    private static int? Score(object? value) => TileFormat.ToDouble(value) is { } d && d >= 1 && d <= 5 ? (int)Math.Round(d) : null;

    private static void GridLayout(Plotly.Blazor.Layout layout, string? x, string? y, bool reversed)
    {
        layout.XAxis[0].Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category;
        layout.YAxis[0].Type = Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Category;
        if (reversed)
        {
            layout.YAxis[0].AutoRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed;
        }
        layout.XAxis[0].ShowGrid = false;
        layout.YAxis[0].ShowGrid = false;
        TileTraces.XTitle(layout, x);
        TileTraces.YTitle(layout, y);
    }

    private static List<object> Rows2D<T>(T[][] values) => values.Select(r => (object)TileTraces.Objects(r)).ToList();

    /// <summary>Measure values laid out as rows × columns of two dimensions' distinct values.</summary>
    private sealed class Cells
    {
        private Cells(IReadOnlyList<object?> rows, IReadOnlyList<object?> columns)
        {
            Rows = rows;
            Columns = columns;
            Values = new double?[rows.Count, columns.Count];
        }

        public IReadOnlyList<object?> Rows { get; }

        public IReadOnlyList<object?> Columns { get; }

        public double?[,] Values { get; }

        public int Count => Rows.Count * Columns.Count;

        public static Cells From(TileData data, IReadOnlyList<object?> rows, IReadOnlyList<object?> columns, int measure = 0)
        {
            var cells = new Cells(rows, columns);
            var rowAt = Index(rows);
            var columnAt = Index(columns);
            foreach (var row in data.Rows)
            {
                var column = data.Dimensions.Count >= 2 ? TileRows.Dimension(row, 1) : null;
                if (rowAt.TryGetValue(TileRows.Key(TileRows.Dimension(row, 0)), out var r) && columnAt.TryGetValue(TileRows.Key(column), out var c))
                {
                    cells.Values[r, c] = TileRows.Measure(data, row, measure);
                }
            }
            return cells;
        }

        public T[][] Map<T>(Func<double?, T> map) =>
            Enumerable.Range(0, Rows.Count).Select(r => Enumerable.Range(0, Columns.Count).Select(c => map(Values[r, c])).ToArray()).ToArray();

        public List<object> Rows2D(Func<double?, double?> map) => GridTraces.Rows2D(Map(map));

        /// <summary>Plotly reports a heatmap cell as [row, column].</summary>
        public IReadOnlyDictionary<string, object?>? MarkAt(TileData data, IReadOnlyList<int> point)
        {
            if (point.Count < 2 || point[0] < 0 || point[0] >= Rows.Count || point[1] < 0 || point[1] >= Columns.Count || data.Dimensions.Count == 0)
            {
                return null;
            }
            var values = new Dictionary<string, object?> { [data.Dimensions[0]] = Rows[point[0]] };
            if (data.Dimensions.Count >= 2)
            {
                values[data.Dimensions[1]] = Columns[point[1]];
            }
            return values;
        }

        private static Dictionary<object, int> Index(IReadOnlyList<object?> values) =>
            values.Select((v, i) => (v, i)).ToDictionary(x => TileRows.Key(x.v), x => x.i);
    }
}
