using System.Globalization;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Tests.Access;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>
/// A board loaded together (<see cref="TileDataService.LoadBoard"/>, its tiles' queries fused) against the same board
/// with each tile loaded alone, as the owner, the North Viewer (row rule; e-mail masked, phone and credit limit hidden)
/// and the North Analyst (row rule only): every tile gets exactly the same data, or the same error. Each load has a
/// board filter of its own that keeps every row, so neither is answered from the other's cached results.
/// </summary>
public sealed class BoardFusionTests(PermissionFixture fixture) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TileMeasure Revenue = new(TileMeasureKind.Sum, "amount");
    private static readonly TileMeasure Rows = new(TileMeasureKind.Count);

    private TileDefinition[] Tiles()
    {
        var (customers, orders) = (fixture.Customers.Id, fixture.Orders.Id);
        return
        [
            Chart("regions", TileType.Bar, customers, ["region"], new TileMeasure(TileMeasureKind.Customers)),
            Chart("cities", TileType.Table, customers, ["region", "city"], Rows),
            Chart("emails", TileType.Table, customers, ["email"]),
            Chart("phones", TileType.Bar, customers, ["phone"], Rows),
            Chart("categories", TileType.Pie, orders, ["category"], Rows, Revenue),
            Chart("trend", TileType.Line, orders, [], Revenue) with { Dimensions = [new TileDimension("order_date", DateBucket.Month)] },
            Chart("kpi", TileType.Kpi, orders, [], Revenue) with { DateColumn = "order_date", Period = DateBucket.Month },
            Chart("amounts", TileType.Histogram, orders, ["amount"]),
            Chart("top", TileType.Bar, orders, ["customer_id"], Revenue) with { TopN = 2, OtherBucket = true, Sort = new TileSort(ByMeasure: true, Index: 0, Descending: true) },
            Chart("heat", TileType.Heatmap, orders, ["category", "region"], new TileMeasure(TileMeasureKind.Average, "amount")),
        ];
    }

    /// <summary>Filters that keep every row, new to the result cache with each <paramref name="round"/>.</summary>
    private static List<DashboardFilter> Filters(int round) =>
    [
        new NumericRangeFilter("amount", Max: 1_000_000 + round),
        new NumericRangeFilter("id", Max: 1_000_000 + round),
    ];

    [Theory]
    [InlineData("owner", 1)]
    [InlineData("north viewer", 11)]
    [InlineData("north analyst", 21)]
    public async Task A_fused_board_gives_every_tile_what_it_gets_alone(string who, int round)
    {
        switch (who)
        {
            case "owner": fixture.AsOwner(); break;
            case "north viewer": fixture.AsNorthViewer(); break;
            default: fixture.AsNorthAnalyst(); break;
        }
        var tiles = Tiles();
        var together = Board(Filters(round), tiles);
        var alone = Board(Filters(round + 1), tiles);

        var loads = await fixture.With<TileDataService, Dictionary<string, string>>(async s =>
        {
            var board = s.LoadBoard(together, tiles, DashboardState.Empty, Ct);
            var shown = new Dictionary<string, string>();
            foreach (var (id, load) in board)
            {
                shown[id] = await ShowAsync(load);
            }
            return shown;
        });
        foreach (var tile in tiles)
        {
            var one = await fixture.With<TileDataService, string>(s => ShowAsync(s.LoadAsync(alone, tile, DashboardState.Empty, Ct)));
            Assert.Equal(one, loads[tile.Id]);
        }

        // The rules applied: the North sees only North customers; the Viewer no phone column and masked e-mails.
        if (who != "owner")
        {
            Assert.DoesNotContain("South", loads["regions"], StringComparison.Ordinal);
        }
        if (who == "north viewer")
        {
            Assert.StartsWith("error: ", loads["phones"], StringComparison.Ordinal);
            Assert.Contains("a***@example.com", loads["emails"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_board_load_fuses_the_tiles_queries()
    {
        fixture.AsOwner();
        var tiles = Tiles();
        var board = Board(Filters(31), tiles);

        var fused = await fixture.Harness.WithAsync<IServiceProvider, (int Queries, int Questions)>(async services =>
        {
            var service = (TileDataService)services.GetService(typeof(TileDataService))!;
            await service.LoadBoardAsync(board, tiles.Where(t => t.Id != "phones").ToList(), DashboardState.Empty, Ct);
            return ((QueryFusion)services.GetService(typeof(QueryFusion))!).Fused;
        });

        // Customers: regions, the cities table and its totals; orders: categories, trend, KPI, the histogram's range, then
        // its bins with the top two's "Other".
        Assert.True(fused.Queries >= 3, $"{fused.Queries} fused queries");
        Assert.True(fused.Questions >= 8, $"{fused.Questions} questions fused");
    }

    private static async Task<string> ShowAsync(Task<TileData> load)
    {
        TileData data;
        try
        {
            data = await load;
        }
        catch (Exception ex) when (ex is Core.PortalException)
        {
            return $"error: {ex.Message}";
        }
        var rows = data.Rows.Select(r => string.Join("|", r.Select(Text)));
        return string.Join("; ", rows) + $" totals {string.Join(",", data.Totals?.Select(t => Text(t)) ?? [])} other {data.HasOther} bin {Text(data.BinWidth)}" +
            $" kpi {Text(data.Kpi?.Value)}/{Text(data.Kpi?.Previous)} truncated {data.Truncated}";
    }

    private static string Text(object? value) => value switch
    {
        null => "∅",
        double d => Math.Round(d, 6).ToString(CultureInfo.InvariantCulture),
        _ => MarkValue.Text(value) ?? "∅",
    };
}
