namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>
/// The day counts that split customers into lifecycle stages (see <see cref="Lifecycle.Stage"/>). By default they come
/// from the gaps between a customer's purchases: <see cref="ActiveDays"/> and <see cref="NewDays"/> are the median gap,
/// <see cref="AtRiskDays"/> the 90th percentile, <see cref="DormantDays"/> twice that.
/// </summary>
public sealed record LifecycleThresholds(int NewDays, int ActiveDays, int AtRiskDays, int DormantDays)
{
    /// <summary>The defaults from the typical gap and the 90th percentile of the gaps.</summary>
    public static LifecycleThresholds FromGaps(int medianGap, int gap90)
    {
        var active = Math.Max(1, medianGap);
        var atRisk = Math.Max(active + 1, gap90);
        return new LifecycleThresholds(active, active, atRisk, Math.Max(atRisk + 1, 2 * atRisk));
    }

    /// <summary>Why these thresholds cannot be used, or null when they can.</summary>
    public string? Problem() =>
        NewDays < 0 || ActiveDays < 0 ? "Lifecycle thresholds cannot be negative."
        : !(ActiveDays < AtRiskDays && AtRiskDays < DormantDays) ? "Lifecycle thresholds must grow: active < at risk < dormant days."
        : null;
}

/// <summary>
/// The lifecycle stage rule. For a customer with at least one order, as of a day, with d = days since the last order:
/// <list type="number">
/// <item><b>new</b>: the first order is at most <see cref="LifecycleThresholds.NewDays"/> days old;</item>
/// <item>d ≤ <see cref="LifecycleThresholds.ActiveDays"/>: <b>returning</b> when the gap before the last order was longer
/// than <see cref="LifecycleThresholds.AtRiskDays"/> (they came back after being at risk), otherwise <b>active</b>;</item>
/// <item>d ≤ <see cref="LifecycleThresholds.AtRiskDays"/>: <b>at risk</b>;</item>
/// <item>d ≤ <see cref="LifecycleThresholds.DormantDays"/>: <b>dormant</b>;</item>
/// <item>otherwise <b>lost</b>.</item>
/// </list>
/// A customer without orders has no stage.
/// </summary>
public static class Lifecycle
{
    public const string New = "new";
    public const string Active = "active";
    public const string Returning = "returning";
    public const string AtRisk = "at risk";
    public const string Dormant = "dormant";
    public const string Lost = "lost";

    /// <summary>The stages in their natural order, for charts and pickers.</summary>
    public static IReadOnlyList<string> Stages { get; } = [New, Active, Returning, AtRisk, Dormant, Lost];

    /// <param name="daysSinceFirst">Days from the first order to the day.</param>
    /// <param name="daysSinceLast">Days from the last order to the day.</param>
    /// <param name="gapBeforeLast">Days between the last two orders; null with one order.</param>
    public static string Stage(int daysSinceFirst, int daysSinceLast, int? gapBeforeLast, LifecycleThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (daysSinceFirst <= thresholds.NewDays)
        {
            return New;
        }
        if (daysSinceLast <= thresholds.ActiveDays)
        {
            return gapBeforeLast > thresholds.AtRiskDays ? Returning : Active;
        }
        return daysSinceLast <= thresholds.AtRiskDays ? AtRisk
            : daysSinceLast <= thresholds.DormantDays ? Dormant
            : Lost;
    }

    /// <summary>One sentence per stage, for the page.</summary>
    public static string Describe(string stage, LifecycleThresholds t) => stage switch
    {
        New => $"New: first order in the last {t.NewDays} days.",
        Active => $"Active: ordered in the last {t.ActiveDays} days.",
        Returning => $"Returning: ordered in the last {t.ActiveDays} days after a gap of more than {t.AtRiskDays} days.",
        AtRisk => $"At risk: last order {t.ActiveDays + 1}–{t.AtRiskDays} days ago.",
        Dormant => $"Dormant: last order {t.AtRiskDays + 1}–{t.DormantDays} days ago.",
        Lost => $"Lost: no order for more than {t.DormantDays} days.",
        _ => stage,
    };
}
