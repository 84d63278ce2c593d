namespace SegmentPortal.Core.Alerts;

/// <summary>What an alert on a figure watches for.</summary>
public enum AlertConditionKind
{
    /// <summary>The value is above <see cref="AlertCondition.Threshold"/>.</summary>
    Above,

    /// <summary>The value is below <see cref="AlertCondition.Threshold"/>.</summary>
    Below,

    /// <summary>The value is outside <see cref="AlertCondition.Low"/> … <see cref="AlertCondition.High"/> (either may be open).</summary>
    OutsideBand,

    /// <summary>The value has moved from the comparison value by more than <see cref="AlertCondition.ChangePercent"/> per cent, in <see cref="AlertCondition.Direction"/>.</summary>
    Change,

    /// <summary>The value is outside the range the figure's own recent history predicts (<see cref="AlertCondition.Method"/>).</summary>
    Unusual,

    /// <summary>The value is on the wrong side of the metric's target, as the metric's direction says.</summary>
    MissesTarget,
}

/// <summary>Which way a change must go to count.</summary>
public enum ChangeDirection
{
    Either,
    Up,
    Down,
}

/// <summary>How "unusual" is decided.</summary>
public enum UnusualMethod
{
    /// <summary>
    /// Robust band: the median of the last <see cref="AlertCondition.HistoryPeriods"/> periods before the current one,
    /// plus or minus <see cref="AlertCondition.Sensitivity"/> robust standard deviations (1.4826 × the median absolute
    /// deviation; where half or more of the history is equal, 1.2533 × the mean absolute deviation, as in Iglewicz and
    /// Hoaglin's modified z-score).
    /// </summary>
    MedianMad,

    /// <summary>
    /// The same band over the same weekday only (daily figures): the last <see cref="AlertCondition.HistoryPeriods"/>
    /// values that fell on the current period's weekday.
    /// </summary>
    SameWeekday,
}

/// <summary>
/// The condition of an alert, as saved with it (JSON). Only the fields its <see cref="Kind"/> uses are read;
/// <see cref="AlertConditions.Validate"/> says what is missing in the user's words.
/// </summary>
public sealed record AlertCondition
{
    public AlertConditionKind Kind { get; init; }

    /// <summary><see cref="AlertConditionKind.Above"/> and <see cref="AlertConditionKind.Below"/>.</summary>
    public double? Threshold { get; init; }

    /// <summary><see cref="AlertConditionKind.OutsideBand"/>: the lowest value that is still fine.</summary>
    public double? Low { get; init; }

    /// <summary><see cref="AlertConditionKind.OutsideBand"/>: the highest value that is still fine.</summary>
    public double? High { get; init; }

    /// <summary><see cref="AlertConditionKind.Change"/>: how many per cent (10 is 10%).</summary>
    public double? ChangePercent { get; init; }

    public ChangeDirection Direction { get; init; } = ChangeDirection.Either;

    public UnusualMethod Method { get; init; } = UnusualMethod.MedianMad;

    /// <summary><see cref="AlertConditionKind.Unusual"/>: how many past periods the band is learnt from.</summary>
    public int HistoryPeriods { get; init; } = AlertConditions.DefaultHistory;

    /// <summary><see cref="AlertConditionKind.Unusual"/>: the band's half-width in robust standard deviations.</summary>
    public double Sensitivity { get; init; } = AlertConditions.DefaultSensitivity;
}
