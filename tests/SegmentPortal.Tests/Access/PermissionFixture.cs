using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// Customers and orders with data rules, on a clock fixed at 2024-06-15, for the permission matrix.
/// <list type="bullet">
/// <item>Viewers see the rows of their region (<c>region = {user.Region}</c>, on customers and on orders); e-mail is
/// masked for them, phone and credit limit hidden.</item>
/// <item>The owner (an Analyst) has a rule of their own that matches every row: unrestricted.</item>
/// <item>Another Analyst (granted, no rule for them) sees no rows (fail closed). An Analyst with a rule
/// <c>region = {user.Region}</c> for them alone (Region=North) is a restricted analyst.</item>
/// <item>An Admin is exempt while <see cref="PortalSettings.AdminsSeeAllData"/> is on and ruled (no rule: no rows) when off.</item>
/// </list>
/// North customers are 1 (Ann) and 3 (Cy); their orders 101, 102, 105 (Toys 500, Books 700, Electronics 2000). South
/// are 2 and 5 (orders 103, 104, 107: Toys 50, Garden 30, Garden 80); East is 4 (order 106, Books 100).
/// </summary>
public sealed class PermissionFixture : IAsyncLifetime
{
    public static readonly DateOnly Today = new(2024, 6, 15);

    public const string Password = "Correct-horse-9";

    public const string CustomersCsv =
        "id,name,region,email,phone,credit_limit,city\n" +
        "1,Ann,North,ann@example.com,13812345678,1000,Oslo\n" +
        "2,Bo,South,bo@example.com,13987654321,2000,Rome\n" +
        "3,Cy,North,cy@example.com,13711112222,3000,Bergen\n" +
        "4,Di,East,di@example.com,13633334444,4000,Tokyo\n" +
        "5,Ed,South,ed@example.com,13555556666,5000,Madrid\n";

    public const string OrdersCsv =
        "order_id,customer_id,order_date,amount,category,region\n" +
        "101,1,2024-06-01,500,Toys,North\n" +
        "102,1,2024-05-20,700,Books,North\n" +
        "103,2,2024-02-10,50,Toys,South\n" +
        "104,2,2023-11-05,30,Garden,South\n" +
        "105,3,2024-06-14,2000,Electronics,North\n" +
        "106,4,2023-01-01,100,Books,East\n" +
        "107,5,2024-03-03,80,Garden,South\n";

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    public Dataset Orders { get; private set; } = null!;

    public AppUser Owner { get; private set; } = null!;

    public AppUser NorthViewer { get; private set; } = null!;

    public AppUser SouthViewer { get; private set; } = null!;

    public AppUser RulelessAnalyst { get; private set; } = null!;

    public AppUser NorthAnalyst { get; private set; } = null!;

    public AppUser Admin { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        Owner = await Harness.SignInAsNewUserAsync("owner@example.com", Roles.Analyst);
        Customers = await Harness.ImportTextAsync("customers.csv", CustomersCsv);
        Orders = await Harness.ImportTextAsync("orders.csv", OrdersCsv);
        Customers = await Harness.SetRolesAsync(Customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension, ["city"] = FieldRole.Dimension });
        Orders = await Harness.SetRolesAsync(Orders, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["category"] = FieldRole.Dimension,
            ["region"] = FieldRole.Dimension,
        });
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(Orders.Id, "customer_id", Customers.Id, "id"));
        foreach (var dataset in new[] { Customers, Orders })
        {
            await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Viewer, Roles.Analyst], []));
        }

        NorthViewer = await Harness.CreateUserAsync("north@example.com", Password, Roles.Viewer);
        SouthViewer = await Harness.CreateUserAsync("south@example.com", Password, Roles.Viewer);
        RulelessAnalyst = await Harness.CreateUserAsync("ruleless@example.com", Password, Roles.Analyst);
        NorthAnalyst = await Harness.CreateUserAsync("north.analyst@example.com", Password, Roles.Analyst);
        Admin = await Harness.CreateUserAsync("admin@example.com", Password, Roles.Admin);

        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        db.UserAttributes.AddRange(
            new UserAttribute { UserId = NorthViewer.Id, Name = "Region", Value = "North" },
            new UserAttribute { UserId = SouthViewer.Id, Name = "Region", Value = "South" },
            new UserAttribute { UserId = NorthAnalyst.Id, Name = "Region", Value = "North" });
        foreach (var dataset in new[] { Customers, Orders })
        {
            db.RowRules.AddRange(
                new RowRule { DatasetId = dataset.Id, Role = Roles.Viewer, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = dataset.Id, UserId = NorthAnalyst.Id, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = dataset.Id, UserId = Owner.Id, RuleJson = EveryRow() });
        }
        db.ColumnRules.AddRange(
            new ColumnRule { DatasetId = Customers.Id, Column = "email", Role = Roles.Viewer, Treatment = ColumnTreatment.Masked },
            new ColumnRule { DatasetId = Customers.Id, Column = "phone", Role = Roles.Viewer, Treatment = ColumnTreatment.Hidden },
            new ColumnRule { DatasetId = Customers.Id, Column = "credit_limit", Role = Roles.Viewer, Treatment = ColumnTreatment.Hidden });
        await db.SaveChangesAsync();
    }

    /// <summary><c>region = {user.Region}</c>, as the rule builder stores it.</summary>
    public static string RegionOfUser() => Rule(new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = DataPolicy.Token("Region") });

    /// <summary>A rule every row meets (empty region or not).</summary>
    public static string EveryRow() => new RuleTree
    {
        Root = new RuleGroup
        {
            Combinator = Combinator.Or,
            Children = [new FieldCondition { Field = "region", Operator = RuleOperator.IsEmpty }, new FieldCondition { Field = "region", Operator = RuleOperator.IsNotEmpty }],
        },
    }.ToJson();

    public static string Rule(params RuleNode[] conditions) => new RuleTree { Root = new RuleGroup { Children = [.. conditions] } }.ToJson();

    /// <summary>Makes the user the current user, with the roles they had when they signed in.</summary>
    public void SignIn(AppUser user, params string[] roles) => Harness.CurrentUser.Principal = CoreHarness.Principal(user.Id, user.Email!, roles);

    public void AsOwner() => SignIn(Owner, Roles.Analyst);

    public void AsNorthViewer() => SignIn(NorthViewer, Roles.Viewer);

    public void AsSouthViewer() => SignIn(SouthViewer, Roles.Viewer);

    public void AsRulelessAnalyst() => SignIn(RulelessAnalyst, Roles.Analyst);

    public void AsNorthAnalyst() => SignIn(NorthAnalyst, Roles.Analyst);

    public void AsAdmin() => SignIn(Admin, Roles.Admin);

    public Task<T> With<TService, T>(Func<TService, Task<T>> action) where TService : notnull => Harness.WithAsync(action);

    public Task With<TService>(Func<TService, Task> action) where TService : notnull => Harness.WithAsync(action);

    public async Task SetSettingAsync(string key, string value) =>
        await Harness.WithAsync<PortalSettings>(s => s.SetAsync(key, value));

    /// <summary>Changes the stored value of a user's attribute (as the Admin user page will).</summary>
    public async Task SetAttributeAsync(AppUser user, string name, string value)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        var attribute = await db.UserAttributes.SingleAsync(a => a.UserId == user.Id && a.Name == name);
        attribute.Value = value;
        await db.SaveChangesAsync();
    }

    public async Task RemoveRoleAsync(AppUser user, string role)
    {
        await using var scope = Harness.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var stored = await users.FindByIdAsync(user.Id) ?? throw new InvalidOperationException("No such user.");
        Assert.True((await users.RemoveFromRoleAsync(stored, role)).Succeeded);
    }

    public async Task DisableAsync(AppUser user)
    {
        await using var scope = Harness.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var stored = await users.FindByIdAsync(user.Id) ?? throw new InvalidOperationException("No such user.");
        stored.IsDisabled = true;
        Assert.True((await users.UpdateAsync(stored)).Succeeded);
    }

    /// <summary>A dashboard view (not stored) holding the tiles, for loading their data.</summary>
    public static DashboardView Board(IReadOnlyList<DashboardFilter>? filters, params TileDefinition[] tiles) =>
        new(0, "Regions", null, null, tiles, [], filters ?? [], 0, false, false, DateTimeOffset.UnixEpoch);

    public static TileDefinition Chart(string id, TileType type, int dataset, string[] dimensions, params TileMeasure[] measures) => new()
    {
        Id = id,
        Type = type,
        DatasetId = dataset,
        Dimensions = dimensions.Select(d => new TileDimension(d)).ToList(),
        Measures = measures,
    };

    public ValueTask DisposeAsync() => Harness.DisposeAsync();
}
