using System.Text;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Rules;

/// <summary>Short builders for rule trees, so a test reads like the rule it is about.</summary>
internal static class RuleTrees
{
    public static RuleTree Tree(params RuleNode[] children) => new() { Root = All(children) };

    public static RuleTree Tree(RuleGroup root) => new() { Root = root };

    public static RuleGroup All(params RuleNode[] children) => new() { Combinator = Combinator.And, Children = [.. children] };

    public static RuleGroup Any(params RuleNode[] children) => new() { Combinator = Combinator.Or, Children = [.. children] };

    public static RuleGroup Not(RuleGroup group)
    {
        group.Not = true;
        return group;
    }

    public static FieldCondition Field(string field, RuleOperator op, string? value = null, string? value2 = null) =>
        new() { Field = field, Operator = op, Value = value, Value2 = value2 };

    public static FieldCondition FieldIn(string field, RuleOperator op, params string[] values) =>
        new() { Field = field, Operator = op, Values = [.. values] };

    public static FieldCondition Relative(string field, RuleOperator op, string? amount, RelativeUnit? unit) =>
        new() { Field = field, Operator = op, Value = amount, Unit = unit };

    public static FactCondition Fact(CustomerFact fact, RuleOperator op, string? value = null, string? value2 = null, int? windowDays = null) =>
        new() { Fact = fact, Operator = op, Value = value, Value2 = value2, WindowDays = windowDays };

    public static FactCondition RelativeFact(CustomerFact fact, RuleOperator op, string? amount, RelativeUnit? unit, int? windowDays = null) =>
        new() { Fact = fact, Operator = op, Value = amount, Unit = unit, WindowDays = windowDays };

    public static FactCondition Bought(RuleOperator op, string column, params string[] categories) =>
        new() { Fact = CustomerFact.BoughtCategory, Operator = op, Column = column, Values = [.. categories] };

    public static SegmentCondition Segment(int id, bool isIn = true) => new() { SegmentId = id, In = isIn };
}

/// <summary>Compares rule trees by structure and values, ignoring node ids (which every import makes afresh).</summary>
internal static class RuleTreeAssert
{
    public static void Equal(RuleTree expected, RuleTree actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        Equal(expected.Root, actual.Root);
    }

    public static void Equal(RuleNode expected, RuleNode actual) =>
        // Multi-line text so a failure shows which node differs.
        Assert.Equal(Canonical(expected), Canonical(actual));

    public static string Canonical(RuleNode node)
    {
        var text = new StringBuilder();
        Write(node, 0, text);
        return text.ToString();
    }

    private static void Write(RuleNode node, int depth, StringBuilder text)
    {
        text.Append(' ', depth * 2);
        switch (node)
        {
            case RuleGroup group:
                text.Append(group.Not ? "NOT " : "").Append(group.Combinator).AppendLine();
                foreach (var child in group.Children)
                {
                    Write(child, depth + 1, text);
                }
                break;
            case FieldCondition field:
                text.Append($"field {field.Field} ").Append(Values(field)).AppendLine();
                break;
            case FactCondition fact:
                text.Append($"fact {fact.Fact} window={fact.WindowDays?.ToString() ?? "-"} column={fact.Column ?? "-"} ").Append(Values(fact)).AppendLine();
                break;
            case SegmentCondition segment:
                text.Append($"segment {segment.SegmentId} in={segment.In}").AppendLine();
                break;
        }
    }

    private static string Values(ValueCondition c) =>
        $"{c.Operator} value={c.Value ?? "-"} value2={c.Value2 ?? "-"} values=[{string.Join("|", c.Values)}] unit={c.Unit?.ToString() ?? "-"}";
}
