using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Queries;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Datasets;

/// <summary>
/// The shop's customers and orders linked from the customer list (customers.id → orders.customer_id, the other way
/// round from the usual), and a gifts log linked to the customers by its giver column, which is not its customer key
/// (gifts.giver_id → customers.id): customers 5 and 6 gave gifts and never ordered. Background jobs run.
/// </summary>
public sealed class LinkedFromCustomersFixture : IAsyncLifetime
{
    public const string Gifts =
        "gift_id,giver_id,customer_id,gift_date,value\n" +
        "1,5,1,2024-05-01,10\n" +
        "2,5,2,2024-05-02,20\n" +
        "3,5,3,2024-05-03,30\n" +
        "4,6,1,2024-05-04,40\n" +
        "5,6,4,2024-05-05,50\n";

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset CustomerData { get; private set; } = null!;

    public Dataset OrderData { get; private set; } = null!;

    public Dataset GiftData { get; private set; } = null!;

    private IHostedService[] _hosted = [];

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        await Harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        CustomerData = await Harness.SetRolesAsync(await Harness.ImportTextAsync("customers.csv", Customers), new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        OrderData = await Harness.SetRolesAsync(await Harness.ImportTextAsync("orders.csv", Orders), new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["category"] = FieldRole.Dimension,
        });
        GiftData = await Harness.SetRolesAsync(await Harness.ImportTextAsync("gifts.csv", Gifts), new()
        {
            ["customer_id"] = FieldRole.CustomerId,
            ["gift_date"] = FieldRole.EventDate,
            ["value"] = FieldRole.Amount,
        });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(CustomerData.Id, "id", OrderData.Id, "customer_id"));
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(GiftData.Id, "giver_id", CustomerData.Id, "id"));
        _hosted = Harness.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in _hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
    }

    public async Task<IReadOnlyList<long>> CustomerIdsAsync(RuleGroup rule)
    {
        var result = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = CustomerData.Id,
            Filter = rule,
            Columns = ["id"],
            Sort = [new SortBy("id")],
        }, TestContext.Current.CancellationToken));
        return result.Rows.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>The order count and total spent the clustering page offers for the customers.</summary>
    public async Task<IReadOnlyList<FeatureOption>> OrderFeaturesAsync()
    {
        var options = await Harness.WithAsync<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(CustomerData.Id, TestContext.Current.CancellationToken));
        return options.Where(o => o.Feature.Measure is CustomerMeasure.OrderCount or CustomerMeasure.TotalAmount).ToList();
    }

    private Task<int>? _run;

    /// <summary>One completed clustering of the customers on their order facts, made on first use.</summary>
    public Task<int> ClusteringRunAsync() => _run ??= RunAsync();

    private async Task<int> RunAsync()
    {
        var features = await OrderFeaturesAsync();
        var runId = await Harness.WithAsync<ClusteringService, int>(s => s.StartAsync(new ClusteringRequest
        {
            Name = "Buyers", DatasetId = CustomerData.Id, Features = features.Select(o => o.Feature).ToList(), K = 2, Seed = 3,
        }, TestContext.Current.CancellationToken));
        Assert.Equal(JobStatus.Succeeded, (await FinishedAsync(ClusteringService.JobKey(runId))).Status);
        return runId;
    }

    /// <summary>Waits for the latest job under <paramref name="key"/>, which must already be queued, to finish.</summary>
    public async Task<JobSnapshot> FinishedAsync(string key)
    {
        var queue = Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (job.Key == key && !job.IsActive)
            {
                finished.TrySetResult(job);
            }
        }
        queue.Changed += OnChanged;
        try
        {
            var latest = queue.Latest(key);
            Assert.NotNull(latest);
            if (!latest.IsActive)
            {
                finished.TrySetResult(latest);
            }
            return await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _hosted)
        {
            await service.StopAsync(CancellationToken.None);
        }
        await Harness.DisposeAsync();
    }
}

/// <summary>
/// Order facts, RFM's customer list, a clustering run's inputs and its re-placing after a refresh all take the datasets
/// related by the customer key, with the same rule: these once disagreed (facts followed only links made from the orders
/// and took any column on the orders' side; RFM and a refresh followed only links made from the orders).
/// </summary>
public sealed class CustomerKeyCallersTests(LinkedFromCustomersFixture f) : IClassFixture<LinkedFromCustomersFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Order_facts_come_from_the_orders_linked_by_the_key_whichever_side_the_link_was_made_from()
    {
        // Customers 1 (3 orders) and 2 (2 orders); the givers 5 and 6 never ordered.
        Assert.Equal([1L, 2L], await f.CustomerIdsAsync(All(Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "2"))));
        Assert.Equal([1L, 3L, 4L], await f.CustomerIdsAsync(All(Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "90"))));
    }

    [Fact]
    public async Task An_RFM_group_of_the_orders_saves_as_a_segment_on_the_customer_list_linked_from_it()
    {
        var view = await f.Harness.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(f.OrderData.Id, new RfmInput(), RfmSettings.Default, Ct));
        var group = view.Result!.Groups.First(g => g.Customers > 0).Group.Name;

        var id = await f.Harness.WithAsync<RfmService, int>(s => s.SaveGroupAsSegmentAsync(f.OrderData.Id, group, cancellationToken: Ct));

        var (segment, rule, _) = await f.Harness.WithAsync<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(id, Ct));
        Assert.Equal(f.CustomerData.Id, segment.DatasetId);
        var members = await f.CustomerIdsAsync(rule.Root);
        Assert.NotEmpty(members);
        Assert.All(members, m => Assert.Contains(m, new long[] { 1, 2, 3, 4 }));
        Assert.Equal(members.Count, segment.Size);
    }

    [Fact]
    public async Task Clustering_offers_the_facts_of_the_orders_linked_by_the_key()
    {
        var features = await f.OrderFeaturesAsync();

        Assert.Equal(2, features.Count);
        Assert.All(features, o => Assert.Equal($"Orders ({f.OrderData.Name})", o.Group));
    }

    [Fact]
    public async Task A_clustering_run_on_the_customers_carries_the_data_rules_of_the_orders_linked_by_the_key()
    {
        var runId = await f.ClusteringRunAsync();

        var inputs = await f.Harness.WithAsync<CustomerAttributeStore, IReadOnlyCollection<int>>(s => s.InputsAsync(AttributeSetKind.Clustering, runId, f.CustomerData.Id, Ct));
        Assert.Equal(new[] { f.CustomerData.Id, f.OrderData.Id }.Order(), inputs.Order());
    }

    [Fact]
    public async Task A_refresh_of_the_orders_linked_from_the_customers_places_their_clusters_again()
    {
        var runId = await f.ClusteringRunAsync();

        var user = await f.Harness.CurrentUser.GetPrincipalAsync();
        await f.Harness.WithAsync<ClusteringService>(s => s.DatasetRefreshedAsync(f.OrderData.Id, user, Ct));

        Assert.Equal(JobStatus.Succeeded, (await f.FinishedAsync($"clustering-assign:{runId}")).Status);
    }
}
