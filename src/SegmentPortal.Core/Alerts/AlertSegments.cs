using System.Globalization;

namespace SegmentPortal.Core.Alerts;

/// <summary>What a segment check read: the two latest refreshes' sizes and who entered and left at the latest.</summary>
public sealed record SegmentReading(long Size, long? PreviousSize, IReadOnlyList<string> Entered, IReadOnlyList<string> Left, IReadOnlyList<string>? MovedTo = null);

/// <summary>Segment alert conditions as pure functions: validation, a description and one check's outcome.</summary>
public static class AlertSegments
{
    public static string? Validate(SegmentAlertCondition condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return condition.Kind switch
        {
            SegmentAlertKind.SizeChange when condition.ChangePercent is null && condition.ChangeCount is null =>
                "Say by how many per cent or customers the size must change.",
            SegmentAlertKind.SizeChange when condition.ChangePercent is <= 0 || condition.ChangePercent is { } p && !double.IsFinite(p) =>
                "The change in per cent must be more than 0.",
            SegmentAlertKind.SizeChange when condition.ChangeCount is <= 0 => "The change in customers must be at least 1.",
            SegmentAlertKind.MovedTo when condition.ToSegmentId is null => "Choose the segment customers move to.",
            _ when condition.MinCustomers < 1 => "At least 1 customer must move.",
            _ when condition.ListCap is < 0 or > SegmentAlertCondition.MaxListCap => $"List between 0 and {SegmentAlertCondition.MaxListCap} customers.",
            _ when !Enum.IsDefined(condition.Kind) => "Choose what the alert watches for.",
            _ => null,
        };
    }

    public static string Describe(SegmentAlertCondition condition, string? toSegment)
    {
        var direction = condition.Direction switch
        {
            ChangeDirection.Up => "grows",
            ChangeDirection.Down => "shrinks",
            _ => "changes",
        };
        return condition.Kind switch
        {
            SegmentAlertKind.SizeChange => $"size {direction} by more than " + string.Join(" or ",
                new[]
                {
                    condition.ChangePercent is { } p ? p.ToString("0.##", CultureInfo.InvariantCulture) + "%" : null,
                    condition.ChangeCount is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) + " customers" : null,
                }.OfType<string>()),
            SegmentAlertKind.EnteredOrLeft => condition.MinCustomers <= 1
                ? "any customer enters or leaves"
                : $"at least {condition.MinCustomers:N0} customers enter or leave",
            _ => $"{(condition.MinCustomers <= 1 ? "any customer moves" : $"at least {condition.MinCustomers:N0} customers move")} to {toSegment ?? "(deleted segment)"}",
        };
    }

    /// <summary>One check of a segment condition.</summary>
    public static AlertReading Evaluate(SegmentAlertCondition condition, SegmentReading reading, string? toSegment)
    {
        switch (condition.Kind)
        {
            case SegmentAlertKind.SizeChange:
                {
                    if (reading.PreviousSize is not { } before)
                    {
                        return new AlertReading(AlertOutcome.NotEvaluable, reading.Size, null, null, "The segment has been refreshed only once; there is no earlier size to compare with.");
                    }
                    var change = reading.Size - before;
                    var percent = before == 0 ? (double?)null : change * 100.0 / before;
                    bool Beyond(double amount, double? limit) => limit is { } l && condition.Direction switch
                    {
                        ChangeDirection.Up => amount > l,
                        ChangeDirection.Down => amount < -l,
                        _ => Math.Abs(amount) > l,
                    };
                    var moved = Beyond(change, condition.ChangeCount) || (percent is { } pc && Beyond(pc, condition.ChangePercent))
                        || (before == 0 && change > 0 && condition.ChangePercent is not null && condition.Direction != ChangeDirection.Down);
                    var text = $"{reading.Size:N0} customers against {before:N0} at the refresh before ({change:+#,##0;-#,##0;0}"
                        + (percent is { } q ? $", {q.ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture)}%" : "") + ")"
                        + (moved ? "." : ", within the limit.");
                    return new AlertReading(moved ? AlertOutcome.Firing : AlertOutcome.Clear, reading.Size, before, null, text);
                }
            case SegmentAlertKind.EnteredOrLeft:
                {
                    var count = reading.Entered.Count + reading.Left.Count;
                    var fired = count >= condition.MinCustomers && count > 0;
                    return new AlertReading(fired ? AlertOutcome.Firing : AlertOutcome.Clear, reading.Size, reading.PreviousSize, null,
                        $"{reading.Entered.Count:N0} entered and {reading.Left.Count:N0} left at the last refresh.");
                }
            default:
                {
                    var moved = reading.MovedTo ?? [];
                    var fired = moved.Count >= condition.MinCustomers && moved.Count > 0;
                    return new AlertReading(fired ? AlertOutcome.Firing : AlertOutcome.Clear, moved.Count, null, null,
                        $"{moved.Count:N0} customer{(moved.Count == 1 ? "" : "s")} moved to {toSegment ?? "the other segment"} at the last refresh.");
                }
        }
    }
}
