using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Analysis;
using SegmentPortal.Web.Components.Shared.Charts;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Analysis;

/// <summary>The clustering result's charts: titles clear of the toolbar, a profile chart that suits the number of features, a legend clear of the map.</summary>
public sealed class ClusteringRunPanelTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
    }

    /// <summary>A finished automatic-K run on three (or fewer) well-separated synthetic groups, as the service would show it.</summary>
    private static ClusteringRunView Run(int features)
    {
        var random = new Random(5);
        var centres = new[] { new[] { 0.0, 0, 0 }, [10, 0, 0], [0, 10, 10] };
        var rows = Enumerable.Range(0, 300).Select(i => centres[i % 3].Take(features).Select(c => (double?)(c + random.NextDouble())).ToArray()).ToArray();
        var specs = new[] { new FeatureSpec("Spend"), new FeatureSpec("Orders"), new FeatureSpec("Recency") }.Take(features).ToArray();
        var data = new ClusteringData(specs, rows);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian);
        var evaluation = ClusteringEngine.EvaluateRange(prepared, 2, 4, seed: 1);
        var result = ClusteringEngine.Train(prepared, 3, seed: 1);
        var explanation = ClusteringEngine.Explain(data, prepared, result);
        var request = new ClusteringRequest
        {
            Name = "Shoppers", DatasetId = 1,
            Features = specs.Select(s => new ClusteringFeature(s.Name, FeatureSource.Field, Field: s.Name)).ToList(),
        };
        var summary = new ClusteringRunSummary(1, "Shoppers", "Customers", 3, ClusteringRunStatus.Completed, 300,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, "analyst@example.com");
        return new ClusteringRunView(summary, request, evaluation, result.Metrics, explanation, new ClusteringCounts(300, 300, 0, new int[features]),
            ["A", "B", "C"], "Cluster", "Cluster name");
    }

    private IRenderedComponent<ClusteringRunPanel> RenderRun(int features)
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        return Render<ClusteringRunPanel>(p => p.Add(x => x.View, Run(features)));
    }

    private static PlotlyChart Chart(IRenderedComponent<ClusteringRunPanel> cut, string testId) =>
        cut.FindComponents<Figure>().Single(f => f.Instance.TestId == testId).FindComponent<PlotlyChart>().Instance;

    [Fact]
    public void The_choosing_K_charts_have_their_titles_above_them_not_under_the_toolbar()
    {
        var cut = RenderRun(3);

        Assert.Equal("Within-cluster sum of squares (elbow)", cut.Find("[data-testid=chart-title-elbow]").TextContent.Trim());
        Assert.Equal("Silhouette (higher is better)", cut.Find("[data-testid=chart-title-silhouette]").TextContent.Trim());
        Assert.Equal("Davies-Bouldin (lower is better)", cut.Find("[data-testid=chart-title-davies-bouldin]").TextContent.Trim());
        foreach (var id in new[] { "chart-elbow", "chart-silhouette", "chart-davies-bouldin" })
        {
            Assert.True(string.IsNullOrEmpty(Chart(cut, id).Layout.Title?.Text), $"{id} still draws its title inside the plot");
        }
        Assert.Contains("the best of 30 k-means++ starts", cut.Find("[data-testid=clustering-k-choice]").TextContent);
        Assert.Contains("the best of 30 k-means++ starts", cut.Markup);
    }

    [Fact]
    public void Three_features_are_profiled_on_a_radar()
    {
        var cut = RenderRun(3);

        Assert.All(Chart(cut, "chart-radar").Data, t => Assert.IsType<ScatterPolar>(t));
        Assert.Empty(cut.FindAll("[data-testid=chart-profile-bars]"));
    }

    [Fact]
    public void Two_features_are_profiled_as_bars_because_a_radar_of_two_axes_is_a_line()
    {
        var cut = RenderRun(2);

        Assert.Empty(cut.FindAll("[data-testid=chart-radar]"));
        var bars = Chart(cut, "chart-profile-bars").Data;
        Assert.Equal(3, bars.Count);
        Assert.All(bars, t => Assert.Equal(["Spend", "Orders"], Assert.IsType<Bar>(t).X));
    }

    [Fact]
    public void The_map_legend_sits_below_the_plot_area()
    {
        var cut = RenderRun(3);

        var legend = Assert.Single(Chart(cut, "chart-pca").Layout.Legend);
        Assert.Equal(Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, legend.Orientation);
        Assert.True(legend.Y < 0, $"The legend is at y = {legend.Y}, over the points");
    }
}
