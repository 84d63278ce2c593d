using System.Globalization;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>SQL as the reports print it: hand-written SQL on one line, a compiled query's parameters, quoted table names.</summary>
public static class SqlText
{
    /// <summary>Multi-line SQL on one line (for notes).</summary>
    public static string Flatten(string sql) => string.Join(' ', sql.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Replace("( ", "(", StringComparison.Ordinal);

    public static string Quote(string table) => WarehouseNames.Quote(table);

    /// <summary>A compiled query's parameters, <c>$p1 = value, …</c>, in order.</summary>
    public static string Parameters(CompiledQuery query) => string.Join(", ", query.Parameters
        .OrderBy(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal)
        .Select(p => $"${p.Key} = {Display(p.Value)}"));

    public static string Display(object? value) => value switch
    {
        null => "NULL",
        string text => text,
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Display)) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
