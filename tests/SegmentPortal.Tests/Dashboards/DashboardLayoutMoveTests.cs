using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Tests.Dashboards;

public sealed class DashboardLayoutMoveTests
{
    private static readonly IReadOnlyList<TileLayout> Board =
    [
        new("a", 0, 0, 6, 2),
        new("b", 6, 0, 6, 2),
        new("c", 0, 2, 12, 3),
    ];

    private static void NoOverlaps(IReadOnlyList<TileLayout> layouts) =>
        Assert.DoesNotContain(layouts, a => layouts.Any(b => a.TileId != b.TileId && DashboardLayout.Overlap(a, b)));

    [Fact]
    public void Moving_a_tile_onto_another_pushes_the_other_down()
    {
        var moved = DashboardLayout.Move(Board, "c", 0, 0);

        NoOverlaps(moved);
        Assert.Equal(new TileLayout("c", 0, 0, 12, 3), moved.Single(l => l.TileId == "c"));
        Assert.Equal(3, moved.Single(l => l.TileId == "a").Y);
        Assert.Equal(3, moved.Single(l => l.TileId == "b").Y);
    }

    [Fact]
    public void A_move_is_clamped_to_the_twelve_columns()
    {
        var moved = DashboardLayout.Move(Board, "a", 10, 0);

        NoOverlaps(moved);
        Assert.Equal(6, moved.Single(l => l.TileId == "a").X);
    }

    [Fact]
    public void Tiles_below_a_gap_move_up()
    {
        var shrunk = DashboardLayout.Resize(Board, "a", 6, 1);

        NoOverlaps(shrunk);
        // c still sits under b (height 2), so it stays at row 2.
        Assert.Equal(2, shrunk.Single(l => l.TileId == "c").Y);
        var both = DashboardLayout.Resize(shrunk, "b", 6, 1);
        Assert.Equal(1, both.Single(l => l.TileId == "c").Y);
    }

    [Fact]
    public void Resizing_wider_than_the_grid_is_clamped_and_pushes_neighbours()
    {
        var wide = DashboardLayout.Resize(Board, "a", 20, 2);

        NoOverlaps(wide);
        Assert.Equal(12, wide.Single(l => l.TileId == "a").W);
        Assert.Equal(2, wide.Single(l => l.TileId == "b").Y);
    }

}
