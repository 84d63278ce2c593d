using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Queries;

namespace SegmentPortal.Tests.Connections;

/// <summary>
/// The app's own path on the sharded PostgreSQL (<see cref="ShardedPostgres"/>): a connection to the coordinator as its
/// read-only login, its customers and orders made live datasets (roles set, orders related to customers), and questions
/// asked through <see cref="QueryService"/> — the segment count with order facts, a member list with facts and board
/// tiles — give DuckDB's answers on the same rows (<see cref="ShardedDuckDb"/>, the same specs as
/// <see cref="ShardedPostgresTests"/>).
/// </summary>
[Collection(ShardedPostgresCollection.Name)]
public sealed class ShardedLiveDatasetTests(ShardedPostgres pg, ShardedDuckDb duck) : IClassFixture<ShardedDuckDb>, IAsyncLifetime
{
    private CoreHarness? _harness;
    private int _customersId;
    private int _ordersId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        if (pg.SkipReason is not null)
        {
            return;
        }
        _harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(ShardedShopData.Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        var connectionId = await _harness.WithAsync<ConnectionService, int>(s => s.CreateAsync(new ConnectionInput
        {
            Name = "Sharded shop",
            Kind = ConnectionKind.PostgreSql,
            Host = "127.0.0.1",
            Port = pg.CoordinatorPort,
            Database = ShardedPostgres.Database,
            Username = ShardedPostgres.ReaderUser,
            Password = ShardedPostgres.ReaderPassword,
            Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable },
        }, Ct));
        _customersId = await _harness.WithAsync<LiveDatasetService, int>(s => s.CreateAsync(connectionId,
            new LiveDatasetDraft(ConnectionSource.ForTable("public", "customers"), "Customers", 0, DatasetKind.Customers,
                new Dictionary<string, FieldRole> { ["customer_id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension }), Ct));
        _ordersId = await _harness.WithAsync<LiveDatasetService, int>(s => s.CreateAsync(connectionId,
            new LiveDatasetDraft(ConnectionSource.ForTable("public", "orders"), "Orders", 0, DatasetKind.Transactions, new Dictionary<string, FieldRole>
            {
                ["order_id"] = FieldRole.OrderId,
                ["customer_id"] = FieldRole.CustomerId,
                ["order_date"] = FieldRole.EventDate,
                ["amount"] = FieldRole.Amount,
                ["category"] = FieldRole.Dimension,
            }), Ct));
        await _harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(_ordersId, "customer_id", _customersId, "customer_id", Ct));
    }

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("segment count")]
    [InlineData("segment count, order facts only")]
    [InlineData("segment by region")]
    [InlineData("members with facts")]
    [InlineData("orders by month")]
    [InlineData("revenue by category in the last quarter")]
    [InlineData("top customers")]
    [InlineData("KPIs")]
    public async Task Through_the_query_service_a_live_dataset_on_the_sharded_coordinator_answers_as_DuckDB_does(string question)
    {
        pg.Require();
        var (onCustomers, spec) = ShardedPostgresTests.Questions[question];
        var expected = ShardedPostgresTests.Normalize(await duck.RunAsync(ShardedPostgresTests.Compile(spec, onCustomers, live: false)), spec);

        var result = await _harness!.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec with { DatasetId = onCustomers ? _customersId : _ordersId }, Ct));

        Assert.NotEmpty(expected);
        Assert.Equal(expected, ShardedPostgresTests.Normalize([.. result.Rows], spec));
    }
}
