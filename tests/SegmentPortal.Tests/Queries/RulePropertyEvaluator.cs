using System.Globalization;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Tests.Queries;

/// <summary>What a customer's orders (all of them, or those in a window) add up to.</summary>
public sealed record CustomerFacts(
    int OrderCount, double TotalAmount, double? AverageAmount, DateOnly? FirstOrderDate, DateOnly? LastOrderDate, int? DaysSinceLastOrder, bool HasAmount);

/// <summary>
/// Where the query layer once differed from the rules' meaning (bugs this property found, since fixed). The evaluator
/// notes which of them a tree reaches, so a failure can say whether an old bug came back.
/// </summary>
public enum KnownDiscrepancy
{
    /// <summary>
    /// A number with a fraction, or beyond the 64-bit range, compared with a whole-number expression (an integer column, the
    /// number of orders, days since the last order): DuckDB types the parameter like the expression (BIGINT), so 2.5 acts as
    /// 2, -1.01 as -1, and 1e20 fails the query with a conversion error.
    /// </summary>
    WholeNumberParameter,

    /// <summary>
    /// The average order value of a customer whose orders (in the window) carry no amount: the query's sum is NULL, so the
    /// average is empty, while total spent is 0 and the average is total / orders = 0.
    /// </summary>
    AverageWithoutAmounts,

    /// <summary>
    /// "is empty" / "is not empty" on a number fact: <see cref="RuleOperators.For(CustomerFact)"/> does not offer them, but
    /// the compiler checks the operator against the number kind's list and runs them instead of skipping them.
    /// </summary>
    EmptinessOfNumberFact,

    /// <summary>
    /// Text of only whitespace that includes a control character such as a tab or a line break: the compiler's
    /// <c>trim(x) = ''</c> keeps those characters (DuckDB's trim removes spaces, also no-break spaces, but not tabs), so
    /// "is empty" does not hold for it.
    /// </summary>
    TabsAreNotEmpty,

    /// <summary>
    /// "In the last N units" or a fact window reaching back before the year 1: the compiler's date arithmetic throws
    /// (ArgumentOutOfRangeException, the query fails), or wraps around in 32 bits (613,566,757 weeks act as 3 days).
    /// </summary>
    DateBeforeYearOne,
}

/// <summary>The customers a rule selects, and the known discrepancies the evaluation reached.</summary>
public sealed record Evaluation(IReadOnlyList<long> Ids, IReadOnlySet<KnownDiscrepancy> Reached);

/// <summary>
/// Evaluates rule trees over the generated rows in memory, from the rules' meaning, to check the SQL path against:
/// <list type="bullet">
/// <item>A node either restricts the customers or, when it is incomplete, does not: a condition without a field, with an
/// operator its field does not offer, or with a value that is missing or does not parse is left out. A group of no
/// restricting children does not restrict; negated, it matches nobody.</item>
/// <item>Every condition is true or false (an empty value fails it), so NOT is the exact complement. The negative operators
/// (is not, does not contain, is none of, not in the last) hold for empty values.</item>
/// <item>Text comparisons (is, contains, starts with, ends with) ignore case; "is any of" / "is none of" compare exact text.
/// Empty means no value or only whitespace. Numbers may be written with thousands separators and surrounding spaces.</item>
/// <item>Dates compare by calendar day (a date-time by its day). "In the last N units" runs from today minus N units to
/// today, both included; "in this / the previous" week (from Monday), month, quarter or year is that calendar period.</item>
/// <item>Customer facts come from their orders (in the window: the last N days up to today, both included): orders are
/// distinct order ids; customers without orders have 0 orders, spent 0, and no dates, average or days since the last
/// order. "Bought" is true when any order line (in the window) has one of the categories.</item>
/// </list>
/// </summary>
public sealed class RuleEvaluator
{
    private sealed record OrderLine(long OrderId, DateOnly? Date, double? Amount, string? Category);

    private readonly RulePropertyData _data;
    private readonly IReadOnlyDictionary<int, RuleGroup> _segments;
    private readonly Dictionary<long, List<OrderLine>> _orders = [];
    private readonly Dictionary<int, Evaluation> _members = [];
    private HashSet<KnownDiscrepancy> _reached = [];

    public RuleEvaluator(RulePropertyData data, IReadOnlyDictionary<int, RuleGroup>? segments = null)
    {
        _data = data;
        _segments = segments ?? new Dictionary<int, RuleGroup>();
        var orders = data.Orders;
        foreach (var row in orders.Rows)
        {
            if (orders.Value(row, RulePropertyData.OrderCustomer) is not long customer)
            {
                continue;
            }
            if (!_orders.TryGetValue(customer, out var lines))
            {
                _orders[customer] = lines = [];
            }
            lines.Add(new OrderLine(
                (long)orders.Value(row, RulePropertyData.OrderId)!,
                (DateOnly?)orders.Value(row, RulePropertyData.OrderDate),
                (double?)orders.Value(row, RulePropertyData.OrderAmount),
                (string?)orders.Value(row, RulePropertyData.OrderCategory)));
        }
    }

    private DateOnly Today => _data.Today;

    /// <summary>The ids of the customers the rule selects, ascending, each once.</summary>
    public IReadOnlyList<long> Select(RuleGroup rule) => Evaluate(rule).Ids;

    /// <summary>The ids of the customers the rule selects, ascending, each once; and the known discrepancies it reached.</summary>
    public Evaluation Evaluate(RuleGroup rule)
    {
        var outer = _reached;
        _reached = [];
        try
        {
            var matches = Matcher(rule);
            var ids = _data.Customers.Rows.Where(r => matches?.Invoke(r) ?? true).Select(KeyOf).Distinct().Order().ToList();
            return new Evaluation(ids, _reached);
        }
        finally
        {
            _reached = outer;
        }
    }

    public IEnumerable<long> Customers => _data.Customers.Rows.Select(KeyOf).Distinct();

    private long KeyOf(object?[] row) => (long)_data.Customers.Value(row, RulePropertyData.CustomerKey)!;

    /// <summary>A test for one customer row, or null when the node does not restrict anything.</summary>
    private Func<object?[], bool>? Matcher(RuleNode node) => node switch
    {
        RuleGroup group => GroupMatcher(group),
        FieldCondition field => FieldMatcher(field),
        FactCondition fact => FactMatcher(fact),
        SegmentCondition segment => SegmentMatcher(segment),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private Func<object?[], bool>? GroupMatcher(RuleGroup group)
    {
        var children = group.Children.Select(Matcher).OfType<Func<object?[], bool>>().ToList();
        if (children.Count == 0)
        {
            return group.Not ? _ => false : null;
        }
        Func<object?[], bool> combined = group.Combinator == Combinator.And
            ? row => children.All(c => c(row))
            : row => children.Any(c => c(row));
        return group.Not ? row => !combined(row) : combined;
    }

    private Func<object?[], bool>? FieldMatcher(FieldCondition condition)
    {
        if (string.IsNullOrWhiteSpace(condition.Field))
        {
            return null;
        }
        var column = _data.Customers.Column(condition.Field);
        var test = ValueTest(condition, column.Kind, RuleOperators.For(column.Kind), wholeNumbers: column.Type == Core.Warehouse.ColumnType.Integer);
        return test is null ? null : row => test(_data.Customers.Value(row, column.Name));
    }

    private Func<object?[], bool>? FactMatcher(FactCondition fact)
    {
        if (fact.WindowDays is < 1)
        {
            return null;
        }
        var window = fact.WindowDays;
        if (window is { } days && WindowStart(days) is null)
        {
            _reached.Add(KnownDiscrepancy.DateBeforeYearOne);
        }
        if (fact.Fact == CustomerFact.BoughtCategory)
        {
            if (string.IsNullOrEmpty(fact.Column))
            {
                return null;
            }
            if (fact.Column != RulePropertyData.OrderCategory)
            {
                throw new NotSupportedException("The evaluator knows the category column only.");
            }
            var categories = fact.Values.Where(v => !string.IsNullOrEmpty(v)).ToHashSet(StringComparer.Ordinal);
            if (categories.Count == 0 || fact.Operator is not (RuleOperator.In or RuleOperator.NotIn))
            {
                return null;
            }
            var wanted = fact.Operator == RuleOperator.In;
            return row => LinesOf(KeyOf(row), window).Any(l => l.Category is { } c && categories.Contains(c)) == wanted;
        }

        var isDate = fact.Fact is CustomerFact.FirstOrderDate or CustomerFact.LastOrderDate;
        if (!isDate && fact.Operator is RuleOperator.IsEmpty or RuleOperator.IsNotEmpty)
        {
            _reached.Add(KnownDiscrepancy.EmptinessOfNumberFact);
        }
        var test = ValueTest(fact, isDate ? FieldKind.Date : FieldKind.Number, RuleOperators.For(fact.Fact),
            wholeNumbers: fact.Fact is CustomerFact.OrderCount or CustomerFact.DaysSinceLastOrder);
        if (test is null)
        {
            return null;
        }
        return row =>
        {
            var facts = FactsOf(KeyOf(row), window);
            if (fact.Fact == CustomerFact.AverageAmount && facts.OrderCount > 0 && !facts.HasAmount)
            {
                _reached.Add(KnownDiscrepancy.AverageWithoutAmounts);
            }
            object? value = fact.Fact switch
            {
                CustomerFact.OrderCount => (double)facts.OrderCount,
                CustomerFact.TotalAmount => facts.TotalAmount,
                CustomerFact.AverageAmount => facts.AverageAmount,
                CustomerFact.FirstOrderDate => facts.FirstOrderDate,
                CustomerFact.LastOrderDate => facts.LastOrderDate,
                CustomerFact.DaysSinceLastOrder => facts.DaysSinceLastOrder is { } d ? (double)d : null,
                _ => throw new NotSupportedException(fact.Fact.ToString()),
            };
            return test(value);
        };
    }

    private Func<object?[], bool>? SegmentMatcher(SegmentCondition condition)
    {
        if (!_segments.TryGetValue(condition.SegmentId, out var rule))
        {
            return null;
        }
        if (!_members.TryGetValue(condition.SegmentId, out var members))
        {
            _members[condition.SegmentId] = members = Evaluate(rule);
        }
        _reached.UnionWith(members.Reached);
        var ids = members.Ids.ToHashSet();
        return row => ids.Contains(KeyOf(row)) == condition.In;
    }

    private IEnumerable<OrderLine> LinesOf(long customer, int? windowDays)
    {
        var lines = _orders.GetValueOrDefault(customer) ?? [];
        if (windowDays is not { } days)
        {
            return lines;
        }
        var from = WindowStart(days) ?? DateOnly.MinValue;
        return lines.Where(l => l.Date is { } d && d >= from && d <= Today);
    }

    /// <summary>Today minus so many days; null when that is before the first day of the calendar (then every date counts).</summary>
    private DateOnly? WindowStart(long days) => Today.DayNumber - days >= DateOnly.MinValue.DayNumber ? Today.AddDays(-(int)days) : null;

    public CustomerFacts FactsOf(long customer, int? windowDays)
    {
        var lines = LinesOf(customer, windowDays).ToList();
        var orders = lines.Select(l => l.OrderId).Distinct().Count();
        var total = lines.Sum(l => l.Amount ?? 0);
        var dates = lines.Select(l => l.Date).OfType<DateOnly>().ToList();
        DateOnly? first = dates.Count == 0 ? null : dates.Min();
        DateOnly? last = dates.Count == 0 ? null : dates.Max();
        return new CustomerFacts(
            orders,
            total,
            orders == 0 ? null : total / orders,
            first,
            last,
            last is { } l ? Today.DayNumber - l.DayNumber : null,
            lines.Any(l => l.Amount is not null));
    }

    /// <summary>A test of one value against a condition, or null when the condition is incomplete.</summary>
    private Func<object?, bool>? ValueTest(ValueCondition c, FieldKind kind, IReadOnlyList<RuleOperator> offered, bool wholeNumbers = false)
    {
        if (!offered.Contains(c.Operator))
        {
            return null;
        }
        switch (c.Operator)
        {
            case RuleOperator.IsEmpty:
                return v => IsEmpty(v);
            case RuleOperator.IsNotEmpty:
                return v => !IsEmpty(v);
            case RuleOperator.IsTrue:
                return v => v is true;
            case RuleOperator.IsFalse:
                return v => v is false;
            case RuleOperator.In or RuleOperator.NotIn:
            {
                var list = c.Values.Where(v => !string.IsNullOrEmpty(v)).ToHashSet(StringComparer.Ordinal);
                if (list.Count == 0)
                {
                    return null;
                }
                return c.Operator == RuleOperator.In
                    ? v => v is string s && list.Contains(s)
                    : v => v is not string s || !list.Contains(s);
            }
        }
        return kind switch
        {
            FieldKind.Date => DateTest(c),
            FieldKind.Number => NumberTest(c, wholeNumbers),
            _ => TextTest(c),
        };
    }

    private bool IsEmpty(object? value)
    {
        if (value is string s && string.IsNullOrWhiteSpace(s) && s.Any(char.IsControl))
        {
            _reached.Add(KnownDiscrepancy.TabsAreNotEmpty);
        }
        return value is null || (value is string text && string.IsNullOrWhiteSpace(text));
    }

    private static Func<object?, bool>? TextTest(ValueCondition c)
    {
        if (string.IsNullOrEmpty(c.Value))
        {
            return null;
        }
        var needle = c.Value.ToLowerInvariant();
        static string? Lower(object? v) => (v as string)?.ToLowerInvariant();
        return c.Operator switch
        {
            RuleOperator.Equals => v => Lower(v) == needle,
            RuleOperator.NotEquals => v => Lower(v) != needle,
            RuleOperator.Contains => v => Lower(v) is { } s && s.Contains(needle, StringComparison.Ordinal),
            RuleOperator.NotContains => v => Lower(v) is not { } s || !s.Contains(needle, StringComparison.Ordinal),
            RuleOperator.StartsWith => v => Lower(v) is { } s && s.StartsWith(needle, StringComparison.Ordinal),
            RuleOperator.NotStartsWith => v => Lower(v) is not { } s || !s.StartsWith(needle, StringComparison.Ordinal),
            RuleOperator.EndsWith => v => Lower(v) is { } s && s.EndsWith(needle, StringComparison.Ordinal),
            _ => null,
        };
    }

    /// <summary>A number as people type it: surrounding spaces and thousands separators allowed; NaN and infinities are not numbers.</summary>
    public static double? ParseNumber(string? text)
    {
        var cleaned = text?.Trim().Replace(",", "", StringComparison.Ordinal);
        return !string.IsNullOrEmpty(cleaned)
            && double.TryParse(cleaned, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number)
                ? number
                : null;
    }

    private static double? AsNumber(object? value) => value switch
    {
        long l => l,
        double d => d,
        null => null,
        _ => throw new InvalidOperationException($"Not a number: {value}"),
    };

    private Func<object?, bool>? NumberTest(ValueCondition c, bool wholeNumbers)
    {
        if (ParseNumber(c.Value) is not { } n)
        {
            return null;
        }
        var high = ParseNumber(c.Value2);
        static bool Whole(double? x) => x is not { } v || (v == Math.Floor(v) && Math.Abs(v) < 9.2e18);
        if (wholeNumbers && (!Whole(n) || (c.Operator == RuleOperator.Between && !Whole(high))))
        {
            _reached.Add(KnownDiscrepancy.WholeNumberParameter);
        }
        if (c.Operator == RuleOperator.Between)
        {
            return high is { } h ? v => AsNumber(v) is { } x && n <= x && x <= h : null;
        }
        return c.Operator switch
        {
            RuleOperator.Equals => v => AsNumber(v) == n,
            RuleOperator.NotEquals => v => AsNumber(v) != n,
            RuleOperator.Less => v => AsNumber(v) < n,
            RuleOperator.LessOrEqual => v => AsNumber(v) <= n,
            RuleOperator.Greater => v => AsNumber(v) > n,
            RuleOperator.GreaterOrEqual => v => AsNumber(v) >= n,
            _ => null,
        };
    }

    /// <summary>A date written as 2024-12-31 (surrounding spaces allowed).</summary>
    public static DateOnly? ParseDate(string? text) =>
        DateOnly.TryParseExact(text?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    private static DateOnly? AsDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        null => null,
        _ => throw new InvalidOperationException($"Not a date: {value}"),
    };

    private Func<object?, bool>? DateTest(ValueCondition c)
    {
        switch (c.Operator)
        {
            case RuleOperator.On or RuleOperator.Before or RuleOperator.After:
            {
                if (ParseDate(c.Value) is not { } day)
                {
                    return null;
                }
                return c.Operator switch
                {
                    RuleOperator.On => v => AsDate(v) == day,
                    RuleOperator.Before => v => AsDate(v) < day,
                    _ => v => AsDate(v) > day,
                };
            }
            case RuleOperator.Between:
            {
                if (ParseDate(c.Value) is not { } low || ParseDate(c.Value2) is not { } high)
                {
                    return null;
                }
                return v => AsDate(v) is { } d && low <= d && d <= high;
            }
            case RuleOperator.InLast or RuleOperator.NotInLast:
            {
                // The amount is a plain count: digits only.
                if (c.Unit is not { } unit || string.IsNullOrEmpty(c.Value) || !c.Value.All(char.IsAsciiDigit)
                    || !int.TryParse(c.Value, CultureInfo.InvariantCulture, out var amount))
                {
                    return null;
                }
                var back = unit switch
                {
                    RelativeUnit.Days => WindowStart(amount),
                    RelativeUnit.Weeks => WindowStart(7L * amount),
                    RelativeUnit.Months => MonthsBack(amount),
                    RelativeUnit.Quarters => MonthsBack(3L * amount),
                    _ => MonthsBack(12L * amount),
                };
                if (back is null)
                {
                    _reached.Add(KnownDiscrepancy.DateBeforeYearOne);
                }
                var from = back ?? DateOnly.MinValue;
                bool InLast(object? v) => AsDate(v) is { } d && from <= d && d <= Today;
                return c.Operator == RuleOperator.InLast ? InLast : v => !InLast(v);
            }
            case RuleOperator.InThis or RuleOperator.InPrevious:
            {
                if (c.Unit is not ({ } unit and not RelativeUnit.Days))
                {
                    return null;
                }
                var (start, end) = CalendarPeriod(unit, c.Operator == RuleOperator.InPrevious);
                return v => AsDate(v) is { } d && start <= d && d < end;
            }
            default:
                return null;
        }
    }

    /// <summary>The same day so many months before today (the month's last day when it is shorter); null before the year 1.</summary>
    private DateOnly? MonthsBack(long months)
    {
        var month = Today.Year * 12L + Today.Month - 1 - months;
        if (month < 12)
        {
            return null;
        }
        var (year, monthOfYear) = ((int)(month / 12), (int)(month % 12) + 1);
        return new DateOnly(year, monthOfYear, Math.Min(Today.Day, DateTime.DaysInMonth(year, monthOfYear)));
    }

    /// <summary>[first day, first day of the next) of the calendar week (Monday first), month, quarter or year containing today, or the one before.</summary>
    public (DateOnly Start, DateOnly End) CalendarPeriod(RelativeUnit unit, bool previous)
    {
        var today = Today;
        var quarterMonth = (today.Month - 1) / 3 * 3 + 1;
        var daysSinceMonday = today.DayOfWeek == DayOfWeek.Sunday ? 6 : (int)today.DayOfWeek - 1;
        var (start, months, days) = unit switch
        {
            RelativeUnit.Weeks => (today.AddDays(-daysSinceMonday), 0, 7),
            RelativeUnit.Months => (new DateOnly(today.Year, today.Month, 1), 1, 0),
            RelativeUnit.Quarters => (new DateOnly(today.Year, quarterMonth, 1), 3, 0),
            RelativeUnit.Years => (new DateOnly(today.Year, 1, 1), 12, 0),
            _ => throw new ArgumentOutOfRangeException(nameof(unit)),
        };
        var end = start.AddMonths(months).AddDays(days);
        return previous ? (start.AddMonths(-months).AddDays(-days), start) : (start, end);
    }
}
