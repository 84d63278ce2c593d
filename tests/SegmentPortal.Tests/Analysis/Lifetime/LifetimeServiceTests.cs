using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Lifetime;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Analysis.Lifetime;

/// <summary>
/// The CDNOW sample (2,357 customers, 6,919 purchases, 1997-01 to 1998-06) imported as a transactions file, with a region
/// for the data rules (odd customer numbers North), and the lifetime-value analysis run on it through the service and
/// its background job.
/// </summary>
public sealed class LifetimeFixture : IAsyncLifetime
{
    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Orders { get; private set; } = null!;

    public AppUser Owner { get; private set; } = null!;

    public AppUser NorthAnalyst { get; private set; } = null!;

    /// <summary>The customer list (customer_id, region) the orders are related to.</summary>
    public Dataset Customers { get; private set; } = null!;

    /// <summary>Sees every order but only the North customers of the customer list: a row rule on the customers, not on the purchases.</summary>
    public AppUser NorthManager { get; private set; } = null!;

    /// <summary>Each customer's purchase days and what was spent on each, read from the file here (independently of the portal).</summary>
    public Dictionary<long, SortedDictionary<DateOnly, double>> Purchases { get; } = [];

    private IHostedService[] _hosted = [];

    public static string CdnowPath => Path.Combine(AppContext.BaseDirectory, "Data", "cdnow", "CDNOW_sample.txt");

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync();
        NorthAnalyst = await Harness.CreateUserAsync("north@example.com", "Correct-horse-9", Roles.Analyst);
        NorthManager = await Harness.CreateUserAsync("north-customers@example.com", "Correct-horse-9", Roles.Analyst);
        Owner = await Harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var csv = new StringBuilder("customer_id,order_date,cds,amount,region\n");
        foreach (var line in File.ReadLines(CdnowPath))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5)
            {
                continue;
            }
            var customer = long.Parse(parts[1], CultureInfo.InvariantCulture);
            var date = DateOnly.ParseExact(parts[2], "yyyyMMdd", CultureInfo.InvariantCulture);
            var amount = double.Parse(parts[4], CultureInfo.InvariantCulture);
            csv.Append(CultureInfo.InvariantCulture, $"{customer},{date:yyyy-MM-dd},{parts[3]},{parts[4]},{(customer % 2 == 1 ? "North" : "South")}\n");
            var days = Purchases.TryGetValue(customer, out var d) ? d : Purchases[customer] = [];
            days[date] = days.GetValueOrDefault(date) + amount;
        }
        Orders = await Harness.ImportTextAsync("cdnow.csv", csv.ToString());
        Orders = await Harness.SetRolesAsync(Orders, new()
        {
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["cds"] = FieldRole.Quantity,
            ["region"] = FieldRole.Dimension,
        });
        await Harness.WithAsync<SegmentPortal.Core.Sharing.DatasetSharing>(s => s.SetAsync(Orders.Id, [Roles.Analyst], [], TestContext.Current.CancellationToken));
        var customers = new StringBuilder("customer_id,region\n");
        foreach (var customer in Purchases.Keys.Order())
        {
            customers.Append(CultureInfo.InvariantCulture, $"{customer},{(customer % 2 == 1 ? "North" : "South")}\n");
        }
        Customers = await Harness.ImportTextAsync("cdnow-customers.csv", customers.ToString());
        Customers = await Harness.SetRolesAsync(Customers, new() { ["customer_id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        await Harness.WithAsync<SegmentPortal.Core.Sharing.DatasetSharing>(s => s.SetAsync(Customers.Id, [Roles.Analyst], [], TestContext.Current.CancellationToken));
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(Orders.Id, "customer_id", Customers.Id, "customer_id", TestContext.Current.CancellationToken));
        await using (var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync())
        {
            var north = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "North" }] } };
            // With a row rule on the dataset, whoever has none sees no rows: the owner's rule is "all rows".
            db.RowRules.AddRange(
                new RowRule { DatasetId = Orders.Id, UserId = NorthAnalyst.Id, RuleJson = north.ToJson() },
                new RowRule { DatasetId = Orders.Id, UserId = Owner.Id, RuleJson = new RuleTree { Root = new RuleGroup() }.ToJson() },
                new RowRule { DatasetId = Orders.Id, UserId = NorthManager.Id, RuleJson = new RuleTree { Root = new RuleGroup() }.ToJson() },
                new RowRule { DatasetId = Customers.Id, UserId = NorthManager.Id, RuleJson = north.ToJson() },
                new RowRule { DatasetId = Customers.Id, UserId = Owner.Id, RuleJson = new RuleTree { Root = new RuleGroup() }.ToJson() });
            await db.SaveChangesAsync();
        }
        _hosted = Harness.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in _hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
    }

    public void AsOwner() => Harness.CurrentUser.Principal = CoreHarness.Principal(Owner.Id, Owner.Email!, Roles.Analyst);

    public void AsNorthManager() => Harness.CurrentUser.Principal = CoreHarness.Principal(NorthManager.Id, NorthManager.Email!, Roles.Analyst);

    public void AsNorthAnalyst() => Harness.CurrentUser.Principal = CoreHarness.Principal(NorthAnalyst.Id, NorthAnalyst.Email!, Roles.Analyst);

    /// <summary>Starts the analysis as the current user and waits for its job to end; returns the analysis as they see it then.</summary>
    public async Task<LifetimeView> RunAsync(LifetimeSettings settings)
    {
        var queue = Harness.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = LifetimeService.JobKeyOf(Orders.Id);
        Guid? id = null;
        void OnChanged(JobSnapshot job)
        {
            if (job.Key == key && job.Id == id && !job.IsActive)
            {
                finished.TrySetResult();
            }
        }
        queue.Changed += OnChanged;
        try
        {
            var job = await Harness.WithAsync<LifetimeService, JobSnapshot>(s => s.StartAsync(Orders.Id, settings, TestContext.Current.CancellationToken));
            id = job.Id;
            if (queue.Get(job.Id) is { IsActive: false })
            {
                finished.TrySetResult();
            }
            await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
        return await Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(Orders.Id, TestContext.Current.CancellationToken));
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

public sealed class LifetimeServiceTests(LifetimeFixture f) : IClassFixture<LifetimeFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateOnly CalibrationEnd = new(1997, 9, 30);

    private static double Parameter(ModelFit fit, int index) => fit.Parameters[index].Value;

    [Fact]
    public async Task On_CDNOW_the_portal_fits_the_published_calibration_models_and_publishes_each_customers_predictions_as_fields()
    {
        f.AsOwner();
        var view = await f.RunAsync(new LifetimeSettings { CalibrationEnd = CalibrationEnd, Unit = LifetimeUnit.Weeks, PredictionDays = 7 * 39, HorizonMonths = 12 });

        Assert.True(view.Status == LifetimeRunStatus.Completed, $"The analysis ended {view.Status}: {view.Error}");
        var result = Assert.IsType<LifetimeResult>(view.Result);
        var holdout = Assert.IsType<HoldoutCheck>(result.Holdout);
        // Read through the query layer from an uploaded file, the calibration fit is the literature's: BG/NBD r = 0.243,
        // α = 4.414, a = 0.793, b = 2.426, LL −9582.4 (Fader, Hardie & Lee 2005); Gamma-Gamma p = 6.25, q = 3.74,
        // γ = 15.44, LL −4055.9 over 946 repeat customers (Fader & Hardie 2013).
        Assert.Equal(2357, holdout.Customers);
        double[] bgnbd = [0.243, 4.414, 0.793, 2.426];
        for (var i = 0; i < 4; i++)
        {
            Assert.InRange(Parameter(holdout.Purchases, i), bgnbd[i] * 0.995, bgnbd[i] * 1.005);
        }
        Assert.InRange(holdout.Purchases.LogLikelihood, -9582.4 - 1, -9582.4 + 1);
        var spend = Assert.IsType<ModelFit>(holdout.Spend);
        Assert.Equal(946, spend.Customers);
        double[] gg = [6.25, 3.74, 15.44];
        for (var i = 0; i < 3; i++)
        {
            Assert.InRange(Parameter(spend, i), gg[i] * 0.995, gg[i] * 1.005);
        }
        Assert.InRange(spend.LogLikelihood, -4055.9 - 1, -4055.9 + 1);
        // The holdout (39 weeks to 1998-06-30): the cumulative repeat purchases expected by the end are within a few per
        // cent of what the cohort made (4,166 against 4,339 here), and the per-frequency actuals are the file's own counts.
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"BG/NBD {string.Join(", ", holdout.Purchases.Parameters.Select(p => $"{p.Name} = {p.Value:0.0000} (SE {p.StandardError:0.0000})"))}, LL {holdout.Purchases.LogLikelihood:0.00}; " +
            $"Gamma-Gamma {string.Join(", ", spend.Parameters.Select(p => $"{p.Name} = {p.Value:0.0000} (SE {p.StandardError:0.0000})"))}, LL {spend.LogLikelihood:0.00}; " +
            $"holdout: {holdout.TrackingExpected[^1]:0.0} expected, {holdout.TrackingActual[^1]:0} actual ({holdout.ErrorPercent:0.00}%); by frequency " +
            string.Join(" ", holdout.ByFrequency.Select(g => $"{g.Group}: {g.Actual:0.00}/{g.Expected:0.00}")));
        Assert.Equal(new DateOnly(1998, 6, 30), holdout.HoldoutEnd);
        Assert.InRange(Math.Abs(holdout.ErrorPercent), 0, 5);
        Assert.Equal(holdout.ByFrequency.Sum(g => g.Actual * g.Customers), HoldoutRepeats(), 6);

        // Every customer's fields, from the model refitted on all the data, at the summary worked out here from the file.
        Assert.Equal(2357, result.Customers);
        var fit = new BgNbdFit(Parameter(result.Purchases, 0), Parameter(result.Purchases, 1), Parameter(result.Purchases, 2), Parameter(result.Purchases, 3),
            result.Purchases.LogLikelihood, result.Customers, result.Purchases.Parameters);
        var fields = await FieldsAsync();
        Assert.Equal(2357, fields.Count);
        var end = f.Purchases.Values.Max(d => d.Keys.Max());
        foreach (var (customer, days) in f.Purchases.Where(p => p.Key % 97 == 0))
        {
            var first = days.Keys.Min();
            var x = days.Count - 1;
            var tx = (days.Keys.Max().DayNumber - first.DayNumber) / 7.0;
            var T = (end.DayNumber - first.DayNumber) / 7.0;
            var (alive, purchases, _, value) = fields[customer];
            Assert.Equal(fit.ProbabilityAlive(x, tx, T), alive, 9);
            Assert.Equal(fit.ExpectedPurchases(39, x, tx, T), purchases, 9);
            Assert.True(value >= 0);
        }

        // The fields work in rules: "P(alive) < 0.3 and CLV > 100" counts the customers the fields say.
        var rule = new RuleGroup
        {
            Children =
            [
                new FieldCondition { Field = LifetimeService.AliveField, Operator = RuleOperator.Less, Value = "0.3" },
                new FieldCondition { Field = LifetimeService.ValueField, Operator = RuleOperator.Greater, Value = "100" },
            ],
        };
        var counted = await f.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = f.Orders.Id,
            Filter = rule,
            Measures = [new Measure(MeasureKind.Customers, "n")],
        }, Ct));
        Assert.Equal(fields.Values.Count(v => v.Alive < 0.3 && v.Value > 100), Convert.ToInt32(counted.Rows[0][0], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_segment_of_slipping_valuable_customers_is_saved_from_the_result()
    {
        f.AsOwner();
        var view = await f.Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(f.Orders.Id, Ct));
        if (view.Result is null)
        {
            view = await f.RunAsync(new LifetimeSettings { CalibrationEnd = CalibrationEnd });
        }
        var id = await f.Harness.WithAsync<LifetimeService, int>(s => s.SaveSegmentAsync(f.Orders.Id, 0.3, 20, cancellationToken: Ct));
        var fields = await FieldsAsync();
        var threshold = view.Result!.TopValueThreshold(20)!.Value;
        var (segment, tree, _) = await f.Harness.WithAsync<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(id, Ct));
        Assert.Equal("P(alive) < 0.3 and CLV top 20%", segment.Name);
        var count = await f.Harness.WithAsync<SegmentService, LiveCount>(s => s.CountAsync(segment.DatasetId, tree.Root, Ct));
        Assert.Equal(fields.Values.Count(v => v.Alive < 0.3 && v.Value >= Math.Round(threshold, 2)), count.Matching);
        Assert.True(count.Matching > 0);
        // Roughly a fifth of customers are in the top 20% of CLV.
        Assert.InRange(fields.Values.Count(v => v.Value >= threshold), 0.19 * fields.Count, 0.21 * fields.Count + 1);
    }

    /// <summary>
    /// A row rule on the customer list (not on the purchases the scores come from): the user reads the scores of the
    /// customers they may see — the same values the owner reads — and of no one else; the summary figures, computed over
    /// every customer, stay withheld from them.
    /// </summary>
    [Fact]
    public async Task A_user_with_a_row_rule_on_the_customer_list_reads_only_their_customers_scores()
    {
        f.AsOwner();
        if ((await f.Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(f.Orders.Id, Ct))).Result is null)
        {
            await f.RunAsync(new LifetimeSettings { CalibrationEnd = CalibrationEnd });
        }
        var everyone = await CustomerScoresAsync();
        Assert.Equal(2357, everyone.Count);
        f.AsNorthManager();
        try
        {
            var mine = await CustomerScoresAsync();
            var north = f.Purchases.Keys.Where(c => c % 2 == 1).ToHashSet();
            Assert.Equal(north.Order(), mine.Keys.Order());
            foreach (var (customer, alive) in mine)
            {
                Assert.Equal(everyone[customer], alive);
            }
            // "P(alive) < 0.3" counts only their customers.
            var counted = await f.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
            {
                DatasetId = f.Customers.Id,
                Filter = new RuleGroup { Children = [new FieldCondition { Field = LifetimeService.AliveField, Operator = RuleOperator.Less, Value = "0.3" }] },
                Measures = [new Measure(MeasureKind.Customers, "n")],
            }, Ct));
            Assert.Equal(mine.Values.Count(a => a < 0.3), Convert.ToInt32(counted.Rows[0][0], CultureInfo.InvariantCulture));
            Assert.True(mine.Values.Count(a => a < 0.3) < everyone.Values.Count(a => a < 0.3));
        }
        finally
        {
            f.AsOwner();
        }
    }

    /// <summary>P(alive) per customer of the customer list, as the current user reads it through the query layer.</summary>
    private async Task<Dictionary<long, double>> CustomerScoresAsync()
    {
        var result = await f.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = f.Customers.Id,
            Columns = ["customer_id", LifetimeService.AliveField],
        }, Ct));
        return result.Rows.ToDictionary(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture), r => QueryValue.ToDouble(r[1])!.Value);
    }

    [Fact]
    public async Task A_user_who_sees_other_rows_gets_no_figures_and_no_fields_and_cannot_run_it_again()
    {
        f.AsOwner();
        if ((await f.Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(f.Orders.Id, Ct))).Result is null)
        {
            await f.RunAsync(new LifetimeSettings { CalibrationEnd = CalibrationEnd });
        }
        f.AsNorthAnalyst();
        try
        {
            var view = await f.Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(f.Orders.Id, Ct));
            Assert.Null(view.Result);
            Assert.Equal(LifetimeService.WithheldNotice, view.Notice);
            Assert.False(view.CanChange);
            await Assert.ThrowsAsync<PermissionDeniedException>(() => f.Harness.WithAsync<LifetimeService, JobSnapshot>(s => s.StartAsync(f.Orders.Id, new LifetimeSettings(), Ct)));
            var described = await f.Harness.WithAsync<PermissionPolicy, QueryDataset>(async p =>
                await p.DescribeAsync(await f.Harness.WithAsync<Authorizer, Dataset>(a => a.RequireReadableAsync(f.Orders.Id, Ct)), Ct));
            Assert.DoesNotContain(described.Fields, x => x.Name == LifetimeService.AliveField);
        }
        finally
        {
            f.AsOwner();
        }
    }

    [Fact]
    public async Task Clv_distribution_and_alive_matrix_tiles_show_the_analysis_and_are_withheld_as_it_is()
    {
        f.AsOwner();
        var view = await f.Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(f.Orders.Id, Ct));
        if (view.Result is null)
        {
            view = await f.RunAsync(new LifetimeSettings { CalibrationEnd = CalibrationEnd });
        }
        var result = view.Result!;
        var clv = new TileDefinition { Id = "clv", Type = TileType.ClvDistribution, SourceId = f.Orders.Id, Title = "CLV" };
        var alive = new TileDefinition { Id = "alive", Type = TileType.AliveMatrix, SourceId = f.Orders.Id, Title = "P(alive)" };
        var board = await BoardAsync("Lifetime value", clv, alive);

        var histogram = await TileAsync(board, clv);
        Assert.Null(histogram.Notice);
        Assert.Equal(result.ValueDistribution.Edges, histogram.Rows.Select(r => (double)r[0]!));
        Assert.Equal([.. result.ValueDistribution.Edges.Skip(1), result.ValueDistribution.Top], histogram.Rows.Select(r => (double)r[1]!));
        Assert.Equal(result.ValueDistribution.Counts.Select(c => (double)c), histogram.Rows.Select(r => (double)r[2]!));
        var matrix = await TileAsync(board, alive);
        Assert.Null(matrix.Notice);
        Assert.Equal(result.Matrix.Bands.Count * result.Matrix.Frequencies.Count, matrix.Rows.Count);
        Assert.Equal(result.Customers, matrix.Rows.Sum(r => (double)r[2]!));
        for (var b = 0; b < result.Matrix.Bands.Count; b++)
        {
            for (var x = 0; x < result.Matrix.Frequencies.Count; x++)
            {
                var cell = matrix.Rows.Single(r => (string)r[0]! == result.Matrix.Bands[b] && (string)r[1]! == result.Matrix.Frequencies[x]);
                Assert.Equal((double)result.Matrix.Counts[b][x], (double)cell[2]!);
                Assert.Equal(result.Matrix.AverageValue[b][x], (double?)cell[3]);
            }
        }
        Assert.Contains("choose the transactions", Assert.Throws<PortalException>(() => TileValidator.Validate(clv with { SourceId = null }, null)).Message,
            StringComparison.OrdinalIgnoreCase);

        // The North Analyst sees other purchases than the owner did: the tiles on their own board show no figures, only
        // the notice the service gives instead of the result.
        f.AsNorthAnalyst();
        try
        {
            var north = await BoardAsync("North lifetime value", clv, alive);
            foreach (var tile in new[] { clv, alive })
            {
                var data = await TileAsync(north, tile);
                Assert.Empty(data.Rows);
                Assert.Equal(LifetimeService.WithheldNotice, data.Notice);
            }
        }
        finally
        {
            f.AsOwner();
        }
    }

    [Fact]
    public async Task A_clv_tile_on_transactions_never_analysed_says_it_has_no_results_yet()
    {
        f.AsOwner();
        var orders = await f.Harness.ImportTextAsync("few-orders.csv", "customer_id,order_date,amount\n1,2024-01-02,10\n1,2024-02-03,12\n2,2024-01-05,30\n");
        orders = await f.Harness.SetRolesAsync(orders, new()
        {
            ["customer_id"] = FieldRole.CustomerId, ["order_date"] = FieldRole.EventDate, ["amount"] = FieldRole.Amount,
        });
        var clv = new TileDefinition { Id = "clv", Type = TileType.ClvDistribution, SourceId = orders.Id, Title = "CLV" };
        var board = await BoardAsync("Not analysed", clv);

        var data = await TileAsync(board, clv);

        Assert.Empty(data.Rows);
        Assert.Equal($"The lifetime-value analysis of {orders.Name} has no results yet.", data.Notice);
    }

    private async Task<DashboardView> BoardAsync(string name, params TileDefinition[] tiles)
    {
        var id = await f.Harness.WithAsync<DashboardService, int>(s => s.CreateAsync(name, cancellationToken: Ct));
        DashboardView? board = null;
        foreach (var tile in tiles)
        {
            board = await f.Harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(id, tile, cancellationToken: Ct));
        }
        return board!;
    }

    private Task<TileData> TileAsync(DashboardView board, TileDefinition tile) =>
        f.Harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(board, tile, DashboardState.Empty, Ct));

    [Fact]
    public async Task Bad_settings_are_refused_before_anything_runs()
    {
        f.AsOwner();
        async Task<string> Refusal(LifetimeSettings settings) =>
            (await Assert.ThrowsAnyAsync<PortalException>(() => f.Harness.WithAsync<LifetimeService, JobSnapshot>(s => s.StartAsync(f.Orders.Id, settings, Ct)))).Message;

        Assert.Contains("calibration period must end after the first purchase (1997-01-01) and before the last (1998-06-30)",
            await Refusal(new LifetimeSettings { CalibrationEnd = new DateOnly(1999, 1, 1) }));
        Assert.Contains("1 to 3,650 days", await Refusal(new LifetimeSettings { PredictionDays = 0 }));
        Assert.Contains("1 to 120 months", await Refusal(new LifetimeSettings { HorizonMonths = 500 }));
        Assert.Contains("discount", await Refusal(new LifetimeSettings { MonthlyDiscount = 1.5 }));
        var incomplete = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "amount", Operator = RuleOperator.Greater }] } };
        Assert.Contains("not complete", await Refusal(new LifetimeSettings { RowsJson = incomplete.ToJson() }));
    }

    [Fact]
    public async Task An_analysis_left_running_by_a_stop_fails_with_the_reason_and_can_run_again()
    {
        await using (var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var run = await db.LifetimeRuns.FirstOrDefaultAsync(r => r.DatasetId == f.Orders.Id, Ct);
            if (run is null)
            {
                run = db.LifetimeRuns.Add(new LifetimeRun { DatasetId = f.Orders.Id, SettingsJson = "{}", OwnerId = f.Owner.Id }).Entity;
            }
            run.Status = LifetimeRunStatus.Running;
            await db.SaveChangesAsync(Ct);
            var report = await new LifetimeRecoveryStep().RecoverAsync(db, [], DateTimeOffset.UtcNow, Ct);
            await db.SaveChangesAsync(Ct);
            Assert.Equal(1, report.InterruptedRuns);
        }
        f.AsOwner();
        var view = await f.Harness.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(f.Orders.Id, Ct));
        Assert.Equal(LifetimeRunStatus.Failed, view.Status);
        Assert.Equal(JobSnapshot.InterruptedMessage + ".", view.Error);
        Assert.True(view.CanChange);
    }

    /// <summary>Purchase days after the calibration end of the customers who bought before it, counted from the file.</summary>
    private double HoldoutRepeats() =>
        f.Purchases.Values.Where(d => d.Keys.Min() <= CalibrationEnd).Sum(d => d.Keys.Count(k => k > CalibrationEnd));

    /// <summary>Every customer's P(alive), expected purchases, expected spend and CLV as the query layer serves the fields.</summary>
    private async Task<Dictionary<long, (double Alive, double Purchases, double Spend, double Value)>> FieldsAsync()
    {
        var result = await f.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = f.Orders.Id,
            Columns = ["customer_id", LifetimeService.AliveField, LifetimeService.PurchasesField, LifetimeService.SpendField, LifetimeService.ValueField],
            DistinctCustomers = true,
        }, Ct));
        return result.Rows.ToDictionary(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture),
            r => (QueryValue.ToDouble(r[1])!.Value, QueryValue.ToDouble(r[2])!.Value, QueryValue.ToDouble(r[3])!.Value, QueryValue.ToDouble(r[4])!.Value));
    }
}
