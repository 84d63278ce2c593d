using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// Six customers and their orders in the test store's real DuckDB warehouse, registered with roles and related, owned by
/// <see cref="Owner"/>; and the Core services the segment editor page uses, over that store.
/// </summary>
/// <remarks>
/// Customers: 1 Ann North 1980 VIP, signed up 2025-06-10; 2 Bo South 1992; 3 Cy East, no birth year, VIP; 4 Di North 1975,
/// no VIP flag; 5 Ed West 2001; 6 Fi, no region, 1988, VIP. Regions by frequency: North (2), then East, South, West.
/// </remarks>
public static class ShopData
{
    public const string Owner = "ann@example.com";
    public const string CustomersTable = "shop_customers";
    public const string OrdersTable = "shop_orders";
    public const string CustomersName = "Shop customers";
    public const string OrdersName = "Shop orders";

    /// <summary>Registers what the segment editor page and its builder need, over <paramref name="store"/>.</summary>
    public static void AddSegmentServices(this IServiceCollection services, PortalStore store)
    {
        services.AddSingleton(store.Db);
        services.AddSingleton(store.Warehouse);
        services.AddSingleton(Options.Create(new QueryOptions()));
        services.AddSingleton<QueryExecutor>();
        services.AddSingleton<SegmentStore>();
        services.AddSingleton<SegmentPortal.Core.Analysis.CustomerAttributeStore>();
        services.AddScoped<Authorizer>();
        services.AddScoped<DatasetCatalog>();
        services.AddScoped<PermissionPolicy>();
        services.AddScoped<SegmentPortal.Core.Access.DataRuleStore>();
        services.AddScoped<SegmentPortal.Core.Access.PortalSettings>();
        services.AddSingleton(store.Changes);
        services.AddSingleton<SegmentPortal.Core.Access.AccessCache>();
        services.AddScoped<SegmentPortal.Core.Audit.AuditLog>();
        services.AddScoped<SegmentPortal.Core.Sharing.SharingService>();
        services.AddScoped<QueryService>();
        services.AddScoped<SegmentService>();
        services.AddScoped<SegmentHoldoutService>();
        services.AddScoped<SegmentPortal.Core.Analysis.Lift.LiftService>();
        services.AddScoped<RuleBuilderService>();
        services.AddPortalAccess();
        services.AddScoped<QueryResolver>();
        services.AddSingleton<ISegmentDefinitions, SegmentDefinitions>();
        services.AddSingleton<ISharedItemSource, SegmentItems>();
        services.AddSingleton<ISharedItemSource, SegmentPortal.Core.Dashboards.DashboardItems>();
        services.AddSingleton<IAnalysisFields>(sp => sp.GetRequiredService<SegmentPortal.Core.Analysis.CustomerAttributeStore>());
        services.AddScoped<SegmentPortal.Core.Sharing.IDashboardDatasets, SegmentPortal.Core.Dashboards.DashboardDatasets>();
    }

    /// <summary>Writes and registers both datasets (as the current user, who must be <see cref="Owner"/>); returns the customers' id.</summary>
    public static async Task<int> SeedAsync(PortalStore store, IServiceProvider services, CancellationToken cancellationToken)
    {
        await store.Warehouse.ReplaceTablesAsync([CustomersTable, OrdersTable], async (connection, staging, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE "{staging[0]}" (customer_id BIGINT, name VARCHAR, region VARCHAR, city VARCHAR, signup DATE, birth_year INTEGER, vip BOOLEAN);
                INSERT INTO "{staging[0]}" VALUES
                    (1, 'Ann', 'North', 'Oslo', DATE '2025-06-10', 1980, true),
                    (2, 'Bo', 'South', 'Rome', DATE '2025-01-15', 1992, false),
                    (3, 'Cy', 'East', NULL, DATE '2024-05-01', NULL, true),
                    (4, 'Di', 'North', 'Bergen', DATE '2025-04-01', 1975, NULL),
                    (5, 'Ed', 'West', 'Madrid', DATE '2023-12-31', 2001, false),
                    (6, 'Fi', NULL, 'Paris', DATE '2025-06-14', 1988, true);
                CREATE TABLE "{staging[1]}" (order_id BIGINT, customer_id BIGINT, order_date DATE, amount DECIMAL(12, 2), category VARCHAR);
                INSERT INTO "{staging[1]}" VALUES
                    (101, 1, DATE '2025-06-01', 500, 'Toys'),
                    (102, 1, DATE '2025-05-20', 700, 'Books'),
                    (103, 2, DATE '2025-02-10', 50, 'Toys'),
                    (104, 3, DATE '2025-06-14', 2000, 'Electronics'),
                    (105, 4, DATE '2024-01-01', 100, 'Books');
                """;
            await command.ExecuteNonQueryAsync(ct);
            return null;
        }, cancellationToken);

        await store.AddUserAsync(Owner, Roles.Analyst);
        var catalog = services.GetRequiredService<DatasetCatalog>();
        var ownerId = PortalTestContext.Principal(Owner).FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;
        var customers = await catalog.RegisterAsync(new DatasetRegistration(CustomersName, CustomersTable, DatasetKind.Customers, "Test", OwnerId: ownerId,
            Roles: new Dictionary<string, FieldRole> { ["customer_id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension }), cancellationToken);
        var orders = await catalog.RegisterAsync(new DatasetRegistration(OrdersName, OrdersTable, DatasetKind.Transactions, "Test", OwnerId: ownerId,
            Roles: new Dictionary<string, FieldRole>
            {
                ["order_id"] = FieldRole.OrderId,
                ["customer_id"] = FieldRole.CustomerId,
                ["order_date"] = FieldRole.EventDate,
                ["amount"] = FieldRole.Amount,
                ["category"] = FieldRole.Dimension,
            }), cancellationToken);
        await catalog.RelateAsync(orders.Id, "customer_id", customers.Id, "customer_id", cancellationToken);
        return customers.Id;
    }
}
