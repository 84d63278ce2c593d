using System.Text.Json;
using Plotly.Blazor;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Looks up what the point <paramref name="point"/> of trace <paramref name="trace"/> stands for.</summary>
public delegate IReadOnlyDictionary<string, object?>? TileMarkResolver(int trace, IReadOnlyList<int> point);

/// <summary>
/// A tile's chart as plain data: the traces, the changes to the themed layout, and how a clicked point maps back to
/// the tile's dimension values. Built by <see cref="TileTraces"/>, drawn by <see cref="TileChart"/>.
/// </summary>
public sealed class TileFigure
{
    public static readonly TileFigure Empty = new() { Traces = [] };

    public required IList<ITrace> Traces { get; init; }

    /// <summary>Changes to the themed layout (axis types, bar mode, margins).</summary>
    public Action<Plotly.Blazor.Layout>? ConfigureLayout { get; init; }

    public bool ShowLegend { get; init; }

    /// <summary>Maps a click back to dimension values; null when clicks mean nothing for the chart.</summary>
    public TileMarkResolver? Marks { get; init; }

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
