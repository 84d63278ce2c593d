using System.Globalization;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Queries;

// Rule conditions on a dataset's own fields: the WHERE of a spec, a segment, a row rule or a filtered measure.
internal sealed partial class QueryCompiler
{
    /// <summary>
    /// The condition for a node, or null when it does not restrict anything (empty group, skipped incomplete condition).
    /// Every condition is made two-valued (coalesce to false), so NOT is an exact complement even over empty values.
    /// </summary>
    /// <remarks>
    /// Only conditions under a NOT are made two-valued: above them there are only ANDs and ORs, where an unknown
    /// (NULL) part keeps a row out exactly as false does, and a bare comparison lets DuckDB push the filter into the scan.
    /// </remarks>
    private string? Predicate(RuleNode node, Scope scope, bool strict, IReadOnlyList<int> segmentPath, bool negated = false)
    {
        switch (node)
        {
            case RuleGroup group:
            {
                var under = negated || group.Not;
                var parts = AnyOfNumbers(group, scope, under) is { } list
                    ? [list]
                    : group.Children.Select(c => Predicate(c, scope, strict, segmentPath, under)).OfType<string>().ToList();
                if (parts.Count == 0)
                {
                    return group.Not ? _d.Condition(false) : null;
                }
                var joined = parts.Count == 1 ? parts[0] : $"({string.Join(group.Combinator == Combinator.And ? " AND " : " OR ", parts)})";
                return group.Not ? $"(NOT {joined})" : joined;
            }
            case FieldCondition condition:
                return Guard(condition, strict, negated, () => FieldPredicate(condition, scope));
            case FactCondition fact:
                return Guard(fact, strict, negated, () => FactPredicate(fact, scope));
            case SegmentCondition segment:
                return Guard(segment, strict, negated, () => SegmentPredicate(segment, scope, segmentPath));
            default:
                throw new PortalException($"Unknown rule node {node.GetType().Name}.");
        }
    }

    /// <summary>Compiles a condition; an incomplete one is recorded and skipped unless <paramref name="strict"/>.</summary>
    private string? Guard(RuleNode node, bool strict, bool negated, Func<string> compile)
    {
        try
        {
            var predicate = compile();
            // A null test is never NULL itself; wrapping it would only hide it from DuckDB's filter push-down.
            return NullTest().IsMatch(predicate) ? predicate : negated ? TwoValued(predicate) : $"({predicate})";
        }
        catch (IncompleteConditionException ex)
        {
            if (strict)
            {
                throw new PortalException($"A required rule cannot be applied: {ex.Message}");
            }
            _problems.Add(new RuleProblem(node.Id, ex.Message));
            return null;
        }
    }

    /// <summary>
    /// An OR of "equals" on one whole-number column (a board's top N, an "Other" of them) as one <c>IN</c> list of
    /// parameters, or null when the group is anything else.
    /// </summary>
    private string? AnyOfNumbers(RuleGroup group, Scope scope, bool negated)
    {
        if (group.Combinator != Combinator.Or || group.Children.Count < 2
            || group.Children.Any(c => c is not FieldCondition { Operator: RuleOperator.Equals }))
        {
            return null;
        }
        var conditions = group.Children.Cast<FieldCondition>().ToList();
        if (conditions.Select(c => c.Field).Distinct(StringComparer.Ordinal).Count() != 1
            || scope.Dataset.Field(conditions[0].Field) is not { Kind: FieldKind.Number, Type: ColumnType.Integer, Source: null } field)
        {
            return null;
        }
        var values = new List<long>();
        foreach (var condition in conditions)
        {
            if (!long.TryParse(condition.Value?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }
            values.Add(value);
        }
        var inList = $"{Column(scope, field.Name)} IN ({string.Join(", ", values.Distinct().Select(v => Param(v)))})";
        return negated ? TwoValued(inList) : $"({inList})";
    }

    /// <summary>A condition that is never NULL: NULL (unknown) becomes false.</summary>
    private string TwoValued(string condition) => _d.Holds(_d.Flag(condition));

    private sealed class IncompleteConditionException(string message) : Exception(message);

    private static IncompleteConditionException Incomplete(string message) => new(message);

    private string FieldPredicate(FieldCondition condition, Scope scope)
    {
        if (string.IsNullOrWhiteSpace(condition.Field))
        {
            throw Incomplete("Choose a field.");
        }
        // An unknown field is not incomplete: it is refused (a removed column, or a tampered rule).
        var field = RequireField(scope.Dataset, condition.Field);
        return ValuePredicate(condition, field.Kind, field.Type, Column(scope, field.Name), field.Name);
    }

    /// <summary>The comparison of an expression of a given kind with a condition's values.</summary>
    private string ValuePredicate(ValueCondition c, FieldKind kind, ColumnType type, string x, string label)
    {
        if (!RuleOperators.For(kind).Contains(c.Operator))
        {
            throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}.");
        }
        switch (c.Operator)
        {
            case RuleOperator.IsEmpty:
                return kind is FieldKind.Text or FieldKind.Category ? $"({x} IS NULL OR {_d.IsBlank(_d.AsText(x))})" : $"{x} IS NULL";
            case RuleOperator.IsNotEmpty:
                return kind is FieldKind.Text or FieldKind.Category ? $"({x} IS NOT NULL AND NOT {_d.IsBlank(_d.AsText(x))})" : $"{x} IS NOT NULL";
            case RuleOperator.IsTrue:
                return $"{x} = {_d.Boolean(true)}";
            case RuleOperator.IsFalse:
                return $"{x} = {_d.Boolean(false)}";
            case RuleOperator.In or RuleOperator.NotIn:
            {
                var values = c.Values.Where(v => !string.IsNullOrEmpty(v)).Distinct().ToList();
                if (values.Count == 0)
                {
                    throw Incomplete($"Pick at least one value for {label}.");
                }
                var contains = _d.InList(_d.AsText(x), values, Param);
                return c.Operator == RuleOperator.In ? contains : $"({x} IS NULL OR NOT {contains})";
            }
        }

        if (kind == FieldKind.Date)
        {
            return DatePredicate(c, x, type, label);
        }
        if (kind == FieldKind.Number)
        {
            var value = Number(c.Value, label, type);
            return c.Operator switch
            {
                RuleOperator.Equals => $"{x} = {value}",
                RuleOperator.NotEquals => $"({x} IS NULL OR {x} <> {value})",
                RuleOperator.Less => $"{x} < {value}",
                RuleOperator.LessOrEqual => $"{x} <= {value}",
                RuleOperator.Greater => $"{x} > {value}",
                RuleOperator.GreaterOrEqual => $"{x} >= {value}",
                RuleOperator.Between => $"{x} BETWEEN {value} AND {Number(c.Value2, label, type)}",
                _ => throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}."),
            };
        }

        // Text and categories.
        if (string.IsNullOrEmpty(c.Value))
        {
            throw Incomplete($"Enter the text for {label}.");
        }
        var text = Param(c.Value);
        var t = _d.AsText(x);
        return c.Operator switch
        {
            RuleOperator.Equals => _d.EqualsText(t, text),
            RuleOperator.NotEquals => $"({x} IS NULL OR NOT {_d.EqualsText(t, text)})",
            RuleOperator.Contains => _d.ContainsText(t, text),
            RuleOperator.NotContains => $"({x} IS NULL OR NOT {_d.ContainsText(t, text)})",
            RuleOperator.StartsWith => _d.StartsWithText(t, text),
            RuleOperator.NotStartsWith => $"({x} IS NULL OR NOT {_d.StartsWithText(t, text)})",
            RuleOperator.EndsWith => _d.EndsWithText(t, text),
            _ => throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}."),
        };
    }

    /// <summary>
    /// A date condition. A column that is a date or timestamp in the warehouse is compared with day boundaries as it is
    /// (<c>x &gt;= day AND x &lt; next day</c>), not cast to a date row by row, so the scan can skip by its min/max.
    /// </summary>
    private string DatePredicate(ValueCondition c, string x, ColumnType type, string label)
    {
        var native = type is ColumnType.Date or ColumnType.Timestamp;
        var date = native ? x : _d.AsDate(x);
        // From the first day to the last, both included.
        string Days(DateOnly first, DateOnly last) => native
            ? $"{x} >= {Param(first)} AND {x} < {Param(last.AddDays(1))}"
            : $"{date} BETWEEN {Param(first)} AND {Param(last)}";
        switch (c.Operator)
        {
            case RuleOperator.On or RuleOperator.Equals:
            {
                var day = Date(c.Value, label);
                return native ? Days(day, day) : $"{date} = {Param(day)}";
            }
            case RuleOperator.Before or RuleOperator.Less:
                return $"{date} < {Param(Date(c.Value, label))}";
            case RuleOperator.After or RuleOperator.Greater:
                return native ? $"{x} >= {Param(Date(c.Value, label).AddDays(1))}" : $"{date} > {Param(Date(c.Value, label))}";
            case RuleOperator.Between:
                return Days(Date(c.Value, label), Date(c.Value2, label));
            case RuleOperator.InLast or RuleOperator.NotInLast:
            {
                if (!int.TryParse(c.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || c.Unit is null)
                {
                    throw Incomplete($"Enter how many {c.Unit?.ToString().ToLowerInvariant() ?? "days"} for {label}.");
                }
                var inLast = Days(RelativeDates.Back(_context.Today, amount, c.Unit.Value), _context.Today);
                return c.Operator == RuleOperator.InLast ? inLast : $"({x} IS NULL OR NOT ({inLast}))";
            }
            case RuleOperator.InThis or RuleOperator.InPrevious:
            {
                if (c.Unit is not { } unit || unit == RelativeUnit.Days)
                {
                    throw Incomplete($"Choose week, month, quarter or year for {label}.");
                }
                var (start, end) = RelativeDates.Period(_context.Today, unit, previous: c.Operator == RuleOperator.InPrevious);
                return $"({date} >= {Param(start)} AND {date} < {Param(end)})";
            }
            default:
                throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}.");
        }
    }
}
