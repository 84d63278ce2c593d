using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Demo;

public sealed class DemoDataLoaderTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Loads_customers_and_orders_and_registers_them_as_datasets()
    {
        var progress = new List<JobProgress>();
        var result = await _harness.WithAsync<DemoDataLoader, DemoLoadResult>(loader =>
            loader.LoadAsync(new DemoDataSize(Customers: 3_000), null, new SyncProgress(progress.Add), TestContext.Current.CancellationToken));

        Assert.Equal(3_000, result.Customers);
        Assert.InRange(result.Orders, 27_000, 33_000);
        Assert.NotEmpty(progress);

        var datasets = await _harness.WithAsync<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(TestContext.Current.CancellationToken));
        var customers = Assert.Single(datasets, d => d.Kind == DatasetKind.Customers);
        var orders = Assert.Single(datasets, d => d.Kind == DatasetKind.Transactions);
        Assert.Equal(3_000, customers.RowCount);
        Assert.Equal(10, customers.ColumnCount);
        Assert.Equal(result.Orders, orders.RowCount);
        Assert.Equal(9, orders.ColumnCount);

        var overview = await _harness.WithAsync<DatasetCatalog, PortalOverview>(c => c.GetOverviewAsync(TestContext.Current.CancellationToken));
        Assert.Equal(new PortalOverview(2, 3_000, 3_000 + result.Orders), overview);

        var detail = await _harness.WithAsync<DatasetCatalog, Dataset?>(c => c.GetAsync(orders.Id, TestContext.Current.CancellationToken));
        Assert.Equal(["order_id", "customer_id", "order_date", "amount", "quantity", "category", "channel", "returned", "region"],
            detail!.Columns.Select(c => c.Name));
        Assert.Equal(ColumnType.Date, detail.Columns[2].Type);
        Assert.Equal(ColumnType.Decimal, detail.Columns[3].Type);
        Assert.Equal(FieldRole.CustomerId, detail.Columns.Single(c => c.Name == "customer_id").Role);
        Assert.Equal(FieldRole.EventDate, detail.Columns.Single(c => c.Name == "order_date").Role);
        Assert.Equal(FieldRole.Amount, detail.Columns.Single(c => c.Name == "amount").Role);

        var relation = Assert.Single(await _harness.WithAsync<DatasetCatalog, IReadOnlyList<DatasetRelation>>(c =>
            c.RelationsAsync(orders.Id, TestContext.Current.CancellationToken)));
        Assert.Equal(("customer_id", customers.Id, "customer_id"), (relation.FromColumn, relation.ToDatasetId, relation.ToColumn));
    }

    [Fact]
    public async Task Loading_again_replaces_the_data_without_duplicating_datasets()
    {
        await _harness.WithAsync<DemoDataLoader>(l => l.LoadAsync(new DemoDataSize(Customers: 1_000), null, null, TestContext.Current.CancellationToken));
        await _harness.WithAsync<DemoDataLoader>(l => l.LoadAsync(new DemoDataSize(Customers: 1_500), null, null, TestContext.Current.CancellationToken));

        var datasets = await _harness.WithAsync<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, datasets.Count);
        Assert.Equal(1_500, datasets.Single(d => d.Kind == DatasetKind.Customers).RowCount);
    }

    [Fact]
    public async Task A_cancelled_load_keeps_the_previous_demo_data()
    {
        await _harness.WithAsync<DemoDataLoader>(l => l.LoadAsync(new DemoDataSize(Customers: 1_000), null, null, TestContext.Current.CancellationToken));
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Message.StartsWith("Orders", StringComparison.Ordinal))
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _harness.WithAsync<DemoDataLoader>(l =>
            l.LoadAsync(new DemoDataSize(Customers: 20_000), null, progress, cancel.Token)));

        var warehouse = _harness.Services.GetRequiredService<DuckDbWarehouse>();
        Assert.Equal(1_000, await warehouse.CountRowsAsync(DemoDataLoader.CustomersTable, TestContext.Current.CancellationToken));
        await using var connection = await warehouse.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%staging%'";
        Assert.Equal(0L, Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task Viewers_cannot_start_a_demo_load()
    {
        await _harness.SignInAsNewUserAsync("viewer@example.com", Roles.Viewer);

        await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            _harness.WithAsync<DemoDataService>(s => s.StartLoadAsync(new DemoDataSize(Customers: 10))));
    }

    [Fact]
    public async Task Signed_out_callers_cannot_list_datasets()
    {
        _harness.CurrentUser.Principal = new();

        var error = await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            _harness.WithAsync<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(TestContext.Current.CancellationToken)));
        Assert.IsAssignableFrom<PortalException>(error);
    }

    private sealed class SyncProgress(Action<JobProgress> report) : IProgress<JobProgress>
    {
        public void Report(JobProgress value) => report(value);
    }
}
