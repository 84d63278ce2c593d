using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Import;

/// <summary>The customers/orders schema of a real PostgreSQL server imported as datasets through the import pipeline.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresImportTests(PostgresServer server) : IAsyncLifetime
{
    private CoreHarness? _harness;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        if (server.SkipReason is null)
        {
            _harness = await CoreHarness.CreateAsync();
            await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task Orders_and_customers_import_as_related_datasets_with_their_rows_and_types()
    {
        server.Require();
        var harness = _harness!;
        var connectionId = await harness.WithAsync<ConnectionService, int>(s => s.CreateAsync(new ConnectionInput
        {
            Name = "Shop",
            Kind = ConnectionKind.PostgreSql,
            Host = "127.0.0.1",
            Port = server.Port,
            Database = PostgresServer.Database,
            Username = PostgresServer.ReaderUser,
            Password = PostgresServer.ReaderPassword,
            Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable },
        }, Ct));
        var user = await harness.CurrentUser.GetPrincipalAsync();

        foreach (var table in new[] { "customers", "orders" })
        {
            await harness.WithAsync<DatasetImportRunner>(r => r.RunAsync(user,
                new ConnectionImportRequest(connectionId, "Shop", ConnectionSource.ForTable("public", table)), new Progress<JobProgress>(), Ct));
        }

        await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        var datasets = await db.Datasets.AsNoTracking().Include(d => d.Columns).ToListAsync(Ct);
        var customers = datasets.Single(d => d.Name == "customers");
        var orders = datasets.Single(d => d.Name == "orders");
        Assert.Equal(PostgresServer.CustomerCount, customers.RowCount);
        Assert.Equal(PostgresServer.OrderCount, orders.RowCount);
        Assert.All(datasets, d => Assert.Equal(DatasetSourceKind.Connection, d.SourceKind));
        Assert.Contains(orders.Columns, c => c.Type is ColumnType.Decimal or ColumnType.Integer);

        var customerKey = customers.Columns.OrderBy(c => c.Ordinal).First().Name;
        var orderKey = orders.Columns.First(c => c.Name.Contains("customer", StringComparison.OrdinalIgnoreCase)).Name;
        await harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(orders.Id, orderKey, customers.Id, customerKey, Ct));
        var relation = Assert.Single(await harness.WithAsync<DatasetCatalog, IReadOnlyList<DatasetRelation>>(c => c.RelationsAsync(orders.Id, Ct)));
        Assert.Equal(customers.Id, relation.ToDatasetId);
    }
}
