using System.Globalization;
using System.Text;

namespace SegmentPortal.Core.Import.Excel;

/// <summary>What a number format makes of a number, as far as the CSV is concerned.</summary>
internal enum XlsxDateKind
{
    /// <summary>A plain number.</summary>
    None,

    /// <summary>A calendar date: written as yyyy-MM-dd.</summary>
    Date,

    /// <summary>A date with a time of day: written as yyyy-MM-dd HH:mm:ss.</summary>
    DateTime,

    /// <summary>A time of day: written as HH:mm:ss.</summary>
    Time,

    /// <summary>A duration such as [h]:mm:ss: written as total hours, minutes and seconds (36:00:00).</summary>
    Elapsed,
}

/// <summary>Turns Excel's stored cell values (numbers, date serials) into the text the CSV carries.</summary>
internal static class XlsxValueFormatter
{
    // The largest serial Excel accepts: 9999-12-31.
    private const double MaxSerial = 2_958_465;

    // Exponents beyond this are kept as written: expanding them would write hundreds of zeros.
    private const int MaxExpandedExponent = 30;

    /// <summary>
    /// Built-in number format ids that are dates or times. Workbooks name these by id only, with no format code:
    /// 14–22 and 45–47 everywhere; 27–36 and 50–58 are the date and time formats of Chinese, Japanese and Korean Excel.
    /// </summary>
    public static XlsxDateKind ClassifyBuiltIn(uint id) => id switch
    {
        >= 14 and <= 17 => XlsxDateKind.Date,
        >= 18 and <= 21 => XlsxDateKind.Time,
        22 => XlsxDateKind.DateTime,
        45 or 47 => XlsxDateKind.Time,
        46 => XlsxDateKind.Elapsed,
        >= 27 and <= 31 or 36 or >= 50 and <= 54 or 57 or 58 => XlsxDateKind.Date,
        >= 32 and <= 35 or 55 or 56 => XlsxDateKind.Time,
        _ => XlsxDateKind.None,
    };

    /// <summary>
    /// Classifies a custom format code by its date and time letters (d, m, y, h, s) outside quoted text, escaped
    /// characters and [brackets] (colours, conditions, locales), in the first section (the one for positive numbers).
    /// "m" is minutes beside h or s and months otherwise; [h], [m] or [s] make a duration.
    /// </summary>
    public static XlsxDateKind ClassifyFormatCode(string? code)
    {
        if (string.IsNullOrEmpty(code))
        {
            return XlsxDateKind.None;
        }
        bool hasDay = false, hasMonth = false, hasYear = false, hasHour = false, hasSecond = false, elapsed = false;
        for (var i = 0; i < code.Length; i++)
        {
            var c = code[i];
            switch (c)
            {
                case ';':
                    i = code.Length;
                    continue;
                case '"':
                    var close = code.IndexOf('"', i + 1);
                    i = close < 0 ? code.Length : close;
                    continue;
                case '\\' or '_' or '*':
                    // An escaped character, a space the width of a character, or a fill character.
                    i++;
                    continue;
                case '[':
                    var end = code.IndexOf(']', i + 1);
                    var inside = end < 0 ? code[(i + 1)..] : code[(i + 1)..end];
                    if (inside.Length > 0 && inside.All(ch => char.ToLowerInvariant(ch) == char.ToLowerInvariant(inside[0]))
                        && char.ToLowerInvariant(inside[0]) is 'h' or 'm' or 's')
                    {
                        elapsed = true;
                    }
                    i = end < 0 ? code.Length : end;
                    continue;
            }
            switch (char.ToLowerInvariant(c))
            {
                case 'd':
                    hasDay = true;
                    break;
                case 'm':
                    hasMonth = true;
                    break;
                case 'y':
                    hasYear = true;
                    break;
                case 'h':
                    hasHour = true;
                    break;
                case 's':
                    hasSecond = true;
                    break;
            }
        }
        if (elapsed)
        {
            return XlsxDateKind.Elapsed;
        }
        var hasTime = hasHour || hasSecond;
        var hasDate = hasDay || hasYear || (hasMonth && !hasTime);
        return (hasDate, hasTime) switch
        {
            (true, true) => XlsxDateKind.DateTime,
            (true, false) => XlsxDateKind.Date,
            (false, true) => XlsxDateKind.Time,
            _ => XlsxDateKind.None,
        };
    }

    /// <summary>
    /// A date serial as ISO text, or null when Excel itself cannot show it as a date (negative, past 9999-12-31, or
    /// 1900-02-29, a day Excel invents for compatibility with Lotus 1-2-3).
    /// </summary>
    public static string? FormatSerial(double serial, XlsxDateKind kind, bool date1904)
    {
        if (!double.IsFinite(serial))
        {
            return null;
        }
        if (kind == XlsxDateKind.Elapsed)
        {
            var total = (long)Math.Round(Math.Abs(serial) * 86_400, MidpointRounding.AwayFromZero);
            var sign = serial < 0 && total > 0 ? "-" : "";
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{total / 3600}:{total / 60 % 60:00}:{total % 60:00}");
        }
        if (serial < 0 || serial > MaxSerial)
        {
            return null;
        }
        // Rounded to whole seconds, as Excel shows them.
        var seconds = (long)Math.Round(serial * 86_400, MidpointRounding.AwayFromZero);
        var days = seconds / 86_400;
        var time = TimeSpan.FromSeconds(seconds % 86_400);
        if (kind == XlsxDateKind.Time)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{time:hh\\:mm\\:ss}");
        }

        DateTime date;
        if (date1904)
        {
            date = new DateTime(1904, 1, 1).AddDays(days);
        }
        else if (days == 60)
        {
            return null;
        }
        else
        {
            // Serial 1 is 1900-01-01; from 61 on, one day is taken back for the invented 1900-02-29.
            date = (days < 60 ? new DateTime(1899, 12, 31) : new DateTime(1899, 12, 30)).AddDays(days);
        }
        if (date.Year > 9999)
        {
            return null;
        }
        return kind == XlsxDateKind.DateTime
            ? (date + time).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A stored number as plain decimal text with every digit Excel stored: the stored text is kept, except that an
    /// exponent ("1.2345678901234567E+20") is expanded by moving the decimal point, so nothing is rounded and large
    /// integers do not come out in scientific notation. Text that is not a number is returned as it is.
    /// </summary>
    public static string FormatNumber(string stored)
    {
        var text = stored.Trim();
        var e = text.AsSpan().IndexOfAny('E', 'e');
        if (e < 0 || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return text;
        }
        if (!int.TryParse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent)
            || Math.Abs(exponent) > MaxExpandedExponent)
        {
            return text;
        }

        var mantissa = text.AsSpan(0, e);
        var negative = mantissa.StartsWith("-");
        if (negative || mantissa.StartsWith("+"))
        {
            mantissa = mantissa[1..];
        }
        var point = mantissa.IndexOf('.');
        var digits = point < 0 ? mantissa.ToString() : string.Concat(mantissa[..point], mantissa[(point + 1)..]);
        // Position of the decimal point within digits once the exponent is applied.
        var position = (point < 0 ? mantissa.Length : point) + exponent;

        string integer, fraction;
        if (position <= 0)
        {
            integer = "0";
            fraction = new string('0', -position) + digits;
        }
        else if (position >= digits.Length)
        {
            integer = digits + new string('0', position - digits.Length);
            fraction = "";
        }
        else
        {
            integer = digits[..position];
            fraction = digits[position..];
        }
        integer = integer.TrimStart('0');
        fraction = fraction.TrimEnd('0');
        if (integer.Length == 0)
        {
            integer = "0";
        }

        var result = new StringBuilder(integer.Length + fraction.Length + 2);
        if (negative && (integer != "0" || fraction.Length > 0))
        {
            result.Append('-');
        }
        result.Append(integer);
        if (fraction.Length > 0)
        {
            result.Append('.').Append(fraction);
        }
        return result.ToString();
    }

    /// <summary>An ISO 8601 value from a cell of type "d" (newer and Strict workbooks), in the CSV's date forms.</summary>
    public static string FormatIsoDate(string stored)
    {
        if (!DateTime.TryParse(stored, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value))
        {
            return stored;
        }
        if (!stored.Contains('T') && !stored.Contains(':'))
        {
            return value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }
        return stored.Contains('-')
            ? value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : value.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
    }
}
