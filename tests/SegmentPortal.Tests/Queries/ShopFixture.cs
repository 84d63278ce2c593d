using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// Six customers and their orders, with roles set and the datasets related, on a clock fixed at 2024-06-15.
/// Customers 5 and 6 never ordered; 3 has no city and no birth year; 6 has no region; 4 has no VIP flag.
/// </summary>
public sealed class ShopFixture : IAsyncLifetime
{
    public static readonly DateOnly Today = new(2024, 6, 15);

    public const string Customers =
        "id,name,region,city,signup,birth_year,vip\n" +
        "1,Ann,North,Oslo,2024-06-10,1980,true\n" +
        "2,Bo,South,Rome,2024-01-15,1992,false\n" +
        "3,Cy,East,,2023-05-01,,true\n" +
        "4,Di,North,Bergen,2024-04-01,1975,\n" +
        "5,Ed,West,Madrid,2022-12-31,2001,false\n" +
        "6,Fi,,Paris,2024-06-14,1988,true\n";

    public const string Orders =
        "order_id,customer_id,order_date,amount,category\n" +
        "101,1,2024-06-01,500,Toys\n" +
        "102,1,2024-05-20,700,Books\n" +
        "103,2,2024-02-10,50,Toys\n" +
        "104,2,2023-11-05,30,Garden\n" +
        "105,3,2024-06-14,2000,Electronics\n" +
        "106,4,2023-01-01,100,Books\n" +
        "107,1,2024-06-01,0,Toys\n";

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset CustomerData { get; private set; } = null!;

    public Dataset OrderData { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        await Harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        CustomerData = await Harness.ImportTextAsync("customers.csv", Customers);
        OrderData = await Harness.ImportTextAsync("orders.csv", Orders);
        CustomerData = await SetRolesAsync(CustomerData, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        OrderData = await SetRolesAsync(OrderData, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["category"] = FieldRole.Dimension,
        });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(OrderData.Id, "customer_id", CustomerData.Id, "id"));
    }

    private Task<Dataset> SetRolesAsync(Dataset dataset, Dictionary<string, FieldRole> roles) =>
        Harness.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id,
            DatasetRebuilder.SettingsOf(dataset).Select(c => c with { Role = roles.GetValueOrDefault(c.Name) }).ToList()));

    /// <summary>The ids of the customers a rule selects, in order.</summary>
    public async Task<IReadOnlyList<long>> IdsAsync(RuleGroup rule, Dataset? dataset = null)
    {
        var target = dataset ?? CustomerData;
        var key = target.Columns.Single(c => c.Role == FieldRole.CustomerId).Name;
        var result = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = target.Id,
            Filter = rule,
            Columns = [key],
            DistinctCustomers = true,
            Sort = [new SortBy(key)],
        }));
        return result.Rows.Select(r => Convert.ToInt64(r[0])).ToList();
    }

    public async Task<int> SaveSegmentAsync(string name, RuleGroup rule)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        // Owned by the signed-in user: segments are private to their owner until shared.
        var segment = new Segment { Name = name, DatasetId = CustomerData.Id, RuleJson = new RuleTree { Root = rule }.ToJson(), OwnerId = Harness.CurrentUser.Principal.UserId() };
        db.Segments.Add(segment);
        await db.SaveChangesAsync();
        return segment.Id;
    }

    public async Task UpdateSegmentAsync(int id, RuleGroup rule)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        var segment = db.Segments.Single(s => s.Id == id);
        segment.RuleJson = new RuleTree { Root = rule }.ToJson();
        await db.SaveChangesAsync();
    }

    public ValueTask DisposeAsync() => Harness.DisposeAsync();

    public static RuleGroup All(params RuleNode[] children) => new() { Children = [.. children] };

    public static RuleGroup Any(params RuleNode[] children) => new() { Combinator = Combinator.Or, Children = [.. children] };

    public static FieldCondition Field(string field, RuleOperator op, string? value = null, string? value2 = null, RelativeUnit? unit = null) =>
        new() { Field = field, Operator = op, Value = value, Value2 = value2, Unit = unit };

    public static FieldCondition FieldIn(string field, RuleOperator op, params string[] values) =>
        new() { Field = field, Operator = op, Values = [.. values] };

    public static FactCondition Fact(CustomerFact fact, RuleOperator op, string? value = null, int? window = null, RelativeUnit? unit = null) =>
        new() { Fact = fact, Operator = op, Value = value, WindowDays = window, Unit = unit };
}
