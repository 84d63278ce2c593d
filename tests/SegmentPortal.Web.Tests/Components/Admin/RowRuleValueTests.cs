using AngleSharp.Dom;
using Bunit;
using SegmentPortal.Core.Rules;
using SegmentPortal.Web.Components.Segments;
using SegmentPortal.Web.Tests.Components.Segments;

namespace SegmentPortal.Web.Tests.Components.Admin;

/// <summary>The rule builder as the row-rule editor uses it: a value can be an attribute of the signed-in user.</summary>
public sealed class RowRuleValueTests : BuilderTestContext
{
    private IRenderedComponent<BuilderHost> RenderRowRule(RuleGroup root, IReadOnlyList<string> attributes)
    {
        var state = new BuilderState(new RuleTree { Root = root }, Options(), (_, _) => Task.FromResult<IReadOnlyList<string>>([]))
        {
            UserAttributes = attributes,
        };
        return Render<BuilderHost>(p => p.Add(h => h.State, state));
    }

    private static IElement Popover(IRenderedComponent<BuilderHost> cut, IElement menu)
    {
        var anchor = menu.QuerySelector(".mud-popover-cascading-value")!;
        return cut.Find("#popovercontent-" + anchor.Id!["popover-".Length..]);
    }

    [Fact]
    public async Task A_text_value_can_be_the_signed_in_users_attribute()
    {
        var condition = Field("city", RuleOperator.Equals);
        var cut = RenderRowRule(All(condition), ["Email", "Name", "Region"]);

        await BuilderDriver.ClickAsync(() => cut.Find("[data-testid=user-attribute] button"));
        cut.WaitForAssertion(() => Assert.Equal(
            ["Email of the signed-in user", "Name of the signed-in user", "Region of the signed-in user"],
            Popover(cut, cut.Find("[data-testid=user-attribute]")).QuerySelectorAll("[role=menuitem]").Select(i => i.TextContent.Trim())));
        await BuilderDriver.ClickAsync(() => Popover(cut, cut.Find("[data-testid=user-attribute]")).QuerySelectorAll("[role=menuitem]")
            .Single(i => i.TextContent.Contains("Region", StringComparison.Ordinal)));

        Assert.Equal("{user.Region}", condition.Value);
        Assert.Equal("{user.Region}", cut.Find("[data-testid=condition-value]").GetAttribute("value"));
    }

    [Fact]
    public void Segment_rules_offer_no_user_attributes()
    {
        var cut = RenderRowRule(All(Field("city", RuleOperator.Equals)), []);

        Assert.Empty(cut.FindAll("[data-testid=user-attribute]"));
    }
}
