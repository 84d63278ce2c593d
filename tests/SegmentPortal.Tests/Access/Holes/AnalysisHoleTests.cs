using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12, stored analysis results and derived fields: RFM results, clustering runs, the fields they publish and a
/// dataset's import history are served to each user only as far as that user's data rules allow, and only their
/// owners (or an Admin) change them. The data and accounts are those of <see cref="PermissionFixture"/>.
/// </summary>
public sealed class AnalysisHoleTests(PermissionFixture f) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly RfmInput Input = new() { ReferenceDate = new DateOnly(2024, 6, 15) };

    /// <summary>Order count and total spent, from the orders related to the customers, as the owner is offered them.</summary>
    private async Task<ClusteringRequest> RequestAsync(string name, int seed)
    {
        f.AsOwner();
        var options = await f.With<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(f.Customers.Id, Ct));
        var features = options.Where(o => o.Feature.Measure is CustomerMeasure.OrderCount or CustomerMeasure.TotalAmount).Select(o => o.Feature).ToList();
        Assert.Equal(2, features.Count);
        return new ClusteringRequest { Name = name, DatasetId = f.Customers.Id, Features = features, K = 2, Seed = seed };
    }

    /// <summary>The owner starts a run and trains it in place (these tests run no job runner), and gets the finished view.</summary>
    private async Task<ClusteringRunView> OwnerRunAsync(string name, int seed)
    {
        var request = await RequestAsync(name, seed);
        f.AsOwner();
        var id = await f.With<ClusteringService, int>(s => s.StartAsync(request, Ct));
        await f.With<ClusteringTrainer>(s => s.TrainAsync(id, new Progress<JobProgress>(), Ct));
        var view = await f.With<ClusteringService, ClusteringRunView>(s => s.GetAsync(id, Ct));
        Assert.Equal(ClusteringRunStatus.Completed, view.Summary.Status);
        Assert.NotNull(view.Explanation);
        return view;
    }

    /// <summary>An Analyst who may see every customer (a rule without conditions) but only the North orders.</summary>
    private async Task<AppUser> OrdersNorthAnalystAsync()
    {
        var user = await f.Harness.CreateUserAsync($"orders.north.{Guid.NewGuid():N}@example.com", Password, Roles.Analyst);
        await using var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        db.UserAttributes.Add(new UserAttribute { UserId = user.Id, Name = "Region", Value = "North" });
        db.RowRules.AddRange(
            new RowRule { DatasetId = f.Customers.Id, UserId = user.Id, RuleJson = new RuleTree { Root = new RuleGroup() }.ToJson() },
            new RowRule { DatasetId = f.Orders.Id, UserId = user.Id, RuleJson = RegionOfUser() });
        await db.SaveChangesAsync(Ct);
        return user;
    }

    [Fact]
    public async Task L1_a_row_ruled_user_never_sees_the_owners_stored_rfm_result()
    {
        f.AsOwner();
        var owner = await f.With<RfmService, RfmView>(s => s.ComputeAsync(f.Orders.Id, Input, RfmSettings.Default, Ct));
        f.AsNorthAnalyst();
        var north = await f.With<RfmService, RfmView>(s => s.GetAsync(f.Orders.Id, Ct));
        f.AsNorthViewer();
        var viewer = await f.With<RfmService, RfmView>(s => s.GetAsync(f.Orders.Id, Ct));
        f.AsAdmin();
        var admin = await f.With<RfmService, RfmView>(s => s.GetAsync(f.Orders.Id, Ct));

        Assert.Equal(5, owner.Result!.Customers);
        // North's customers are 1 and 3 (500 + 700 + 2000): counted over their rows, never the owner's 5 and 3,460.
        foreach (var view in new[] { north, viewer })
        {
            Assert.Equal(2, view.Result!.Customers);
            Assert.Equal(3200, view.Result.TotalRevenue);
            Assert.Equal(2, view.Result.Groups.Sum(g => g.Customers));
            Assert.Equal(RfmService.RecountedNotice, view.Notice);
        }
        Assert.Equal(5, admin.Result!.Customers);
        Assert.Null(admin.Notice);
    }

    [Fact]
    public async Task L1_a_row_ruled_user_never_sees_the_owners_stored_clustering_run_or_its_history_counts()
    {
        var run = await OwnerRunAsync("L1 spend groups", seed: 101);

        f.AsNorthAnalyst();
        var north = await f.With<ClusteringService, ClusteringRunView>(s => s.GetAsync(run.Summary.Id, Ct));
        var history = await f.With<ClusteringService, IReadOnlyList<ClusteringRunSummary>>(s => s.HistoryAsync(Ct));
        f.AsAdmin();
        var admin = await f.With<ClusteringService, ClusteringRunView>(s => s.GetAsync(run.Summary.Id, Ct));

        Assert.Null(north.Explanation);
        Assert.Null(north.Metrics);
        Assert.Null(north.Evaluation);
        Assert.Null(north.Counts);
        Assert.Empty(north.Names);
        Assert.Equal(0, north.Summary.Customers);
        Assert.Equal(ClusteringService.WithheldNotice, north.Withheld);
        var listed = Assert.Single(history, h => h.Id == run.Summary.Id);
        Assert.Equal(0, listed.Customers);
        Assert.True(listed.Withheld);
        // An Admin exempt from the rules sees every row, so the owner's figures tell them nothing new.
        Assert.NotNull(admin.Explanation);
        Assert.Equal(5, admin.Summary.Customers);
        Assert.Null(admin.Withheld);
    }

    [Fact]
    public async Task L1_the_cluster_profile_tile_shows_a_row_ruled_user_the_notice_not_the_owners_profiles()
    {
        var run = await OwnerRunAsync("L1 tile", seed: 102);
        var tile = new TileDefinition { Id = "profile", Type = TileType.ClusterProfile, SourceId = run.Summary.Id };

        f.AsNorthAnalyst();
        var data = await f.With<TileDataService, TileData>(s => s.LoadAsync(Board(null, tile), tile, DashboardState.Empty, Ct));

        Assert.Empty(data.Rows);
        Assert.Equal(TileDataService.SavedResultsRestricted, data.Notice);
    }

    [Fact]
    public async Task L3_cluster_fields_from_ruled_orders_are_not_offered_on_a_customer_list_the_user_sees_whole()
    {
        var run = await OwnerRunAsync("L3 spend groups", seed: 103);
        var user = await OrdersNorthAnalystAsync();
        var tile = new TileDefinition { Id = "profile", Type = TileType.ClusterProfile, SourceId = run.Summary.Id };

        f.SignIn(user, Roles.Analyst);
        var customers = await f.With<Authorizer, Dataset>(a => a.RequireReadableAsync(f.Customers.Id, Ct));
        var described = await f.With<PermissionPolicy, QueryDataset>(p => p.DescribeAsync(customers, Ct));
        var view = await f.With<ClusteringService, ClusteringRunView>(s => s.GetAsync(run.Summary.Id, Ct));
        var data = await f.With<TileDataService, TileData>(s => s.LoadAsync(Board(null, tile), tile, DashboardState.Empty, Ct));
        var features = await f.With<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(f.Customers.Id, Ct));
        f.AsAdmin();
        var adminFields = (await f.With<PermissionPolicy, QueryDataset>(p => p.DescribeAsync(customers, Ct))).Fields;

        // The customer list itself is whole for them: all five customers, no row filter.
        Assert.False(described.IsRestricted && described.RowFilter is not null);
        Assert.DoesNotContain(described.Fields, x => x.Name == run.ClusterField || x.Name == run.ClusterNameField);
        Assert.DoesNotContain(features, o => o.Feature.Field == run.ClusterField);
        Assert.Contains(adminFields, x => x.Name == run.ClusterField);
        Assert.Null(view.Explanation);
        Assert.Empty(data.Rows);
        Assert.Equal(TileDataService.SavedResultsRestricted, data.Notice);
    }

    [Fact]
    public async Task L3_rfm_fields_from_ruled_orders_are_not_offered_on_a_customer_list_the_user_sees_whole()
    {
        f.AsOwner();
        await f.With<RfmService, RfmView>(s => s.ComputeAsync(f.Orders.Id, Input, RfmSettings.Default, Ct));
        var user = await OrdersNorthAnalystAsync();

        f.SignIn(user, Roles.Analyst);
        var customers = await f.With<Authorizer, Dataset>(a => a.RequireReadableAsync(f.Customers.Id, Ct));
        var described = await f.With<PermissionPolicy, QueryDataset>(p => p.DescribeAsync(customers, Ct));

        Assert.DoesNotContain(described.Fields, x => x.Name == RfmService.GroupField);
    }

    [Fact]
    public async Task L5_dataset_history_gives_a_row_ruled_user_no_whole_dataset_row_counts()
    {
        f.AsNorthAnalyst();
        var north = await f.With<DatasetCatalog, DatasetHistory>(c => c.HistoryAsync(f.Orders.Id, Ct));
        f.AsAdmin();
        var admin = await f.With<DatasetCatalog, DatasetHistory>(c => c.HistoryAsync(f.Orders.Id, Ct));

        Assert.NotEmpty(north.Refreshes);
        Assert.All(north.Refreshes, r => Assert.Null(r.RowCount));
        Assert.Equal(DatasetCatalog.HistoryCountsHidden, north.Notice);
        Assert.Contains(admin.Refreshes, r => r.RowCount == 7);
        Assert.Null(admin.Notice);
    }

    [Fact]
    public async Task B4_an_analyst_who_only_reads_the_data_cannot_recompute_the_shared_rfm_result()
    {
        f.AsOwner();
        await f.With<RfmService, RfmView>(s => s.ComputeAsync(f.Orders.Id, Input, RfmSettings.Default, Ct));

        f.AsNorthAnalyst();
        var refused = await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            f.With<RfmService, RfmView>(s => s.ComputeAsync(f.Orders.Id, Input, RfmSettings.Default, Ct)));
        var northView = await f.With<RfmService, RfmView>(s => s.GetAsync(f.Orders.Id, Ct));
        f.AsAdmin();
        var stored = await f.With<RfmService, RfmView>(s => s.GetAsync(f.Orders.Id, Ct));

        Assert.Contains("Only the owner", refused.Message);
        Assert.False(northView.CanChange);
        Assert.True(stored.CanChange);
        Assert.Equal(5, stored.Result!.Customers);
        Assert.Equal(3460, stored.Result.TotalRevenue);
    }

    [Fact]
    public async Task B4_an_analyst_who_only_reads_the_data_cannot_rename_someone_elses_clusters()
    {
        var run = await OwnerRunAsync("B4 spend groups", seed: 104);

        f.AsNorthAnalyst();
        var refused = await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            f.With<ClusterSegments>(s => s.RenameClusterAsync(run.Summary.Id, 0, "Hijacked", Ct)));
        var north = await f.With<ClusteringService, ClusteringRunView>(s => s.GetAsync(run.Summary.Id, Ct));
        f.AsAdmin();
        var after = await f.With<ClusteringService, ClusteringRunView>(s => s.GetAsync(run.Summary.Id, Ct));

        Assert.Contains("Only the owner", refused.Message);
        Assert.False(north.CanChange);
        Assert.True(after.CanChange);
        Assert.Equal(run.Names, after.Names);
        Assert.DoesNotContain("Hijacked", after.Names);
    }

    [Fact]
    public async Task B4_an_analyst_who_only_reads_the_data_cannot_assign_someone_elses_clusters_again()
    {
        var run = await OwnerRunAsync("B4 assign again", seed: 107);

        f.AsNorthAnalyst();
        var refused = await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            f.With<ClusteringService>(s => s.AssignAgainAsync(run.Summary.Id, Ct)));
        f.AsOwner();
        await f.With<ClusteringService>(s => s.AssignAgainAsync(run.Summary.Id, Ct));

        Assert.Contains("Only the owner", refused.Message);
    }

    [Fact]
    public async Task B7_starting_the_same_clustering_run_twice_quickly_starts_one_run()
    {
        var request = await RequestAsync("B7 double click", seed: 105);
        f.AsOwner();

        var first = await f.With<ClusteringService, int>(s => s.StartAsync(request, Ct));
        var second = await Assert.ThrowsAsync<PortalException>(() => f.With<ClusteringService, int>(s => s.StartAsync(request with { Name = "B7 again" }, Ct)));
        // Ten clicks at once: still no second run of the same settings.
        var burst = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                return await f.With<ClusteringService, int>(s => s.StartAsync(request, Ct));
            }
            catch (PortalException)
            {
                return 0;
            }
        }));
        var runs = await f.With<ClusteringService, IReadOnlyList<ClusteringRunSummary>>(s => s.HistoryAsync(Ct));

        Assert.Contains("already queued or running", second.Message);
        Assert.All(burst, id => Assert.Equal(0, id));
        var mine = Assert.Single(runs, r => r.Name is "B7 double click" or "B7 again");
        Assert.Equal(first, mine.Id);
    }

    [Fact]
    public async Task B7_concurrent_starts_of_the_same_settings_leave_exactly_one_run()
    {
        var request = await RequestAsync("B7 burst", seed: 106);
        f.AsOwner();

        var started = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                return await f.With<ClusteringService, int>(s => s.StartAsync(request, Ct));
            }
            catch (PortalException)
            {
                return 0;
            }
        }));

        Assert.Single(started, id => id != 0);
    }
}
