using System.Globalization;
using SegmentPortal.Core.Metrics;

namespace SegmentPortal.Core.Alerts;

/// <summary>One past period of the watched figure (oldest first in a history): its first day and its value, if any.</summary>
public sealed record AlertHistoryPoint(DateOnly Start, double? Value);

/// <summary>
/// What a check reads: the current value, the value it is compared with (the previous period, like for like), the
/// periods before the current one (for <see cref="AlertConditionKind.Unusual"/>), and the metric's target and direction.
/// </summary>
public sealed record AlertInput(
    double? Value,
    double? Comparison = null,
    IReadOnlyList<AlertHistoryPoint>? History = null,
    DateOnly? CurrentStart = null,
    double? Target = null,
    MetricDirection Direction = MetricDirection.None);

public enum AlertOutcome
{
    /// <summary>The condition does not hold.</summary>
    Clear,

    /// <summary>The condition holds.</summary>
    Firing,

    /// <summary>The check could not decide (no value, no comparison, too little history); the alert keeps its state.</summary>
    NotEvaluable,
}

/// <summary>The range of fine values a check used (either side may be open): drawn on the figure's chart.</summary>
public sealed record AlertBand(double? Low, double? High);

/// <summary>One check's answer, with the figures behind it and why, in words.</summary>
public sealed record AlertReading(AlertOutcome Outcome, double? Value, double? Compared, AlertBand? Band, string Reason);

/// <summary>What a check changes: an alert fires once when its condition starts and once when it clears.</summary>
public enum AlertTransition
{
    None,
    Fired,
    Cleared,
}

/// <summary>
/// Alert conditions as pure functions: validation, evaluation of one check, the fire/clear transition and whether a
/// transition is sent. Nothing here reads data; the caller supplies the figures as the alert's owner sees them.
/// </summary>
public static class AlertConditions
{
    public const int DefaultHistory = 12;
    public const double DefaultSensitivity = 3;
    public const int MinHistory = 4;
    public const int MaxHistory = 120;

    /// <summary>1 / Φ⁻¹(0.75): the median absolute deviation of a normal sample times this estimates its standard deviation.</summary>
    public const double MadScale = 1.482602218505602;

    /// <summary>√(π/2): the mean absolute deviation of a normal sample times this estimates its standard deviation.</summary>
    public const double MeanAbsoluteDeviationScale = 1.2533141373155001;

    /// <summary>The first thing wrong with a condition, in the user's words; null when it can be saved.</summary>
    public static string? Validate(AlertCondition condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        static bool Finite(double? v) => v is { } x && double.IsFinite(x);
        return condition.Kind switch
        {
            AlertConditionKind.Above or AlertConditionKind.Below when !Finite(condition.Threshold) =>
                "Enter the threshold the value is compared with.",
            AlertConditionKind.OutsideBand when condition.Low is null && condition.High is null =>
                "Enter the lowest or the highest value that is still fine (or both).",
            AlertConditionKind.OutsideBand when (condition.Low is { } l && !double.IsFinite(l)) || (condition.High is { } h && !double.IsFinite(h)) =>
                "The band's limits must be numbers.",
            AlertConditionKind.OutsideBand when condition.Low > condition.High =>
                "The lowest fine value must not be above the highest.",
            AlertConditionKind.Change when !Finite(condition.ChangePercent) || condition.ChangePercent <= 0 =>
                "Enter by how many per cent the value must change (more than 0).",
            AlertConditionKind.Unusual when condition.HistoryPeriods is < MinHistory or > MaxHistory =>
                $"Learn the usual range from {MinHistory} to {MaxHistory} past periods.",
            AlertConditionKind.Unusual when !double.IsFinite(condition.Sensitivity) || condition.Sensitivity <= 0 =>
                "The sensitivity must be a number above 0 (3 is usual).",
            _ when !Enum.IsDefined(condition.Kind) => "Choose what the alert watches for.",
            _ => null,
        };
    }

    /// <summary>One check of <paramref name="condition"/> on <paramref name="input"/>; values in the reason are written by <paramref name="format"/>.</summary>
    public static AlertReading Evaluate(AlertCondition condition, AlertInput input, Func<double, string>? format = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(input);
        format ??= v => v.ToString("#,##0.##", CultureInfo.InvariantCulture);
        if (Validate(condition) is { } problem)
        {
            return new AlertReading(AlertOutcome.NotEvaluable, input.Value, null, null, problem);
        }
        if (input.Value is not { } value || !double.IsFinite(value))
        {
            return new AlertReading(AlertOutcome.NotEvaluable, null, null, null, "There is no current value to check.");
        }
        return condition.Kind switch
        {
            AlertConditionKind.Above => Beyond(value, null, condition.Threshold, format),
            AlertConditionKind.Below => Beyond(value, condition.Threshold, null, format),
            AlertConditionKind.OutsideBand => Beyond(value, condition.Low, condition.High, format),
            AlertConditionKind.Change => Change(condition, value, input.Comparison, format),
            AlertConditionKind.Unusual => Unusual(condition, value, input, format),
            AlertConditionKind.MissesTarget => Target(value, input, format),
            _ => throw new ArgumentOutOfRangeException(nameof(condition)),
        };
    }

    /// <summary>The condition in words ("below 35%", "unusual: outside median ± 3 robust deviations of the last 12 periods").</summary>
    public static string Describe(AlertCondition condition, Func<double, string>? format = null)
    {
        format ??= v => v.ToString("#,##0.##", CultureInfo.InvariantCulture);
        string F(double? v) => v is { } x ? format(x) : "?";
        var percent = condition.ChangePercent?.ToString("0.##", CultureInfo.InvariantCulture);
        return condition.Kind switch
        {
            AlertConditionKind.Above => $"above {F(condition.Threshold)}",
            AlertConditionKind.Below => $"below {F(condition.Threshold)}",
            AlertConditionKind.OutsideBand => (condition.Low, condition.High) switch
            {
                ({ }, { }) => $"outside {F(condition.Low)} – {F(condition.High)}",
                ({ }, null) => $"below {F(condition.Low)}",
                _ => $"above {F(condition.High)}",
            },
            AlertConditionKind.Change => condition.Direction switch
            {
                ChangeDirection.Up => $"up more than {percent}% on the previous period",
                ChangeDirection.Down => $"down more than {percent}% on the previous period",
                _ => $"changes more than {percent}% on the previous period",
            },
            AlertConditionKind.Unusual => condition.Method == UnusualMethod.SameWeekday
                ? $"unusual: outside median ± {condition.Sensitivity.ToString("0.##", CultureInfo.InvariantCulture)} robust deviations of the last {condition.HistoryPeriods} same weekdays"
                : $"unusual: outside median ± {condition.Sensitivity.ToString("0.##", CultureInfo.InvariantCulture)} robust deviations of the last {condition.HistoryPeriods} periods",
            AlertConditionKind.MissesTarget => "misses the target",
            _ => "",
        };
    }

    /// <summary>What a check's outcome does to an alert that was (or was not) firing.</summary>
    public static AlertTransition Next(bool wasFiring, AlertOutcome outcome) => outcome switch
    {
        AlertOutcome.Firing when !wasFiring => AlertTransition.Fired,
        AlertOutcome.Clear when wasFiring => AlertTransition.Cleared,
        _ => AlertTransition.None,
    };

    /// <summary>Whether a transition is sent: never while the alert is muted or snoozed (the check is still recorded).</summary>
    public static bool Sends(AlertTransition transition, bool muted, DateTimeOffset? snoozedUntil, DateTimeOffset now) =>
        transition != AlertTransition.None && !muted && !(snoozedUntil > now);

    /// <summary>
    /// The usual range learnt from <paramref name="history"/> (values without a figure skipped): median ± sensitivity
    /// robust standard deviations. Null when fewer than <see cref="MinHistory"/> values are there.
    /// </summary>
    public static AlertBand? UsualRange(IEnumerable<double> history, double sensitivity)
    {
        var values = history.Where(double.IsFinite).ToArray();
        if (values.Length < MinHistory)
        {
            return null;
        }
        var median = Median(values);
        var deviations = values.Select(v => Math.Abs(v - median)).ToArray();
        var mad = Median(deviations);
        var spread = mad > 0 ? MadScale * mad : MeanAbsoluteDeviationScale * deviations.Average();
        return new AlertBand(median - sensitivity * spread, median + sensitivity * spread);
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        var middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static AlertReading Beyond(double value, double? low, double? high, Func<double, string> format)
    {
        var band = new AlertBand(low, high);
        if (low is { } l && value < l)
        {
            return new AlertReading(AlertOutcome.Firing, value, l, band, $"{format(value)} is below {format(l)}.");
        }
        if (high is { } h && value > h)
        {
            return new AlertReading(AlertOutcome.Firing, value, h, band, $"{format(value)} is above {format(h)}.");
        }
        var within = (low, high) switch
        {
            ({ } a, { } b) => $"between {format(a)} and {format(b)}",
            ({ } a, null) => $"not below {format(a)}",
            (null, { } b) => $"not above {format(b)}",
            _ => "",
        };
        return new AlertReading(AlertOutcome.Clear, value, low ?? high, band, $"{format(value)} is {within}.");
    }

    private static AlertReading Change(AlertCondition condition, double value, double? comparison, Func<double, string> format)
    {
        if (comparison is not { } previous || !double.IsFinite(previous))
        {
            return new AlertReading(AlertOutcome.NotEvaluable, value, null, null, "There is no previous value to compare with.");
        }
        if (previous == 0)
        {
            return new AlertReading(AlertOutcome.NotEvaluable, value, previous, null, "The previous value is 0, so a change in per cent cannot be worked out.");
        }
        var percent = (value - previous) / Math.Abs(previous) * 100;
        var limit = condition.ChangePercent!.Value;
        var moved = condition.Direction switch
        {
            ChangeDirection.Up => percent > limit,
            ChangeDirection.Down => percent < -limit,
            _ => Math.Abs(percent) > limit,
        };
        var band = new AlertBand(
            condition.Direction == ChangeDirection.Up ? null : previous - Math.Abs(previous) * limit / 100,
            condition.Direction == ChangeDirection.Down ? null : previous + Math.Abs(previous) * limit / 100);
        var change = percent.ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture) + "%";
        var reason = $"{format(value)} against {format(previous)} before: {change}" +
            (moved ? $", more than the {limit.ToString("0.##", CultureInfo.InvariantCulture)}% allowed." : $", within {limit.ToString("0.##", CultureInfo.InvariantCulture)}%.");
        return new AlertReading(moved ? AlertOutcome.Firing : AlertOutcome.Clear, value, previous, band, reason);
    }

    private static AlertReading Unusual(AlertCondition condition, double value, AlertInput input, Func<double, string> format)
    {
        IEnumerable<AlertHistoryPoint> history = input.History ?? [];
        var periods = "periods";
        if (condition.Method == UnusualMethod.SameWeekday)
        {
            if (input.CurrentStart is not { } current)
            {
                return new AlertReading(AlertOutcome.NotEvaluable, value, null, null, "The same-weekday range needs daily figures.");
            }
            history = history.Where(p => p.Start.DayOfWeek == current.DayOfWeek);
            periods = current.DayOfWeek + "s";
        }
        var used = history.Where(p => p.Value is { } v && double.IsFinite(v)).TakeLast(condition.HistoryPeriods).Select(p => p.Value!.Value).ToList();
        if (UsualRange(used, condition.Sensitivity) is not { } band)
        {
            return new AlertReading(AlertOutcome.NotEvaluable, value, null, null,
                $"Too little history to know the usual range: {used.Count} past period{(used.Count == 1 ? "" : "s")} with a value, {MinHistory} needed.");
        }
        var outside = value < band.Low || value > band.High;
        var range = $"{format(band.Low!.Value)} to {format(band.High!.Value)}";
        return new AlertReading(outside ? AlertOutcome.Firing : AlertOutcome.Clear, value, null, band,
            $"{format(value)} is {(outside ? "outside" : "within")} the usual range {range} (median ± {condition.Sensitivity.ToString("0.##", CultureInfo.InvariantCulture)} robust deviations of the last {used.Count} {periods}).");
    }

    private static AlertReading Target(double value, AlertInput input, Func<double, string> format)
    {
        if (input.Target is not { } target || input.Direction == MetricDirection.None)
        {
            return new AlertReading(AlertOutcome.NotEvaluable, value, null, null, "The metric has no target with a good direction.");
        }
        var higher = input.Direction == MetricDirection.HigherIsBetter;
        var misses = higher ? value < target : value > target;
        return new AlertReading(misses ? AlertOutcome.Firing : AlertOutcome.Clear, value, target,
            higher ? new AlertBand(target, null) : new AlertBand(null, target),
            $"{format(value)} is {(misses ? (higher ? "below" : "above") : "on")} the target {format(target)}" +
            (misses ? $" ({(higher ? "higher" : "lower")} is better)." : "."));
    }
}
