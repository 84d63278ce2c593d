using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Web.Components.Segments;
using SegmentPortal.Web.Components.Shared.Charts;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// The holdout panel, the holdout marks in the member list and the lift dialog, over the six real customers and five
/// orders of <see cref="ShopData"/> in a temp store and warehouse.
/// </summary>
public sealed class HoldoutPanelTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;
    private int _customers;
    private int _segment;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSegmentServices(_store);
        SignInAs(ShopData.Owner, Roles.Analyst);
        _customers = await ShopData.SeedAsync(_store, Services, Xunit.TestContext.Current.CancellationToken);
        _segment = await Services.GetRequiredService<SegmentService>().CreateAsync(new SegmentDraft("Everyone", _customers, new RuleTree()));
    }

    private async Task<Segment> StoredAsync()
    {
        await using var db = await _store.Db.CreateAsync();
        return await db.Segments.AsNoTracking().SingleAsync(s => s.Id == _segment);
    }

    /// <summary>Half held out with a fixed salt: customers 1, 3 and 4 (2, 5 and 6 are treated).</summary>
    private async Task HoldOutHalfAsync()
    {
        await Services.GetRequiredService<SegmentHoldoutService>().SetShareAsync(_segment, 0.5);
        await using var db = await _store.Db.CreateAsync();
        var segment = await db.Segments.SingleAsync(s => s.Id == _segment);
        segment.HoldoutSalt = "shop-2";
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task An_editor_sets_a_share_and_sees_how_many_are_held_out_at_the_last_refresh()
    {
        var cut = Render<HoldoutPanel>(p => p.Add(x => x.SegmentId, _segment).Add(x => x.CanEdit, true));
        cut.WaitForAssertion(() => Assert.Equal("No holdout: every member can be reached by campaigns.", cut.Find("[data-testid=holdout-none]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=holdout-lift]"));

        cut.Find("[data-testid=holdout-percent]").Change("50");
        cut.Find("[data-testid=holdout-save]").Click();

        cut.WaitForAssertion(() => Assert.Contains("held out (", cut.Find("[data-testid=holdout-counts]").TextContent, StringComparison.Ordinal));
        var segment = await StoredAsync();
        var held = Enumerable.Range(1, 6).Count(i => SegmentHoldout.IsHeldOut(segment, $"{i}"));
        Assert.Equal($"{held:N0} held out ({held / 6.0 * 100:0.#}%), {6 - held:N0} treated, at the last refresh.",
            string.Join(' ', cut.Find("[data-testid=holdout-counts]").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal(0.5, segment.HoldoutShare);
        Assert.NotNull(segment.HoldoutSalt);
        Assert.Single(cut.FindAll("[data-testid=holdout-lift]"));
        Assert.Contains("50% of the members are now held out.", SnackbarMessages);
    }

    [Fact]
    public void Someone_who_cannot_edit_sees_the_counts_without_the_setting()
    {
        var cut = Render<HoldoutPanel>(p => p.Add(x => x.SegmentId, _segment).Add(x => x.CanEdit, false));

        cut.WaitForAssertion(() => cut.Find("[data-testid=holdout-none]"));
        Assert.Empty(cut.FindAll("[data-testid=holdout-percent]"));
    }

    [Fact]
    public async Task The_member_list_marks_the_held_out_customers()
    {
        await HoldOutHalfAsync();

        var cut = Render<MembersGrid>(p => p.Add(x => x.DatasetId, _customers).Add(x => x.Rule, new RuleGroup()).Add(x => x.SegmentId, _segment));

        cut.WaitForAssertion(() => Assert.Equal(6, cut.FindAll("[data-testid=members-grid] tbody tr").Count));
        var rows = cut.FindAll("[data-testid=members-grid] tbody tr");
        // The first column is the mark, the next the customer id (sorted by it).
        var held = rows.Where(r => r.QuerySelector("[data-testid=holdout-chip]") is not null).Select(r => r.QuerySelectorAll("td")[1].TextContent.Trim()).ToList();
        Assert.Equal(["1", "3", "4"], held);
        Assert.Equal("Holdout", cut.FindAll("[data-testid=members-grid] thead th")[0].TextContent.Trim());
    }

    [Fact]
    public void Without_a_holdout_the_member_list_has_no_holdout_column()
    {
        var cut = Render<MembersGrid>(p => p.Add(x => x.DatasetId, _customers).Add(x => x.Rule, new RuleGroup()).Add(x => x.SegmentId, _segment));

        cut.WaitForAssertion(() => Assert.Equal(6, cut.FindAll("[data-testid=members-grid] tbody tr").Count));
        Assert.DoesNotContain(cut.FindAll("[data-testid=members-grid] thead th"), th => th.TextContent.Trim() == "Holdout");
    }

    [Fact]
    public async Task The_lift_dialog_compares_orders_since_the_start_and_says_what_it_means()
    {
        await HoldOutHalfAsync();
        var dialogs = Render<MudDialogProvider>();
        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<LiftDialog>("Lift report",
            new DialogParameters<LiftDialog> { { d => d.SegmentId, _segment } }));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=lift-start]"));

        dialogs.Find("[data-testid=lift-start]").Change("2025-01-01");
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=lift-run]").HasAttribute("disabled")));
        dialogs.Find("[data-testid=lift-run]").Click();

        // Since 2025-01-01: held out 1, 3, 4 ordered 2, 1, 0 times (mean 1); treated 2, 5, 6 ordered 1, 0, 0 (mean 1/3).
        dialogs.WaitForAssertion(() => Assert.StartsWith("Treated customers ordered 0.67 fewer orders each than the holdout (95% CI",
            dialogs.Find("[data-testid=lift-sentence]").TextContent.Trim()));
        Assert.EndsWith("the difference could be chance.", dialogs.Find("[data-testid=lift-sentence]").TextContent.Trim());
        Assert.Equal((-2 / 3.0).ToString("N2"), dialogs.Find("[data-testid=lift-difference]").TextContent.Trim());
        var bar = (Bar)dialogs.FindComponents<Figure>().Single(f => f.Instance.TestId == "lift-chart").FindComponent<PlotlyChart>().Instance.Data[0];
        Assert.Equal([1 / 3.0, 1.0], bar.Y.Select(y => Convert.ToDouble(y, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task The_lift_dialog_says_why_there_is_no_report()
    {
        var dialogs = Render<MudDialogProvider>();
        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<LiftDialog>("Lift report",
            new DialogParameters<LiftDialog> { { d => d.SegmentId, _segment } }));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=lift-start]"));

        dialogs.Find("[data-testid=lift-start]").Change("2025-01-01");
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("[data-testid=lift-run]").HasAttribute("disabled")));
        dialogs.Find("[data-testid=lift-run]").Click();

        dialogs.WaitForAssertion(() => Assert.Equal(SegmentPortal.Core.Analysis.Lift.LiftService.NoHoldoutMessage, dialogs.Find("[data-testid=lift-error]").TextContent.Trim()));
    }
}
