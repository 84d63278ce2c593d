using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Web.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;
using static SegmentPortal.Web.Tests.Components.Segments.BuilderDriver;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// The builder inside the segment editor page, over six real customers (see <see cref="ShopData"/>) in a temp SQLite
/// store and DuckDB warehouse: values offered from the data, the debounced live count and what each condition narrows
/// to, and incomplete or invalid conditions marked inline and skipped rather than failing the count.
/// </summary>
public sealed class SegmentEditorPageTests : PortalTestContext, IAsyncLifetime
{
    private const string Problem = "[data-testid=condition-problem]";
    private PortalStore _store = null!;
    private int _customers;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSegmentServices(_store);
        SignInAs(ShopData.Owner, Roles.Analyst);
        _customers = await ShopData.SeedAsync(_store, Services, Xunit.TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_category_condition_offers_the_values_in_the_data_and_the_count_follows_the_choice()
    {
        var cut = RenderNewSegment();
        Settled(cut, "All customers", matching: 6);

        await cut.AddFromMenuAsync(() => cut.Groups()[0], "add-field-condition");
        cut.WaitForAssertion(() => Assert.Equal("Choose a field. Skipped until it is complete.", cut.Find(Problem).TextContent.Trim()));
        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "reg", "region");
        cut.WaitForAssertion(() => Assert.Equal("Pick at least one value for region. Skipped until it is complete.", cut.Find(Problem).TextContent.Trim()));

        // Most frequent first; the customer without a region adds no empty value.
        await cut.OpenSelectAsync(() => cut.Find("[data-testid=condition-values]"));
        Assert.Equal(["North", "East", "South", "West"], cut.Options(cut.Find("[data-testid=condition-values]")));
        await cut.PickOptionAsync(() => cut.Find("[data-testid=condition-values]"), "North");

        Settled(cut, "Customers whose region is North", matching: 2);
        var condition = Assert.IsType<FieldCondition>(Assert.Single(Tree(cut).Root.Children));
        Assert.Equal(("region", RuleOperator.In), (condition.Field, condition.Operator));
        Assert.Equal(["North"], condition.Values);
        Assert.Empty(cut.FindAll(Problem));
        Assert.DoesNotContain("rule-condition-problem", cut.Conditions()[0].ClassList);
        Assert.Equal($"→ {2:N0}", cut.Find("[data-testid=narrows-to]").TextContent.Trim());
        Assert.Equal($"{2 / 6.0:0.0%} of {6:N0} customers", cut.Find("[data-testid=live-count-share]").TextContent.Trim());
    }

    [Fact]
    public async Task An_incomplete_or_invalid_condition_is_marked_inline_and_skipped_while_the_rest_still_counts()
    {
        var cut = await RenderSavedSegmentAsync(All(new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["North"] }));
        Settled(cut, "Customers whose region is North", matching: 2);

        // A new condition without a field: counted (as on a busy server, where the recount ends before the next edit)
        // and marked. Its summary reads the same once a field is chosen, so only the mark tells the two counts apart.
        await cut.AddFromMenuAsync(() => cut.Groups()[0], "add-field-condition");
        Settled(cut, "Customers whose region is North and (incomplete condition)", matching: 2);
        Assert.Equal("Choose a field. Skipped until it is complete.", cut.ConditionFor("?").QuerySelector(Problem)!.TextContent.Trim());

        await cut.ChooseFieldAsync(() => cut.Conditions()[1], "birth", "birth_year");

        // No value yet: marked, not counted, and the rest of the rule still counts.
        Settled(cut, "Customers whose region is North and (incomplete condition)", matching: 2);
        var incomplete = cut.ConditionFor("birth_year");
        Assert.Contains("rule-condition-problem", incomplete.ClassList);
        Assert.Equal("Enter a number for birth_year. Skipped until it is complete.", incomplete.QuerySelector(Problem)!.TextContent.Trim());
        Assert.Null(incomplete.QuerySelector("[data-testid=narrows-to]"));
        Assert.Equal($"→ {2:N0}", cut.ConditionFor("region").QuerySelector("[data-testid=narrows-to]")!.TextContent.Trim());
        Assert.Contains("1 incomplete condition(s) not counted yet.", cut.Find("[data-testid=live-count]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=live-count] .mud-alert"));

        // Not a number: marked with what is wrong.
        await InputAsync(() => cut.ConditionFor("birth_year").QuerySelector("[data-testid=condition-value]")!, "abc");
        Settled(cut, "Customers whose region is North and whose birth_year is abc", matching: 2);
        Assert.Equal("“abc” is not a number (birth_year). Skipped until it is complete.",
            cut.ConditionFor("birth_year").QuerySelector(Problem)!.TextContent.Trim());
        Assert.Contains("rule-condition-problem", cut.ConditionFor("birth_year").ClassList);

        // Fixed: the mark goes and the condition counts.
        await cut.ChooseAsync(() => cut.ConditionFor("birth_year").QuerySelector("[data-testid=condition-operator]")!, "more than");
        await InputAsync(() => cut.ConditionFor("birth_year").QuerySelector("[data-testid=condition-value]")!, "1979");

        Settled(cut, $"Customers whose region is North and whose birth_year is more than {1979:N0}", matching: 1);
        Assert.Empty(cut.FindAll(Problem));
        Assert.DoesNotContain("rule-condition-problem", cut.ConditionFor("birth_year").ClassList);
        Assert.Equal($"→ {4:N0}", cut.ConditionFor("birth_year").QuerySelector("[data-testid=narrows-to]")!.TextContent.Trim());
        Assert.DoesNotContain("incomplete condition", cut.Find("[data-testid=live-count]").TextContent);
        Assert.Empty(SnackbarMessages);
    }

    [Fact]
    public async Task A_condition_without_a_field_is_marked_and_deleting_it_clears_the_mark()
    {
        var cut = await RenderSavedSegmentAsync(All(
            new FieldCondition { Field = "vip", Operator = RuleOperator.IsTrue },
            Any(new FieldCondition())));
        Settled(cut, "Customers whose vip is true and (incomplete condition)", matching: 3);

        var empty = cut.ConditionFor("?");
        Assert.Equal("Choose a field. Skipped until it is complete.", empty.QuerySelector(Problem)!.TextContent.Trim());
        Assert.Contains("rule-condition-problem", empty.ClassList);

        await ClickActionAsync(() => cut.ConditionFor("?"), "Delete condition");

        Settled(cut, "Customers whose vip is true and (any customer)", matching: 3);
        Assert.Empty(cut.FindAll(Problem));
        Assert.Equal("AND[vip, OR[]]", cut.Outline());
        Assert.Equal("AND[vip, OR[]]", Outline(Tree(cut).Root));
    }

    [Fact]
    public async Task In_the_last_counts_back_from_today_in_the_unit_chosen()
    {
        var cut = RenderNewSegment();
        Settled(cut, "All customers", matching: 6);

        await cut.AddFromMenuAsync(() => cut.Groups()[0], "add-field-condition");
        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "sign", "signup");
        await cut.ChooseAsync(() => cut.Find("[data-testid=condition-operator]"), "in the last");
        cut.WaitForAssertion(() => Assert.Equal("Enter how many days for signup. Skipped until it is complete.", cut.Find(Problem).TextContent.Trim()));

        // Today is 2025-06-15: Ann signed up on the 10th, Fi on the 14th.
        await InputAsync(() => cut.Find("[data-testid=condition-value]"), "30");
        Settled(cut, "Customers whose signup is in the last 30 days", matching: 2);

        // Since 2024-12-15: Bo and Di too.
        await cut.ChooseAsync(() => cut.Find("[data-testid=condition-unit]"), "months");
        await InputAsync(() => cut.Find("[data-testid=condition-value]"), "6");
        Settled(cut, "Customers whose signup is in the last 6 months", matching: 4);
        var condition = (FieldCondition)Tree(cut).Root.Children[0];
        Assert.Equal((RuleOperator.InLast, "6", RelativeUnit.Months), (condition.Operator, condition.Value, condition.Unit));
        Assert.Empty(cut.FindAll(Problem));
    }

    [Fact]
    public async Task Dragging_a_condition_into_another_group_changes_what_the_rule_means_and_the_count_follows()
    {
        // North (Ann, Di) and (VIP (Ann, Cy, Fi) or born before 1985 (Ann, Di)): Ann and Di.
        var cut = await RenderSavedSegmentAsync(All(
            new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["North"] },
            Any(new FieldCondition { Field = "vip", Operator = RuleOperator.IsTrue },
                new FieldCondition { Field = "birth_year", Operator = RuleOperator.Less, Value = "1985" })));
        var before = $"Customers whose region is North and (whose vip is true or whose birth_year is less than {1985:N0})";
        Settled(cut, before, matching: 2);

        await DragAsync(() => cut.ConditionFor("region"), () => cut.Groups()[1]);

        // VIP or born before 1985 or North: Ann, Cy, Di, Fi.
        Settled(cut, $"Customers whose vip is true, whose birth_year is less than {1985:N0}, or whose region is North", matching: 4);
        Assert.Equal("AND[OR[vip, birth_year, region]]", Outline(Tree(cut).Root));
        Assert.Equal("AND[OR[vip, birth_year, region]]", cut.Outline());

        // And out again, before the group: back to the first meaning.
        await DragAsync(() => cut.ConditionFor("region"), () => DropLines(cut.Groups()[0])[0]);

        Settled(cut, before, matching: 2);
        Assert.Equal("AND[region, OR[vip, birth_year]]", Outline(Tree(cut).Root));
        Assert.Equal("AND[region, OR[vip, birth_year]]", cut.Outline());
    }

    [Fact]
    public async Task Switching_to_OR_and_NOT_recounts()
    {
        var cut = await RenderSavedSegmentAsync(All(
            new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["North"] },
            new FieldCondition { Field = "vip", Operator = RuleOperator.IsTrue }));
        Settled(cut, "Customers whose region is North and whose vip is true", matching: 1);

        await ClickAsync(() => Header(cut.Groups()[0]).QuerySelectorAll("[data-testid=combinator] button").Single(b => b.TextContent.Trim() == "Any of (OR)"));
        Settled(cut, "Customers whose region is North or whose vip is true", matching: 4);

        await ChangeAsync(() => Header(cut.Groups()[0]).QuerySelector("[data-testid=group-not]")!, true);
        Settled(cut, "All customers except those whose region is North or whose vip is true", matching: 2);
        Assert.Equal((Combinator.Or, true), (Tree(cut).Root.Combinator, Tree(cut).Root.Not));
        Assert.Equal("NOT OR[region, vip]", cut.Outline());
    }

    private IRenderedComponent<ContainerFragment> RenderNewSegment()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/segments/new?dataset={_customers}");
        return RenderPage(id: null);
    }

    private async Task<IRenderedComponent<ContainerFragment>> RenderSavedSegmentAsync(RuleGroup rule)
    {
        var id = await Services.GetRequiredService<SegmentService>()
            .CreateAsync(new SegmentDraft("Test segment", _customers, new RuleTree { Root = rule }), Xunit.TestContext.Current.CancellationToken);
        return RenderPage(id);
    }

    /// <summary>The page with a popover provider beside it (as the layout has), which selects and menus draw into.</summary>
    private IRenderedComponent<ContainerFragment> RenderPage(int? id) => Render(builder =>
    {
        builder.OpenComponent<MudPopoverProvider>(0);
        builder.CloseComponent();
        builder.OpenComponent<SegmentEditorPage>(1);
        builder.AddAttribute(2, nameof(SegmentEditorPage.Id), id);
        builder.CloseComponent();
    });

    /// <summary>
    /// Waits until the debounced recount after the last edit has finished: not counting, and showing the summary of the
    /// rule as it now is (computed with the count) and the count.
    /// </summary>
    private static void Settled(IRenderedComponent<ContainerFragment> cut, string summary, long matching) => cut.WaitForAssertion(() =>
    {
        Assert.Empty(cut.FindAll("[data-testid=live-count] .mud-progress-circular"));
        Assert.Equal(summary, cut.Find("[data-testid=rule-summary]").TextContent.Trim());
        Assert.Equal(matching.ToString("N0"), cut.Find("[data-testid=live-count-value]").TextContent.Trim());
    });

    /// <summary>The rule the page is editing.</summary>
    private static RuleTree Tree(IRenderedComponent<ContainerFragment> cut) => cut.FindComponent<RuleGroupEditor>().Instance.State.Tree;

    private static RuleGroup All(params RuleNode[] children) => new() { Children = [.. children] };

    private static RuleGroup Any(params RuleNode[] children) => new() { Combinator = Combinator.Or, Children = [.. children] };
}
