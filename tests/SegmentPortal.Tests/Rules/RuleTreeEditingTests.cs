using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Rules;

public sealed class RuleTreeEditingTests
{
    private static FieldCondition C(string field) => new() { Field = field, Operator = RuleOperator.IsNotEmpty };

    private static string Shape(RuleNode node) => node switch
    {
        RuleGroup g => $"{(g.Not ? "!" : "")}{g.Combinator}({string.Join(" ", g.Children.Select(Shape))})",
        FieldCondition f => f.Field,
        _ => "?",
    };

    [Fact]
    public void Nodes_move_into_groups_before_others_and_up_and_down()
    {
        var a = C("a");
        var b = C("b");
        var c = C("c");
        var inner = new RuleGroup { Combinator = Combinator.Or, Children = [c] };
        var root = new RuleGroup { Children = [a, b, inner] };

        Assert.True(RuleTreeEditing.MoveInto(root, a, inner));
        Assert.Equal("And(b Or(c a))", Shape(root));
        Assert.True(RuleTreeEditing.MoveBefore(root, a, b));
        Assert.Equal("And(a b Or(c))", Shape(root));
        Assert.True(RuleTreeEditing.Shift(root, a, 1));
        Assert.Equal("And(b a Or(c))", Shape(root));
        Assert.False(RuleTreeEditing.Shift(root, b, -1));
    }

    [Fact]
    public void A_group_cannot_move_into_itself_or_its_children()
    {
        var deep = new RuleGroup();
        var outer = new RuleGroup { Children = [deep] };
        var root = new RuleGroup { Children = [outer] };

        Assert.False(RuleTreeEditing.MoveInto(root, outer, deep));
        Assert.False(RuleTreeEditing.MoveInto(root, outer, outer));
        Assert.Equal("And(And(And()))", Shape(root));
    }

    [Fact]
    public void Duplicate_inserts_a_deep_copy_with_new_ids_and_remove_takes_a_node_out()
    {
        var inner = new RuleGroup { Not = true, Children = [C("x")] };
        var root = new RuleGroup { Children = [inner] };

        var copy = (RuleGroup)RuleTreeEditing.Duplicate(root, inner);

        Assert.Equal("And(!And(x) !And(x))", Shape(root));
        Assert.NotEqual(inner.Id, copy.Id);
        Assert.NotEqual(inner.Children[0].Id, copy.Children[0].Id);
        Assert.True(RuleTreeEditing.Remove(root, inner.Children[0]));
        Assert.Equal("And(!And() !And(x))", Shape(root));
    }
}
