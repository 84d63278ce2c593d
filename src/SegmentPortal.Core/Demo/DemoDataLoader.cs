using DuckDB.NET.Data;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Demo;

/// <summary>
/// Writes the demo data set into the warehouse (both tables swapped in together, so a failed or cancelled load
/// leaves the previous demo data as it was) and registers it as two datasets.
/// </summary>
internal sealed class DemoDataLoader(DuckDbWarehouse warehouse, DatasetCatalog catalog, IPortalDbFactory dbFactory, TimeProvider clock)
{
    public const string CustomersTable = "demo_customers";
    public const string OrdersTable = "demo_orders";
    public const string CustomersName = "Demo customers";
    public const string OrdersName = "Demo orders";

    public async Task<DemoLoadResult> LoadAsync(
        DemoDataSize size,
        string? ownerId,
        IProgress<JobProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var asOf = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var generator = new DemoDataGenerator(size, asOf);
        long customers = 0, orders = 0;
        var expectedOrders = size.Customers * size.OrdersPerCustomer;

        await warehouse.ReplaceTablesAsync([CustomersTable, OrdersTable], async (connection, staging, ct) =>
        {
            await CreateTablesAsync(connection, staging[0], staging[1], ct);
            using (var appender = connection.CreateAppender(staging[0]))
            {
                foreach (var c in generator.Customers())
                {
                    appender.CreateRow()
                        .AppendValue(c.CustomerId).AppendValue(c.Name).AppendValue(c.Email).AppendValue(c.Phone)
                        .AppendValue(c.Region).AppendValue(c.City).AppendValue(c.Channel).AppendValue(c.SignupDate)
                        .AppendValue(c.BirthYear).AppendValue(c.Gender)
                        .EndRow();
                    if (++customers % 10_000 == 0)
                    {
                        ct.ThrowIfCancellationRequested();
                        progress?.Report(new JobProgress(0.1 * customers / size.Customers, $"Customers: {customers:N0} of {size.Customers:N0}"));
                    }
                }
            }
            using (var appender = connection.CreateAppender(staging[1]))
            {
                foreach (var o in generator.Orders())
                {
                    appender.CreateRow()
                        .AppendValue(o.OrderId).AppendValue(o.CustomerId).AppendValue(o.OrderDate).AppendValue(o.Amount)
                        .AppendValue(o.Quantity).AppendValue(o.Category).AppendValue(o.Channel).AppendValue(o.Returned).AppendValue(o.Region)
                        .EndRow();
                    if (++orders % 50_000 == 0)
                    {
                        ct.ThrowIfCancellationRequested();
                        progress?.Report(new JobProgress(0.1 + 0.85 * Math.Min(1, orders / expectedOrders), $"Orders: {orders:N0}"));
                    }
                }
            }
            progress?.Report(new JobProgress(0.96, "Swapping in the new tables…"));
            return null;
        }, cancellationToken);

        progress?.Report(new JobProgress(0.98, "Registering datasets…"));
        var source = $"Demo data ({size.Customers:N0} customers, seed {size.Seed}, as of {asOf:yyyy-MM-dd})";
        var customersDataset = await catalog.RegisterAsync(new DatasetRegistration(CustomersName, CustomersTable, DatasetKind.Customers, source,
            "Retail customers: region, city, acquisition channel, signup date and demographics.", ownerId, DatasetSourceKind.Demo,
            new Dictionary<string, FieldRole>
            {
                ["customer_id"] = FieldRole.CustomerId,
                ["region"] = FieldRole.Dimension,
                ["city"] = FieldRole.Dimension,
                ["channel"] = FieldRole.Dimension,
                ["gender"] = FieldRole.Dimension,
                ["signup_date"] = FieldRole.EventDate,
                ["birth_year"] = FieldRole.Measure,
            }), cancellationToken);
        var ordersDataset = await catalog.RegisterAsync(new DatasetRegistration(OrdersName, OrdersTable, DatasetKind.Transactions, source,
            "Two years of orders: date, amount, quantity, category, channel, returns and the selling region.", ownerId, DatasetSourceKind.Demo,
            new Dictionary<string, FieldRole>
            {
                ["order_id"] = FieldRole.OrderId,
                ["customer_id"] = FieldRole.CustomerId,
                ["order_date"] = FieldRole.EventDate,
                ["amount"] = FieldRole.Amount,
                ["quantity"] = FieldRole.Quantity,
                ["category"] = FieldRole.Dimension,
                ["channel"] = FieldRole.Dimension,
                ["returned"] = FieldRole.Dimension,
                ["region"] = FieldRole.Dimension,
            }), cancellationToken);
        // Demo data is for everyone to explore.
        await DatasetSharing.GrantRolesAsync(dbFactory, customersDataset.Id, [Roles.Analyst, Roles.Viewer], cancellationToken);
        await DatasetSharing.GrantRolesAsync(dbFactory, ordersDataset.Id, [Roles.Analyst, Roles.Viewer], cancellationToken);
        await catalog.RelateUncheckedAsync(ordersDataset.Id, "customer_id", customersDataset.Id, "customer_id", cancellationToken);
        return new DemoLoadResult(customers, orders);
    }

    private static async Task CreateTablesAsync(DuckDBConnection connection, string customers, string orders, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            CREATE TABLE {WarehouseNames.Quote(customers)} (
                customer_id BIGINT NOT NULL,
                name VARCHAR NOT NULL,
                email VARCHAR NOT NULL,
                phone VARCHAR,
                region VARCHAR NOT NULL,
                city VARCHAR,
                channel VARCHAR NOT NULL,
                signup_date DATE NOT NULL,
                birth_year INTEGER,
                gender VARCHAR);
            CREATE TABLE {WarehouseNames.Quote(orders)} (
                order_id BIGINT NOT NULL,
                customer_id BIGINT NOT NULL,
                order_date DATE NOT NULL,
                amount DECIMAL(12, 2) NOT NULL,
                quantity INTEGER NOT NULL,
                category VARCHAR,
                channel VARCHAR NOT NULL,
                returned BOOLEAN NOT NULL,
                region VARCHAR NOT NULL);
            """;
        await command.ExecuteNonQueryAsync(ct);
    }
}

internal sealed record DemoLoadResult(long Customers, long Orders);
