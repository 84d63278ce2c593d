using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>Where customer facts come from: a transaction dataset, its customer key, date, amount and order columns.</summary>
public sealed record FactSource(QueryDataset Orders, string CustomerKey, string Date, string? Amount, string? OrderId);

/// <summary>A saved segment as another rule refers to it: its rule over its own dataset.</summary>
public sealed record SegmentReference(int Id, string Name, RuleGroup Rule, QueryDataset Dataset, FactSource? Facts);

/// <summary>The SQL for a spec, its parameters, the output column names and the datasets it read (for the cache key).</summary>
public sealed record CompiledQuery(string Sql, IReadOnlyDictionary<string, object?> Parameters, IReadOnlyList<string> Columns, IReadOnlyList<QueryDataset> Reads);

/// <summary>Reading result values: DuckDB returns sums of whole numbers as 128-bit integers (BigInteger).</summary>
internal static class QueryValue
{
    public static double? ToDouble(object? value) => value switch
    {
        null or DBNull => null,
        System.Numerics.BigInteger big => (double)big,
        double d => d,
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException($"{value.GetType().Name} is not a number."),
    };

    /// <summary>
    /// A value as text, the one form cross-filters, drill steps and profiles keep: dates as yyyy-MM-dd, numbers invariant
    /// and round-trippable, booleans as true/false, empty as null.
    /// </summary>
    public static string? ToText(object? value) => value switch
    {
        null or DBNull => null,
        string s => s,
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => DateOnly.FromDateTime(t).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTimeOffset o => DateOnly.FromDateTime(o.DateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
