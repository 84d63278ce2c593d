using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Dashboards;

namespace SegmentPortal.Web.Tests.Components.DashboardLayout;

public sealed class DashboardLayoutEngineTests
{
    private static readonly IReadOnlyList<TileLayout> Board =
    [
        new("a", 0, 0, 6, 2),
        new("b", 6, 0, 6, 2),
        new("c", 0, 2, 12, 3),
    ];

    private static void NoOverlaps(IReadOnlyList<TileLayout> layouts) =>
        Assert.DoesNotContain(layouts, a => layouts.Any(b => DashboardLayoutEngine.Overlaps(a, b)));

    [Fact]
    public void Moving_a_tile_onto_another_pushes_the_other_down()
    {
        var moved = DashboardLayoutEngine.Move(Board, "c", 0, 0);

        NoOverlaps(moved);
        Assert.Equal(new TileLayout("c", 0, 0, 12, 3), moved.Single(l => l.TileId == "c"));
        Assert.Equal(3, moved.Single(l => l.TileId == "a").Y);
        Assert.Equal(3, moved.Single(l => l.TileId == "b").Y);
    }

    [Fact]
    public void A_move_is_clamped_to_the_twelve_columns()
    {
        var moved = DashboardLayoutEngine.Move(Board, "a", 10, 0);

        NoOverlaps(moved);
        Assert.Equal(6, moved.Single(l => l.TileId == "a").X);
    }

    [Fact]
    public void Tiles_below_a_gap_move_up()
    {
        var shrunk = DashboardLayoutEngine.Resize(Board, "a", 6, 1);

        NoOverlaps(shrunk);
        // c still sits under b (height 2), so it stays at row 2.
        Assert.Equal(2, shrunk.Single(l => l.TileId == "c").Y);
        var both = DashboardLayoutEngine.Resize(shrunk, "b", 6, 1);
        Assert.Equal(1, both.Single(l => l.TileId == "c").Y);
    }

    [Fact]
    public void Resizing_wider_than_the_grid_is_clamped_and_pushes_neighbours()
    {
        var wide = DashboardLayoutEngine.Resize(Board, "a", 20, 2);

        NoOverlaps(wide);
        Assert.Equal(12, wide.Single(l => l.TileId == "a").W);
        Assert.Equal(2, wide.Single(l => l.TileId == "b").Y);
    }

    [Fact]
    public void A_new_tile_goes_to_the_first_free_place()
    {
        Assert.Equal(new TileLayout("d", 0, 5, 4, 2), DashboardLayoutEngine.Place(Board, "d", 4, 2));
        Assert.Equal(new TileLayout("e", 6, 0, 6, 2), DashboardLayoutEngine.Place([new("a", 0, 0, 6, 2)], "e", 6, 2));
    }
}
