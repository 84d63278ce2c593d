using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Tests.Analysis;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>A cluster-profile tile over a real clustering run of three known groups of 30 customers.</summary>
public sealed class ClusterProfileTileTests(ClusteringFixture fixture) : IClassFixture<ClusteringFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Profiles_show_each_clusters_size_share_and_feature_means_and_list_its_customers()
    {
        var options = await fixture.Harness.WithAsync<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(fixture.Customers.Id, Ct));
        var features = options.Where(o => o.Feature.Measure is CustomerMeasure.OrderCount or CustomerMeasure.TotalAmount).Select(o => o.Feature).ToList();
        var run = await fixture.RunAsync(new ClusteringRequest { Name = "Profiles", DatasetId = fixture.Customers.Id, Features = features, K = 3, Seed = 5 });
        var tile = new TileDefinition { Id = "clusters", Type = TileType.ClusterProfile, SourceId = run.Summary.Id };
        var board = DashboardFixture.Board(null, tile);

        var data = await fixture.Harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(board, tile, DashboardState.Empty, Ct));
        var members = await fixture.Harness.WithAsync<TileDataService, UnderlyingRows>(s =>
            s.UnderlyingAsync(board, tile, DashboardState.Empty, [data.Rows[0][0]], Ct));

        Assert.Equal(3, data.Rows.Count);
        Assert.All(data.Rows, r => Assert.Equal(30.0, r[1]));
        Assert.Equal(1.0, data.Rows.Sum(r => (double)r[2]!), 6);
        Assert.Equal(["Customers", "Share", .. features.Select(f => f.Label), .. features.Select(f => $"{f.Label} (difference, sd)")], data.Measures);
        Assert.Equal(30, members.Rows.Count);
        Assert.Equal("id", members.Columns[0]);
    }
}
