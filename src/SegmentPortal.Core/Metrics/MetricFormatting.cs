using System.Globalization;

namespace SegmentPortal.Core.Metrics;

/// <summary>
/// How a metric's numbers are written (the page, the list, and later messages), and where a value stands against its
/// target and bands. Values are in the metric's own scale: a percentage metric holds fractions (0.35 is 35%).
/// </summary>
public static class MetricFormatting
{
    public const string Missing = "—";

    public const int MaxDecimals = 6;

    /// <summary>A value as the metric writes it: "1,234 orders", "35.0%", "€1,234.50", "1,234.50 EUR"; "—" for none.</summary>
    public static string Format(double? value, MetricFormat format, string? unit, int decimals, CultureInfo? culture = null)
    {
        if (value is not { } v || !double.IsFinite(v))
        {
            return Missing;
        }
        culture ??= CultureInfo.CurrentCulture;
        var places = Math.Clamp(decimals, 0, MaxDecimals);
        var clean = string.IsNullOrWhiteSpace(unit) ? null : unit.Trim();
        switch (format)
        {
            case MetricFormat.Percent:
                return (v * 100).ToString("N" + places, culture) + "%" + (clean is null ? "" : " " + clean);
            case MetricFormat.Currency:
                var amount = Math.Abs(v).ToString("N" + places, culture);
                var sign = v < 0 ? "-" : "";
                // A symbol goes before the amount (€12.50), a code after it (12.50 EUR).
                return clean is null ? sign + amount
                    : clean.Length <= 2 && !clean.All(char.IsLetter) ? sign + clean + amount
                    : $"{sign}{amount} {clean}";
            default:
                return v.ToString("N" + places, culture) + (clean is null ? "" : " " + clean);
        }
    }

    /// <summary>A change between two values in the metric's format, with its sign ("+1,200 orders"; a percentage's change in points, "−2.5%").</summary>
    public static string Change(double? change, MetricFormat format, string? unit, int decimals, CultureInfo? culture = null)
    {
        if (change is not { } c || !double.IsFinite(c))
        {
            return Missing;
        }
        var text = Format(Math.Abs(c), format, unit, decimals, culture);
        return c > 0 ? "+" + text : c < 0 ? "−" + text : text;
    }

    /// <summary>A relative change ("+12.3%", "−5.0%").</summary>
    public static string Relative(double? change, CultureInfo? culture = null)
    {
        if (change is not { } c || !double.IsFinite(c))
        {
            return Missing;
        }
        var text = (Math.Abs(c) * 100).ToString("N1", culture ?? CultureInfo.CurrentCulture) + "%";
        return c > 0 ? "+" + text : c < 0 ? "−" + text : text;
    }

    /// <summary>A value as the editor shows it: percentages as percent (0.35 → 35).</summary>
    public static double? ToDisplay(double? value, MetricFormat format) => value is { } v && format == MetricFormat.Percent ? v * 100 : value;

    /// <summary>A value typed in the editor, in the metric's scale (35 → 0.35 for percentages).</summary>
    public static double? FromDisplay(double? value, MetricFormat format) => value is { } v && format == MetricFormat.Percent ? v / 100 : value;

    public static string Direction(MetricDirection direction) => direction switch
    {
        MetricDirection.HigherIsBetter => "higher is better",
        MetricDirection.LowerIsBetter => "lower is better",
        _ => "neither way is better",
    };

    /// <summary>
    /// Whether a change is good (+1), bad (−1) or neither (0) for the metric's direction.
    /// </summary>
    public static int Judge(double? change, MetricDirection direction) => change switch
    {
        null or 0 => 0,
        { } c when double.IsNaN(c) => 0,
        { } c => direction switch
        {
            MetricDirection.HigherIsBetter => Math.Sign(c),
            MetricDirection.LowerIsBetter => -Math.Sign(c),
            _ => 0,
        },
    };

    /// <summary>
    /// Where <paramref name="value"/> stands: bad past the bad line, a warning past the warning line, off target short of
    /// the target, on target otherwise. Without a direction, or without any target or band, there is no status.
    /// </summary>
    public static MetricStatus Status(double? value, MetricDirection direction, double? target, double? warnAt, double? badAt)
    {
        if (value is not { } v || direction == MetricDirection.None || (target is null && warnAt is null && badAt is null))
        {
            return MetricStatus.None;
        }
        bool Past(double? line) => line is { } l && (direction == MetricDirection.HigherIsBetter ? v < l : v > l);
        return Past(badAt) ? MetricStatus.Bad
            : Past(warnAt) ? MetricStatus.Warning
            : Past(target) ? MetricStatus.OffTarget
            : MetricStatus.OnTarget;
    }
}
