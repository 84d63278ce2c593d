using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Tests.Dashboards;

public sealed class DashboardLayoutTests
{
    private static readonly TileDefinition[] Tiles =
    [
        new() { Id = "a", Type = TileType.Kpi, Title = "Revenue" },
        new() { Id = "b", Type = TileType.Bar, Title = "By region" },
    ];

    [Fact]
    public void Tiles_side_by_side_fit()
    {
        DashboardLayout.Validate([new TileLayout("a", 0, 0, 6, 4), new TileLayout("b", 6, 0, 6, 4)], Tiles);
    }

    [Fact]
    public void Overlapping_tiles_are_refused_by_name()
    {
        var error = Assert.Throws<PortalException>(() => DashboardLayout.Validate([new TileLayout("a", 0, 0, 6, 4), new TileLayout("b", 5, 3, 6, 4)], Tiles));

        Assert.Equal("“Revenue” and “By region” overlap. Move one of them.", error.Message);
    }

    [Theory]
    [InlineData(-1, 0, 4, 2)]
    [InlineData(12, 0, 1, 2)]
    [InlineData(11, 0, 2, 2)]
    [InlineData(0, 0, 0, 2)]
    [InlineData(0, 0, 13, 2)]
    [InlineData(0, 0, 4, 0)]
    [InlineData(0, 0, 4, 13)]
    [InlineData(0, -1, 4, 2)]
    public void Places_outside_the_grid_are_refused(int x, int y, int w, int h)
    {
        Assert.Throws<PortalException>(() => DashboardLayout.Validate([new TileLayout("a", x, y, w, h), new TileLayout("b", 0, 20, 12, 4)], Tiles));
    }

    [Fact]
    public void Every_tile_has_exactly_one_place_and_only_tiles_of_the_dashboard_have_one()
    {
        Assert.Contains("no place", Assert.Throws<PortalException>(() => DashboardLayout.Validate([new TileLayout("a", 0, 0, 6, 4)], Tiles)).Message);
        Assert.Contains("twice", Assert.Throws<PortalException>(() => DashboardLayout.Validate(
            [new TileLayout("a", 0, 0, 6, 4), new TileLayout("a", 0, 4, 6, 4), new TileLayout("b", 6, 0, 6, 4)], Tiles)).Message);
        Assert.Contains("not on this dashboard", Assert.Throws<PortalException>(() => DashboardLayout.Validate(
            [new TileLayout("a", 0, 0, 6, 4), new TileLayout("b", 6, 0, 6, 4), new TileLayout("x", 0, 4, 6, 4)], Tiles)).Message);
    }

    [Fact]
    public void A_new_tile_goes_to_the_first_free_place()
    {
        var layout = new[] { new TileLayout("a", 0, 0, 6, 4), new TileLayout("b", 9, 0, 3, 2) };

        Assert.Equal(new TileLayout("c", 6, 0, 3, 2), DashboardLayout.Place("c", 3, 2, layout));
        Assert.Equal(new TileLayout("d", 0, 4, 12, 4), DashboardLayout.Place("d", 12, 4, layout));
    }

    [Fact]
    public void An_older_layout_is_fitted_to_the_tiles_there_are_now()
    {
        TileDefinition[] tiles = [Tiles[1], new() { Id = "c", Type = TileType.Text }];

        var fitted = DashboardLayout.Reconcile([new TileLayout("a", 0, 0, 12, 2), new TileLayout("b", 0, 2, 6, 4)], tiles);

        Assert.Equal([new TileLayout("b", 0, 2, 6, 4), new TileLayout("c", 0, 0, 4, 2)], fitted);
        DashboardLayout.Validate(fitted, tiles);
    }
}
