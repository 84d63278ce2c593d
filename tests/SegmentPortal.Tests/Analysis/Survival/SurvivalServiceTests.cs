using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Analysis.Survival;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Analysis.Survival;

/// <summary>
/// 20 North customers who buy every 10 days two to four times and stop, and 20 South customers who mostly keep buying
/// every 10 days up to the end (every fifth stops after six purchases); customers and orders carry the region, and a
/// North Viewer has row rules region = North on both.
/// </summary>
public sealed class SurvivalFixture : IAsyncLifetime
{
    public static readonly DateOnly End = new(2025, 6, 30);

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    public Dataset Orders { get; private set; } = null!;

    public AppUser Analyst { get; private set; } = null!;

    /// <summary>The last purchase day in the data: the default end.</summary>
    public DateOnly LastPurchase { get; private set; }

    public AppUser NorthViewer { get; private set; } = null!;

    private IHostedService[] _hosted = [];

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(End.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        Analyst = await Harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var customers = new StringBuilder("id,region\n");
        var orders = new StringBuilder("order_id,customer_id,region,order_date,amount\n");
        var orderId = 1;
        void Order(int customer, string region, DateOnly day)
        {
            orders.Append(CultureInfo.InvariantCulture, $"{orderId++},{customer},{region},{day:yyyy-MM-dd},10\n");
            LastPurchase = day > LastPurchase ? day : LastPurchase;
        }
        for (var i = 0; i < 20; i++)
        {
            var north = 100 + i;
            customers.Append(CultureInfo.InvariantCulture, $"{north},North\n");
            var first = End.AddDays(-300 - i);
            for (var k = 0; k < 2 + i % 3; k++)
            {
                Order(north, "North", first.AddDays(10 * k));
            }
            var south = 200 + i;
            customers.Append(CultureInfo.InvariantCulture, $"{south},South\n");
            first = End.AddDays(-200 - i);
            for (var day = first; day <= End && (i % 5 != 0 || day < first.AddDays(60)); day = day.AddDays(10))
            {
                Order(south, "South", day);
            }
        }
        Customers = await Harness.ImportTextAsync("customers.csv", customers.ToString());
        Orders = await Harness.ImportTextAsync("orders.csv", orders.ToString());
        Customers = await Harness.SetRolesAsync(Customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        Orders = await Harness.SetRolesAsync(Orders, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["region"] = FieldRole.Dimension,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
        });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(Orders.Id, "customer_id", Customers.Id, "id"));
        foreach (var dataset in new[] { Customers, Orders })
        {
            await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Viewer], [], ct));
        }
        NorthViewer = await Harness.CreateUserAsync("north@example.com", "Correct-horse-9", Roles.Viewer);
        await using (var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(ct))
        {
            db.UserAttributes.Add(new UserAttribute { UserId = NorthViewer.Id, Name = "Region", Value = "North" });
            var rule = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "{user.Region}" }] } }.ToJson();
            foreach (var dataset in new[] { Customers, Orders })
            {
                db.RowRules.Add(new RowRule { DatasetId = dataset.Id, Role = Roles.Viewer, RuleJson = rule });
                // Analysts see every row (a rule without conditions).
                db.RowRules.Add(new RowRule { DatasetId = dataset.Id, Role = Roles.Analyst, RuleJson = new RuleTree { Root = new RuleGroup() }.ToJson() });
            }
            await db.SaveChangesAsync(ct);
        }
        _hosted = Harness.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in _hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
    }

    public void ActAs(AppUser user, string role) => Harness.CurrentUser.Principal = CoreHarness.Principal(user.Id, user.Email!, role);

    /// <summary>Starts the analysis as a job, waits for it to end, and returns the job and what the user then sees.</summary>
    public async Task<(JobSnapshot Job, SurvivalView View)> RunAsync(SurvivalRequest request)
    {
        var queue = Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        Guid? id = null;
        void OnChanged(JobSnapshot job)
        {
            if (job.Id == id && !job.IsActive)
            {
                finished.TrySetResult(job);
            }
        }
        queue.Changed += OnChanged;
        try
        {
            var started = await Harness.WithAsync<SurvivalService, JobSnapshot>(s => s.StartAsync(request, TestContext.Current.CancellationToken));
            id = started.Id;
            if (queue.Get(started.Id) is { IsActive: false } done)
            {
                finished.TrySetResult(done);
            }
            var job = await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
            var view = await Harness.WithAsync<SurvivalService, SurvivalView>(s => s.GetAsync(request.DatasetId, TestContext.Current.CancellationToken));
            return (job, view);
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

public sealed class SurvivalServiceTests(SurvivalFixture fixture) : IClassFixture<SurvivalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SurvivalGrouping RegionOfCustomers => new(SurvivalGroupingKind.Field, "region", fixture.Customers.Id);

    [Fact]
    public async Task North_customers_churn_faster_than_south_with_the_curves_counted_from_the_purchase_days()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);

        var (job, view) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, Grouping = RegionOfCustomers });

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var result = view.Result!;
        Assert.Equal(fixture.LastPurchase, result.EndDate);
        Assert.Equal(40, result.Customers);
        Assert.Equal(["North", "South"], result.Groups.Select(g => g.Name));
        var north = result.Groups[0];
        var south = result.Groups[1];
        // North: 2, 3 or 4 purchases 10 days apart, lost 30 days after the last: at 40, 50 or 60 days (7, 7 and 6 customers).
        Assert.Equal((20, 20, 0), (north.Customers, north.Events, north.Censored));
        Assert.Equal([40.0, 50, 60], north.Curve.Steps.Select(s => s.Time));
        Assert.Equal([0.65, 0.3, 0], north.Curve.Steps.Select(s => Math.Round(s.Survival, 12)));
        Assert.Equal(50, north.MedianDays);
        // South: every fifth stops after six purchases (lost at 50 + 30 days); the others bought within 30 days of the end.
        Assert.Equal((20, 4, 16), (south.Customers, south.Events, south.Censored));
        Assert.Equal([80.0], south.Curve.Steps.Select(s => s.Time));
        Assert.Null(south.MedianDays);
        Assert.Equal(16, south.Curve.Censored.Sum(c => c.Count));
        Assert.Equal(1, result.LogRank!.DegreesOfFreedom);
        Assert.True(result.LogRank.PValue < 0.001);
        Assert.Equal("North customers churn faster than South customers; p < 0.001.", result.Sentence);
        Assert.False(result.ChurnDaysFromData);
    }

    [Fact]
    public async Task The_default_d_is_the_90th_percentile_of_the_gaps_between_purchase_days()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);

        var (_, view) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, Grouping = new SurvivalGrouping(SurvivalGroupingKind.Field, "region", fixture.Orders.Id) });

        var result = view.Result!;
        Assert.True(result.ChurnDaysFromData);
        Assert.Equal(10, result.ChurnDays);
        Assert.Equal([20, 4], result.Groups.Select(g => g.Events));
        Assert.Equal([20.0, 30, 40], result.Groups[0].Curve.Steps.Select(s => s.Time));
    }

    [Fact]
    public async Task A_north_only_viewer_gets_the_curve_of_north_customers_only_and_no_test()
    {
        fixture.ActAs(fixture.NorthViewer, Roles.Viewer);

        var sources = await fixture.Harness.WithAsync<SurvivalService, IReadOnlyList<SurvivalSource>>(s => s.SourcesAsync(Ct));
        Assert.Contains(sources, s => s.DatasetId == fixture.Orders.Id);
        // The end is given: by default it is the last purchase day the user sees.
        var (job, view) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, EndDate = SurvivalFixture.End, Grouping = RegionOfCustomers });

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var result = view.Result!;
        Assert.Equal(20, result.Customers);
        var group = Assert.Single(result.Groups);
        Assert.Equal("North", group.Name);
        Assert.Equal([40.0, 50, 60], group.Curve.Steps.Select(s => s.Time));
        Assert.Null(result.LogRank);
        Assert.Contains("one group only", result.Sentence);

        // The analyst's own result is theirs: the viewer's run did not replace it.
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var (_, analysts) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, Grouping = RegionOfCustomers });
        Assert.Equal(40, analysts.Result!.Customers);
        fixture.ActAs(fixture.NorthViewer, Roles.Viewer);
        var again = await fixture.Harness.WithAsync<SurvivalService, SurvivalView>(s => s.GetAsync(fixture.Orders.Id, Ct));
        Assert.Equal(20, again.Result!.Customers);
    }

    [Fact]
    public async Task A_survival_tile_shows_each_viewer_their_own_curves_and_never_anyone_elses()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var (_, view) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, Grouping = RegionOfCustomers });
        var result = view.Result!;
        var tile = new TileDefinition { Id = "curves", Type = TileType.SurvivalCurves, SourceId = fixture.Orders.Id, Title = "Curves" };
        var id = await fixture.Harness.WithAsync<DashboardService, int>(s => s.CreateAsync("Survival", cancellationToken: Ct));
        var board = await fixture.Harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(id, tile, cancellationToken: Ct));

        var data = await TileAsync(board, tile);

        Assert.Null(data.Notice);
        Assert.Equal(["North", "South"], data.Rows.Select(r => (string)r[0]!).Distinct());
        // North: from 100% with all 20 customers at risk, down at 40, 50 and 60 days, as the analysis's curve.
        var north = data.Rows.Where(r => (string)r[0]! == "North").ToList();
        Assert.Equal([0.0, 40, 50, 60], north.Select(r => (double)r[1]!));
        Assert.Equal([1.0, 0.65, 0.3, 0], north.Select(r => Math.Round((double)r[2]!, 12)));
        Assert.Equal([20.0, 20, 13, 6], north.Select(r => (double)r[5]!));
        // South: one step at 80 days, then flat to the last customer still followed.
        var south = data.Rows.Where(r => (string)r[0]! == "South").ToList();
        Assert.Equal([0.0, 80, result.Groups[1].Curve.Censored[^1].Time], south.Select(r => (double)r[1]!));
        Assert.Equal(result.Groups[1].Curve.Steps[0].Survival, (double)south[^1][2]!);
        Assert.All(data.Rows, r => Assert.InRange((double)r[2]!, (double)r[3]!, (double)r[4]!));
        Assert.Contains("choose the transactions", Assert.Throws<PortalException>(() => TileValidator.Validate(tile with { SourceId = null }, null)).Message,
            StringComparison.OrdinalIgnoreCase);

        // A North Viewer the board is shared with, who has not run the analysis: a notice, none of the analyst's figures.
        var viewer = await fixture.Harness.CreateUserAsync("north.board@example.com", "Correct-horse-9", Roles.Viewer);
        await using (var db = await fixture.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.UserAttributes.Add(new UserAttribute { UserId = viewer.Id, Name = "Region", Value = "North" });
            await db.SaveChangesAsync(Ct);
        }
        await fixture.Harness.WithAsync<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, id, viewer.Id, null, ShareLevel.Viewer, Ct));
        fixture.ActAs(viewer, Roles.Viewer);
        var shared = await fixture.Harness.WithAsync<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        var none = await TileAsync(shared, tile);
        Assert.Empty(none.Rows);
        Assert.Equal($"Run Analysis > Survival on {fixture.Orders.Name} to see its curves here.", none.Notice);

        // Once they run it, the tile shows their own curves: the North customers only.
        await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, EndDate = SurvivalFixture.End, Grouping = RegionOfCustomers });
        var own = await TileAsync(shared, tile);
        Assert.Null(own.Notice);
        Assert.Equal(["North"], own.Rows.Select(r => (string)r[0]!).Distinct());
        Assert.Equal(20.0, (double)own.Rows[0][5]!);

        // The analyst's tile is still theirs.
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        Assert.Equal(["North", "South"], (await TileAsync(board, tile)).Rows.Select(r => (string)r[0]!).Distinct());
    }

    private Task<TileData> TileAsync(DashboardView board, TileDefinition tile) =>
        fixture.Harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(board, tile, DashboardState.Empty, Ct));

    [Fact]
    public async Task A_segment_splits_members_from_everyone_else_and_time_to_second_purchase_is_an_event()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var north = await fixture.Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("North list", fixture.Customers.Id,
            new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["North"] }] } }), Ct));
        var groupings = await fixture.Harness.WithAsync<SurvivalService, IReadOnlyList<SurvivalGroupingOption>>(s => s.GroupingsAsync(fixture.Orders.Id, Ct));
        var segment = Assert.Single(groupings, o => o.Grouping.SegmentId == north).Grouping;
        Assert.Contains(groupings, o => o.Grouping.Kind == SurvivalGroupingKind.CohortMonth);

        var (_, view) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, Event = SurvivalEvent.SecondPurchase, Grouping = segment });

        var result = view.Result!;
        Assert.Null(result.ChurnDays);
        Assert.Equal(["Members", "Not members"], result.Groups.Select(g => g.Name));
        Assert.All(result.Groups, g => Assert.Equal((20, 20), (g.Customers, g.Events)));
        Assert.All(result.Groups, g => Assert.Equal(10, g.MedianDays));
        Assert.StartsWith("No clear difference", result.Sentence);
    }

    [Fact]
    public async Task Too_few_customers_and_bad_settings_are_refused_with_a_clear_message()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var few = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "customer_id", Operator = RuleOperator.Less, Value = "103" }] } };

        var (job, _) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, RowsJson = few.ToJson(), ChurnDays = 30 });
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("at least 10", job.Error);

        var ex = await Assert.ThrowsAsync<PortalException>(() => fixture.Harness.WithAsync<SurvivalService, JobSnapshot>(s =>
            s.StartAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 0 }, Ct)));
        Assert.Contains("between 1 and", ex.Message);
        ex = await Assert.ThrowsAsync<PortalException>(() => fixture.Harness.WithAsync<SurvivalService, JobSnapshot>(s =>
            s.StartAsync(new SurvivalRequest { DatasetId = fixture.Customers.Id }, Ct)));
        Assert.Contains("needs Customer ID and date roles", ex.Message);
        ex = await Assert.ThrowsAsync<PortalException>(() => fixture.Harness.WithAsync<SurvivalService, JobSnapshot>(s =>
            s.StartAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, Grouping = new SurvivalGrouping(SurvivalGroupingKind.Field, "amount", fixture.Orders.Id) }, Ct)));
        Assert.Contains("not a grouping", ex.Message);
    }

    [Fact]
    public async Task A_job_is_retried_from_its_recorded_target_as_after_a_restart()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var request = new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 45, Grouping = new SurvivalGrouping(SurvivalGroupingKind.CohortMonth) };
        var (job, _) = await fixture.RunAsync(request);
        Assert.NotNull(job.RetryTarget);

        // What the Jobs page's Retry does with an interrupted job's record after a restart.
        var queue = fixture.Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Guid? id = null;
        void OnChanged(JobSnapshot j)
        {
            if (j.Id == id && !j.IsActive)
            {
                finished.TrySetResult();
            }
        }
        queue.Changed += OnChanged;
        var retried = await fixture.Harness.WithAsync<IEnumerable<IJobRetry>, JobSnapshot>(r => r.Single(h => h.Kind == SurvivalService.JobKind).RetryAsync(job.RetryTarget!, Ct));
        id = retried.Id;
        if (queue.Get(retried.Id) is { IsActive: false })
        {
            finished.TrySetResult();
        }
        await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), Ct);
        queue.Changed -= OnChanged;

        Assert.Equal(JobStatus.Succeeded, queue.Get(retried.Id)!.Status);
        var view = await fixture.Harness.WithAsync<SurvivalService, SurvivalView>(s => s.GetAsync(fixture.Orders.Id, Ct));
        Assert.Equal(request, view.Result!.Request);
        Assert.Equal(45, view.Result.ChurnDays);
        Assert.Equal("Cohort (month of first purchase)", view.Result.GroupingLabel);
    }

    [Fact]
    public async Task The_rfm_group_is_offered_as_a_grouping_and_each_customer_is_in_their_group()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var rfm = await fixture.Harness.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(fixture.Orders.Id, new RfmInput(), RfmSettings.Default, Ct));
        var groupings = await fixture.Harness.WithAsync<SurvivalService, IReadOnlyList<SurvivalGroupingOption>>(s => s.GroupingsAsync(fixture.Orders.Id, Ct));
        var byRfm = Assert.Single(groupings, o => o.Grouping.Field == RfmService.GroupField && o.Grouping.DatasetId == fixture.Orders.Id).Grouping;

        var (job, view) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, Grouping = byRfm });

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var expected = rfm.Result!.Groups.Where(g => g.Customers > 0).ToDictionary(g => g.Group.Name, g => g.Customers);
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), view.Result!.Groups.Select(g => KeyValuePair.Create(g.Name, g.Customers)).OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(RfmService.GroupField, view.Result.GroupingLabel);
    }

    [Fact]
    public async Task A_cancelled_analysis_stops_and_keeps_the_previous_result()
    {
        fixture.ActAs(fixture.Analyst, Roles.Analyst);
        var (_, before) = await fixture.RunAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 30, Grouping = RegionOfCustomers });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Harness.WithAsync<SurvivalService, SurvivalResult>(s =>
            s.ComputeAsync(new SurvivalRequest { DatasetId = fixture.Orders.Id, ChurnDays = 60 }, null, cancelled.Token)));

        var after = await fixture.Harness.WithAsync<SurvivalService, SurvivalView>(s => s.GetAsync(fixture.Orders.Id, Ct));
        Assert.Equal(before.Result!.ComputedAt, after.Result!.ComputedAt);
        Assert.Equal(before.Result.Request, after.Result.Request);
    }
}
