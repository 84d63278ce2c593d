using Bunit;
using Microsoft.AspNetCore.Components.Web;
using SegmentPortal.Core.Rules;
using static SegmentPortal.Web.Tests.Components.Segments.BuilderDriver;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// The shape of a rule: adding, nesting, removing, duplicating, AND/OR and NOT, drag and drop, and the keyboard moves —
/// each checked in the rule tree and in what the builder shows.
/// </summary>
public sealed class RuleGroupEditorTests : BuilderTestContext
{
    [Fact]
    public async Task An_empty_rule_says_everyone_matches_until_a_condition_is_added()
    {
        var cut = RenderBuilder(All());
        Assert.Contains("No conditions yet: every customer matches.", cut.Find(Group).TextContent);

        await cut.AddFromMenuAsync(() => cut.Groups()[0], "add-field-condition");

        var added = Assert.IsType<FieldCondition>(Assert.Single(Root.Children));
        Assert.Equal(("", RuleOperator.Equals), (added.Field, added.Operator));
        Assert.Equal("AND[?]", cut.Outline());
        Assert.DoesNotContain("No conditions yet", cut.Markup);
        // No field yet: nothing to pick an operator or a value for.
        Assert.Empty(cut.FindAll("[data-testid=condition-operator]"));
        Assert.Equal(1, cut.Instance.Changes);
    }

    [Fact]
    public async Task Without_orders_or_other_segments_those_conditions_are_offered_but_disabled()
    {
        var cut = RenderBuilder(All());

        var items = await cut.AddMenuItemsAsync(() => cut.Groups()[0]);

        Assert.Equal(
            [("A customer field", false), ("An order fact (no related orders)", true), ("Membership of a segment", true)],
            items);
    }

    [Fact]
    public async Task Add_group_nests_a_group_that_takes_its_own_conditions_and_groups()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In)));

        await ClickAsync(() => Header(cut.Groups()[0]).QuerySelector("[data-testid=add-group]")!);

        // A group inside an AND group starts as OR (and the other way round): the usual reason to nest.
        var nested = Assert.IsType<RuleGroup>(Root.Children[1]);
        Assert.Equal(Combinator.Or, nested.Combinator);
        Assert.Equal("AND[region, OR[]]", cut.Outline());
        Assert.Contains("An empty group matches everyone.", cut.Groups()[1].TextContent);

        await cut.AddFromMenuAsync(() => cut.Groups()[1], "add-field-condition");
        await ClickAsync(() => Header(cut.Groups()[1]).QuerySelector("[data-testid=add-group]")!);

        Assert.Equal("AND[region, OR[?, AND[]]]", Outline(Root));
        Assert.Equal("AND[region, OR[?, AND[]]]", cut.Outline());
        Assert.Equal(2, Root.Children.Count);
        Assert.Equal(3, cut.Instance.Changes);
    }

    [Fact]
    public void The_root_group_cannot_be_moved_copied_or_deleted_but_nested_groups_can()
    {
        var cut = RenderBuilder(All(Any(Field("vip", RuleOperator.IsTrue))));

        var root = Header(cut.Groups()[0]);
        Assert.Null(root.QuerySelector("[aria-label='Delete group']"));
        Assert.Null(root.QuerySelector("[aria-label='Duplicate group']"));
        Assert.Null(root.QuerySelector("[aria-label='Move group up']"));
        Assert.Null(root.QuerySelector(".drag-handle"));
        Assert.Equal("false", cut.Groups()[0].GetAttribute("draggable"));
        var nested = Header(cut.Groups()[1]);
        Assert.NotNull(nested.QuerySelector("[aria-label='Delete group']"));
        Assert.NotNull(nested.QuerySelector(".drag-handle"));
        Assert.Equal("true", cut.Groups()[1].GetAttribute("draggable"));
        Assert.Equal("true", cut.Conditions()[0].GetAttribute("draggable"));
    }

    [Fact]
    public async Task Deleting_a_condition_or_a_group_removes_it_and_everything_in_it()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Field("birth_year"), Any(Field("vip", RuleOperator.IsTrue), Field("city"))));

        await ClickActionAsync(() => cut.ConditionFor("birth_year"), "Delete condition");

        Assert.Equal("AND[region, OR[vip, city]]", Outline(Root));
        Assert.Equal("AND[region, OR[vip, city]]", cut.Outline());

        await ClickAsync(() => Header(cut.Groups()[1]).QuerySelector("[data-testid=delete-group]")!);

        Assert.Equal("AND[region]", Outline(Root));
        Assert.Equal("AND[region]", cut.Outline());
        Assert.Single(cut.Groups());
        Assert.Equal(2, cut.Instance.Changes);
    }

    [Fact]
    public async Task Duplicating_a_condition_inserts_a_copy_with_the_same_values_right_after_it()
    {
        var original = Field("birth_year", RuleOperator.Between, "1970", "1990");
        var cut = RenderBuilder(All(original, Field("region", RuleOperator.In)));

        await ClickActionAsync(() => cut.ConditionFor("birth_year"), "Duplicate condition");

        Assert.Equal("AND[birth_year, birth_year, region]", cut.Outline());
        var copy = Assert.IsType<FieldCondition>(Root.Children[1]);
        Assert.NotEqual(original.Id, copy.Id);
        Assert.Equal((RuleOperator.Between, "1970", "1990"), (copy.Operator, copy.Value, copy.Value2));
        var shown = cut.Conditions()[1];
        Assert.Equal("between", shown.QuerySelector("[data-testid=condition-operator]")!.TextContent.Trim());
        Assert.Equal("1970", shown.QuerySelector("[data-testid=condition-value]")!.GetAttribute("value"));
        Assert.Equal("1990", shown.QuerySelector("[data-testid=condition-value2]")!.GetAttribute("value"));

        // Editing the copy leaves the original alone.
        await InputAsync(() => cut.Conditions()[1].QuerySelector("[data-testid=condition-value]")!, "1960");
        cut.WaitForAssertion(() => Assert.Equal("1960", copy.Value));
        Assert.Equal("1970", original.Value);
    }

    [Fact]
    public async Task Duplicating_a_group_copies_its_conditions_with_new_ids()
    {
        var group = Any(Field("vip", RuleOperator.IsTrue), Field("city", RuleOperator.Contains, "o"));
        group.Not = true;
        var cut = RenderBuilder(All(group));

        await ClickActionAsync(() => cut.Groups()[1], "Duplicate group");

        Assert.Equal("AND[NOT OR[vip, city], NOT OR[vip, city]]", Outline(Root));
        Assert.Equal("AND[NOT OR[vip, city], NOT OR[vip, city]]", cut.Outline());
        var copy = Assert.IsType<RuleGroup>(Root.Children[1]);
        Assert.Empty(copy.Descendants().Append(copy).Select(n => n.Id).Intersect(group.Descendants().Append(group).Select(n => n.Id)));
        Assert.Equal("o", ((FieldCondition)copy.Children[1]).Value);
    }

    [Fact]
    public async Task The_combinator_toggle_and_the_NOT_switch_change_only_their_own_group()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), All(Field("vip", RuleOperator.IsTrue), Field("city"))));

        await ClickAsync(() => CombinatorButton(cut.Groups()[0], "Any of (OR)"));

        Assert.Equal(Combinator.Or, Root.Combinator);
        Assert.Equal(Combinator.And, ((RuleGroup)Root.Children[1]).Combinator);
        Assert.Equal("OR[region, AND[vip, city]]", cut.Outline());

        await ChangeAsync(() => Header(cut.Groups()[1]).QuerySelector("[data-testid=group-not]")!, true);

        Assert.True(((RuleGroup)Root.Children[1]).Not);
        Assert.False(Root.Not);
        Assert.Equal("OR[region, NOT AND[vip, city]]", cut.Outline());
        Assert.Contains("rule-group-not", cut.Groups()[1].ClassList);
        Assert.DoesNotContain("rule-group-not", cut.Groups()[0].ClassList);

        await ChangeAsync(() => Header(cut.Groups()[1]).QuerySelector("[data-testid=group-not]")!, false);

        Assert.False(((RuleGroup)Root.Children[1]).Not);
        Assert.Equal("OR[region, AND[vip, city]]", cut.Outline());
        Assert.Equal(3, cut.Instance.Changes);
    }

    [Fact]
    public async Task Dragging_a_condition_onto_another_group_moves_it_to_the_end_of_that_group()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Field("birth_year"), Any(Field("vip", RuleOperator.IsTrue))));

        await DragAsync(() => cut.ConditionFor("region"), () => cut.Groups()[1]);

        Assert.Equal("AND[birth_year, OR[vip, region]]", Outline(Root));
        Assert.Equal("AND[birth_year, OR[vip, region]]", cut.Outline());
        Assert.Null(State.Dragging);
        Assert.Equal(1, cut.Instance.Changes);
    }

    [Fact]
    public async Task Dropping_on_the_line_before_a_node_puts_the_dragged_node_there_even_out_of_a_nested_group()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Field("birth_year"), Any(Field("vip", RuleOperator.IsTrue))));

        await DragAsync(() => cut.ConditionFor("vip"), () => DropLines(cut.Groups()[0])[1]);

        Assert.Equal("AND[region, vip, birth_year, OR[]]", Outline(Root));
        Assert.Equal("AND[region, vip, birth_year, OR[]]", cut.Outline());
        Assert.Contains("An empty group matches everyone.", cut.Groups()[1].TextContent);
    }

    [Fact]
    public async Task A_group_dragged_into_another_group_takes_its_conditions_along()
    {
        var cut = RenderBuilder(All(Any(Field("vip", RuleOperator.IsTrue), Field("city")), All(Field("birth_year"))));

        await DragAsync(() => cut.Groups()[1], () => cut.Groups()[2]);

        Assert.Equal("AND[AND[birth_year, OR[vip, city]]]", Outline(Root));
        Assert.Equal("AND[AND[birth_year, OR[vip, city]]]", cut.Outline());
    }

    [Fact]
    public async Task A_group_cannot_be_dropped_into_itself_or_anything_inside_it()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Any(Field("vip", RuleOperator.IsTrue), All(Field("birth_year")))));
        const string before = "AND[region, OR[vip, AND[birth_year]]]";

        // Onto itself, onto the group inside it, before its own first condition, before a condition of the inner group.
        await DragAsync(() => cut.Groups()[1], () => cut.Groups()[1]);
        await DragAsync(() => cut.Groups()[1], () => cut.Groups()[2]);
        await DragAsync(() => cut.Groups()[1], () => DropLines(cut.Groups()[1])[0]);
        await DragAsync(() => cut.Groups()[1], () => DropLines(cut.Groups()[2])[0]);

        Assert.Equal(before, Outline(Root));
        Assert.Equal(before, cut.Outline());
        Assert.Equal(0, cut.Instance.Changes);
        Assert.Null(State.Dragging);

        // Out of its parent is fine.
        await DragAsync(() => cut.Groups()[2], () => DropLines(cut.Groups()[0])[0]);
        Assert.Equal("AND[AND[birth_year], region, OR[vip]]", Outline(Root));
        Assert.Equal("AND[AND[birth_year], region, OR[vip]]", cut.Outline());
    }

    [Fact]
    public async Task A_drop_without_a_drag_in_progress_changes_nothing()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Any(Field("vip", RuleOperator.IsTrue))));

        await cut.Groups()[1].TriggerEventAsync("ondrop", new DragEventArgs());

        Assert.Equal("AND[region, OR[vip]]", Outline(Root));
        Assert.Equal(0, cut.Instance.Changes);
    }

    [Fact]
    public async Task Move_up_and_move_down_reorder_conditions_and_groups_among_their_siblings()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Field("birth_year"), Any(Field("vip", RuleOperator.IsTrue), Field("city"))));

        await ClickActionAsync(() => cut.ConditionFor("region"), "Move condition down");
        Assert.Equal("AND[birth_year, region, OR[vip, city]]", cut.Outline());

        await ClickActionAsync(() => cut.Groups()[1], "Move group up");
        Assert.Equal("AND[birth_year, OR[vip, city], region]", cut.Outline());

        await ClickActionAsync(() => cut.ConditionFor("city"), "Move condition up");
        Assert.Equal("AND[birth_year, OR[city, vip], region]", Outline(Root));
        Assert.Equal("AND[birth_year, OR[city, vip], region]", cut.Outline());
        Assert.Equal(3, cut.Instance.Changes);

        // Already first, already last: nothing moves, nothing is reported.
        await ClickActionAsync(() => cut.ConditionFor("birth_year"), "Move condition up");
        await ClickActionAsync(() => cut.ConditionFor("region"), "Move condition down");
        await ClickActionAsync(() => cut.ConditionFor("vip"), "Move condition down");
        Assert.Equal("AND[birth_year, OR[city, vip], region]", Outline(Root));
        Assert.Equal(3, cut.Instance.Changes);
    }

    [Fact]
    public void A_read_only_rule_is_shown_without_any_way_to_change_it()
    {
        var cut = RenderBuilder(All(Field("region", RuleOperator.In), Any(Field("birth_year", RuleOperator.Greater, "1980"))), readOnly: true);

        Assert.Equal("AND[region, OR[birth_year]]", cut.Outline());
        Assert.Empty(cut.FindAll("[data-testid=add-condition], [data-testid=add-group], [data-testid=delete-condition], [data-testid=delete-group]"));
        Assert.Empty(cut.FindAll(".drag-handle, [aria-label='Move condition up'], [aria-label='Duplicate condition']"));
        Assert.All(cut.FindAll($"{Group}, {Condition}"), e => Assert.Equal("false", e.GetAttribute("draggable")));
        Assert.NotNull(cut.Find("[data-testid=condition-value]").GetAttribute("disabled"));
        Assert.NotNull(cut.Find("[data-testid=group-not]").GetAttribute("disabled"));
    }

    private static AngleSharp.Dom.IElement CombinatorButton(AngleSharp.Dom.IElement group, string text) =>
        Header(group).QuerySelectorAll("[data-testid=combinator] button").Single(b => b.TextContent.Trim() == text);
}
