using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Analysis.Churn;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Analysis.Churn;

/// <summary>
/// 600 generated customers over two years. Each buys every g days (g drawn from 8–50, each gap 0.5–1.5 × g) from a
/// first day until a "death" day drawn from an exponential lifetime, and never after: whether a customer has churned
/// at a cut-off depends on how long it has been since their last order against their usual gap — days since the last
/// order, the gaps between orders and the order count. A "lucky number" column is pure noise and a category column
/// is drawn at random, so neither should matter.
/// </summary>
public sealed class ChurnFixture : IAsyncLifetime
{
    public static readonly DateOnly Today = new(2025, 6, 30);

    public const int CustomerCount = 600;

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    public Dataset Orders { get; private set; } = null!;

    public AppUser Owner { get; private set; } = null!;

    /// <summary>An Analyst whose row rule shows them only the North customers.</summary>
    public AppUser NorthAnalyst { get; private set; } = null!;

    /// <summary>The last order day of each customer id.</summary>
    public Dictionary<long, DateOnly> LastOrder { get; } = [];

    private IHostedService[] _hosted = [];

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        Owner = await Harness.SignInAsNewUserAsync("churn.owner@example.com", Roles.Analyst);
        var customers = new StringBuilder("id,region,lucky_number\n");
        var orders = new StringBuilder("order_id,customer_id,order_date,amount,category\n");
        var random = new Random(11);
        var start = Today.AddDays(-730);
        string[] categories = ["Shoes", "Bags", "Hats"];
        var orderId = 1;
        for (var id = 1; id <= CustomerCount; id++)
        {
            customers.Append(CultureInfo.InvariantCulture, $"{id},{(id % 2 == 0 ? "North" : "South")},{random.Next(1, 101)}\n");
            var first = random.Next(0, 450);
            var gap = random.Next(8, 51);
            var death = first + (int)(-Math.Log(1 - random.NextDouble()) * 350);
            var day = first;
            while (day <= Math.Min(death, 730))
            {
                var date = start.AddDays(day);
                orders.Append(CultureInfo.InvariantCulture, $"{orderId++},{id},{date:yyyy-MM-dd},{random.Next(20, 200)},{categories[random.Next(categories.Length)]}\n");
                LastOrder[id] = date;
                day += Math.Max(1, (int)Math.Round(gap * (0.5 + random.NextDouble())));
            }
        }
        Customers = await Harness.ImportTextAsync("customers.csv", customers.ToString());
        Orders = await Harness.ImportTextAsync("orders.csv", orders.ToString());
        Customers = await Harness.SetRolesAsync(Customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension, ["lucky_number"] = FieldRole.Measure });
        Orders = await Harness.SetRolesAsync(Orders, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["category"] = FieldRole.Dimension,
        });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(Orders.Id, "customer_id", Customers.Id, "id"));
        foreach (var dataset in new[] { Customers, Orders })
        {
            await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Analyst], []));
        }

        NorthAnalyst = await Harness.CreateUserAsync("churn.north@example.com", "Correct-horse-9", Roles.Analyst);
        await using (var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(CancellationToken.None))
        {
            // Once a dataset has row rules, a user without one sees none of its rows: the owner's rule is every row.
            db.RowRules.Add(new RowRule { DatasetId = Customers.Id, UserId = Owner.Id, RuleJson = new RuleTree { Root = new RuleGroup() }.ToJson() });
            db.RowRules.Add(new RowRule
            {
                DatasetId = Customers.Id, UserId = NorthAnalyst.Id,
                RuleJson = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "North" }] } }.ToJson(),
            });
            await db.SaveChangesAsync(CancellationToken.None);
        }
        _hosted = Harness.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in _hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
    }

    public void AsOwner() => Harness.CurrentUser.Principal = CoreHarness.Principal(Owner.Id, Owner.Email!, Roles.Analyst);

    public void AsNorthAnalyst() => Harness.CurrentUser.Principal = CoreHarness.Principal(NorthAnalyst.Id, NorthAnalyst.Email!, Roles.Analyst);

    /// <summary>Waits for the job with the key to finish (by its state, not by time).</summary>
    public async Task<JobSnapshot> FinishedAsync(string key, Func<Task> start, Guid? except = null)
    {
        var queue = Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (job.Key == key && !job.IsActive && job.Id != except)
            {
                finished.TrySetResult(job);
            }
        }
        queue.Changed += OnChanged;
        try
        {
            await start();
            return await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
    }

    public async Task<ChurnRunView> RunAsync(ChurnRequest request)
    {
        AsOwner();
        var id = 0;
        var queue = Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(JobSnapshot job)
        {
            if (id != 0 && job.Key == ChurnService.JobKey(id) && !job.IsActive)
            {
                finished.TrySetResult();
            }
        }
        queue.Changed += OnChanged;
        id = await Harness.WithAsync<ChurnService, int>(s => s.StartAsync(request, TestContext.Current.CancellationToken));
        if (queue.Latest(ChurnService.JobKey(id)) is { IsActive: false })
        {
            finished.TrySetResult();
        }
        await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        queue.Changed -= OnChanged;
        return await Harness.WithAsync<ChurnService, ChurnRunView>(s => s.GetAsync(id, TestContext.Current.CancellationToken));
    }

    /// <summary>The ids of the customers the rule picks, read through the query layer as the current user.</summary>
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

public sealed class ChurnServiceTests(ChurnFixture fixture) : IClassFixture<ChurnFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The AUC the model must beat on the later cut-off (0.5 is guessing).</summary>
    private const double AucBound = 0.75;

    private ChurnRequest Request(string name) =>
        new() { Name = name, DatasetId = fixture.Customers.Id, Attributes = ["lucky_number"], Seed = 5 };

    [Fact]
    public async Task Churn_that_depends_on_known_features_is_predicted_on_the_later_cut_off()
    {
        var view = await fixture.RunAsync(Request("Known churn"));

        Assert.Equal(ChurnRunStatus.Completed, view.Summary.Status);
        var metrics = view.Metrics!;
        var settings = view.Settings!;
        TestContext.Current.TestOutputHelper?.WriteLine($"AUC {metrics.Auc:0.000} (train {metrics.TrainAuc:0.000}), precision {metrics.Precision:0.00}, recall {metrics.Recall:0.00}; {string.Join(" | ", metrics.Explanation)}");
        Assert.True(metrics.Auc > AucBound, $"AUC on the later cut-off {metrics.Auc:0.000} is not above {AucBound}.");
        Assert.Equal(settings.TestCutoff.AddDays(-settings.HorizonDays), settings.TrainCutoff);
        Assert.Equal(settings.LastDay.AddDays(-settings.HorizonDays), settings.TestCutoff);
        Assert.InRange(metrics.TestChurnRate, 0.05, 0.95);
        Assert.NotNull(metrics.Precision);
        Assert.InRange(metrics.Recall, 0, 1);
        Assert.Equal(10, metrics.Calibration.Count);
        // Calibrated: the riskiest tenth churns far more often than the safest tenth.
        Assert.True(metrics.Calibration[^1].ActualRate > metrics.Calibration[0].ActualRate + 0.3);

        // The noise column ranks low and hardly moves the AUC; a real driver leads.
        var ranked = metrics.Importance.Select(i => i.Feature).ToList();
        Assert.True(ranked.IndexOf("lucky_number") >= 3, $"lucky_number ranks {ranked.IndexOf("lucky_number") + 1}: {string.Join(", ", ranked)}");
        Assert.True(metrics.Importance.Single(i => i.Feature == "lucky_number").AucDrop < 0.02);
        Assert.Contains(ranked[0], new[] { ChurnEngine.DaysSinceLastOrder, "Days between the last two orders", "Average days between orders", $"Orders in the last {settings.HorizonDays} days" });
        Assert.Contains("matters most", metrics.Explanation[0]);
        Assert.StartsWith(ranked[0], metrics.Explanation[0]);

        Assert.Equal(ChurnFixture.CustomerCount, view.Scoring!.Customers);
        Assert.Equal(view.Scoring.Scored, view.Scoring.Histogram.Sum());
        Assert.Equal(view.Scoring.Scored, view.Scoring.Lifecycle.Values.Sum());
    }

    /// <summary>An orders file on its own (no customer list): its customers are its Customer IDs, with no attributes.</summary>
    [Fact]
    public async Task Orders_on_their_own_are_an_input_whose_customers_are_scored_from_their_orders()
    {
        fixture.AsOwner();
        var inputs = await fixture.Harness.WithAsync<ChurnService, IReadOnlyList<ChurnInput>>(s => s.InputsAsync(Ct));
        Assert.Equal([fixture.Customers.Id, fixture.Orders.Id], inputs.Select(i => i.DatasetId).Where(id => id == fixture.Customers.Id || id == fixture.Orders.Id));
        Assert.Empty(await fixture.Harness.WithAsync<ChurnService, IReadOnlyList<string>>(s => s.AttributesAsync(fixture.Orders.Id, Ct)));
        await Assert.ThrowsAsync<PortalException>(() => fixture.Harness.WithAsync<ChurnService, int>(s =>
            s.StartAsync(new ChurnRequest { Name = "Order columns", DatasetId = fixture.Orders.Id, Attributes = ["amount"] }, Ct)));

        var view = await fixture.RunAsync(new ChurnRequest { Name = "Orders alone", DatasetId = fixture.Orders.Id, Seed = 5 });

        Assert.Equal(ChurnRunStatus.Completed, view.Summary.Status);
        Assert.True(view.Metrics!.Auc > AucBound, $"AUC on the later cut-off {view.Metrics.Auc:0.000} is not above {AucBound}.");
        Assert.Equal(fixture.LastOrder.Count, view.Scoring!.Customers);
        var high = await fixture.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = fixture.Orders.Id,
            Filter = new RuleGroup { Children = [new FieldCondition { Field = view.BandField, Operator = RuleOperator.In, Values = ["high"] }] },
            Measures = [new Measure(MeasureKind.Customers, "n")],
        }, Ct));
        Assert.Equal(view.Scoring.Bands["high"], Convert.ToInt32(high.Rows[0][0], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task The_scores_band_and_lifecycle_stage_are_customer_fields_usable_in_a_rule()
    {
        var view = await fixture.RunAsync(Request("Fields"));

        var high = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.RiskField, Operator = RuleOperator.GreaterOrEqual, Value = "0.5" }] });
        var band = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.BandField, Operator = RuleOperator.In, Values = ["high"] }] });
        Assert.Equal(view.Scoring!.Bands["high"], high.Count);
        Assert.Equal(high, band);

        // Lost = no order for more than the dormant threshold, as of the last order day.
        var t = view.Settings!.Lifecycle;
        var asOf = view.Scoring.AsOf;
        var lost = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.LifecycleField, Operator = RuleOperator.In, Values = [Lifecycle.Lost] }] });
        var expected = fixture.LastOrder.Where(p => asOf.DayNumber - p.Value.DayNumber > t.DormantDays).Select(p => p.Key).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, lost);
        // Lost customers score high on average: the model agrees with the rule.
        var lostHigh = lost.Intersect(high).Count();
        Assert.True(lostHigh > lost.Count / 2, $"{lostHigh} of {lost.Count} lost customers are high risk.");
    }

    [Fact]
    public async Task A_lifecycle_tile_shows_the_runs_stage_counts()
    {
        var view = await fixture.RunAsync(Request("On a board"));
        var board = await fixture.Harness.WithAsync<DashboardService, int>(s => s.CreateAsync("Lifecycle", cancellationToken: Ct));
        var tile = new TileDefinition { Id = "stages", Type = TileType.LifecycleStages, SourceId = view.Summary.Id, Title = "Stages" };
        var dashboard = await fixture.Harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(board, tile, cancellationToken: Ct));

        var data = await fixture.Harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(dashboard, tile, DashboardState.Empty, Ct));

        Assert.Null(data.Notice);
        Assert.Equal(Lifecycle.Stages, data.Rows.Select(r => (string)r[0]!));
        Assert.Equal(view.Scoring!.Lifecycle.Values.Sum(), data.Rows.Sum(r => (double)r[1]!));
        Assert.Contains("choose the churn run", Assert.Throws<PortalException>(() => TileValidator.Validate(tile with { SourceId = null }, null)).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Lifecycle_thresholds_set_on_the_run_decide_the_stages()
    {
        var thresholds = new LifecycleThresholds(NewDays: 15, ActiveDays: 25, AtRiskDays: 50, DormantDays: 100);
        var view = await fixture.RunAsync(Request("Own thresholds") with { Lifecycle = thresholds });

        Assert.Equal(thresholds, view.Settings!.Lifecycle);
        var asOf = view.Scoring!.AsOf.DayNumber;
        var dormant = await fixture.IdsAsync(new RuleGroup { Children = [new FieldCondition { Field = view.LifecycleField, Operator = RuleOperator.In, Values = [Lifecycle.Dormant] }] });
        var expected = fixture.LastOrder.Where(p => asOf - p.Value.DayNumber is > 50 and <= 100).Select(p => p.Key).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, dormant);
    }

    [Fact]
    public async Task Defaults_come_from_the_gaps_between_purchases()
    {
        fixture.AsOwner();
        var defaults = await fixture.Harness.WithAsync<ChurnService, ChurnDefaults>(s => s.DefaultsAsync(fixture.Customers.Id, Ct));

        Assert.Equal(fixture.LastOrder.Values.Max(), defaults.LastDay);
        Assert.Equal(defaults.Gap90, defaults.HorizonDays);
        Assert.InRange(defaults.Gap90, 30, 80);
        Assert.True(defaults.MedianGap < defaults.Gap90);
        Assert.Equal(defaults.LastDay.AddDays(-defaults.HorizonDays), defaults.TestCutoff);
        Assert.Equal(defaults.TestCutoff.AddDays(-defaults.HorizonDays), defaults.TrainCutoff);
        Assert.Equal(LifecycleThresholds.FromGaps(defaults.MedianGap, defaults.Gap90), defaults.Lifecycle);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_a_clear_message()
    {
        fixture.AsOwner();
        var request = Request("Bad");
        async Task<string> RefusedAsync(ChurnRequest r) => (await Assert.ThrowsAsync<PortalException>(() =>
            fixture.Harness.WithAsync<ChurnService, int>(s => s.StartAsync(r, Ct)))).Message;

        Assert.Contains("name", await RefusedAsync(request with { Name = " " }));
        Assert.Contains("between 1 and", await RefusedAsync(request with { HorizonDays = 0 }));
        Assert.Contains("threshold", await RefusedAsync(request with { Threshold = 1.5 }));
        Assert.Contains("before the test cut-off", await RefusedAsync(request with { TrainCutoff = new DateOnly(2025, 3, 1), TestCutoff = new DateOnly(2025, 1, 1) }));
        Assert.Contains("must grow", await RefusedAsync(request with { Lifecycle = new LifecycleThresholds(10, 30, 20, 60) }));
        Assert.Contains("is not a number column", await RefusedAsync(request with { Attributes = ["region"] }));
        // A customer list with no orders related to it has no purchase history.
        var prospects = await fixture.Harness.ImportTextAsync($"prospects-{Guid.NewGuid():N}.csv", "id,region\n1,North\n2,South\n");
        prospects = await fixture.Harness.SetRolesAsync(prospects, new() { ["id"] = FieldRole.CustomerId });
        Assert.Contains("no related orders", await RefusedAsync(request with { DatasetId = prospects.Id, Attributes = [] }));
    }

    [Fact]
    public async Task A_test_cut_off_whose_outcome_is_not_known_yet_fails_the_run_with_a_clear_message()
    {
        var view = await fixture.RunAsync(Request("Too late") with { TestCutoff = ChurnFixture.Today.AddDays(-5), HorizonDays = 60 });

        Assert.Equal(ChurnRunStatus.Failed, view.Summary.Status);
        Assert.Contains("runs past the last order day", view.Summary.Error);
    }

    [Fact]
    public async Task A_north_only_user_gets_the_owners_run_withheld_and_no_churn_fields()
    {
        var run = await fixture.RunAsync(Request("Owner's view"));

        fixture.AsNorthAnalyst();
        var north = await fixture.Harness.WithAsync<ChurnService, ChurnRunView>(s => s.GetAsync(run.Summary.Id, Ct));
        var history = await fixture.Harness.WithAsync<ChurnService, IReadOnlyList<ChurnRunSummary>>(s => s.HistoryAsync(Ct));
        var fields = await fixture.Harness.WithAsync<PermissionPolicy, QueryDataset>(async p =>
            await p.DescribeAsync(await fixture.Harness.WithAsync<Authorizer, Dataset>(a => a.RequireReadableAsync(fixture.Customers.Id, Ct)), Ct));
        var refused = await Assert.ThrowsAnyAsync<PortalException>(() => fixture.IdsAsync(new RuleGroup
        {
            Children = [new FieldCondition { Field = run.RiskField, Operator = RuleOperator.GreaterOrEqual, Value = "0.5" }],
        }));
        fixture.AsOwner();

        Assert.Equal(ChurnService.WithheldNotice, north.Withheld);
        Assert.Null(north.Metrics);
        Assert.Null(north.Scoring);
        Assert.Null(north.Settings);
        Assert.Equal(0, north.Summary.Customers);
        var listed = Assert.Single(history, h => h.Id == run.Summary.Id);
        Assert.True(listed.Withheld);
        Assert.Null(listed.Auc);
        Assert.DoesNotContain(fields.Fields, f => f.Name == run.RiskField || f.Name == run.BandField || f.Name == run.LifecycleField);
        Assert.NotNull(refused);
    }

    [Fact]
    public async Task After_a_refresh_the_saved_model_scores_the_customers_again()
    {
        var view = await fixture.RunAsync(Request("Kept up to date"));
        var rule = new RuleGroup { Children = [new FieldCondition { Field = view.BandField, Operator = RuleOperator.In, Values = ["high"] }] };
        var before = await fixture.IdsAsync(rule);
        var user = await fixture.Harness.CurrentUser.GetPrincipalAsync();

        var job = await fixture.FinishedAsync(ChurnService.ScoreJobKey(view.Summary.Id),
            () => fixture.Harness.WithAsync<ChurnService>(s => s.DatasetRefreshedAsync(fixture.Orders.Id, user, Ct)));

        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal(ChurnService.ScoreJobKind, job.Kind);
        // The same data and the same saved model give the same scores.
        Assert.Equal(before, await fixture.IdsAsync(rule));
        var after = await fixture.Harness.WithAsync<ChurnService, ChurnRunView>(s => s.GetAsync(view.Summary.Id, Ct));
        Assert.Equal(view.Scoring!.Scored, after.Scoring!.Scored);
        Assert.Equal(view.Scoring.AsOf, after.Scoring.AsOf);
        Assert.Equal(view.Scoring.Histogram, after.Scoring.Histogram);
        Assert.Equal(view.Scoring.Bands.OrderBy(b => b.Key), after.Scoring.Bands.OrderBy(b => b.Key));
    }

    [Fact]
    public async Task A_cancelled_run_stops_and_is_marked_cancelled_and_can_be_retried()
    {
        var view = await fixture.RunAsync(Request("To be cancelled") with { Seed = 9 });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            fixture.Harness.WithAsync<ChurnTrainer>(s => s.TrainAsync(view.Summary.Id, new Progress<JobProgress>(), cancelled.Token)));

        var after = await fixture.Harness.WithAsync<ChurnService, ChurnRunView>(s => s.GetAsync(view.Summary.Id, Ct));
        Assert.Equal(ChurnRunStatus.Cancelled, after.Summary.Status);
        Assert.Equal("Cancelled.", after.Summary.Error);

        var job = await fixture.FinishedAsync(ChurnService.JobKey(view.Summary.Id),
            () => fixture.Harness.WithAsync<ChurnService>(s => s.RetryAsync(view.Summary.Id, Ct)), except: fixture.Harness.Services.GetRequiredService<JobQueue>().Latest(ChurnService.JobKey(view.Summary.Id))?.Id);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        var retried = await fixture.Harness.WithAsync<ChurnService, ChurnRunView>(s => s.GetAsync(view.Summary.Id, Ct));
        Assert.Equal(ChurnRunStatus.Completed, retried.Summary.Status);
        Assert.Equal(view.Metrics!.Auc, retried.Metrics!.Auc);
    }

    [Fact]
    public async Task The_recovery_step_marks_an_interrupted_run_failed()
    {
        int id;
        var factory = fixture.Harness.Services.GetRequiredService<IPortalDbFactory>();
        await using (var db = await factory.CreateAsync(Ct))
        {
            var run = new ChurnRun { Name = "Interrupted", DatasetId = fixture.Customers.Id, SettingsJson = "{}", Status = ChurnRunStatus.Running, CreatedAt = DateTimeOffset.UtcNow };
            db.ChurnRuns.Add(run);
            await db.SaveChangesAsync(Ct);
            id = run.Id;
        }
        await using (var db = await factory.CreateAsync(Ct))
        {
            var report = await new ChurnRecoveryStep().RecoverAsync(db, [], DateTimeOffset.UtcNow, Ct);
            await db.SaveChangesAsync(Ct);
            Assert.True(report.InterruptedRuns >= 1);
        }
        await using (var db = await factory.CreateAsync(Ct))
        {
            var run = await db.ChurnRuns.FindAsync([id], Ct);
            Assert.Equal(ChurnRunStatus.Failed, run!.Status);
            Assert.Equal(JobSnapshot.InterruptedMessage + ".", run.Error);
            db.ChurnRuns.Remove(run);
            await db.SaveChangesAsync(Ct);
        }
    }
}
