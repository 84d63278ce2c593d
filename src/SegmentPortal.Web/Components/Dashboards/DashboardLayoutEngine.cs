using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Web.Components.Dashboards;

/// <summary>
/// Moves and resizes tiles on the 12-column grid. The moved tile takes the place asked for (clamped to the grid);
/// tiles it would overlap are pushed down below it, and those they then overlap in turn, so a layout never has
/// overlaps. Finally the board is compacted upwards so no tile floats over an empty gap.
/// </summary>
public static class DashboardLayoutEngine
{
    public const int Columns = 12;
    public const int MaxHeight = 12;

    public static IReadOnlyList<TileLayout> Move(IReadOnlyList<TileLayout> layouts, string tileId, int x, int y)
    {
        var tile = Find(layouts, tileId);
        var moved = tile with { X = Math.Clamp(x, 0, Columns - tile.W), Y = Math.Max(0, y) };
        return Settle(layouts, moved);
    }

    public static IReadOnlyList<TileLayout> Resize(IReadOnlyList<TileLayout> layouts, string tileId, int w, int h)
    {
        var tile = Find(layouts, tileId);
        var resized = tile with { W = Math.Clamp(w, 1, Columns - tile.X), H = Math.Clamp(h, 1, MaxHeight) };
        return Settle(layouts, resized);
    }

    /// <summary>Where a new tile of this size goes: the first free place scanning rows top to bottom, left to right.</summary>
    public static TileLayout Place(IReadOnlyList<TileLayout> layouts, string tileId, int w, int h)
    {
        w = Math.Clamp(w, 1, Columns);
        for (var y = 0; ; y++)
        {
            for (var x = 0; x + w <= Columns; x++)
            {
                var candidate = new TileLayout(tileId, x, y, w, h);
                if (!layouts.Any(l => Overlaps(l, candidate)))
                {
                    return candidate;
                }
            }
        }
    }

    public static bool Overlaps(TileLayout a, TileLayout b) =>
        a.TileId != b.TileId && a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;

    private static TileLayout Find(IReadOnlyList<TileLayout> layouts, string tileId) =>
        layouts.FirstOrDefault(l => l.TileId == tileId) ?? throw new ArgumentException($"No tile {tileId} on the board.", nameof(tileId));

    private static IReadOnlyList<TileLayout> Settle(IReadOnlyList<TileLayout> layouts, TileLayout changed)
    {
        // The changed tile is fixed; everything else keeps its order (top to bottom) and is pushed down past overlaps.
        var placed = new List<TileLayout> { changed };
        foreach (var other in layouts.Where(l => l.TileId != changed.TileId).OrderBy(l => l.Y).ThenBy(l => l.X))
        {
            var current = other;
            while (placed.FirstOrDefault(p => Overlaps(p, current)) is { } blocker)
            {
                current = current with { Y = blocker.Y + blocker.H };
            }
            placed.Add(current);
        }
        return Compact(placed, changed.TileId);
    }

    /// <summary>Lifts every tile (except the one just placed) as far up as it goes without overlapping.</summary>
    private static IReadOnlyList<TileLayout> Compact(List<TileLayout> layouts, string keep)
    {
        var result = new List<TileLayout>();
        var fixedTile = layouts.First(l => l.TileId == keep);
        result.Add(fixedTile);
        foreach (var tile in layouts.Where(l => l.TileId != keep).OrderBy(l => l.Y).ThenBy(l => l.X))
        {
            var current = tile;
            while (current.Y > 0 && !result.Any(r => Overlaps(r, current with { Y = current.Y - 1 })))
            {
                current = current with { Y = current.Y - 1 };
            }
            result.Add(current);
        }
        // Keep the caller's order, so the list diff stays readable.
        return layouts.Select(l => result.First(r => r.TileId == l.TileId)).ToList();
    }
}
