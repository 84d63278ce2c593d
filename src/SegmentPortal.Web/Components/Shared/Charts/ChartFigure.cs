using System.Text.Json;
using Plotly.Blazor;

namespace SegmentPortal.Web.Components.Shared.Charts;

/// <summary>Looks up what the point <paramref name="point"/> of trace <paramref name="trace"/> stands for.</summary>
public delegate IReadOnlyDictionary<string, object?>? ChartMarkResolver(int trace, IReadOnlyList<int> point);

/// <summary>
/// A chart as plain data: the traces, the changes to the themed layout, and how a clicked point maps back to the values
/// it stands for (a tile's dimension values). Built in plain C# (a tile's by <c>TileTraces</c>), drawn by
/// <see cref="Figure"/>.
/// </summary>
public sealed class ChartFigure
{
    public static readonly ChartFigure Empty = new() { Traces = [], IsText = true };

    public required IList<ITrace> Traces { get; init; }

    /// <summary>Changes to the themed layout (axis types, bar mode, margins).</summary>
    public Action<Plotly.Blazor.Layout>? ConfigureLayout { get; init; }

    public bool ShowLegend { get; init; }

    /// <summary>Maps a click back to dimension values; null when clicks mean nothing for the chart.</summary>
    public ChartMarkResolver? Marks { get; init; }

    /// <summary>Its text has passed through <see cref="AsText"/>: what it hands to Plotly shows as text.</summary>
    public bool IsText { get; private init; }

    /// <summary>
    /// The figure with every string of its traces escaped (<see cref="PlotlyText"/>), and its layout escaped once
    /// configured; clicks still map back to the raw values. A figure already escaped is returned as it is.
    /// </summary>
    public ChartFigure AsText() => IsText ? this : new()
    {
        Traces = PlotlyText.Escape(Traces),
        ShowLegend = ShowLegend,
        Marks = Marks,
        ConfigureLayout = ConfigureLayout is { } configure ? layout => PlotlyText.Escape(Configured(layout, configure)) : null,
        IsText = true,
    };

    private static Plotly.Blazor.Layout Configured(Plotly.Blazor.Layout layout, Action<Plotly.Blazor.Layout> configure)
    {
        configure(layout);
        return layout;
    }

    /// <summary>
    /// What a click stands for. Plotly reports the point as a number (bars, slices, points) or as [row, column]
    /// (heatmap cells); the interop hands it over as JSON.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? MarkAt(int trace, object? pointNumber) =>
        Marks is not null && PointIndices(pointNumber) is { Count: > 0 } point ? Marks(trace, point) : null;

    /// <summary>A Plotly point number (a number, or an array of numbers for heatmap cells) as indices.</summary>
    public static IReadOnlyList<int> PointIndices(object? pointNumber) => pointNumber switch
    {
        null => [],
        int i => [i],
        long l => [(int)l],
        double d => [(int)d],
        IEnumerable<int> ints => ints.ToList(),
        JsonElement { ValueKind: JsonValueKind.Number } e => [(int)e.GetDouble()],
        JsonElement { ValueKind: JsonValueKind.Array } e => e.EnumerateArray()
            .Where(x => x.ValueKind == JsonValueKind.Number).Select(x => (int)x.GetDouble()).ToList(),
        _ => [],
    };
}
