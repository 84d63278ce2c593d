using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Web.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>Issue 12 B6: the rule import dialog says what is wrong with a paste and stays usable.</summary>
public sealed class RuleJsonDialogTests : PortalTestContext
{
    private async Task<IRenderedComponent<MudDialogProvider>> OpenImportAsync()
    {
        var dialogs = Render<MudDialogProvider>();
        var options = new RuleBuilderOptions(1, "Customers", [], null, null, [], []);
        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<RuleJsonDialog>("Rule as JSON",
            new DialogParameters<RuleJsonDialog> { { d => d.Tree, new RuleTree() }, { d => d.Options, options }, { d => d.CanImport, true } }));
        dialogs.WaitForAssertion(() => dialogs.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Import", StringComparison.Ordinal)).Click());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=rule-import-json]"));
        return dialogs;
    }

    [Fact]
    public async Task B6_a_rule_node_without_kind_shows_where_and_the_dialog_keeps_working()
    {
        var dialogs = await OpenImportAsync();

        dialogs.Find("[data-testid=rule-import-json]").Change(
            """{"version":1,"root":{"kind":"group","children":[{"field":"region","operator":"equals","value":"North"}]}}""");
        dialogs.Find("[data-testid=rule-import]").Click();

        dialogs.WaitForAssertion(() => Assert.Contains("root.children[0]", dialogs.Find("[data-testid=rule-import-error]").TextContent, StringComparison.Ordinal));
        // Still open and usable: a good paste imports.
        dialogs.Find("[data-testid=rule-import-json]").Change(
            """{"version":1,"root":{"kind":"group","children":[{"kind":"condition","field":"region","operator":"equals","value":"North"}]}}""");
        dialogs.Find("[data-testid=rule-import]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=rule-import]")));
    }

    [Fact]
    public async Task B6_an_oversized_paste_says_the_limit()
    {
        var dialogs = await OpenImportAsync();
        var conditions = string.Join(",", Enumerable.Range(0, 400).Select(i => $$"""{"kind":"condition","field":"f{{i}}","operator":"equals","value":"{{i}}"}"""));

        dialogs.Find("[data-testid=rule-import-json]").Change($$$"""{"version":1,"root":{"kind":"group","children":[{{{conditions}}}]}}""");

        dialogs.WaitForAssertion(() => Assert.Contains("10,000 characters", dialogs.Find("[data-testid=rule-import-error]").TextContent, StringComparison.Ordinal));
    }
}
