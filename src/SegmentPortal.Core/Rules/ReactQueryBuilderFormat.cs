using System.Text.Json;
using System.Text.Json.Nodes;

namespace SegmentPortal.Core.Rules;

/// <summary>
/// react-querybuilder's query object as JSON (react-querybuilder.js.org):
/// <c>{"combinator":"and","not":false,"rules":[{"field":"age","operator":"&lt;","value":"30"}]}</c>, and the
/// independent-combinators variant where "and"/"or" sit between the rules: <c>{"rules":[{…},"and",{…},"or",{…}]}</c>.
/// </summary>
internal static class ReactQueryBuilderFormat
{
    private static readonly Dictionary<string, ForeignOperator> Operators = new(StringComparer.OrdinalIgnoreCase)
    {
        ["="] = ForeignOperator.Equal,
        ["!="] = ForeignOperator.NotEqual,
        ["<"] = ForeignOperator.Less,
        [">"] = ForeignOperator.Greater,
        ["<="] = ForeignOperator.LessOrEqual,
        [">="] = ForeignOperator.GreaterOrEqual,
        ["contains"] = ForeignOperator.Contains,
        ["beginsWith"] = ForeignOperator.BeginsWith,
        ["endsWith"] = ForeignOperator.EndsWith,
        ["doesNotContain"] = ForeignOperator.NotContains,
        ["doesNotBeginWith"] = ForeignOperator.NotBeginsWith,
        ["doesNotEndWith"] = ForeignOperator.NotEndsWith,
        ["null"] = ForeignOperator.IsNull,
        ["notNull"] = ForeignOperator.IsNotNull,
        ["in"] = ForeignOperator.In,
        ["notIn"] = ForeignOperator.NotIn,
        ["between"] = ForeignOperator.Between,
        ["notBetween"] = ForeignOperator.NotBetween,
    };

    private static readonly Dictionary<ForeignOperator, string> Names =
        Operators.ToDictionary(pair => pair.Value, pair => pair.Key);

    public static JsonObject Write(ForeignGroup group) => new()
    {
        ["combinator"] = group.Combinator == Combinator.Or ? "or" : "and",
        ["not"] = group.Not,
        ["rules"] = new JsonArray(group.Children.Select(child => (JsonNode)(child switch
        {
            ForeignGroup nested => Write(nested),
            ForeignRule rule => Write(rule),
            _ => throw new InvalidOperationException("Unknown foreign node."),
        })).ToArray()),
    };

    private static JsonObject Write(ForeignRule rule) => new()
    {
        ["field"] = rule.Field,
        // react-querybuilder has no "is empty" for text; "null" is its only emptiness operator.
        ["operator"] = Names[rule.Operator switch
        {
            ForeignOperator.IsEmpty => ForeignOperator.IsNull,
            ForeignOperator.IsNotEmpty => ForeignOperator.IsNotNull,
            var other => other,
        }],
        // Its value editors hold "" when there is nothing to enter.
        ["value"] = rule.Value ?? JsonValue.Create(""),
    };

    public static ForeignGroup Read(JsonNode? node)
    {
        if (node is not JsonObject root)
        {
            throw new PortalException("This is not a react-querybuilder query: it should be a JSON object with \"combinator\" and \"rules\".");
        }
        return ReadGroup(root, new Counters());
    }

    private sealed class Counters
    {
        public int Groups;
        public int Rules;
    }

    private static ForeignGroup ReadGroup(JsonObject json, Counters counters)
    {
        var number = ++counters.Groups;
        var not = JQueryQueryBuilderFormat.ReadNot(json, number);
        if (json["rules"] is not JsonArray rules)
        {
            throw new PortalException($"Group {number} has no list of rules.");
        }
        var entries = new List<object>();
        var position = 0;
        foreach (var entry in rules)
        {
            position++;
            entries.Add(entry switch
            {
                JsonObject item when item.ContainsKey("rules") => ReadGroup(item, counters),
                JsonObject item => ReadRule(item, counters),
                JsonValue value when value.GetValueKind() == JsonValueKind.String => ReadCombinator(value.GetValue<string>(), number),
                _ => throw new PortalException($"Group {number}: entry {position} is neither a rule, a group nor a combinator."),
            });
        }
        if (entries.Any(e => e is Combinator))
        {
            return Independent(entries, not, number);
        }
        var combinator = JQueryQueryBuilderFormat.StringOf(json["combinator"]) is { } name ? ReadCombinator(name, number) : Combinator.And;
        var group = new ForeignGroup { Number = number, Combinator = combinator, Not = not };
        group.Children.AddRange(entries.Cast<ForeignNode>());
        return group;
    }

    /// <summary>
    /// Independent combinators ([a, "and", b, "or", c]) read with AND binding tighter than OR, as react-querybuilder's
    /// own SQL export does: OR of AND-runs, (a and b) or c.
    /// </summary>
    private static ForeignGroup Independent(List<object> entries, bool not, int number)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if ((entries[i] is Combinator) != (i % 2 == 1) || entries.Count % 2 == 0)
            {
                throw new PortalException($"Group {number}: combinators must stand between rules (rule, \"and\", rule, …).");
            }
        }
        var runs = new List<List<ForeignNode>> { new() };
        for (var i = 0; i < entries.Count; i++)
        {
            switch (entries[i])
            {
                case Combinator.Or:
                    runs.Add([]);
                    break;
                case ForeignNode node:
                    runs[^1].Add(node);
                    break;
            }
        }
        if (runs.Count == 1)
        {
            var all = new ForeignGroup { Number = number, Combinator = Combinator.And, Not = not };
            all.Children.AddRange(runs[0]);
            return all;
        }
        var any = new ForeignGroup { Number = number, Combinator = Combinator.Or, Not = not };
        foreach (var run in runs)
        {
            if (run.Count == 1)
            {
                any.Children.Add(run[0]);
                continue;
            }
            var both = new ForeignGroup { Number = number, Combinator = Combinator.And };
            both.Children.AddRange(run);
            any.Children.Add(both);
        }
        return any;
    }

    private static Combinator ReadCombinator(string name, int groupNumber) => name.Trim().ToLowerInvariant() switch
    {
        "and" => Combinator.And,
        "or" => Combinator.Or,
        _ => throw new PortalException($"Group {groupNumber}: the combinator “{name}” has no equivalent here; use and or or."),
    };

    private static ForeignRule ReadRule(JsonObject json, Counters counters)
    {
        var number = ++counters.Rules;
        var field = JQueryQueryBuilderFormat.StringOf(json["field"])
            ?? throw new PortalException($"Rule {number}: it names no field.");
        var operatorName = JQueryQueryBuilderFormat.StringOf(json["operator"])
            ?? throw new PortalException($"Rule {number} (field “{field}”): it has no operator.");
        if (JQueryQueryBuilderFormat.StringOf(json["valueSource"]) is { } source && !source.Equals("value", StringComparison.OrdinalIgnoreCase))
        {
            throw new PortalException($"Rule {number} (field “{field}”): comparing with another field has no equivalent here.");
        }
        if (json["match"] is JsonObject)
        {
            throw new PortalException($"Rule {number} (field “{field}”): matching inside lists (“match”) has no equivalent here.");
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
            Value = json["value"]?.DeepClone(),
        };
    }
}
