using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Rules;

/// <summary>
/// The operators jQuery QueryBuilder and react-querybuilder share (under different names), so mapping to and from
/// the portal's operators is written once.
/// </summary>
internal enum ForeignOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Between,
    NotBetween,
    In,
    NotIn,
    BeginsWith,
    NotBeginsWith,
    Contains,
    NotContains,
    EndsWith,
    NotEndsWith,
    IsEmpty,
    IsNotEmpty,
    IsNull,
    IsNotNull,
}

/// <summary>What a field's values are, as far as choosing operators goes.</summary>
internal enum ValueKind
{
    Unknown,
    Text,
    Number,
    Date,
    Boolean,
}

internal abstract class ForeignNode;

/// <summary>A group of either foreign format; <see cref="Number"/> counts groups depth first from 1 for messages.</summary>
internal sealed class ForeignGroup : ForeignNode
{
    public int Number { get; init; }

    public Combinator Combinator { get; init; }

    public bool Not { get; init; }

    public List<ForeignNode> Children { get; } = [];
}

/// <summary>A rule of either foreign format. <see cref="Number"/> counts rules depth first from 1 for messages.</summary>
internal sealed class ForeignRule : ForeignNode
{
    public int Number { get; init; }

    public required string Field { get; init; }

    /// <summary>The operator's name in its format, for messages.</summary>
    public required string OperatorName { get; init; }

    public ForeignOperator Operator { get; init; }

    /// <summary>The column type the rule declares (jQuery QueryBuilder's <c>type</c>), or the one inferred on export.</summary>
    public ColumnType? Type { get; init; }

    /// <summary>The value: a scalar, an array (in, between), or null for operators without one.</summary>
    public JsonNode? Value { get; init; }

    public PortalException Error(string problem) => new($"Rule {Number} (field “{Field}”): {problem}");
}

/// <summary>Shared helpers for values of both foreign formats.</summary>
internal static partial class ForeignValues
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")]
    private static partial Regex DateLike();

    public static bool LooksLikeDate(string? value) => value is not null && DateLike().IsMatch(value.Trim());

    public static bool IsNumber(string? value) => value is not null
        && decimal.TryParse(value.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, Invariant, out _);

    public static bool IsWholeNumber(string? value) => value is not null
        && long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, Invariant, out _);

    public static ValueKind KindOf(ColumnType type) => type switch
    {
        ColumnType.Integer or ColumnType.Decimal => ValueKind.Number,
        ColumnType.Boolean => ValueKind.Boolean,
        ColumnType.Date or ColumnType.Timestamp => ValueKind.Date,
        _ => ValueKind.Text,
    };

    public static string Describe(ValueKind kind) => kind switch
    {
        ValueKind.Number => "number",
        ValueKind.Date => "date",
        ValueKind.Boolean => "true/false",
        _ => "text",
    };

    /// <summary>A JSON scalar as the portal's text: strings trimmed (blank is no value), numbers in invariant form.</summary>
    public static string? Text(JsonNode? node, ForeignRule rule)
    {
        if (node is null)
        {
            return null;
        }
        switch (node.GetValueKind())
        {
            case JsonValueKind.String:
                var text = node.GetValue<string>().Trim();
                return text.Length == 0 ? null : text;
            case JsonValueKind.Number:
                var raw = node.ToJsonString();
                return decimal.TryParse(raw, NumberStyles.Float, Invariant, out var number) ? number.ToString(Invariant) : raw;
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Array when node.AsArray().Count == 1:
                // Some builders keep single values in a one-element array.
                return Text(node.AsArray()[0], rule);
            default:
                throw rule.Error("the value should be a single value, not a list or an object.");
        }
    }

    /// <summary>The values of in / not in: an array, or (react-querybuilder) a comma-separated string.</summary>
    public static List<string> List(JsonNode? node, ForeignRule rule, bool splitCommas)
    {
        if (node is JsonArray array)
        {
            return array.Select(item => Text(item, rule)).OfType<string>().ToList();
        }
        if (splitCommas && node is JsonValue && node.GetValueKind() == JsonValueKind.String)
        {
            return node.GetValue<string>().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        }
        return Text(node, rule) is { } one ? [one] : [];
    }

    /// <summary>The bounds of between: a two-element array, or (react-querybuilder) "low,high".</summary>
    public static (string? Low, string? High) Pair(JsonNode? node, ForeignRule rule, bool splitCommas)
    {
        if (node is null || node.GetValueKind() == JsonValueKind.Null)
        {
            return (null, null);
        }
        if (node is JsonArray { Count: 2 } array)
        {
            return (Text(array[0], rule), Text(array[1], rule));
        }
        if (splitCommas && node.GetValueKind() == JsonValueKind.String)
        {
            var parts = node.GetValue<string>().Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length == 2)
            {
                return (parts[0].Length == 0 ? null : parts[0], parts[1].Length == 0 ? null : parts[1]);
            }
        }
        throw rule.Error($"“{rule.OperatorName}” needs exactly two values, a lower and an upper bound.");
    }

    /// <summary>true/false as JSON, text ("true", "yes", "1") or a number (1, 0), as builders write checkboxes and radios.</summary>
    public static bool Boolean(JsonNode? node, ForeignRule rule)
    {
        var text = Text(node, rule);
        return text?.ToLowerInvariant() switch
        {
            "true" or "yes" or "1" => true,
            "false" or "no" or "0" => false,
            _ => throw rule.Error(text is null ? "the value should be true or false, and it is empty." : $"“{text}” is not true or false."),
        };
    }

    /// <summary>A value for a foreign rule: numbers as JSON numbers for number fields, so builders show them in number inputs.</summary>
    public static JsonNode? ToNode(string? value, ValueKind kind)
    {
        if (value is null)
        {
            return null;
        }
        if (kind == ValueKind.Number
            && decimal.TryParse(value.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, Invariant, out var number))
        {
            return JsonValue.Create(number);
        }
        return JsonValue.Create(value);
    }
}

/// <summary>Turns a portal rule tree into the neutral foreign tree, leaving out (with a warning) what has no equivalent.</summary>
internal sealed class ForeignExporter(string formatName, RuleInterchangeOptions options, bool supportsIsEmpty)
{
    private readonly RuleSummary _summary = options.Summary ?? new RuleSummary(_ => null);
    private readonly Func<string, ColumnType?> _fieldType = options.FieldType ?? (_ => null);
    private readonly List<string> _warnings = [];
    private int _groups;
    private int _rules;

    public IReadOnlyList<string> Warnings => _warnings;

    public ForeignGroup Convert(RuleGroup group)
    {
        var result = new ForeignGroup { Number = ++_groups, Combinator = group.Combinator, Not = group.Not };
        foreach (var child in group.Children ?? [])
        {
            var converted = child switch
            {
                RuleGroup nested => Convert(nested),
                FieldCondition field => Convert(field),
                FactCondition => Skip(child, "customer facts (orders, spending, categories bought) have no equivalent"),
                SegmentCondition => Skip(child, "segment membership has no equivalent"),
                _ => null,
            };
            if (converted is not null)
            {
                result.Children.Add(converted);
            }
        }
        return result;
    }

    private ForeignNode? Skip(RuleNode node, string reason)
    {
        _warnings.Add($"Left out: {_summary.Clause(node)} — {reason} in {formatName}.");
        return null;
    }

    private ForeignNode? Convert(FieldCondition c)
    {
        if (string.IsNullOrWhiteSpace(c.Field))
        {
            return Skip(c, "a condition without a field has no equivalent");
        }
        var type = _fieldType(c.Field) ?? Infer(c);
        var kind = ForeignValues.KindOf(type);
        // Built on demand: a JSON node can sit in one place only.
        JsonNode? Value() => ForeignValues.ToNode(Present(c.Value), kind);
        JsonArray Pair() => new(Value(), ForeignValues.ToNode(Present(c.Value2), kind));
        JsonArray List() => new((c.Values ?? []).Select(Present).OfType<string>().Select(v => ForeignValues.ToNode(v, kind)).ToArray());

        (ForeignOperator Op, JsonNode? Value)? mapped = c.Operator switch
        {
            RuleOperator.Equals => (ForeignOperator.Equal, Value()),
            RuleOperator.NotEquals => (ForeignOperator.NotEqual, Value()),
            RuleOperator.Less or RuleOperator.Before => (ForeignOperator.Less, Value()),
            RuleOperator.LessOrEqual => (ForeignOperator.LessOrEqual, Value()),
            RuleOperator.Greater or RuleOperator.After => (ForeignOperator.Greater, Value()),
            RuleOperator.GreaterOrEqual => (ForeignOperator.GreaterOrEqual, Value()),
            RuleOperator.On => (ForeignOperator.Equal, Value()),
            RuleOperator.Between => (ForeignOperator.Between, Pair()),
            // The portal's "empty" is "no value"; for text jQuery QueryBuilder also has '' (is_empty), which reads the same.
            RuleOperator.IsEmpty => (supportsIsEmpty && kind == ValueKind.Text ? ForeignOperator.IsEmpty : ForeignOperator.IsNull, null),
            RuleOperator.IsNotEmpty => (supportsIsEmpty && kind == ValueKind.Text ? ForeignOperator.IsNotEmpty : ForeignOperator.IsNotNull, null),
            RuleOperator.Contains => (ForeignOperator.Contains, Value()),
            RuleOperator.NotContains => (ForeignOperator.NotContains, Value()),
            RuleOperator.StartsWith => (ForeignOperator.BeginsWith, Value()),
            RuleOperator.NotStartsWith => (ForeignOperator.NotBeginsWith, Value()),
            RuleOperator.EndsWith => (ForeignOperator.EndsWith, Value()),
            RuleOperator.In => (ForeignOperator.In, List()),
            RuleOperator.NotIn => (ForeignOperator.NotIn, List()),
            RuleOperator.IsTrue => (ForeignOperator.Equal, JsonValue.Create(true)),
            RuleOperator.IsFalse => (ForeignOperator.Equal, JsonValue.Create(false)),
            _ => null,
        };
        if (mapped is not { } m)
        {
            return Skip(c, "relative dates (in the last…, this…, the previous…) have no equivalent");
        }
        return new ForeignRule { Number = ++_rules, Field = c.Field, OperatorName = m.Op.ToString(), Operator = m.Op, Type = type, Value = m.Value };
    }

    /// <summary>The column type when the dataset is not at hand: from the operator, and for shared operators the values.</summary>
    private static ColumnType Infer(FieldCondition c)
    {
        var values = new[] { c.Value, c.Value2 }.Concat(c.Values ?? []).Select(Present).OfType<string>().ToList();
        switch (c.Operator)
        {
            case RuleOperator.On or RuleOperator.Before or RuleOperator.After
                or RuleOperator.InLast or RuleOperator.NotInLast or RuleOperator.InThis or RuleOperator.InPrevious:
                return ColumnType.Date;
            case RuleOperator.IsTrue or RuleOperator.IsFalse:
                return ColumnType.Boolean;
            case RuleOperator.Less or RuleOperator.LessOrEqual or RuleOperator.Greater or RuleOperator.GreaterOrEqual or RuleOperator.Between:
                if (values.Count > 0 && values.All(ForeignValues.LooksLikeDate))
                {
                    return ColumnType.Date;
                }
                return values.Count > 0 && values.All(ForeignValues.IsWholeNumber) ? ColumnType.Integer : ColumnType.Decimal;
            default:
                // Is / is not / empty apply to text and numbers alike; text keeps the value exactly as typed.
                return ColumnType.Text;
        }
    }

    private static string? Present(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>
/// Turns a neutral foreign tree into a portal rule tree, rewriting where needed and refusing what cannot be said.
/// Negative operators map to the portal's, which also match empty values (SQL's != in the builders' own exports does
/// not); for segmentation "is not North" is meant to include customers without a region.
/// </summary>
internal sealed class ForeignImporter(RuleInterchangeOptions options, bool splitCommas)
{
    private readonly Func<string, ColumnType?> _fieldType = options.FieldType ?? (_ => null);

    public RuleGroup Convert(ForeignGroup group) => new()
    {
        Combinator = group.Combinator,
        Not = group.Not,
        Children = group.Children.Select(child => child switch
        {
            ForeignGroup nested => Convert(nested),
            ForeignRule rule => Convert(rule),
            _ => throw new InvalidOperationException("Unknown foreign node."),
        }).ToList(),
    };

    private RuleNode Convert(ForeignRule rule)
    {
        var kind = Kind(rule);
        switch (rule.Operator)
        {
            case ForeignOperator.IsNull or ForeignOperator.IsEmpty:
                RefuseFor(rule, kind, ValueKind.Boolean);
                return Condition(rule, RuleOperator.IsEmpty);
            case ForeignOperator.IsNotNull or ForeignOperator.IsNotEmpty:
                RefuseFor(rule, kind, ValueKind.Boolean);
                return Condition(rule, RuleOperator.IsNotEmpty);
            case ForeignOperator.Equal:
                return kind switch
                {
                    ValueKind.Boolean => BooleanCondition(rule),
                    ValueKind.Date => Condition(rule, RuleOperator.On, Single(rule)),
                    _ => Condition(rule, RuleOperator.Equals, Single(rule)),
                };
            case ForeignOperator.NotEqual:
                // Dates and true/false have no "is not" operator; NOT of "is" says the same.
                return kind switch
                {
                    ValueKind.Boolean => Not(BooleanCondition(rule)),
                    ValueKind.Date => Not(Condition(rule, RuleOperator.On, Single(rule))),
                    _ => Condition(rule, RuleOperator.NotEquals, Single(rule)),
                };
            case ForeignOperator.Less:
                RefuseFor(rule, kind, ValueKind.Text, ValueKind.Boolean);
                return Condition(rule, kind == ValueKind.Date ? RuleOperator.Before : RuleOperator.Less, Single(rule));
            case ForeignOperator.Greater:
                RefuseFor(rule, kind, ValueKind.Text, ValueKind.Boolean);
                return Condition(rule, kind == ValueKind.Date ? RuleOperator.After : RuleOperator.Greater, Single(rule));
            case ForeignOperator.LessOrEqual:
                RefuseFor(rule, kind, ValueKind.Text, ValueKind.Boolean);
                // Dates have before/on/after only: "on or before" is one of the two.
                return kind == ValueKind.Date
                    ? AnyOf(Condition(rule, RuleOperator.Before, Single(rule)), Condition(rule, RuleOperator.On, Single(rule)))
                    : Condition(rule, RuleOperator.LessOrEqual, Single(rule));
            case ForeignOperator.GreaterOrEqual:
                RefuseFor(rule, kind, ValueKind.Text, ValueKind.Boolean);
                return kind == ValueKind.Date
                    ? AnyOf(Condition(rule, RuleOperator.After, Single(rule)), Condition(rule, RuleOperator.On, Single(rule)))
                    : Condition(rule, RuleOperator.GreaterOrEqual, Single(rule));
            case ForeignOperator.Between:
                RefuseFor(rule, kind, ValueKind.Text, ValueKind.Boolean);
                return Between(rule);
            case ForeignOperator.NotBetween:
                RefuseFor(rule, kind, ValueKind.Text, ValueKind.Boolean);
                return Not(Between(rule));
            case ForeignOperator.In:
                RefuseFor(rule, kind, ValueKind.Boolean);
                return InList(rule, kind);
            case ForeignOperator.NotIn:
                RefuseFor(rule, kind, ValueKind.Boolean);
                // "Not in" for text includes empty values, as the portal's negative operators do; numbers and dates
                // have no list operator, so they become NOT of "any of".
                return kind is ValueKind.Number or ValueKind.Date
                    ? Not(InList(rule, kind))
                    : Condition(rule, RuleOperator.NotIn, values: ForeignValues.List(rule.Value, rule, splitCommas));
            case ForeignOperator.Contains:
                RefuseFor(rule, kind, ValueKind.Number, ValueKind.Date, ValueKind.Boolean);
                return Condition(rule, RuleOperator.Contains, Single(rule));
            case ForeignOperator.NotContains:
                RefuseFor(rule, kind, ValueKind.Number, ValueKind.Date, ValueKind.Boolean);
                return Condition(rule, RuleOperator.NotContains, Single(rule));
            case ForeignOperator.BeginsWith:
                RefuseFor(rule, kind, ValueKind.Number, ValueKind.Date, ValueKind.Boolean);
                return Condition(rule, RuleOperator.StartsWith, Single(rule));
            case ForeignOperator.NotBeginsWith:
                RefuseFor(rule, kind, ValueKind.Number, ValueKind.Date, ValueKind.Boolean);
                return Not(Condition(rule, RuleOperator.StartsWith, Single(rule)));
            case ForeignOperator.EndsWith:
                RefuseFor(rule, kind, ValueKind.Number, ValueKind.Date, ValueKind.Boolean);
                return Condition(rule, RuleOperator.EndsWith, Single(rule));
            case ForeignOperator.NotEndsWith:
                RefuseFor(rule, kind, ValueKind.Number, ValueKind.Date, ValueKind.Boolean);
                return Not(Condition(rule, RuleOperator.EndsWith, Single(rule)));
            default:
                throw rule.Error($"the operator “{rule.OperatorName}” has no equivalent here.");
        }
    }

    /// <summary>
    /// The dataset's type first (it is what the rule will run against), then the type the rule declares, then a guess
    /// from the values: true/false, a yyyy-MM-dd date, a JSON number.
    /// </summary>
    private ValueKind Kind(ForeignRule rule)
    {
        if ((_fieldType(rule.Field) ?? rule.Type) is { } type)
        {
            return ForeignValues.KindOf(type);
        }
        var scalars = rule.Value is JsonArray array ? array.ToList() : [rule.Value];
        var kinds = scalars.Where(v => v is not null).Select(v => v!.GetValueKind()).ToList();
        if (kinds.Count == 0)
        {
            return ValueKind.Unknown;
        }
        if (kinds.All(k => k is JsonValueKind.True or JsonValueKind.False))
        {
            return ValueKind.Boolean;
        }
        if (kinds.All(k => k == JsonValueKind.Number))
        {
            return ValueKind.Number;
        }
        var texts = scalars.Where(v => v?.GetValueKind() == JsonValueKind.String).Select(v => v!.GetValue<string>()).ToList();
        if (splitCommas)
        {
            texts = texts.SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        }
        return texts.Count > 0 && texts.All(ForeignValues.LooksLikeDate) ? ValueKind.Date : ValueKind.Unknown;
    }

    private static void RefuseFor(ForeignRule rule, ValueKind kind, params ValueKind[] refused)
    {
        if (refused.Contains(kind))
        {
            throw rule.Error($"the operator “{rule.OperatorName}” does not apply to {ForeignValues.Describe(kind)} fields here.");
        }
    }

    private static string? Single(ForeignRule rule) => ForeignValues.Text(rule.Value, rule);

    private static FieldCondition Condition(ForeignRule rule, RuleOperator op, string? value = null, string? value2 = null, List<string>? values = null) =>
        new() { Field = rule.Field, Operator = op, Value = value, Value2 = value2, Values = values ?? [] };

    private static FieldCondition BooleanCondition(ForeignRule rule) =>
        Condition(rule, ForeignValues.Boolean(rule.Value, rule) ? RuleOperator.IsTrue : RuleOperator.IsFalse);

    private FieldCondition Between(ForeignRule rule)
    {
        var (low, high) = ForeignValues.Pair(rule.Value, rule, splitCommas);
        return Condition(rule, RuleOperator.Between, low, high);
    }

    /// <summary>"In" for text; for numbers and dates (which have no list operator) one "is"/"on" per value, any of which may hold.</summary>
    private RuleNode InList(ForeignRule rule, ValueKind kind)
    {
        var values = ForeignValues.List(rule.Value, rule, splitCommas);
        if (kind is not (ValueKind.Number or ValueKind.Date))
        {
            return Condition(rule, RuleOperator.In, values: values);
        }
        var op = kind == ValueKind.Date ? RuleOperator.On : RuleOperator.Equals;
        return values.Count switch
        {
            0 => Condition(rule, op),
            1 => Condition(rule, op, values[0]),
            _ => AnyOf(values.Select(v => (RuleNode)Condition(rule, op, v)).ToArray()),
        };
    }

    private static RuleGroup Not(RuleNode node) => new() { Not = true, Children = [node] };

    private static RuleGroup AnyOf(params RuleNode[] nodes) => new() { Combinator = Combinator.Or, Children = [.. nodes] };
}
