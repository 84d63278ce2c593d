using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Analysis;

/// <summary>
/// 90 customers in three known groups — big, frequent, recent buyers; occasional mid-size buyers; lapsed one-off
/// buyers — clustered through the service and its background job on a real warehouse.
/// </summary>
public sealed class ClusteringFixture : IAsyncLifetime
{
    public static readonly DateOnly Today = new(2025, 6, 30);

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    /// <summary>The known group (0, 1, 2) of each customer id.</summary>
    public Dictionary<long, int> Groups { get; } = [];

    private IHostedService[] _hosted = [];

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        await Harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var customers = new StringBuilder("id,region\n");
        var orders = new StringBuilder("order_id,customer_id,order_date,amount\n");
        var random = new Random(7);
        var orderId = 1;
        for (var id = 1; id <= 90; id++)
        {
            var group = (id - 1) % 3;
            Groups[id] = group;
            customers.Append(CultureInfo.InvariantCulture, $"{id},{(group == 0 ? "North" : "South")}\n");
            var (count, amount, lastDaysAgo) = group switch
            {
                0 => (20 + random.Next(5), 500 + random.Next(100), 2 + random.Next(5)),
                1 => (6 + random.Next(3), 80 + random.Next(20), 40 + random.Next(20)),
                _ => (1, 20 + random.Next(10), 300 + random.Next(60)),
            };
            for (var o = 0; o < count; o++)
            {
                var date = Today.AddDays(-lastDaysAgo - o * 3);
                orders.Append(CultureInfo.InvariantCulture, $"{orderId++},{id},{date:yyyy-MM-dd},{amount}\n");
            }
        }
        Customers = await Harness.ImportTextAsync("customers.csv", customers.ToString());
        var orderData = await Harness.ImportTextAsync("orders.csv", orders.ToString());
        Customers = await Harness.SetRolesAsync(Customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        await Harness.SetRolesAsync(orderData, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
        });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(orderData.Id, "customer_id", Customers.Id, "id"));
        _hosted = Harness.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in _hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
    }

    public async Task<ClusteringRunView> RunAsync(ClusteringRequest request)
    {
        var id = await Harness.WithAsync<ClusteringService, int>(s => s.StartAsync(request, TestContext.Current.CancellationToken));
        var queue = Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (job.Key == ClusteringService.JobKey(id) && !job.IsActive)
            {
                finished.TrySetResult();
            }
        }
        queue.Changed += OnChanged;
        if (queue.Latest(ClusteringService.JobKey(id)) is { IsActive: false })
        {
            finished.TrySetResult();
        }
        await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        queue.Changed -= OnChanged;
        return await Harness.WithAsync<ClusteringService, ClusteringRunView>(s => s.GetAsync(id, TestContext.Current.CancellationToken));
    }

    public async Task<IReadOnlyList<long>> IdsAsync(RuleGroup rule)
    {
        var result = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = Customers.Id,
            Filter = rule,
            Columns = ["id"],
            Sort = [new SortBy("id")],
        }, TestContext.Current.CancellationToken));
        return result.Rows.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).ToList();
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

public sealed class ClusteringServiceTests(ClusteringFixture fixture) : IClassFixture<ClusteringFixture>
{
    private async Task<ClusteringRequest> RequestAsync(string name, int? k = null)
    {
        var options = await fixture.Harness.WithAsync<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(fixture.Customers.Id, TestContext.Current.CancellationToken));
        var features = options.Where(o => o.Feature.Measure is CustomerMeasure.OrderCount or CustomerMeasure.TotalAmount or CustomerMeasure.DaysSinceLastOrder)
            .Select(o => o.Feature).ToList();
        Assert.Equal(3, features.Count);
        return new ClusteringRequest { Name = name, DatasetId = fixture.Customers.Id, Features = features, K = k, MinK = 2, MaxK = 6, Seed = 11 };
    }

    [Fact]
    public async Task Automatic_k_finds_the_three_groups_and_membership_becomes_a_customer_field()
    {
        var view = await fixture.RunAsync(await RequestAsync("Three groups"));

        Assert.Equal(ClusteringRunStatus.Completed, view.Summary.Status);
        Assert.Equal(3, view.Metrics!.K);
        Assert.Equal(3, view.Evaluation!.Suggestion.K);
        Assert.Equal(90, view.Counts!.Clustered);
        Assert.Equal(3, view.Names.Distinct().Count());

        // Each cluster, read back through the query layer by its field, is exactly one known group.
        var seen = new HashSet<int>();
        for (var cluster = 1; cluster <= 3; cluster++)
        {
            var ids = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.ClusterField, Operator = RuleOperator.Equals, Value = cluster.ToString(CultureInfo.InvariantCulture) }] });
            Assert.Equal(30, ids.Count);
            var groups = ids.Select(id => fixture.Groups[id]).Distinct().ToList();
            Assert.Single(groups);
            seen.Add(groups[0]);
        }
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_clusters()
    {
        var first = await fixture.RunAsync(await RequestAsync("Seeded once", k: 3));
        var second = await fixture.RunAsync(await RequestAsync("Seeded twice", k: 3));

        for (var cluster = 1; cluster <= 3; cluster++)
        {
            var a = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = first.ClusterField, Operator = RuleOperator.Equals, Value = $"{cluster}" }] });
            var b = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = second.ClusterField, Operator = RuleOperator.Equals, Value = $"{cluster}" }] });
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public async Task A_renamed_cluster_keeps_its_segment_and_its_rule_opens_as_an_editable_segment()
    {
        var view = await fixture.RunAsync(await RequestAsync("Rename me", k: 3));
        var service = (Func<ClusterSegments, Task> a) => fixture.Harness.WithAsync(a);

        var segmentId = await fixture.Harness.WithAsync<ClusterSegments, int>(s => s.SaveClusterAsSegmentAsync(view.Summary.Id, 0, cancellationToken: TestContext.Current.CancellationToken));
        await service(s => s.RenameClusterAsync(view.Summary.Id, 0, "Best customers", TestContext.Current.CancellationToken));

        var renamed = await fixture.Harness.WithAsync<ClusteringService, ClusteringRunView>(s => s.GetAsync(view.Summary.Id, TestContext.Current.CancellationToken));
        Assert.Equal("Best customers", renamed.Names[0]);
        var named = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.ClusterNameField, Operator = RuleOperator.In, Values = ["Best customers"] }] });
        var (segment, rule, _) = await fixture.Harness.WithAsync<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(segmentId, TestContext.Current.CancellationToken));
        Assert.Equal(named, await fixture.IdsAsync(rule.Root));
        Assert.Equal(named.Count, segment.Size);

        var ruleSegment = await fixture.Harness.WithAsync<ClusterSegments, int>(s => s.SaveRuleAsSegmentAsync(view.Summary.Id, 0, TestContext.Current.CancellationToken));
        var (_, learnt, canEdit) = await fixture.Harness.WithAsync<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(ruleSegment, TestContext.Current.CancellationToken));
        Assert.True(canEdit);
        Assert.NotEmpty(learnt.Root.Children);
        Assert.All(learnt.Root.Children, c => Assert.IsType<FactCondition>(c));
        Assert.Equal(named, await fixture.IdsAsync(learnt.Root));
    }

    [Fact]
    public async Task A_segment_limits_the_customers_clustered()
    {
        var north = await fixture.Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("North only", fixture.Customers.Id,
            new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["North"] }] } }),
            TestContext.Current.CancellationToken));

        var view = await fixture.RunAsync(await RequestAsync("North clusters", k: 2) with { SegmentId = north });

        Assert.Equal(30, view.Counts!.Customers);
        Assert.Contains("North only", view.Summary.Input);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_a_clear_message()
    {
        var request = await RequestAsync("Bad");
        async Task<string> RefusedAsync(ClusteringRequest r) => (await Assert.ThrowsAsync<PortalException>(() =>
            fixture.Harness.WithAsync<ClusteringService, int>(s => s.StartAsync(r, TestContext.Current.CancellationToken)))).Message;

        Assert.Contains("at least one feature", await RefusedAsync(request with { Features = [] }));
        Assert.Contains("between 2 and 20", await RefusedAsync(request with { K = 40 }));
        Assert.Contains("is not a number this dataset offers", await RefusedAsync(request with
        {
            Features = [new ClusteringFeature("Secret", FeatureSource.Field, Field: "no_such_column")],
        }));
        Assert.Contains("name", await RefusedAsync(request with { Name = " " }));
    }

    [Fact]
    public async Task A_cancelled_run_stops_and_is_marked_cancelled()
    {
        var view = await fixture.RunAsync(await RequestAsync("To be cancelled", k: 2));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            fixture.Harness.WithAsync<ClusteringTrainer>(s => s.TrainAsync(view.Summary.Id, new Progress<JobProgress>(), cancelled.Token)));

        var after = await fixture.Harness.WithAsync<ClusteringService, ClusteringRunView>(s => s.GetAsync(view.Summary.Id, TestContext.Current.CancellationToken));
        Assert.Equal(ClusteringRunStatus.Cancelled, after.Summary.Status);
        Assert.Equal("Cancelled.", after.Summary.Error);
    }

    [Fact]
    public async Task After_a_refresh_the_saved_model_assigns_the_customers_again()
    {
        var view = await fixture.RunAsync(await RequestAsync("Kept up to date", k: 3));
        var before = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.ClusterField, Operator = RuleOperator.Equals, Value = "1" }] });
        var queue = fixture.Harness.Services.GetRequiredService<JobQueue>();
        var key = $"clustering-assign:{view.Summary.Id}";
        var done = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (job.Key == key && !job.IsActive)
            {
                done.TrySetResult(job);
            }
        }
        queue.Changed += OnChanged;

        var user = await fixture.Harness.CurrentUser.GetPrincipalAsync();
        await fixture.Harness.WithAsync<ClusteringService>(s => s.DatasetRefreshedAsync(fixture.Customers.Id, user, TestContext.Current.CancellationToken));
        var job = await done.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        queue.Changed -= OnChanged;

        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal(ClusteringService.AssignJobKind, job.Kind);
        Assert.Equal(view.Summary.Id.ToString(CultureInfo.InvariantCulture), job.RetryTarget);
        Assert.Equal(before, await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.ClusterField, Operator = RuleOperator.Equals, Value = "1" }] }));
    }

    [Fact]
    public async Task An_assign_again_job_the_restart_interrupted_is_retried_from_the_jobs_page_and_completes()
    {
        var view = await fixture.RunAsync(await RequestAsync("Assigned after a restart", k: 2));
        var user = await fixture.Harness.CurrentUser.GetPrincipalAsync();
        var interrupted = new JobRecord
        {
            Id = Guid.NewGuid(), Kind = ClusteringService.AssignJobKind, Title = "Assign customers to clusters again",
            Key = $"clustering-assign:{view.Summary.Id}", RequestedById = user.UserId(), RequestedBy = user.Identity?.Name,
            Status = JobStatus.Interrupted, Message = JobSnapshot.InterruptedMessage, QueuedAt = DateTimeOffset.UtcNow,
            RetryTarget = view.Summary.Id.ToString(CultureInfo.InvariantCulture),
        };
        await using (var db = await fixture.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken))
        {
            db.JobRecords.Add(interrupted);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        var queue = fixture.Harness.Services.GetRequiredService<JobQueue>();
        var done = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (job.Key == interrupted.Key && job.Id != interrupted.Id && !job.IsActive)
            {
                done.TrySetResult(job);
            }
        }
        queue.Changed += OnChanged;

        var retried = await fixture.Harness.WithAsync<JobRetryService, JobSnapshot>(r => r.RetryAsync(interrupted.Id, TestContext.Current.CancellationToken));
        var finished = await done.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        queue.Changed -= OnChanged;

        Assert.Equal(retried.Id, finished.Id);
        Assert.Equal(JobStatus.Succeeded, finished.Status);
        Assert.Equal(ClusteringService.AssignJobKind, finished.Kind);
    }
}
