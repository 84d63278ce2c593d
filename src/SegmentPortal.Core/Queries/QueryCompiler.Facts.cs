using System.Globalization;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Queries;

// Customer facts: one grouped pass over the related orders per scope, and the candidates it is limited to.
internal sealed partial class QueryCompiler
{
    /// <summary>
    /// Customer facts as columns of one <c>GROUP BY</c> over the orders: each fact (with its window) is one aggregate, with
    /// <c>FILTER</c> for its window, shared by every condition and measure that asks for the same fact.
    /// </summary>
    private sealed class FactTable(string name, string key, string from)
    {
        private readonly Dictionary<string, string> _columns = [];
        private readonly List<string> _selects = [];

        public string Name { get; } = name;

        /// <summary>The column for a fact, added on first use; <paramref name="aggregate"/> is only called then.</summary>
        public string Column(string identity, Func<string> aggregate)
        {
            if (!_columns.TryGetValue(identity, out var column))
            {
                column = $"v{_columns.Count + 1}";
                _selects.Add($"{aggregate()} AS {column}");
                _columns[identity] = column;
            }
            return $"{Name}.{column}";
        }

        public string Render() => $"{Name} AS (SELECT {key} AS k, {string.Join(", ", _selects)} FROM {from} WHERE {key} IS NOT NULL GROUP BY {key})";
    }

    /// <summary>
    /// An order in the last <paramref name="days"/> days up to today, both included. A date or timestamp column is
    /// compared with the day boundaries as it is (<c>x &gt;= first day AND x &lt; tomorrow</c>, as date conditions are),
    /// not cast to a date row by row: the same orders, and the engine can use the column's index or min/max.
    /// </summary>
    private string InWindow(FactSource source, string orders, int days)
    {
        var first = RelativeDates.Back(_context.Today, days, RelativeUnit.Days);
        var x = $"{orders}.{_d.Quote(source.Date)}";
        return NativeDate(source)
            ? $"{x} >= {Param(first)} AND {x} < {Param(_context.Today.AddDays(1))}"
            : $"{_d.AsDate(x)} BETWEEN {Param(first)} AND {Param(_context.Today)}";
    }

    /// <summary>The orders' date column is a date or timestamp in its source (not text to be read as one).</summary>
    private static bool NativeDate(FactSource source) => source.Orders.Field(source.Date)?.Type is ColumnType.Date or ColumnType.Timestamp;

    /// <summary>
    /// The first or last order day (in the window): for a date or timestamp column the column's lowest or highest value
    /// cast once, the same day as the lowest or highest of each row's day (a later time is never an earlier day).
    /// </summary>
    private string OrderDay(FactSource source, string orders, Func<string, string> aggregate, Func<Func<string, string>, string, string> windowed)
    {
        var x = $"{orders}.{_d.Quote(source.Date)}";
        return NativeDate(source) ? _d.AsDate(windowed(aggregate, x)) : windowed(aggregate, _d.AsDate(x));
    }

    private string FactPredicate(FactCondition fact, Scope scope)
    {
        var source = scope.Facts ?? throw Incomplete(
            $"{scope.Dataset.Name} has no related orders dataset (with Customer ID, date and amount roles), so order facts cannot be used.");
        if (fact.WindowDays is < 1)
        {
            throw Incomplete("The window must be at least one day.");
        }
        if (!RuleOperators.For(fact.Fact).Contains(fact.Operator))
        {
            throw Incomplete($"{RuleOperators.Label(fact.Operator)} does not apply to {RuleOperators.FactLabel(fact.Fact)}.");
        }
        var o = OrdersAlias(scope);
        var window = fact.WindowDays?.ToString(CultureInfo.InvariantCulture) ?? "all";
        string Windowed(Func<string, string> aggregate, string argument) => fact.WindowDays is { } days
            ? _d.Filtered(aggregate, argument, InWindow(source, o, days))
            : aggregate(argument);

        if (fact.Fact == CustomerFact.BoughtCategory)
        {
            var column = fact.Column is { Length: > 0 } c ? source.Orders.Field(c) ?? throw new PortalException($"{source.Orders.Name} has no field \"{c}\".")
                : throw Incomplete("Choose the order column that holds the category.");
            var categories = fact.Values.Where(v => !string.IsNullOrEmpty(v)).Distinct().Order(StringComparer.Ordinal).ToList();
            if (categories.Count == 0)
            {
                throw Incomplete("Pick at least one category.");
            }
            var bought = FactTableOf(scope, source).Column($"bought|{window}|{column.Name}|{string.Join('\u001f', categories)}",
                () => Windowed(_d.AnyTrue, _d.Flag(_d.InList(_d.AsText($"{o}.{_d.Quote(column.Name)}"), categories, Param))));
            return fact.Operator == RuleOperator.In ? _d.Holds(bought) : $"NOT {_d.Holds(bought)}";
        }

        var (count, counted) = source.OrderId is { } id ? ((Func<string, string>)(a => $"count(DISTINCT {a})"), $"{o}.{_d.Quote(id)}") : (a => $"count({a})", "*");
        var amount = fact.Fact is CustomerFact.TotalAmount or CustomerFact.AverageAmount
            ? source.Amount is { } a ? $"{o}.{_d.Quote(a)}" : throw Incomplete($"{source.Orders.Name} has no Amount column.")
            : null;
        // Orders without an amount count as 0: the average is total spent over orders.
        Func<string> aggregate = fact.Fact switch
        {
            CustomerFact.OrderCount => () => Windowed(count, counted),
            CustomerFact.TotalAmount => () => Windowed(Sum, amount!),
            CustomerFact.AverageAmount => () => _d.Divide($"coalesce({Windowed(Sum, amount!)}, 0)", $"nullif({Windowed(count, counted)}, 0)"),
            CustomerFact.FirstOrderDate => () => OrderDay(source, o, Min, Windowed),
            CustomerFact.LastOrderDate => () => OrderDay(source, o, Max, Windowed),
            CustomerFact.DaysSinceLastOrder => () => _d.DaysBetween(OrderDay(source, o, Max, Windowed), Param(_context.Today)),
            _ => throw new ArgumentOutOfRangeException(nameof(fact)),
        };
        var (type, whenNone) = fact.Fact switch
        {
            CustomerFact.OrderCount => (ColumnType.Integer, "0"),
            CustomerFact.TotalAmount => (ColumnType.Decimal, "0"),
            CustomerFact.DaysSinceLastOrder => (ColumnType.Integer, null),
            CustomerFact.AverageAmount => (ColumnType.Decimal, null),
            _ => (ColumnType.Date, (string?)null),
        };
        var v = FactTableOf(scope, source).Column($"{fact.Fact}|{window}", aggregate);
        var value = whenNone is null ? v : $"coalesce({v}, {whenNone})";
        return ValuePredicate(fact, RuleOperators.KindOf(fact.Fact), type, value, RuleOperators.FactLabel(fact.Fact));
    }

    /// <summary>A customer measure as a value of each row of the scope, from the scope's grouped pass over the orders.</summary>
    private string FactColumnValue(FactColumn fact, Scope scope)
    {
        var source = scope.Facts ?? throw new PortalException(
            $"{scope.Dataset.Name} has no related orders dataset (with Customer ID, date and amount roles), so order measures cannot be used.");
        if (fact.WindowDays is < 1)
        {
            throw new PortalException("The window must be at least one day.");
        }
        var o = OrdersAlias(scope);
        var window = fact.WindowDays?.ToString(CultureInfo.InvariantCulture) ?? "all";
        string Windowed(Func<string, string> aggregate, string argument) =>
            fact.WindowDays is { } days ? _d.Filtered(aggregate, argument, InWindow(source, o, days)) : aggregate(argument);
        string Amount() => source.Amount is { } a ? $"{o}.{_d.Quote(a)}" : throw new PortalException($"{source.Orders.Name} has no Amount column.");
        var (count, counted) = source.OrderId is { } id ? ((Func<string, string>)(a => $"count(DISTINCT {a})"), $"{o}.{_d.Quote(id)}") : (a => $"count({a})", "*");
        var table = FactTableOf(scope, source);
        switch (fact.Measure)
        {
            case CustomerMeasure.OrderCount:
                return $"coalesce({table.Column($"{CustomerFact.OrderCount}|{window}", () => Windowed(count, counted))}, 0)";
            case CustomerMeasure.TotalAmount:
                return $"coalesce({table.Column($"{CustomerFact.TotalAmount}|{window}", () => Windowed(Sum, Amount()))}, 0)";
            case CustomerMeasure.AverageAmount:
                return table.Column($"{CustomerFact.AverageAmount}|{window}", () => _d.Divide($"coalesce({Windowed(Sum, Amount())}, 0)", $"nullif({Windowed(count, counted)}, 0)"));
            case CustomerMeasure.DaysSinceLastOrder:
                return table.Column($"{CustomerFact.DaysSinceLastOrder}|{window}", () => _d.DaysBetween(OrderDay(source, o, Max, Windowed), Param(_context.Today)));
            case CustomerMeasure.DaysSinceFirstOrder:
                return table.Column($"daysSinceFirst|{window}", () => _d.DaysBetween(OrderDay(source, o, Min, Windowed), Param(_context.Today)));
            case CustomerMeasure.FirstOrderDate:
                // The same column a first-order-date condition reads, so a rule and a cohort share one aggregate.
                return table.Column($"{CustomerFact.FirstOrderDate}|{window}", () => OrderDay(source, o, Min, Windowed));
            case CustomerMeasure.CategoryShare:
            {
                var column = fact.Column is { Length: > 0 } c ? source.Orders.Field(c) ?? throw new PortalException($"{source.Orders.Name} has no field \"{c}\".")
                    : throw new PortalException("Choose the order column that holds the category.");
                var values = (fact.Values ?? []).Where(v => !string.IsNullOrEmpty(v)).Distinct().Order(StringComparer.Ordinal).ToList();
                if (values.Count == 0)
                {
                    throw new PortalException("Pick at least one category.");
                }
                return table.Column($"share|{window}|{column.Name}|{string.Join('\u001f', values)}", () =>
                {
                    var inCategory = _d.InList(_d.AsText($"{o}.{_d.Quote(column.Name)}"), values, Param);
                    var part = _d.Filtered(Sum, Amount(), fact.WindowDays is { } days ? $"{InWindow(source, o, days)} AND {inCategory}" : inCategory);
                    return _d.Divide($"coalesce({part}, 0)", $"nullif({Windowed(Sum, Amount())}, 0)");
                });
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(fact));
        }
    }

    private static string OrdersAlias(Scope scope) => $"o{scope.Alias}";

    private static string Sum(string argument) => $"sum({argument})";

    private static string Min(string argument) => $"min({argument})";

    private static string Max(string argument) => $"max({argument})";

    /// <summary>
    /// The scope's grouped pass over its orders, created (and joined to the scope) on first use. When the scope's rows
    /// must meet <see cref="Scope.Candidates"/>, only those customers' orders are grouped.
    /// </summary>
    private FactTable FactTableOf(Scope scope, FactSource source)
    {
        if (scope.FactTable is { } existing)
        {
            return existing;
        }
        var o = OrdersAlias(scope);
        var key = $"{o}.{_d.Quote(source.CustomerKey)}";
        var keyType = source.Orders.Field(source.CustomerKey)!.Type;
        var myKeyType = scope.Dataset.WithRole(FieldRole.CustomerId)!.Type;
        var from = $"{Source(source.Orders)} AS {o}";
        _reads.Add(source.Orders);
        var candidates = Candidates(scope);
        if (candidates is not null)
        {
            from += $" JOIN {candidates} ON {KeysMatch($"{candidates}.k", myKeyType, key, keyType)}";
        }
        var table = new FactTable($"f{_ctes.Count + 1}", key, from);
        _ctes.Add(table.Render);
        scope.FactTable = table;
        scope.Joins.Add($" LEFT JOIN {table.Name} ON {KeysMatch($"{table.Name}.k", keyType, CustomerKey(scope), myKeyType)}");
        return table;
    }

    /// <summary>A CTE of the distinct customer keys whose rows meet the scope's candidate conditions, or null when there are none.</summary>
    private string? Candidates(Scope scope)
    {
        if (scope.Candidates.Count == 0)
        {
            return null;
        }
        // "The key is not empty" narrows nothing here: the grouped pass already leaves out orders without a key, and the
        // main query applies every condition again. Candidates only spare grouping the orders of customers not asked for.
        var key = scope.Dataset.WithRole(FieldRole.CustomerId)?.Name;
        var narrowing = scope.Candidates
            .Where(c => c is not FieldCondition { Operator: RuleOperator.IsNotEmpty } f || !string.Equals(f.Field, key, StringComparison.Ordinal))
            .ToList();
        if (narrowing.Count == 0)
        {
            return null;
        }
        var rows = NewScope(scope.Dataset, null);
        var parts = narrowing.Select(c => Predicate(c, rows, strict: false, [])).OfType<string>().ToList();
        if (parts.Count == 0)
        {
            return null;
        }
        var name = $"c{_ctes.Count + 1}";
        var distinct = _context.CustomerKeyUnique && ReferenceEquals(scope.Dataset, _context.Dataset) ? "" : "DISTINCT ";
        var sql = $"{name} AS (SELECT {distinct}{CustomerKey(rows)} AS k FROM {Source(scope.Dataset)} AS {rows.Alias}{string.Concat(rows.Joins)} WHERE {string.Join(" AND ", parts)})";
        _ctes.Add(() => sql);
        return name;
    }
}
