using System.Globalization;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Rules;

/// <summary>
/// Describes a rule tree in one plain-language sentence, for people: "Customers whose Region is North or East, who
/// spent more than 1,000 in the last 90 days, and who are not in segment “Staff”". Never throws on a half-built tree:
/// the builder shows the summary while the user is still filling conditions in.
/// </summary>
public sealed class RuleSummary
{
    /// <summary>What an unfinished condition (no field, no value, no unit) reads as.</summary>
    public const string Incomplete = "(incomplete condition)";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private readonly Func<int, string?> _segmentName;
    private readonly Func<string, string?> _fieldLabel;
    private readonly Func<string, ColumnType?> _fieldType;

    /// <param name="segmentName">The name of a saved segment by id; null when unknown (the id is shown instead).</param>
    /// <param name="fieldLabel">A field's display name; null (or no lookup) shows the column name.</param>
    /// <param name="fieldType">
    /// A field's type, so "is 12345" reads "is 12,345" only for numbers (a postcode stays as typed); null when unknown.
    /// </param>
    public RuleSummary(Func<int, string?> segmentName, Func<string, string?>? fieldLabel = null, Func<string, ColumnType?>? fieldType = null)
    {
        _segmentName = segmentName;
        _fieldLabel = fieldLabel ?? (_ => null);
        _fieldType = fieldType ?? (_ => null);
    }

    /// <summary>One sentence for the whole tree, without a full stop (it is shown as a caption).</summary>
    public static string Describe(RuleTree tree, Func<int, string?> segmentName, Func<string, string?>? fieldLabel = null) =>
        new RuleSummary(segmentName, fieldLabel).Describe(tree);

    /// <summary>One sentence for the whole tree, without a full stop (it is shown as a caption).</summary>
    public string Describe(RuleTree tree) => Describe(tree.Root);

    /// <summary>One sentence for a group taken as the whole rule.</summary>
    public string Describe(RuleGroup root)
    {
        var (not, combinator, children) = Flatten(root);
        if (children.Count == 0)
        {
            // An empty group matches everything, so its negation matches nothing.
            return not ? "No customers" : "All customers";
        }
        var clauses = Join(children.Select(Clause).ToList(), combinator);
        return not ? $"All customers except those {clauses}" : $"Customers {clauses}";
    }

    /// <summary>
    /// The clause for one node as it appears inside a sentence ("whose Region is North", "who spent more than 1,000"),
    /// e.g. to name a condition in a message.
    /// </summary>
    public string Clause(RuleNode node) => node switch
    {
        RuleGroup group => GroupClause(group),
        FieldCondition field => FieldClause(field),
        FactCondition fact => FactClause(fact),
        SegmentCondition segment => SegmentClause(segment),
        _ => Incomplete,
    };

    /// <summary>
    /// Unwraps groups that hold a single group, so "AND of (OR of A, B)" reads as "A or B" and a NOT around a
    /// single group reads as that group negated.
    /// </summary>
    private static (bool Not, Combinator Combinator, List<RuleNode> Children) Flatten(RuleGroup group)
    {
        var not = group.Not;
        var current = group;
        while (current.Children is [RuleGroup only])
        {
            not ^= only.Not;
            current = only;
        }
        return (not, current.Combinator, current.Children ?? []);
    }

    private string GroupClause(RuleGroup group)
    {
        var (not, combinator, children) = Flatten(group);
        if (children.Count == 0)
        {
            return not ? "(no customer)" : "(any customer)";
        }
        var inner = children.Count == 1 ? Clause(children[0]) : $"({Join(children.Select(Clause).ToList(), combinator)})";
        return not ? $"not those {inner}" : inner;
    }

    private static string Join(IReadOnlyList<string> parts, Combinator combinator) =>
        JoinList(parts, combinator == Combinator.And ? "and" : "or");

    /// <summary>"A", "A and B", "A, B, and C".</summary>
    private static string JoinList(IReadOnlyList<string> parts, string conjunction) => parts.Count switch
    {
        0 => "",
        1 => parts[0],
        2 => $"{parts[0]} {conjunction} {parts[1]}",
        _ => $"{string.Join(", ", parts.Take(parts.Count - 1))}, {conjunction} {parts[^1]}",
    };

    private string SegmentClause(SegmentCondition segment)
    {
        if (segment.SegmentId <= 0)
        {
            return Incomplete;
        }
        var name = _segmentName(segment.SegmentId);
        var label = string.IsNullOrWhiteSpace(name) ? $"segment #{segment.SegmentId}" : $"segment “{name}”";
        return segment.In ? $"who are in {label}" : $"who are not in {label}";
    }

    private string FieldClause(FieldCondition condition)
    {
        if (string.IsNullOrWhiteSpace(condition.Field))
        {
            return Incomplete;
        }
        var label = _fieldLabel(condition.Field) ?? condition.Field;
        var numeric = _fieldType(condition.Field) is ColumnType.Integer or ColumnType.Decimal;
        var predicate = Predicate(condition, numeric);
        return predicate is null ? Incomplete : $"whose {label} {predicate}";
    }

    /// <summary>
    /// What follows "whose Field": "is more than 1,000", "starts with “A”", "is in the last 3 months"; null when the
    /// condition lacks what its operator needs.
    /// </summary>
    /// <param name="numeric">The values are numbers even for operators that also apply to text (is, is not).</param>
    private static string? Predicate(ValueCondition c, bool numeric)
    {
        var value = Present(c.Value);
        var value2 = Present(c.Value2);
        var values = (c.Values ?? []).Select(Present).OfType<string>().ToList();
        return c.Operator switch
        {
            RuleOperator.Equals => value is null ? null : $"is {Format(value, numeric)}",
            RuleOperator.NotEquals => value is null ? null : $"is not {Format(value, numeric)}",
            RuleOperator.Less => value is null ? null : $"is less than {Number(value)}",
            RuleOperator.LessOrEqual => value is null ? null : $"is at most {Number(value)}",
            RuleOperator.Greater => value is null ? null : $"is more than {Number(value)}",
            RuleOperator.GreaterOrEqual => value is null ? null : $"is at least {Number(value)}",
            RuleOperator.Between => value is null || value2 is null ? null : $"is between {Number(value)} and {Number(value2)}",
            RuleOperator.IsEmpty => "is empty",
            RuleOperator.IsNotEmpty => "is not empty",
            RuleOperator.Contains => value is null ? null : $"contains “{value}”",
            RuleOperator.NotContains => value is null ? null : $"does not contain “{value}”",
            RuleOperator.StartsWith => value is null ? null : $"starts with “{value}”",
            RuleOperator.NotStartsWith => value is null ? null : $"does not start with “{value}”",
            RuleOperator.EndsWith => value is null ? null : $"ends with “{value}”",
            RuleOperator.In => values.Count == 0 ? null : $"is {JoinList(values, "or")}",
            RuleOperator.NotIn => values.Count switch
            {
                0 => null,
                1 => $"is not {values[0]}",
                2 => $"is neither {values[0]} nor {values[1]}",
                _ => $"is not any of {JoinList(values, "or")}",
            },
            RuleOperator.On => value is null ? null : $"is on {value}",
            RuleOperator.Before => value is null ? null : $"is before {value}",
            RuleOperator.After => value is null ? null : $"is after {value}",
            RuleOperator.InLast => Last(c) is { } last ? $"is in {last}" : null,
            RuleOperator.NotInLast => Last(c) is { } last ? $"is not in {last}" : null,
            RuleOperator.InThis => c.Unit is { } unit ? unit == RelativeUnit.Days ? "is today" : $"is in {This(unit)}" : null,
            RuleOperator.InPrevious => Previous(c) is { } previous ? previous == "yesterday" ? "is yesterday" : $"is in {previous}" : null,
            RuleOperator.IsTrue => "is true",
            RuleOperator.IsFalse => "is false",
            _ => null,
        };
    }

    private string FactClause(FactCondition fact)
    {
        var window = fact.WindowDays is int days && days > 0 ? " " + LastDays(days) : "";
        // Facts that are not amounts over the window (dates, recency) read oddly with "in the last N days" inline.
        var counting = window.Length == 0 ? "" : $" (counting only orders{window})";
        var value = Present(fact.Value);
        var value2 = Present(fact.Value2);
        var op = fact.Operator;

        // Customers without orders have no order dates, so "empty" means they never ordered (in the window).
        if (fact.Fact is CustomerFact.FirstOrderDate or CustomerFact.LastOrderDate or CustomerFact.DaysSinceLastOrder
            && op is RuleOperator.IsEmpty or RuleOperator.IsNotEmpty)
        {
            var never = window.Length == 0 ? "who have never ordered" : $"who have not ordered{window}";
            return op == RuleOperator.IsEmpty ? never : $"who have ordered{window}";
        }

        var phrase = fact.Fact switch
        {
            CustomerFact.OrderCount => OrderCountPhrase(op, value, value2, window),
            CustomerFact.TotalAmount => AmountPhrase(op, value, value2, window),
            CustomerFact.DaysSinceLastOrder => DaysSincePhrase(op, value, value2, counting),
            CustomerFact.FirstOrderDate => FirstOrderPhrase(fact, counting),
            CustomerFact.LastOrderDate => LastOrderPhrase(fact, counting),
            CustomerFact.BoughtCategory => BoughtPhrase(fact, window),
            _ => null,
        };
        if (phrase is not null)
        {
            return phrase;
        }

        // Anything without a natural verb reads as "whose <fact> <predicate>", which covers every operator.
        var noun = fact.Fact switch
        {
            CustomerFact.OrderCount => "number of orders",
            CustomerFact.TotalAmount => "total spent",
            CustomerFact.AverageAmount => "average order amount",
            CustomerFact.DaysSinceLastOrder => "number of days since the last order",
            CustomerFact.FirstOrderDate => "first order date",
            CustomerFact.LastOrderDate => "last order date",
            CustomerFact.BoughtCategory => "categories bought",
            _ => null,
        };
        var numeric = fact.Fact is CustomerFact.OrderCount or CustomerFact.TotalAmount or CustomerFact.AverageAmount
            or CustomerFact.DaysSinceLastOrder;
        var predicate = noun is null ? null : Predicate(fact, numeric);
        return predicate is null ? Incomplete : $"whose {noun}{window} {predicate}";
    }

    private static string? OrderCountPhrase(RuleOperator op, string? value, string? value2, string window)
    {
        if (op == RuleOperator.Equals && value is not null && IsZero(value))
        {
            return window.Length == 0 ? "who have never ordered" : $"who have not ordered{window}";
        }
        return op switch
        {
            RuleOperator.Equals when value is not null => $"who ordered exactly {Times(value)}{window}",
            RuleOperator.NotEquals when value is not null => $"who did not order exactly {Times(value)}{window}",
            RuleOperator.Less when value is not null => $"who ordered fewer than {Times(value)}{window}",
            RuleOperator.LessOrEqual when value is not null => $"who ordered at most {Times(value)}{window}",
            RuleOperator.Greater when value is not null => $"who ordered more than {Times(value)}{window}",
            RuleOperator.GreaterOrEqual when value is not null => $"who ordered at least {Times(value)}{window}",
            RuleOperator.Between when value is not null && value2 is not null =>
                $"who ordered between {Number(value)} and {Number(value2)} times{window}",
            _ => null,
        };
    }

    private static string? AmountPhrase(RuleOperator op, string? value, string? value2, string window) => op switch
    {
        RuleOperator.Equals when value is not null => $"who spent exactly {Number(value)}{window}",
        RuleOperator.NotEquals when value is not null => $"who did not spend exactly {Number(value)}{window}",
        RuleOperator.Less when value is not null => $"who spent less than {Number(value)}{window}",
        RuleOperator.LessOrEqual when value is not null => $"who spent at most {Number(value)}{window}",
        RuleOperator.Greater when value is not null => $"who spent more than {Number(value)}{window}",
        RuleOperator.GreaterOrEqual when value is not null => $"who spent at least {Number(value)}{window}",
        RuleOperator.Between when value is not null && value2 is not null =>
            $"who spent between {Number(value)} and {Number(value2)}{window}",
        _ => null,
    };

    private static string? DaysSincePhrase(RuleOperator op, string? value, string? value2, string counting) => op switch
    {
        RuleOperator.Equals when value is not null => $"whose last order was exactly {Days(value)} ago{counting}",
        RuleOperator.NotEquals when value is not null => $"whose last order was not exactly {Days(value)} ago{counting}",
        RuleOperator.Less when value is not null => $"whose last order was less than {Days(value)} ago{counting}",
        RuleOperator.LessOrEqual when value is not null => $"whose last order was at most {Days(value)} ago{counting}",
        RuleOperator.Greater when value is not null => $"whose last order was more than {Days(value)} ago{counting}",
        RuleOperator.GreaterOrEqual when value is not null => $"whose last order was at least {Days(value)} ago{counting}",
        RuleOperator.Between when value is not null && value2 is not null =>
            $"whose last order was between {Number(value)} and {Days(value2)} ago{counting}",
        _ => null,
    };

    private static string? FirstOrderPhrase(FactCondition fact, string counting)
    {
        var when = DatePhrase(fact);
        if (when is null)
        {
            return null;
        }
        return fact.Operator == RuleOperator.NotInLast
            ? $"who did not first order {when}{counting}"
            : $"who first ordered {when}{counting}";
    }

    private static string? LastOrderPhrase(FactCondition fact, string counting)
    {
        var when = DatePhrase(fact);
        return when is null
            ? null
            : fact.Operator switch
            {
                // The last order falls in a recent period exactly when the customer ordered in it.
                RuleOperator.InLast or RuleOperator.InThis => $"who have ordered {when}{counting}",
                RuleOperator.NotInLast => $"who have not ordered {when}{counting}",
                _ => $"who last ordered {when}{counting}",
            };
    }

    /// <summary>"before 2024-01-01", "in the last 3 months", "this quarter", "in the previous year".</summary>
    private static string? DatePhrase(ValueCondition c)
    {
        var value = Present(c.Value);
        var value2 = Present(c.Value2);
        return c.Operator switch
        {
            RuleOperator.On or RuleOperator.Equals when value is not null => $"on {value}",
            RuleOperator.Before or RuleOperator.Less when value is not null => $"before {value}",
            RuleOperator.After or RuleOperator.Greater when value is not null => $"after {value}",
            RuleOperator.Between when value is not null && value2 is not null => $"between {value} and {value2}",
            RuleOperator.InLast or RuleOperator.NotInLast => Last(c) is { } last ? $"in {last}" : null,
            RuleOperator.InThis => c.Unit is { } unit ? unit == RelativeUnit.Days ? "today" : This(unit) : null,
            RuleOperator.InPrevious => Previous(c) is { } previous ? previous == "yesterday" ? previous : $"in {previous}" : null,
            _ => null,
        };
    }

    private static string? BoughtPhrase(FactCondition fact, string window)
    {
        var values = fact.Operator switch
        {
            RuleOperator.In or RuleOperator.NotIn => (fact.Values ?? []).Select(Present).OfType<string>().ToList(),
            RuleOperator.Equals or RuleOperator.NotEquals => Present(fact.Value) is { } one ? [one] : [],
            _ => null,
        };
        if (values is null)
        {
            return null;
        }
        if (values.Count == 0 || string.IsNullOrWhiteSpace(fact.Column))
        {
            return Incomplete;
        }
        var list = JoinList(values, "or");
        return fact.Operator is RuleOperator.In or RuleOperator.Equals
            ? $"who bought {list}{window}"
            : $"who did not buy {list}{window}";
    }

    /// <summary>"the last 3 months", "the last month"; null without a whole positive amount or a unit.</summary>
    private static string? Last(ValueCondition c) =>
        Amount(c.Value) is { } amount && c.Unit is { } unit ? $"the last {Quantity(amount, unit)}" : null;

    private static string This(RelativeUnit unit) => $"this {Singular(unit)}";

    /// <summary>"the previous year", "the previous 3 months", "yesterday".</summary>
    private static string? Previous(ValueCondition c) => c.Unit switch
    {
        // Always the single previous calendar period, as the query layer reads it (the builder asks for no amount).
        null => null,
        RelativeUnit.Days => "yesterday",
        { } unit => $"the previous {Quantity(1, unit)}",
    };

    private static string LastDays(int days) => $"in the last {Quantity(days, RelativeUnit.Days)}";

    private static string Quantity(int amount, RelativeUnit unit) =>
        amount == 1 ? Singular(unit) : $"{amount.ToString("N0", Invariant)} {unit.ToString().ToLowerInvariant()}";

    private static string Singular(RelativeUnit unit) => unit switch
    {
        RelativeUnit.Days => "day",
        RelativeUnit.Weeks => "week",
        RelativeUnit.Months => "month",
        RelativeUnit.Quarters => "quarter",
        _ => "year",
    };

    private static int? Amount(string? value) =>
        int.TryParse(value, NumberStyles.None, Invariant, out var amount) && amount > 0 ? amount : null;

    private static string Times(string value) => value.Trim() switch
    {
        "1" => "once",
        "2" => "twice",
        var other => $"{Number(other)} times",
    };

    private static string Days(string value) => value.Trim() == "1" ? "1 day" : $"{Number(value)} days";

    private static bool IsZero(string value) =>
        decimal.TryParse(value, NumberStyles.Number, Invariant, out var number) && number == 0;

    private static string Format(string value, bool numeric) => numeric ? Number(value) : value;

    /// <summary>
    /// "1,000", "1,234.50": thousands separators in the invariant culture, keeping the decimals as typed. Text that is
    /// not a number (a date in a between, a half-typed value) stays as it is.
    /// </summary>
    private static string Number(string value)
    {
        if (!decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, Invariant, out var number))
        {
            return value;
        }
        var scale = number.Scale;
        return number.ToString("N" + scale.ToString(Invariant), Invariant);
    }

    private static string? Present(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
