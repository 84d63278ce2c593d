using Bunit;
using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Analysis.Churn;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Analysis;
using SegmentPortal.Web.Components.Shared.Charts;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Analysis;

/// <summary>The churn result: the validation figures, the importance in words, the calibration plot, the scores and the lifecycle stages; withheld figures are not shown.</summary>
public sealed class ChurnRunPanelTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
    }

    private static readonly ChurnRequest Request = new() { Name = "Who leaves", DatasetId = 1 };

    private static ChurnRunView Completed()
    {
        var lifecycle = new LifecycleThresholds(20, 20, 60, 120);
        var settings = new ChurnSettings(60, new DateOnly(2025, 3, 2), new DateOnly(2025, 5, 1), new DateOnly(2025, 6, 30), 0.5, lifecycle);
        var calibration = Enumerable.Range(0, 10).Select(i => new CalibrationBin(50, (i + 0.5) / 10, i / 10.0)).ToList();
        IReadOnlyList<FeatureImportance> importance =
        [
            new("Days since last order", 0.21, 1),
            new("Orders", 0.04, -1),
            new("lucky_number", 0.0, 0),
        ];
        var metrics = new ChurnMetrics(400, 0.3, 500, 0.35, 0.86, 0.9, 0.5, 0.72, 0.64, 150, calibration, importance, ChurnEngine.Explain(importance, 0.86));
        var scoring = new ChurnScoring(new DateOnly(2025, 6, 30), 600, 580, [100, 80, 60, 50, 40, 40, 50, 60, 50, 50],
            new Dictionary<string, int> { ["low"] = 240, ["medium"] = 90, ["high"] = 250 },
            new Dictionary<string, int> { ["new"] = 30, ["active"] = 200, ["returning"] = 20, ["at risk"] = 120, ["dormant"] = 90, ["lost"] = 120 });
        var summary = new ChurnRunSummary(1, "Who leaves", "customers", ChurnRunStatus.Completed, 580, 0.86, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, "analyst@example.com");
        return new ChurnRunView(summary, Request, settings, metrics, scoring, importance.Select(i => i.Feature).ToList(),
            "Churn risk (Who leaves)", "Churn risk band (Who leaves)", "Lifecycle stage (Who leaves)");
    }

    private IRenderedComponent<ChurnRunPanel> RenderRun(ChurnRunView view)
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        return Render<ChurnRunPanel>(p => p.Add(x => x.View, view));
    }

    private static PlotlyChart Chart(IRenderedComponent<ChurnRunPanel> cut, string testId) =>
        cut.FindComponents<Figure>().Single(f => f.Instance.TestId == testId).FindComponent<PlotlyChart>().Instance;

    [Fact]
    public void A_completed_run_shows_its_validation_drivers_scores_and_lifecycle()
    {
        var cut = RenderRun(Completed());

        Assert.Contains("0.86", cut.Find("[data-testid=churn-auc]").TextContent);
        Assert.Contains("72", cut.Find("[data-testid=churn-precision]").TextContent);
        Assert.Contains("64", cut.Find("[data-testid=churn-recall]").TextContent);
        var sentences = cut.FindAll("[data-testid=churn-explanation]").Select(e => e.TextContent).ToList();
        Assert.StartsWith("Days since last order matters most", sentences[0]);
        Assert.Contains(sentences, s => s.Contains("Hardly used by the model: lucky_number", StringComparison.Ordinal));

        // The calibration plot: the diagonal and the ten groups.
        var calibration = Chart(cut, "chart-churn-calibration").Data;
        Assert.Equal(2, calibration.Count);
        Assert.Equal(10, ((Scatter)calibration[1]).X.Count);
        Assert.Equal(10, ((Bar)Chart(cut, "chart-churn-scores").Data[0]).Y.Count);

        var rows = cut.FindAll("[data-testid=churn-lifecycle-row]");
        Assert.Equal(6, rows.Count);
        Assert.Contains("Lost: no order for more than 120 days.", rows[5].TextContent);
        Assert.Contains("120", rows[5].TextContent);
        Assert.Contains("Churn risk (Who leaves)", cut.Find("[data-testid=churn-fields]").TextContent);
    }

    [Fact]
    public void A_withheld_run_shows_the_notice_and_no_figures()
    {
        var view = Completed();
        var withheld = new ChurnRunView(view.Summary with { Customers = 0, Auc = null, Withheld = true }, Request, null, null, null, [], view.RiskField, view.BandField, view.LifecycleField)
        {
            Withheld = ChurnService.WithheldNotice,
        };

        var cut = RenderRun(withheld);

        Assert.Equal(ChurnService.WithheldNotice, cut.Find("[data-testid=churn-withheld]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=churn-auc]"));
        Assert.Empty(cut.FindAll("[data-testid=churn-calibration]"));
        Assert.Empty(cut.FindAll("[data-testid=churn-lifecycle]"));
    }

    [Fact]
    public void A_failed_run_shows_its_message()
    {
        var view = Completed();
        var failed = new ChurnRunView(view.Summary with { Status = ChurnRunStatus.Failed, Error = "Only 3 customers had ordered by the training cut-off." }, Request, null, null, null, [],
            view.RiskField, view.BandField, view.LifecycleField);

        var cut = RenderRun(failed);

        Assert.Contains("Only 3 customers", cut.Find("[data-testid=churn-error]").TextContent);
    }
}
