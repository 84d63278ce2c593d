using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Dashboards;

/// <summary>Query results as tile rows (grouping values, then measure values) and sorting them where the warehouse cannot.</summary>
public static class TileRows
{
    /// <summary>
    /// Rows of groupings d0… then the tile's measures m0… (ratios divided here), at most <paramref name="limit"/>;
    /// <paramref name="truncated"/> when the result had more.
    /// </summary>
    public static List<object?[]> Read(QueryResult result, int groupings, IReadOnlyList<TileMeasure> measures, int limit, out bool truncated, string prefix = "m")
    {
        truncated = result.Rows.Count > limit;
        var groupIndexes = Enumerable.Range(0, groupings).Select(i => result.Index($"d{i}")).ToList();
        return result.Rows.Take(limit).Select(row =>
        {
            var values = new object?[groupings + measures.Count];
            for (var i = 0; i < groupings; i++)
            {
                values[i] = Dimension(row[groupIndexes[i]]);
            }
            for (var j = 0; j < measures.Count; j++)
            {
                values[groupings + j] = TileMeasures.Read(measures[j], prefix + j, result, row);
            }
            return values;
        }).ToList();
    }

    /// <summary>Grouping values as the tile shows them: periods as dates, whole numbers as longs.</summary>
    public static object? Dimension(object? value) => value switch
    {
        DBNull => null,
        DateTime t when t.TimeOfDay == TimeSpan.Zero => DateOnly.FromDateTime(t),
        System.Numerics.BigInteger big => (double)big,
        int i => (long)i,
        _ => value,
    };

    /// <summary>A number value as a double; null for empty values and for dates, text and booleans.</summary>
    public static double? Number(object? value) => value switch
    {
        null or DBNull or DateOnly or DateTime or DateTimeOffset or string or bool or char => null,
        System.Numerics.BigInteger or IConvertible => QueryValue.ToDouble(value),
        _ => null,
    };

    /// <summary>Sorts rows by positions (stable), empty values last whichever the direction.</summary>
    public static List<object?[]> Sort(IEnumerable<object?[]> rows, IReadOnlyList<(int Position, bool Descending)> keys)
    {
        IOrderedEnumerable<object?[]>? sorted = null;
        foreach (var (position, descending) in keys)
        {
            var comparer = Comparer<object?>.Create((a, b) => Compare(a, b, descending));
            sorted = sorted is null ? rows.OrderBy(r => r[position], comparer) : sorted.ThenBy(r => r[position], comparer);
        }
        return (sorted ?? rows).ToList();
    }

    /// <summary>Orders values of one column: numbers by value, dates by date, text ignoring case, empty last.</summary>
    public static int Compare(object? a, object? b, bool descending = false)
    {
        if (a is null || b is null)
        {
            return a is null ? (b is null ? 0 : 1) : -1;
        }
        int order;
        if (Number(a) is { } x && Number(b) is { } y)
        {
            order = x.CompareTo(y);
        }
        else if (Periods.AsDate(a) is { } d && Periods.AsDate(b) is { } e && a is not string && b is not string)
        {
            order = d.CompareTo(e);
        }
        else
        {
            var (s, t) = (MarkValue.Text(a) ?? "", MarkValue.Text(b) ?? "");
            order = StringComparer.OrdinalIgnoreCase.Compare(s, t) is var c && c != 0 ? c : StringComparer.Ordinal.Compare(s, t);
        }
        return descending ? -order : order;
    }
}
