using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Metrics;

/// <summary>
/// The data the metric tests read, over a real SQLite metadata file and a real DuckDB warehouse: an orders log over four
/// months (today is 2024-06-15; one order is dated after it), shared with Viewers; an Analyst is signed in.
/// </summary>
internal sealed record MetricOrders(CoreHarness Harness, Dataset Orders, AppUser Analyst, AppUser Viewer)
{
    private const string Csv =
        "order_id,customer_id,region,order_date,amount,channel\n" +
        "101,1,North,2024-03-03,100,web\n" +
        "102,1,North,2024-04-02,50,shop\n" +
        "103,2,South,2024-04-10,999,web\n" +
        "104,3,North,2024-06-04,10,web\n" +
        "105,3,South,2024-06-05,7,shop\n" +
        "106,2,South,2024-06-12,300,web\n" +
        "107,4,North,2024-06-14,25,shop\n" +
        "108,2,South,2024-06-20,500,web\n";

    public static readonly DateOnly Today = new(2024, 6, 15);

    public static readonly DateTimeOffset Noon = new(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);

    /// <param name="clock">Today at noon by default, standing still.</param>
    public static async Task<MetricOrders> CreateAsync(CancellationToken ct, TimeProvider? clock = null)
    {
        var harness = await CoreHarness.CreateAsync(clock: clock ?? new FixedClock(Noon));
        var analyst = await harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        var orders = await harness.ImportTextAsync("orders.csv", Csv);
        orders = await harness.SetRolesAsync(orders, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["region"] = FieldRole.Dimension,
            ["channel"] = FieldRole.Dimension,
        });
        await harness.WithAsync<DatasetSharing>(s => s.SetAsync(orders.Id, [Roles.Viewer], [], ct));
        var viewer = await harness.CreateUserAsync("vera@example.com", "Correct-horse-9", Roles.Viewer);
        return new MetricOrders(harness, orders, analyst, viewer);
    }

    /// <summary>
    /// Row rules on the orders: Viewers see only their own region's rows (the Viewer's is North), Analysts every row (once
    /// a dataset has row rules, a role without one sees none).
    /// </summary>
    public async Task ViewersSeeTheirRegionAsync(CancellationToken ct)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(ct);
        db.UserAttributes.Add(new UserAttribute { UserId = Viewer.Id, Name = "Region", Value = "North" });
        db.RowRules.Add(new RowRule
        {
            DatasetId = Orders.Id,
            Role = Roles.Viewer,
            RuleJson = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "{user.Region}" }] } }.ToJson(),
        });
        db.RowRules.Add(new RowRule { DatasetId = Orders.Id, Role = Roles.Analyst, RuleJson = new RuleTree().ToJson() });
        await db.SaveChangesAsync(ct);
    }
}
