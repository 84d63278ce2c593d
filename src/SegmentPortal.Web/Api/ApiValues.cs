using System.Globalization;
using System.Numerics;

namespace SegmentPortal.Web.Api;

/// <summary>
/// Result cells as JSON values: numbers stay numbers (DuckDB's 128-bit sums as a whole number when they fit, else as
/// text), dates as <c>yyyy-MM-dd</c>, timestamps as ISO 8601, non-finite numbers as null, anything else as text.
/// </summary>
internal static class ApiValues
{
    public static object? ToJson(object? value) => value switch
    {
        null or DBNull => null,
        string or bool or int or long or short or byte or sbyte or ushort or uint or ulong or decimal => value,
        double d => double.IsFinite(d) ? d : null,
        float f => float.IsFinite(f) ? (double)f : null,
        BigInteger big => big >= long.MinValue && big <= long.MaxValue ? (long)big : big.ToString(CultureInfo.InvariantCulture),
        Int128 wide => wide >= long.MinValue && wide <= long.MaxValue ? (long)wide : wide.ToString(CultureInfo.InvariantCulture),
        DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime time => time.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("o", CultureInfo.InvariantCulture),
        TimeOnly time => time.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    public static IReadOnlyList<object?[]> Rows(IEnumerable<object?[]> rows) => rows.Select(r => r.Select(ToJson).ToArray()).ToList();
}
