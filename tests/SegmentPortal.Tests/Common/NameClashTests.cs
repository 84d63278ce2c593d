using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Analysis;
using SegmentPortal.Tests.Queries;

namespace SegmentPortal.Tests.Common;

/// <summary>Every service that keeps names unique refuses a clash through <see cref="Core.Common.UniqueNames"/>: trimmed, whatever the case.</summary>
public sealed class NameClashTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task A_segment_name_differing_only_in_case_and_spaces_is_refused()
    {
        var name = Unique("Loyal");
        await shop.Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft(name, shop.CustomerData.Id, new RuleTree()), Ct));

        var clash = await Assert.ThrowsAsync<PortalException>(() => shop.Harness.WithAsync<SegmentService, int>(s =>
            s.CreateAsync(new SegmentDraft($"  {name.ToUpperInvariant()} ", shop.CustomerData.Id, new RuleTree()), Ct)));

        Assert.Equal($"You already have a segment called “{name.ToUpperInvariant()}”.", clash.Message);
    }

    [Fact]
    public async Task A_dashboard_name_differing_only_in_case_and_spaces_is_refused()
    {
        var name = Unique("Weekly");
        var id = await shop.Harness.WithAsync<DashboardService, int>(s => s.CreateAsync(name, null, Ct));

        var clash = await Assert.ThrowsAsync<PortalException>(() => shop.Harness.WithAsync<DashboardService, int>(s =>
            s.CreateAsync($" {name.ToLowerInvariant()}  ", null, Ct)));

        Assert.Equal($"You already have a dashboard called “{name.ToLowerInvariant()}”.", clash.Message);
        // Its own name, in another case, is no clash.
        await shop.Harness.WithAsync<DashboardService>(s => s.DescribeAsync(id, name.ToUpperInvariant(), null, Ct));
    }

    [Fact]
    public async Task A_folder_name_differing_only_in_case_and_spaces_is_refused()
    {
        var name = Unique("Board room");
        await shop.Harness.WithAsync<DashboardFolders, int>(s => s.CreateFolderAsync(name, Ct));

        var clash = await Assert.ThrowsAsync<PortalException>(() => shop.Harness.WithAsync<DashboardFolders, int>(s =>
            s.CreateFolderAsync($" {name.ToUpperInvariant()} ", Ct)));

        Assert.Equal($"You already have a folder called “{name.ToUpperInvariant()}”.", clash.Message);
    }
}

/// <summary>A cluster cannot be renamed to the name another cluster of its run has.</summary>
public sealed class ClusterNameClashTests(ClusteringFixture fixture) : IClassFixture<ClusteringFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Renaming_a_cluster_to_another_clusters_name_is_refused()
    {
        var options = await fixture.Harness.WithAsync<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(fixture.Customers.Id, Ct));
        var features = options.Where(o => o.Feature.Measure is CustomerMeasure.OrderCount or CustomerMeasure.TotalAmount).Select(o => o.Feature).ToList();
        var view = await fixture.RunAsync(new ClusteringRequest { Name = "Names", DatasetId = fixture.Customers.Id, Features = features, K = 3, Seed = 11 });
        Assert.Equal(ClusteringRunStatus.Completed, view.Summary.Status);
        await fixture.Harness.WithAsync<ClusterSegments>(s => s.RenameClusterAsync(view.Summary.Id, 0, "Big spenders", Ct));

        var clash = await Assert.ThrowsAsync<PortalException>(() =>
            fixture.Harness.WithAsync<ClusterSegments>(s => s.RenameClusterAsync(view.Summary.Id, 1, " big SPENDERS ", Ct)));

        Assert.Equal("A cluster called “big SPENDERS” already exists.", clash.Message);
    }
}
