using System.Text.Json;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Orders table cells: numbers by value, dates by time, text in the current culture, empty cells last.</summary>
public sealed class TileCellComparer : IComparer<object?>
{
    public static readonly TileCellComparer Instance = new();

    public int Compare(object? x, object? y)
    {
        var (a, b) = (Empty(x), Empty(y));
        if (a || b)
        {
            return a == b ? 0 : a ? 1 : -1;
        }
        if (TileFormat.ToDouble(x) is { } dx && TileFormat.ToDouble(y) is { } dy && x is not string && y is not string)
        {
            return dx.CompareTo(dy);
        }
        if (Time(x) is { } tx && Time(y) is { } ty)
        {
            return tx.CompareTo(ty);
        }
        return string.Compare(TileFormat.Value(x), TileFormat.Value(y), StringComparison.CurrentCultureIgnoreCase);
    }

    private static bool Empty(object? value) => value is null or DBNull || value is JsonElement { ValueKind: JsonValueKind.Null };

    private static DateTime? Time(object? value) => value switch
    {
        DateTime d => d,
        DateTimeOffset d => d.UtcDateTime,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue),
        _ => null,
    };
}

/// <summary>
/// Rows sorted by one column (empty cells always last, whichever the direction) and cut into pages.
/// </summary>
public static class TileSorting
{
    public static IReadOnlyList<object?[]> Sort(IReadOnlyList<object?[]> rows, int? column, bool descending)
    {
        if (column is not { } c)
        {
            return rows;
        }
        object? Cell(object?[] row) => c < row.Length ? row[c] : null;
        bool IsEmpty(object?[] row) => Cell(row) is null or DBNull;
        var known = rows.Where(r => !IsEmpty(r));
        var sorted = descending
            ? known.OrderByDescending(Cell, TileCellComparer.Instance)
            : known.OrderBy(Cell, TileCellComparer.Instance);
        return [.. sorted, .. rows.Where(IsEmpty)];
    }

    public static IReadOnlyList<T> Page<T>(IReadOnlyList<T> rows, int page, int pageSize) =>
        rows.Skip(page * pageSize).Take(pageSize).ToList();

    public static int PageCount(int rows, int pageSize) => Math.Max(1, (rows + pageSize - 1) / pageSize);
}
