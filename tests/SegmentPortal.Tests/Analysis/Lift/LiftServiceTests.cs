using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Lift;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Storage;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Analysis.Lift;

/// <summary>
/// The CDNOW sample (2,357 customers, 6,919 purchases) as a transactions file and a customer list related to it; a
/// segment of every customer with 25% held out under the salt of lift_reference.py, so the portal's report can be held
/// against SciPy's on the same data. A second Analyst may read the customer list and the segment but not the orders.
/// </summary>
public sealed class LiftFixture : IAsyncLifetime
{
    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Orders { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    public AppUser Owner { get; private set; } = null!;

    public AppUser NoOrders { get; private set; } = null!;

    public int Segment { get; private set; }

    public JsonElement Reference { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(StoragePaths.FindRepositoryRoot(AppContext.BaseDirectory)!,
        "tests", "SegmentPortal.Tests", "Analysis", "Lift", "lift_reference.json"))).RootElement;

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync();
        NoOrders = await Harness.CreateUserAsync("no-orders@example.com", "Correct-horse-9", Roles.Analyst);
        Owner = await Harness.SignInAsNewUserAsync("lift-owner@example.com", Roles.Analyst);
        var orders = new StringBuilder("customer_id,order_date,cds,amount\n");
        var customers = new SortedSet<long>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "cdnow", "CDNOW_sample.txt")))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5)
            {
                continue;
            }
            var customer = long.Parse(parts[1], CultureInfo.InvariantCulture);
            var date = DateOnly.ParseExact(parts[2], "yyyyMMdd", CultureInfo.InvariantCulture);
            orders.Append(CultureInfo.InvariantCulture, $"{customer},{date:yyyy-MM-dd},{parts[3]},{parts[4]}\n");
            customers.Add(customer);
        }
        Orders = await Harness.ImportTextAsync("cdnow-orders.csv", orders.ToString());
        Orders = await Harness.SetRolesAsync(Orders, new()
        {
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["cds"] = FieldRole.Quantity,
        });
        Customers = await Harness.ImportTextAsync("cdnow-people.csv", "customer_id\n" + string.Join("\n", customers) + "\n");
        Customers = await Harness.SetRolesAsync(Customers, new() { ["customer_id"] = FieldRole.CustomerId });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(Orders.Id, "customer_id", Customers.Id, "customer_id", TestContext.Current.CancellationToken));
        // The second Analyst reads the customers, not the orders.
        await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(Customers.Id, [Roles.Analyst], [], TestContext.Current.CancellationToken));

        Segment = await Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Every CDNOW customer", Customers.Id, new RuleTree()), TestContext.Current.CancellationToken));
        await Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(Segment, Reference.GetProperty("share").GetDouble(), TestContext.Current.CancellationToken));
        // The reference's salt instead of the random one, so SciPy's split is the portal's.
        await using (var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync())
        {
            var segment = await db.Segments.SingleAsync(s => s.Id == Segment);
            segment.HoldoutSalt = Reference.GetProperty("salt").GetString();
            await db.SaveChangesAsync();
        }
        await Harness.WithAsync<SharingService>(s => s.ShareAsync(SharedItem.Segment, Segment, NoOrders.Id, null, ShareLevel.Viewer, TestContext.Current.CancellationToken));
    }

    public ValueTask DisposeAsync() => Harness.DisposeAsync();
}

public sealed class LiftServiceTests(LiftFixture f) : IClassFixture<LiftFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DateOnly Start => DateOnly.Parse(f.Reference.GetProperty("start").GetString()!, CultureInfo.InvariantCulture);

    private Task<LiftReport> RunAsync(LiftMetric metric, int? segment = null) =>
        f.Harness.WithAsync<LiftService, LiftReport>(s => s.RunAsync(new LiftRequest(segment ?? f.Segment, Start, metric), Ct));

    private static void AssertClose(JsonElement expected, string name, double actual, double tolerance = 1e-9)
    {
        var value = expected.GetProperty(name).GetDouble();
        Assert.True(Math.Abs(value - actual) <= tolerance * Math.Max(1, Math.Abs(value)), $"{name}: SciPy {value}, portal {actual}");
    }

    private static void AssertSameAsScipy(JsonElement expected, LiftComparison c)
    {
        Assert.Equal(expected.GetProperty("treated").GetProperty("n").GetInt64(), c.Treated.Customers);
        Assert.Equal(expected.GetProperty("holdout").GetProperty("n").GetInt64(), c.Holdout.Customers);
        AssertClose(expected.GetProperty("treated"), "mean", c.Treated.Mean);
        AssertClose(expected.GetProperty("holdout"), "mean", c.Holdout.Mean);
        AssertClose(expected, "difference", c.Difference);
        AssertClose(expected, "low", c.Low, 1e-7);
        AssertClose(expected, "high", c.High, 1e-7);
        AssertClose(expected, "p", c.PValue, 1e-7);
        AssertClose(expected, "statistic", c.Statistic, 1e-7);
        if (expected.GetProperty("df").ValueKind == JsonValueKind.Number)
        {
            AssertClose(expected, "df", c.DegreesOfFreedom!.Value, 1e-7);
        }
    }

    [Fact]
    public async Task Orders_per_customer_after_the_start_match_scipys_welch_test_on_CDNOW()
    {
        var report = await RunAsync(LiftMetric.Orders);

        AssertSameAsScipy(f.Reference.GetProperty("orders"), report.Comparison);
        Assert.Equal(f.Reference.GetProperty("heldOutKeys").GetArrayLength(), report.Comparison.Holdout.Customers);
        Assert.Equal(LiftStatistics.WelchMethod, report.Comparison.Method);
        Assert.Equal(f.Orders.Name, report.OrdersDataset);
        Assert.False(report.Comparison.Significant);
        Assert.EndsWith("the difference could be chance.", report.Sentence);
        Assert.StartsWith("Treated customers ordered 0.03 more orders each than the holdout (95% CI -0.17 to 0.23)", report.Sentence);
    }

    [Fact]
    public async Task Revenue_per_customer_matches_scipys_welch_test_on_CDNOW()
    {
        var report = await RunAsync(LiftMetric.Revenue);

        AssertSameAsScipy(f.Reference.GetProperty("revenue"), report.Comparison);
        Assert.StartsWith("Treated customers spent 0.07 less each than the holdout", report.Sentence);
    }

    [Fact]
    public async Task The_repeat_rate_matches_newcombes_interval_and_the_pooled_z_test_on_CDNOW()
    {
        var report = await RunAsync(LiftMetric.RepeatRate);

        AssertSameAsScipy(f.Reference.GetProperty("repeatRate"), report.Comparison);
        Assert.Equal(LiftStatistics.NewcombeMethod, report.Comparison.Method);
        Assert.Null(report.Comparison.DegreesOfFreedom);
        Assert.StartsWith("Treated customers' repeat rate was 3.4 points higher than the holdout's (17.1% vs 13.7%; 95% CI 0.0 to 6.5 points)", report.Sentence);
    }

    [Fact]
    public async Task A_user_who_cannot_read_the_orders_is_told_so()
    {
        var owner = f.Harness.CurrentUser.Principal;
        try
        {
            f.Harness.CurrentUser.Principal = CoreHarness.Principal(f.NoOrders.Id, f.NoOrders.Email!, Roles.Analyst);

            var error = await Assert.ThrowsAsync<PortalException>(() => RunAsync(LiftMetric.Orders));

            Assert.StartsWith("No orders you can see are linked to the customers of", error.Message);
        }
        finally
        {
            f.Harness.CurrentUser.Principal = owner;
        }
    }

    [Fact]
    public async Task A_segment_without_a_holdout_has_no_lift_report()
    {
        var id = await f.Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft($"No holdout {Guid.NewGuid():N}", f.Customers.Id, new RuleTree()), Ct));

        var error = await Assert.ThrowsAsync<PortalException>(() => RunAsync(LiftMetric.Orders, id));

        Assert.Equal(LiftService.NoHoldoutMessage, error.Message);
    }

    [Fact]
    public void The_sentence_says_when_a_difference_is_unlikely_to_be_chance()
    {
        var c = new LiftComparison(new LiftGroup(900, 1.42, 1), new LiftGroup(100, 1.0, 1), 0.42, 0.10, 0.74, 0.01, 2.6, 120, LiftStatistics.WelchMethod);

        Assert.Equal("Treated customers ordered 0.42 more orders each than the holdout (95% CI 0.10 to 0.74); the difference is unlikely to be chance.",
            LiftService.Sentence(LiftMetric.Orders, c));
    }
}
