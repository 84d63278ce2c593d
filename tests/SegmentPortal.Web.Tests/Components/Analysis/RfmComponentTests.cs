using Bunit;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Analysis;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Analysis;

/// <summary>The RFM page's parts: the grid editor, the scoring editor and the result view.</summary>
public sealed class RfmComponentTests : PortalTestContext
{
    [Fact]
    public void The_grid_editor_shows_the_standard_grid_and_a_changed_cell_moves_to_another_group()
    {
        RfmGrid? changed = null;
        var cut = Render<RfmGridEditor>(p => p.Add(g => g.Grid, RfmGrid.Default).Add(g => g.GridChanged, g => changed = g));

        Assert.Equal(RfmGroups.Champions, cut.Find("[data-testid=rfm-cell-55]").GetAttribute("value"));
        Assert.Equal(RfmGroups.Lost, cut.Find("[data-testid=rfm-cell-11]").GetAttribute("value"));
        Assert.Equal(11, cut.Find("[data-testid=rfm-cell-33]").QuerySelectorAll("option").Length);

        cut.Find("[data-testid=rfm-cell-33]").Change(RfmGroups.AtRisk);

        Assert.NotNull(changed);
        Assert.Equal(RfmGroups.AtRisk, changed!.GroupAt(3, 3));
        Assert.Equal(RfmGroups.Champions, changed.GroupAt(5, 5));
    }

    [Fact]
    public void Switching_a_dimension_to_thresholds_shows_its_cut_points_and_marks_bad_ones()
    {
        var settings = RfmSettings.Default;
        var cut = Render<RfmScoringEditor>(p => p.Add(s => s.Settings, settings).Add(s => s.SettingsChanged, s => settings = s));
        Assert.Empty(cut.FindAll("input[aria-label^='Recency cut point']"));

        cut.Find("[data-testid=rfm-scoring-recency]").QuerySelectorAll("button").Single(b => b.TextContent.Contains("Thresholds")).Click();
        Assert.Equal(RfmScoringMethod.Thresholds, settings.Recency.Method);

        cut.Render(p => p.Add(s => s.Settings, settings));
        Assert.Equal(4, cut.FindAll("input[aria-label^='Recency cut point']").Count);
        Assert.Contains("≤30 days = 5", cut.Find("[data-testid=rfm-scoring-recency]").TextContent);

        var reversed = settings.With(RfmDimension.Recency, RfmDimensionScoring.Thresholds(60, 30, 120, 240));
        cut.Render(p => p.Add(s => s.Settings, reversed));
        Assert.Contains("must go up", cut.Find("[data-testid=rfm-scoring-problem]").TextContent);
    }

    [Fact]
    public void The_result_lists_every_group_with_its_shares_and_offers_to_save_a_group()
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        var customers = Enumerable.Range(0, 50).Select(i => new RfmCustomer($"c{i}", i * 7, 1 + i % 9, 10 + i * 13.5)).ToList();
        var analysis = RfmAnalysis.Analyze(customers, RfmSettings.Default);
        var summary = new RfmSummary(new DateOnly(2025, 7, 1), null, analysis.Customers.Count, analysis.TotalRevenue, 321,
            analysis.Groups, analysis.Heatmap, analysis.Dimensions, TimeSpan.FromSeconds(0.4));
        string? saved = null;

        var cut = Render<RfmResults>(p => p.Add(r => r.Result, summary).Add(r => r.OnSaveGroup, g => saved = g));

        var rows = cut.FindAll("[data-testid=rfm-groups] tbody tr");
        Assert.Equal(11, rows.Count);
        var champions = analysis.Groups.Single(g => g.Group.Name == RfmGroups.Champions);
        var row = rows.Single(r => r.TextContent.Contains(RfmGroups.Champions));
        Assert.Contains(champions.Customers.ToString("N0"), row.TextContent);
        Assert.Contains(champions.CustomerShare.ToString("0.0%"), row.TextContent);
        Assert.Contains("Score 5:", cut.Find("[data-testid=rfm-bins]").TextContent);

        var atRisk = analysis.Groups.Single(g => g.Group.Name == RfmGroups.AtRisk);
        var button = cut.Find("[data-testid=rfm-save-at-risk]");
        Assert.Equal(atRisk.Customers == 0, button.HasAttribute("disabled"));
        var withCustomers = analysis.Groups.First(g => g.Customers > 0).Group.Name;
        cut.Find($"[data-testid=rfm-save-{withCustomers.ToLowerInvariant().Replace(' ', '-')}]").Click();
        Assert.Equal(withCustomers, saved);
    }

    [Fact]
    public void A_result_counted_in_purchase_days_calls_its_frequency_purchase_days_not_orders()
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        var customers = Enumerable.Range(0, 50).Select(i => new RfmCustomer($"c{i}", i * 7, 1 + i % 9, 10 + i * 13.5)).ToList();
        var analysis = RfmAnalysis.Analyze(customers, RfmSettings.Default);
        RfmSummary Summary(RfmFrequencyUnit? unit) => new(new DateOnly(2025, 7, 1), null, analysis.Customers.Count, analysis.TotalRevenue, 321,
            analysis.Groups, analysis.Heatmap, analysis.Dimensions, TimeSpan.Zero) { FrequencyUnit = unit };
        string FrequencyBins(IRenderedComponent<RfmResults> cut) =>
            cut.FindAll("[data-testid=rfm-bins] .mud-grid-item").Single(i => i.TextContent.Contains("Frequency")).TextContent;

        var days = Render<RfmResults>(p => p.Add(r => r.Result, Summary(RfmFrequencyUnit.PurchaseDays)));

        Assert.Contains("purchase days,", FrequencyBins(days));
        Assert.DoesNotContain("order", FrequencyBins(days));
        Assert.Contains("purchase days", days.Find("[data-testid=rfm-averages-heading]").GetAttribute("title"));

        // Counted with an order number, or saved before the unit was recorded: orders.
        foreach (var unit in new RfmFrequencyUnit?[] { RfmFrequencyUnit.Orders, null })
        {
            var orders = Render<RfmResults>(p => p.Add(r => r.Result, Summary(unit)));
            Assert.Contains("orders,", FrequencyBins(orders));
            Assert.DoesNotContain("purchase day", FrequencyBins(orders));
            Assert.Contains("orders and amount spent", orders.Find("[data-testid=rfm-averages-heading]").GetAttribute("title"));
        }
    }

    [Fact]
    public void The_scoring_editor_names_frequency_after_what_is_counted()
    {
        var days = Render<RfmScoringEditor>(p => p.Add(s => s.Settings, RfmSettings.Default).Add(s => s.FrequencyUnit, RfmFrequencyUnit.PurchaseDays));
        Assert.Contains("purchase days", days.Find("[data-testid=rfm-scoring-frequency]").TextContent);
        Assert.DoesNotContain("orders", days.Find("[data-testid=rfm-scoring-frequency]").TextContent);

        var orders = Render<RfmScoringEditor>(p => p.Add(s => s.Settings, RfmSettings.Default).Add(s => s.FrequencyUnit, RfmFrequencyUnit.Orders));
        Assert.Contains("orders", orders.Find("[data-testid=rfm-scoring-frequency]").TextContent);
    }

    [Fact]
    public void A_viewer_sees_the_result_without_save_buttons()
    {
        SignInAs("viewer@example.com", Roles.Viewer);
        var analysis = RfmAnalysis.Analyze([new RfmCustomer("a", 3, 2, 50), new RfmCustomer("b", 90, 1, 20)], RfmSettings.Default);
        var summary = new RfmSummary(new DateOnly(2025, 7, 1), null, 2, analysis.TotalRevenue, 3, analysis.Groups, analysis.Heatmap, analysis.Dimensions, TimeSpan.Zero);

        var cut = Render<RfmResults>(p => p.Add(r => r.Result, summary));

        Assert.Equal(11, cut.FindAll("[data-testid=rfm-groups] tbody tr").Count);
        Assert.Empty(cut.FindAll("[data-testid^=rfm-save-]"));
    }
}
