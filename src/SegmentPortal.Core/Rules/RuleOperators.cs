
namespace SegmentPortal.Core.Rules;

/// <summary>Which operators each kind of field offers, and how they read.</summary>
public static class RuleOperators
{
    private static readonly IReadOnlyDictionary<FieldKind, RuleOperator[]> ByKind = new Dictionary<FieldKind, RuleOperator[]>
    {
        [FieldKind.Number] =
        [
            RuleOperator.Equals, RuleOperator.NotEquals, RuleOperator.Less, RuleOperator.LessOrEqual, RuleOperator.Greater,
            RuleOperator.GreaterOrEqual, RuleOperator.Between, RuleOperator.IsEmpty, RuleOperator.IsNotEmpty,
        ],
        [FieldKind.Text] =
        [
            RuleOperator.Equals, RuleOperator.NotEquals, RuleOperator.Contains, RuleOperator.NotContains, RuleOperator.StartsWith,
            RuleOperator.NotStartsWith, RuleOperator.EndsWith, RuleOperator.In, RuleOperator.NotIn, RuleOperator.IsEmpty, RuleOperator.IsNotEmpty,
        ],
        [FieldKind.Category] =
        [
            RuleOperator.In, RuleOperator.NotIn, RuleOperator.Equals, RuleOperator.NotEquals, RuleOperator.IsEmpty, RuleOperator.IsNotEmpty,
        ],
        [FieldKind.Date] =
        [
            RuleOperator.On, RuleOperator.Before, RuleOperator.After, RuleOperator.Between, RuleOperator.InLast, RuleOperator.NotInLast,
            RuleOperator.InThis, RuleOperator.InPrevious, RuleOperator.IsEmpty, RuleOperator.IsNotEmpty,
        ],
        [FieldKind.Boolean] = [RuleOperator.IsTrue, RuleOperator.IsFalse, RuleOperator.IsEmpty, RuleOperator.IsNotEmpty],
    };

    public static IReadOnlyList<RuleOperator> For(FieldKind kind) => ByKind[kind];

    /// <summary>The kind of value a fact is compared as.</summary>
    public static FieldKind KindOf(CustomerFact fact) => fact switch
    {
        CustomerFact.FirstOrderDate or CustomerFact.LastOrderDate => FieldKind.Date,
        CustomerFact.BoughtCategory => FieldKind.Category,
        _ => FieldKind.Number,
    };

    public static IReadOnlyList<RuleOperator> For(CustomerFact fact) => fact == CustomerFact.BoughtCategory
        ? [RuleOperator.In, RuleOperator.NotIn]
        : For(KindOf(fact)).Where(o => o is not (RuleOperator.IsEmpty or RuleOperator.IsNotEmpty) || KindOf(fact) == FieldKind.Date).ToList();

    /// <summary>Operators that need no value.</summary>
    public static bool TakesNoValue(RuleOperator op) =>
        op is RuleOperator.IsEmpty or RuleOperator.IsNotEmpty or RuleOperator.IsTrue or RuleOperator.IsFalse;

    public static string Label(RuleOperator op) => op switch
    {
        RuleOperator.Equals => "is",
        RuleOperator.NotEquals => "is not",
        RuleOperator.Less => "less than",
        RuleOperator.LessOrEqual => "at most",
        RuleOperator.Greater => "more than",
        RuleOperator.GreaterOrEqual => "at least",
        RuleOperator.Between => "between",
        RuleOperator.IsEmpty => "is empty",
        RuleOperator.IsNotEmpty => "is not empty",
        RuleOperator.Contains => "contains",
        RuleOperator.NotContains => "does not contain",
        RuleOperator.StartsWith => "starts with",
        RuleOperator.NotStartsWith => "does not start with",
        RuleOperator.EndsWith => "ends with",
        RuleOperator.In => "is any of",
        RuleOperator.NotIn => "is none of",
        RuleOperator.On => "on",
        RuleOperator.Before => "before",
        RuleOperator.After => "after",
        RuleOperator.InLast => "in the last",
        RuleOperator.NotInLast => "not in the last",
        RuleOperator.InThis => "in this",
        RuleOperator.InPrevious => "in the previous",
        RuleOperator.IsTrue => "is true",
        RuleOperator.IsFalse => "is false",
        _ => op.ToString(),
    };

    public static string FactLabel(CustomerFact fact) => fact switch
    {
        CustomerFact.OrderCount => "Number of orders",
        CustomerFact.TotalAmount => "Total spent",
        CustomerFact.AverageAmount => "Average order value",
        CustomerFact.FirstOrderDate => "First order date",
        CustomerFact.LastOrderDate => "Last order date",
        CustomerFact.DaysSinceLastOrder => "Days since last order",
        CustomerFact.BoughtCategory => "Bought",
        _ => fact.ToString(),
    };
}

/// <summary>Relative dates against a given "today" (from the clock; fixed in tests).</summary>
internal static class RelativeDates
{
    /// <summary>The first day of "the last N units": today minus N units, or the first day there is when that is further back.</summary>
    public static DateOnly Back(DateOnly today, int amount, RelativeUnit unit)
    {
        if (unit is RelativeUnit.Days or RelativeUnit.Weeks)
        {
            var days = (long)amount * (unit == RelativeUnit.Weeks ? 7 : 1);
            return days > today.DayNumber ? DateOnly.MinValue : today.AddDays((int)-days);
        }
        var months = (long)amount * unit switch { RelativeUnit.Months => 1, RelativeUnit.Quarters => 3, _ => 12 };
        return months > (today.Year - 1) * 12L + today.Month - 1 ? DateOnly.MinValue : today.AddMonths((int)-months);
    }

    /// <summary>[start, end) of this (or the previous) week (Monday first), month, quarter or year.</summary>
    public static (DateOnly Start, DateOnly End) Period(DateOnly today, RelativeUnit unit, bool previous)
    {
        DateOnly start;
        Func<DateOnly, int, DateOnly> step;
        switch (unit)
        {
            case RelativeUnit.Weeks:
                start = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
                step = (d, n) => d.AddDays(7 * n);
                break;
            case RelativeUnit.Months:
                start = new DateOnly(today.Year, today.Month, 1);
                step = (d, n) => d.AddMonths(n);
                break;
            case RelativeUnit.Quarters:
                start = new DateOnly(today.Year, (today.Month - 1) / 3 * 3 + 1, 1);
                step = (d, n) => d.AddMonths(3 * n);
                break;
            case RelativeUnit.Years:
                start = new DateOnly(today.Year, 1, 1);
                step = (d, n) => d.AddYears(n);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(unit), "Days have no calendar period.");
        }
        if (previous)
        {
            start = step(start, -1);
        }
        return (start, step(start, 1));
    }
}
