using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Queries;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>
/// The shop (six customers, seven orders, today 2024-06-15) plus a small visit log whose cohort retention is worked
/// out by hand: January's cohort A, B, C, D (A and B back in February, A in March), February's E, F (E back in March).
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string Visits =
        "visit_id,customer,visit_date,amount\n" +
        "1,A,2024-01-05,10\n" +
        "2,B,2024-01-10,10\n" +
        "3,C,2024-01-20,10\n" +
        "4,D,2024-01-25,10\n" +
        "5,A,2024-01-28,10\n" +
        "6,A,2024-02-03,10\n" +
        "7,B,2024-02-14,10\n" +
        "8,E,2024-02-02,10\n" +
        "9,F,2024-02-20,10\n" +
        "10,A,2024-03-01,10\n" +
        "11,E,2024-03-05,10\n";

    public ShopFixture Shop { get; } = new();

    public Dataset VisitData { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Shop.InitializeAsync();
        var visits = await Shop.Harness.ImportTextAsync("visits.csv", Visits);
        VisitData = await Shop.Harness.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(visits.Id,
            DatasetRebuilder.SettingsOf(visits).Select(c => c with
            {
                Role = c.Name switch
                {
                    "visit_id" => FieldRole.OrderId,
                    "customer" => FieldRole.CustomerId,
                    "visit_date" => FieldRole.EventDate,
                    "amount" => FieldRole.Amount,
                    _ => FieldRole.None,
                },
            }).ToList()));
    }

    /// <summary>A dashboard view (not stored) holding the tiles, for loading their data.</summary>
    public static DashboardView Board(IReadOnlyList<DashboardFilter>? filters = null, params TileDefinition[] tiles) =>
        new(0, "Test", null, null, tiles, [], filters ?? [], 0, false, true, DateTimeOffset.UnixEpoch);

    public ValueTask DisposeAsync() => Shop.DisposeAsync();
}
