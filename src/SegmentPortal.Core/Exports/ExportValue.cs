using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace SegmentPortal.Core.Exports;

/// <summary>How an exported value is written.</summary>
internal enum ExportKind
{
    /// <summary>Null: an empty CSV field, no cell.</summary>
    Empty,

    /// <summary>Text (strings and anything shown by its text): neutralised against formula injection.</summary>
    Text,

    /// <summary>
    /// Text made from a value that is not text (a number Excel would round, a date before 1900, base64 of binary):
    /// written as text in both formats, never prefixed, because it is not what a person typed.
    /// </summary>
    Literal,

    Number,
    Boolean,

    /// <summary>A calendar date (DateOnly).</summary>
    Date,

    /// <summary>A date and time of day without offset (DateTime).</summary>
    DateTime,

    /// <summary>A point in time with an offset (DateTimeOffset): Excel has no offsets, so the workbook shows it in UTC.</summary>
    Instant,

    /// <summary>A time of day (TimeOnly).</summary>
    Time,

    /// <summary>A non-negative duration (TimeSpan).</summary>
    Duration,
}

/// <summary>
/// One value as the exports write it. <see cref="Text"/> is the CSV field (before quoting); <see cref="Value"/> is the
/// workbook cell's stored value for numbers, booleans, dates and times (a plain number, 1/0, or a date serial).
/// </summary>
internal readonly record struct ExportCell(ExportKind Kind, string Text, string? Value = null)
{
    public static ExportCell Empty { get; } = new(ExportKind.Empty, "");
}

/// <summary>Formats values for export: invariant, exact, and safe to open in a spreadsheet.</summary>
internal static class ExportValue
{
    public const string DateFormat = "yyyy-MM-dd";

    // Fractional seconds only when there are any: 10:00:00, 10:00:00.5.
    public const string DateTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";
    public const string InstantFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz";
    public const string TimeFormat = "HH:mm:ss.FFFFFFF";

    /// <summary>
    /// The largest integer Excel shows exactly: it keeps 15 significant digits, so a longer integer (an order number,
    /// a HUGEINT id) would come out with its last digits turned to zeros. Such integers are written to the workbook
    /// as text.
    /// </summary>
    public const long MaxExactInteger = 999_999_999_999_999;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly DateTime FirstSerialDate = new(1900, 1, 1);
    private static readonly DateTime FirstDateAfterLeapBug = new(1900, 3, 1);

    /// <summary>
    /// Prefixes text that a spreadsheet would take for a formula (it starts with =, +, -, @, tab or carriage return)
    /// with a single quote, as OWASP advises against CSV injection.
    /// </summary>
    public static string Neutralize(string text) =>
        text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    public static ExportCell Format(object? value) => Format(value, neutralize: true);

    private static ExportCell Format(object? value, bool neutralize) => value switch
    {
        null or DBNull => ExportCell.Empty,
        string text => Text(text, neutralize),
        char c => Text(c.ToString(), neutralize),
        bool b => new(ExportKind.Boolean, b ? "true" : "false", b ? "1" : "0"),
        byte or sbyte or short or ushort or int or uint => Number(((IFormattable)value).ToString(null, Invariant)),
        long l => Integer(l.ToString(Invariant), l is >= -MaxExactInteger and <= MaxExactInteger),
        ulong ul => Integer(ul.ToString(Invariant), ul <= MaxExactInteger),
        Int128 i => Integer(i.ToString(Invariant), i >= -MaxExactInteger && i <= MaxExactInteger),
        UInt128 ui => Integer(ui.ToString(Invariant), ui <= MaxExactInteger),
        BigInteger big => Integer(big.ToString(Invariant), BigInteger.Abs(big) <= MaxExactInteger),
        decimal m => Integer(m.ToString(Invariant), decimal.Truncate(m) != m || Math.Abs(m) <= MaxExactInteger),
        double d => Real(d.ToString(Invariant), double.IsFinite(d)),
        float f => Real(f.ToString(Invariant), float.IsFinite(f)),
        Half h => Real(h.ToString(Invariant), Half.IsFinite(h)),
        DateOnly date => Date(date),
        DateTime dateTime => DateTimeCell(dateTime),
        DateTimeOffset instant => Instant(instant),
        TimeOnly time => new(ExportKind.Time, time.ToString(TimeFormat, Invariant), Serial(time.Ticks / (double)TimeSpan.TicksPerDay)),
        TimeSpan duration => Duration(duration),
        byte[] bytes => new(ExportKind.Literal, Convert.ToBase64String(bytes)),
        ReadOnlyMemory<byte> bytes => new(ExportKind.Literal, Convert.ToBase64String(bytes.Span)),
        Memory<byte> bytes => new(ExportKind.Literal, Convert.ToBase64String(bytes.Span)),
        Stream blob => new(ExportKind.Literal, Convert.ToBase64String(ReadAll(blob))),
        Guid guid => Text(guid.ToString("D"), neutralize),
        Enum e => Text(e.ToString(), neutralize),
        IFormattable formattable => Text(formattable.ToString(null, Invariant), neutralize),
        IDictionary or IEnumerable => Text(Nested(value), neutralize),
        _ => Text(value.ToString() ?? "", neutralize),
    };

    /// <summary>
    /// The Excel serial of a date and time (1900 date system): whole days since 1899-12-31, counting the 1900-02-29
    /// Excel invents for Lotus 1-2-3 compatibility, plus the time as a fraction of a day. Null before 1900-01-01,
    /// which Excel cannot show as a date.
    /// </summary>
    public static double? ToSerial(DateTime value)
    {
        if (value < FirstSerialDate)
        {
            return null;
        }
        var epoch = value < FirstDateAfterLeapBug ? new DateTime(1899, 12, 31) : new DateTime(1899, 12, 30);
        return (value.Date - epoch).Days + value.TimeOfDay.Ticks / (double)TimeSpan.TicksPerDay;
    }

    private static ExportCell Text(string text, bool neutralize) => new(ExportKind.Text, neutralize ? Neutralize(text) : text);

    private static ExportCell Number(string text) => new(ExportKind.Number, text, text);

    private static ExportCell Integer(string text, bool fitsExcel) =>
        fitsExcel ? Number(text) : new(ExportKind.Literal, text);

    // NaN and infinities have no number form in a workbook; both formats spell them as .NET does.
    private static ExportCell Real(string text, bool finite) => finite ? Number(text) : new(ExportKind.Literal, text);

    private static ExportCell Date(DateOnly date)
    {
        var text = date.ToString(DateFormat, Invariant);
        return ToSerial(date.ToDateTime(TimeOnly.MinValue)) is { } serial
            ? new(ExportKind.Date, text, Serial(serial))
            : new(ExportKind.Literal, text);
    }

    private static ExportCell DateTimeCell(DateTime value)
    {
        var text = value.ToString(DateTimeFormat, Invariant);
        return ToSerial(value) is { } serial ? new(ExportKind.DateTime, text, Serial(serial)) : new(ExportKind.Literal, text);
    }

    private static ExportCell Instant(DateTimeOffset value)
    {
        var text = value.ToString(InstantFormat, Invariant);
        return ToSerial(value.UtcDateTime) is { } serial ? new(ExportKind.Instant, text, Serial(serial)) : new(ExportKind.Literal, text);
    }

    /// <summary>Total hours, minutes and seconds (36:00:00), as the workbook's [h]:mm:ss format shows it.</summary>
    private static ExportCell Duration(TimeSpan value)
    {
        var magnitude = value.Duration();
        var text = new StringBuilder();
        if (value < TimeSpan.Zero)
        {
            text.Append('-');
        }
        text.Append(((long)magnitude.TotalHours).ToString(Invariant))
            .Append(':').Append(magnitude.Minutes.ToString("00", Invariant))
            .Append(':').Append(magnitude.Seconds.ToString("00", Invariant));
        var fraction = magnitude.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            text.Append('.').Append(fraction.ToString("0000000", Invariant).TrimEnd('0'));
        }
        // Excel shows negative durations as ####, so those stay text.
        return value < TimeSpan.Zero
            ? new(ExportKind.Literal, text.ToString())
            : new(ExportKind.Duration, text.ToString(), Serial(value.Ticks / (double)TimeSpan.TicksPerDay));
    }

    private static string Serial(double serial) => serial.ToString("R", Invariant);

    private static byte[] ReadAll(Stream blob)
    {
        using var copy = new MemoryStream();
        blob.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Lists and maps (DuckDB LIST, STRUCT, MAP) as [a, b] and {key: value}, as DuckDB prints them.</summary>
    private static string Nested(object value)
    {
        var text = new StringBuilder();
        AppendNested(text, value);
        return text.ToString();
    }

    private static void AppendNested(StringBuilder text, object? value)
    {
        switch (value)
        {
            case IDictionary map:
                text.Append('{');
                var first = true;
                foreach (DictionaryEntry entry in map)
                {
                    text.Append(first ? "" : ", ");
                    first = false;
                    AppendNested(text, entry.Key);
                    text.Append(": ");
                    AppendNested(text, entry.Value);
                }
                text.Append('}');
                break;
            case IEnumerable list and not string and not byte[]:
                text.Append('[');
                var firstItem = true;
                foreach (var item in list)
                {
                    text.Append(firstItem ? "" : ", ");
                    firstItem = false;
                    AppendNested(text, item);
                }
                text.Append(']');
                break;
            default:
                // Items are inside the brackets, so only the whole text is checked for a leading formula character.
                text.Append(Format(value, neutralize: false).Text);
                break;
        }
    }
}
