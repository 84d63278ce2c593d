using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Reading <see cref="TileData"/> rows: dimension values first, then measure values.</summary>
public static class TileRows
{
    private static readonly object NullKey = new();

    /// <summary>Dimension <paramref name="index"/> of a row (null when the row is short).</summary>
    public static object? Dimension(object?[] row, int index) => index < row.Length ? row[index] : null;

    /// <summary>Measure <paramref name="index"/> of a row as a number.</summary>
    public static double? Measure(TileData data, object?[] row, int index)
    {
        var at = data.Dimensions.Count + index;
        return at < row.Length ? TileFormat.ToDouble(row[at]) : null;
    }

    /// <summary>The bucket the tile puts dimension <paramref name="index"/> in, for its labels.</summary>
    public static DateBucket? Bucket(TileDefinition tile, int index) => index < tile.Dimensions.Count ? tile.Dimensions[index].Bucket : null;

    /// <summary>The label of dimension <paramref name="index"/>'s value.</summary>
    public static string Label(TileDefinition tile, int index, object? value) => TileFormat.Value(value, Bucket(tile, index));

    /// <summary>The dimension values of a row by name, as a click on it reports them.</summary>
    public static Dictionary<string, object?> Values(TileData data, object?[] row, int dimensions = int.MaxValue)
    {
        var values = new Dictionary<string, object?>();
        for (var i = 0; i < Math.Min(dimensions, data.Dimensions.Count); i++)
        {
            values[data.Dimensions[i]] = Dimension(row, i);
        }
        return values;
    }

    /// <summary>The distinct values of dimension <paramref name="index"/> in the order the rows bring them.</summary>
    public static IReadOnlyList<object?> Distinct(TileData data, int index)
    {
        var seen = new HashSet<object>();
        var values = new List<object?>();
        foreach (var row in data.Rows)
        {
            var value = Dimension(row, index);
            if (seen.Add(Key(value)))
            {
                values.Add(value);
            }
        }
        return values;
    }

    /// <summary>A dictionary key for a value that may be null.</summary>
    public static object Key(object? value) => value ?? NullKey;
}

/// <summary>One line or set of bars: its name, the dimension value it stands for (null when it is a measure) and a value per category.</summary>
public sealed record TileSeries(string Name, object? Key, IReadOnlyList<double?> Values);

/// <summary>
/// Rows regrouped for category charts: the distinct values of dimension 0 along the axis, and one series per distinct
/// value of dimension 1, or, without a second dimension, one series per measure.
/// </summary>
public sealed record CategorySeries(IReadOnlyList<object?> Categories, IReadOnlyList<TileSeries> Series, bool SeriesByDimension)
{
    public static CategorySeries From(TileDefinition tile, TileData data)
    {
        if (data.Dimensions.Count == 0)
        {
            // A single figure per measure, e.g. a total with no grouping.
            var row = data.Rows.FirstOrDefault() ?? [];
            return new CategorySeries(["Total"], data.Measures.Select((m, i) => new TileSeries(m, null, [TileRows.Measure(data, row, i)])).ToList(), false);
        }

        var categories = TileRows.Distinct(data, 0);
        var position = categories.Select((c, i) => (c, i)).ToDictionary(x => TileRows.Key(x.c), x => x.i);
        if (data.Dimensions.Count >= 2)
        {
            var keys = TileRows.Distinct(data, 1);
            var series = keys.Select(k => (Key: k, Values: new double?[categories.Count])).ToList();
            var seriesAt = keys.Select((k, i) => (k, i)).ToDictionary(x => TileRows.Key(x.k), x => x.i);
            foreach (var row in data.Rows)
            {
                series[seriesAt[TileRows.Key(TileRows.Dimension(row, 1))]].Values[position[TileRows.Key(TileRows.Dimension(row, 0))]] = TileRows.Measure(data, row, 0);
            }
            return new CategorySeries(categories, series.Select(s => new TileSeries(TileRows.Label(tile, 1, s.Key), s.Key, s.Values)).ToList(), true);
        }

        var measures = data.Measures.Select(_ => new double?[categories.Count]).ToList();
        foreach (var row in data.Rows)
        {
            var at = position[TileRows.Key(TileRows.Dimension(row, 0))];
            for (var m = 0; m < measures.Count; m++)
            {
                measures[m][at] = TileRows.Measure(data, row, m);
            }
        }
        return new CategorySeries(categories, measures.Select((v, m) => new TileSeries(data.Measures[m], null, v)).ToList(), false);
    }

    /// <summary>What a click on category <paramref name="index"/> of series <paramref name="series"/> stands for.</summary>
    public IReadOnlyDictionary<string, object?>? MarkAt(TileData data, int series, int index)
    {
        if (series < 0 || series >= Series.Count || index < 0 || index >= Categories.Count || data.Dimensions.Count == 0)
        {
            return null;
        }
        var values = new Dictionary<string, object?> { [data.Dimensions[0]] = Categories[index] };
        if (SeriesByDimension)
        {
            values[data.Dimensions[1]] = Series[series].Key;
        }
        return values;
    }
}
