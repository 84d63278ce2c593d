using System.Text.Json;
using System.Text.Json.Nodes;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Rules;

/// <summary>
/// jQuery QueryBuilder's JSON (querybuilder.js.org, <c>getRules()</c> / <c>setRules()</c>):
/// <c>{"condition":"AND","not":false,"rules":[{"id":"age","field":"age","type":"integer","input":"number","operator":"less","value":30}],"valid":true}</c>.
/// </summary>
internal static class JQueryQueryBuilderFormat
{
    private static readonly Dictionary<string, ForeignOperator> Operators = new(StringComparer.OrdinalIgnoreCase)
    {
        ["equal"] = ForeignOperator.Equal,
        ["not_equal"] = ForeignOperator.NotEqual,
        ["in"] = ForeignOperator.In,
        ["not_in"] = ForeignOperator.NotIn,
        ["less"] = ForeignOperator.Less,
        ["less_or_equal"] = ForeignOperator.LessOrEqual,
        ["greater"] = ForeignOperator.Greater,
        ["greater_or_equal"] = ForeignOperator.GreaterOrEqual,
        ["between"] = ForeignOperator.Between,
        ["not_between"] = ForeignOperator.NotBetween,
        ["begins_with"] = ForeignOperator.BeginsWith,
        ["not_begins_with"] = ForeignOperator.NotBeginsWith,
        ["contains"] = ForeignOperator.Contains,
        ["not_contains"] = ForeignOperator.NotContains,
        ["ends_with"] = ForeignOperator.EndsWith,
        ["not_ends_with"] = ForeignOperator.NotEndsWith,
        ["is_empty"] = ForeignOperator.IsEmpty,
        ["is_not_empty"] = ForeignOperator.IsNotEmpty,
        ["is_null"] = ForeignOperator.IsNull,
        ["is_not_null"] = ForeignOperator.IsNotNull,
    };

    private static readonly Dictionary<ForeignOperator, string> Names =
        Operators.ToDictionary(pair => pair.Value, pair => pair.Key);

    private static readonly Dictionary<string, ColumnType> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["string"] = ColumnType.Text,
        ["integer"] = ColumnType.Integer,
        ["double"] = ColumnType.Decimal,
        ["date"] = ColumnType.Date,
        ["datetime"] = ColumnType.Timestamp,
        ["boolean"] = ColumnType.Boolean,
    };

    public static JsonObject Write(ForeignGroup group) => Write(group, root: true);

    private static JsonObject Write(ForeignGroup group, bool root)
    {
        var json = new JsonObject
        {
            ["condition"] = group.Combinator == Combinator.Or ? "OR" : "AND",
            // "not" is read by the not-group plugin and ignored without it.
            ["not"] = group.Not,
            ["rules"] = new JsonArray(group.Children.Select(child => (JsonNode)(child switch
            {
                ForeignGroup nested => Write(nested, root: false),
                ForeignRule rule => Write(rule),
                _ => throw new InvalidOperationException("Unknown foreign node."),
            })).ToArray()),
        };
        if (root)
        {
            json["valid"] = true;
        }
        return json;
    }

    private static JsonObject Write(ForeignRule rule)
    {
        var type = rule.Type ?? ColumnType.Text;
        return new JsonObject
        {
            // The filter id is what setRules() matches; the portal's fields are the builder's filters.
            ["id"] = rule.Field,
            ["field"] = rule.Field,
            ["type"] = type switch
            {
                ColumnType.Integer => "integer",
                ColumnType.Decimal => "double",
                ColumnType.Date => "date",
                ColumnType.Timestamp => "datetime",
                ColumnType.Boolean => "boolean",
                _ => "string",
            },
            ["input"] = type switch
            {
                ColumnType.Integer or ColumnType.Decimal => "number",
                ColumnType.Boolean => "radio",
                _ when rule.Operator is ForeignOperator.In or ForeignOperator.NotIn => "select",
                _ => "text",
            },
            ["operator"] = Names[rule.Operator],
            ["value"] = rule.Value,
        };
    }

    public static ForeignGroup Read(JsonNode? node, List<string> warnings)
    {
        if (node is not JsonObject root)
        {
            throw new PortalException("This is not a jQuery QueryBuilder rule: it should be a JSON object with \"condition\" and \"rules\".");
        }
        if (root["valid"] is JsonValue valid && valid.GetValueKind() == JsonValueKind.False)
        {
            warnings.Add("jQuery QueryBuilder marked this rule as not valid (a value may be missing); check the conditions before saving.");
        }
        var counters = new Counters();
        return ReadGroup(root, counters);
    }

    private sealed class Counters
    {
        public int Groups;
        public int Rules;
    }

    private static ForeignGroup ReadGroup(JsonObject json, Counters counters)
    {
        var number = ++counters.Groups;
        var condition = json["condition"] switch
        {
            null => "AND",
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => throw new PortalException($"Group {number}: the condition should be \"AND\" or \"OR\"."),
        };
        var combinator = condition.ToUpperInvariant() switch
        {
            "AND" => Combinator.And,
            "OR" => Combinator.Or,
            _ => throw new PortalException($"Group {number}: the condition “{condition}” has no equivalent here; use AND or OR."),
        };
        var group = new ForeignGroup { Number = number, Combinator = combinator, Not = ReadNot(json, number) };
        if (json["rules"] is not JsonArray rules)
        {
            throw new PortalException($"Group {number} has no list of rules.");
        }
        var position = 0;
        foreach (var entry in rules)
        {
            position++;
            if (entry is not JsonObject item)
            {
                throw new PortalException($"Group {number}: entry {position} is neither a rule nor a group.");
            }
            group.Children.Add(item.ContainsKey("rules") || item.ContainsKey("condition") ? ReadGroup(item, counters) : ReadRule(item, counters));
        }
        return group;
    }

    internal static bool ReadNot(JsonObject json, int groupNumber) => json["not"] switch
    {
        null => false,
        JsonValue value when value.GetValueKind() is JsonValueKind.True => true,
        JsonValue value when value.GetValueKind() is JsonValueKind.False or JsonValueKind.Null => false,
        _ => throw new PortalException($"Group {groupNumber}: \"not\" should be true or false."),
    };

    private static ForeignRule ReadRule(JsonObject json, Counters counters)
    {
        var number = ++counters.Rules;
        // "field" is the column; "id" is the filter, and the column when no field is given.
        var field = StringOf(json["field"]) ?? StringOf(json["id"])
            ?? throw new PortalException($"Rule {number}: it names no field (\"id\" or \"field\").");
        var operatorName = StringOf(json["operator"])
            ?? throw new PortalException($"Rule {number} (field “{field}”): it has no operator.");
        ColumnType? type = null;
        if (StringOf(json["type"]) is { } typeName)
        {
            type = Types.TryGetValue(typeName, out var known)
                ? known
                : throw new PortalException($"Rule {number} (field “{field}”): the type “{typeName}” has no equivalent here.");
        }
        if (!Operators.TryGetValue(operatorName, out var op))
        {
            throw new PortalException($"Rule {number} (field “{field}”): the operator “{operatorName}” has no equivalent here.");
        }
        return new ForeignRule
        {
            Number = number,
            Field = field,
            OperatorName = operatorName,
            Operator = op,
            Type = type,
            Value = json["value"]?.DeepClone(),
        };
    }

    internal static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Trim() is { Length: > 0 } text
            ? text
            : null;
}
