using SegmentPortal.Core;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Tests.Import;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// A Viewer's session sending ids or values it was never offered is refused by the services, whatever the page showed.
/// </summary>
public sealed class TamperingTests(PermissionFixture f) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TileDefinition Regions => Chart("regions", TileType.Bar, f.Customers.Id, ["region"], new TileMeasure(TileMeasureKind.Customers));

    private TileDefinition Categories => Chart("categories", TileType.Bar, f.Orders.Id, ["category"], new TileMeasure(TileMeasureKind.Sum, "amount"));

    private Task<TileData> LoadAsync(DashboardView board, TileDefinition tile, DashboardState state) =>
        f.With<TileDataService, TileData>(s => s.LoadAsync(board, tile, state, Ct));

    [Fact]
    public async Task A_dashboard_id_not_shared_with_the_viewer_is_refused_like_one_that_does_not_exist()
    {
        f.AsOwner();
        var id = await f.With<DashboardService, int>(s => s.CreateAsync($"Private {Guid.NewGuid():N}", cancellationToken: Ct));

        f.AsNorthViewer();
        var notShared = await Assert.ThrowsAsync<PortalException>(() => f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct)));
        var missing = await Assert.ThrowsAsync<PortalException>(() => f.With<DashboardService, DashboardView>(s => s.GetAsync(int.MaxValue, Ct)));

        Assert.Equal("That dashboard does not exist or you do not have access to it.", notShared.Message);
        Assert.Equal(missing.Message, notShared.Message);
    }

    [Fact]
    public async Task A_dataset_id_not_granted_to_the_viewer_is_refused_on_every_path()
    {
        f.AsOwner();
        var secret = await f.Harness.ImportTextAsync("secret.csv", "id,salary\n1,100\n");

        f.AsNorthViewer();
        var preview = await Assert.ThrowsAsync<PortalException>(() => f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(secret.Id, Ct)));
        var profile = await Assert.ThrowsAsync<PortalException>(() => f.With<DatasetProfiler, IReadOnlyList<ColumnProfile>>(p => p.ProfileAsync(secret.Id, Ct)));
        var tile = Chart("secret", TileType.Table, secret.Id, ["salary"]);
        var tileError = await Assert.ThrowsAsync<PortalException>(() => LoadAsync(Board(null, tile), tile, DashboardState.Empty));
        var missing = await Assert.ThrowsAsync<PortalException>(() => f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(int.MaxValue, Ct)));

        Assert.All([preview, profile, tileError], e => Assert.Equal("That dataset does not exist or you do not have access to it.", e.Message));
        Assert.Equal(missing.Message, preview.Message);
    }

    [Fact]
    public async Task A_filter_value_the_viewer_was_never_offered_is_refused()
    {
        var board = Board([new CategoryFilter("category", [])], Regions, Categories);
        f.AsNorthViewer();

        var garden = await Assert.ThrowsAsync<PortalException>(() =>
            LoadAsync(board, Categories, DashboardState.Empty with { Filters = [new CategoryFilter("category", ["Toys", "Garden"])] }));
        var south = await Assert.ThrowsAsync<PortalException>(() =>
            LoadAsync(board, Regions, DashboardState.Empty with { Filters = [new CategoryFilter("region", ["South"])] }));
        var toys = await LoadAsync(board, Categories, DashboardState.Empty with { Filters = [new CategoryFilter("category", ["Toys"])] });

        Assert.Equal(TileDataService.NotOfferedMessage, garden.Message);
        Assert.Equal(TileDataService.NotOfferedMessage, south.Message);
        Assert.Equal("Toys", Assert.Single(toys.Rows)[0]);
        Assert.Equal(500.0, Convert.ToDouble(toys.Rows[0][1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_value_the_dashboard_saved_counts_as_offered_and_still_shows_only_permitted_rows()
    {
        var board = Board([new CategoryFilter("category", ["Garden", "Toys"])], Regions, Categories);
        f.AsNorthViewer();

        var saved = await LoadAsync(board, Categories, DashboardState.Empty);
        var resent = await LoadAsync(board, Categories, DashboardState.Empty with { Filters = board.Filters });

        Assert.Equal(["Toys"], saved.Rows.Select(r => r[0]));
        Assert.Equal(["Toys"], resent.Rows.Select(r => r[0]));
    }

    [Fact]
    public async Task Numeric_and_date_ranges_are_accepted_as_sent_and_the_row_rules_still_apply()
    {
        var board = Board(null, Regions, Categories);
        f.AsNorthViewer();

        var data = await LoadAsync(board, Categories, DashboardState.Empty with
        {
            Filters = [new NumericRangeFilter("amount", -1e9, 1e9), new DateRangeFilter("order_date", new DateOnly(1900, 1, 1), new DateOnly(2100, 1, 1))],
        });

        Assert.Equal(["Electronics", "Books", "Toys"], data.Rows.Select(r => r[0]));
    }

    [Fact]
    public async Task A_cross_filter_value_or_source_the_viewer_was_never_offered_is_refused()
    {
        var board = Board(null, Regions, Categories);
        f.AsNorthViewer();

        var south = await Assert.ThrowsAsync<PortalException>(() =>
            LoadAsync(board, Categories, DashboardState.Empty with { CrossFilter = new CrossFilter(Regions.Id, "region", "South") }));
        var elsewhere = await Assert.ThrowsAsync<PortalException>(() =>
            LoadAsync(board, Categories, DashboardState.Empty with { CrossFilter = new CrossFilter("not-on-this-board", "region", "North") }));
        var hidden = await Assert.ThrowsAsync<PortalException>(() =>
            LoadAsync(board, Categories, DashboardState.Empty with { CrossFilter = new CrossFilter(Regions.Id, "phone", "13812345678") }));
        var underlying = await Assert.ThrowsAsync<PortalException>(() => f.With<TileDataService, UnderlyingRows>(s =>
            s.UnderlyingAsync(board, Categories, DashboardState.Empty with { CrossFilter = new CrossFilter(Regions.Id, "region", "South") }, ["Toys"], Ct)));

        Assert.All([south, elsewhere, hidden, underlying], e => Assert.Equal(TileDataService.NotOfferedMessage, e.Message));
    }

    [Fact]
    public async Task A_drill_step_the_viewer_was_never_offered_is_refused()
    {
        var tile = Chart("regions", TileType.Bar, f.Customers.Id, [], new TileMeasure(TileMeasureKind.Customers)) with
        {
            Dimensions = [new TileDimension("region", Hierarchy: ["city"])],
        };
        var board = Board(null, tile);
        f.AsNorthViewer();

        var error = await Assert.ThrowsAsync<PortalException>(() => LoadAsync(board, tile, DashboardState.Empty.DrillDown(tile.Id, new DrillStep("region", "South"))));
        var north = await LoadAsync(board, tile, DashboardState.Empty.DrillDown(tile.Id, new DrillStep("region", "North")));

        Assert.Equal(TileDataService.NotOfferedMessage, error.Message);
        Assert.Equal(2, north.Rows.Count);
    }
}
