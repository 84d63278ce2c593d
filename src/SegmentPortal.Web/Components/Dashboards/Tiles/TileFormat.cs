using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>How tiles write numbers, shares, changes and dates (in the current culture).</summary>
public static class TileFormat
{
    public const string Missing = "—";

    public const string Blank = "(blank)";

    /// <summary>The d3 format Plotly hovers use for measures: thousands separators, at most two decimals.</summary>
    public const string D3Number = ",.2~f";

    private static readonly ConcurrentDictionary<string, CultureInfo> PercentCultures = new();

    /// <summary>Thousands separators; two decimals at most from 1 up, three below 1, none from 1,000.</summary>
    public static string Number(double? value) => value switch
    {
        null => Missing,
        { } v when double.IsNaN(v) || double.IsInfinity(v) => Missing,
        { } v when Math.Abs(v) >= 1000 => Round(v, 0).ToString("N0", CultureInfo.CurrentCulture),
        { } v when Math.Abs(v) >= 1 => Round(v, 2).ToString("#,##0.##", CultureInfo.CurrentCulture),
        { } v => Round(v, 3).ToString("0.###", CultureInfo.CurrentCulture),
    };

    /// <summary>
    /// One format for a column of numbers, so its decimals line up: whole numbers and anything from 1,000 without
    /// decimals, two decimals from 1, up to three below.
    /// </summary>
    public static string ColumnFormat(IEnumerable<double?> values)
    {
        var known = values.Where(v => v is { } x && double.IsFinite(x)).Select(v => Math.Abs(v!.Value)).ToList();
        if (known.Count == 0 || known.All(v => v == Math.Floor(v)) || known.Max() >= 1000)
        {
            return "N0";
        }
        return known.Max() >= 1 ? "N2" : "0.###";
    }

    /// <summary>A number in a column's <see cref="ColumnFormat"/>.</summary>
    public static string Number(double? value, string format) => value is { } v && double.IsFinite(v)
        ? Round(v, format switch { "N0" => 0, "N2" => 2, _ => 3 }).ToString(format, CultureInfo.CurrentCulture)
        : Missing;

    /// <summary>A share (0.123 → "12.3%").</summary>
    public static string Percent(double? fraction, int decimals = 1) =>
        fraction is { } f && double.IsFinite(f) ? f.ToString("P" + decimals, PercentCulture) : Missing;

    /// <summary>A relative change with its sign (0.123 → "+12.3%", −0.05 → "−5.0%").</summary>
    public static string Change(double? change)
    {
        if (change is not { } c || !double.IsFinite(c))
        {
            return Missing;
        }
        var text = Math.Abs(c).ToString("P1", PercentCulture);
        return c > 0 ? "+" + text : c < 0 ? "−" + text : text;
    }

    /// <summary>A date as its bucket reads: 2025, 2025 Q2, Apr 2025, 2025-W14, 2025-04-03.</summary>
    public static string Date(DateTime date, DateBucket? bucket) => bucket switch
    {
        DateBucket.Year => date.Year.ToString(CultureInfo.InvariantCulture),
        DateBucket.Quarter => $"{date.Year} Q{(date.Month - 1) / 3 + 1}",
        DateBucket.Month => date.ToString("MMM yyyy", CultureInfo.CurrentCulture),
        DateBucket.Week => $"{ISOWeek.GetYear(date)}-W{ISOWeek.GetWeekOfYear(date):00}",
        DateBucket.Day => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => date.TimeOfDay == TimeSpan.Zero
            ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : date.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
    };

    /// <summary>Any cell as text: dates by <paramref name="bucket"/>, numbers by <see cref="Number"/>, empty as "(blank)".</summary>
    public static string Value(object? value, DateBucket? bucket = null) => value switch
    {
        null or DBNull => Blank,
        string s => s.Length == 0 ? Blank : s,
        DateTime d => Date(d, bucket),
        DateTimeOffset d => Date(d.DateTime, bucket),
        DateOnly d => Date(d.ToDateTime(TimeOnly.MinValue), bucket),
        bool b => b ? "Yes" : "No",
        JsonElement { ValueKind: JsonValueKind.String } e => Value(e.GetString(), bucket),
        JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => Blank,
        _ when ToDouble(value) is { } n => Number(n),
        IFormattable f => f.ToString(null, CultureInfo.CurrentCulture),
        _ => value.ToString() ?? Blank,
    };

    /// <summary>A measure cell as a number, or null when it is empty or not a number.</summary>
    public static double? ToDouble(object? value)
    {
        double? d = value switch
        {
            null or DBNull => null,
            double v => v,
            float v => v,
            decimal v => (double)v,
            long v => v,
            int v => v,
            short v => v,
            byte v => v,
            sbyte v => v,
            ulong v => v,
            uint v => v,
            ushort v => v,
            System.Numerics.BigInteger v => (double)v,
            Int128 v => (double)v,
            UInt128 v => (double)v,
            JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
        return d is { } x && double.IsFinite(x) ? x : null;
    }

    /// <summary>The current culture without the space some cultures put before "%".</summary>
    private static CultureInfo PercentCulture => PercentCultures.GetOrAdd(CultureInfo.CurrentCulture.Name, _ =>
    {
        var culture = (CultureInfo)CultureInfo.CurrentCulture.Clone();
        culture.NumberFormat.PercentPositivePattern = 1;
        culture.NumberFormat.PercentNegativePattern = 1;
        return culture;
    });

    /// <summary>Halves round up, as people expect (the formatter alone would write 1,234.5 as 1,234 and 7.125 as 7.12).</summary>
    private static double Round(double value, int decimals) => Math.Round(value, decimals, MidpointRounding.AwayFromZero);
}
