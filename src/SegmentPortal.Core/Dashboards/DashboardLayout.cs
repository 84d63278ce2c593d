namespace SegmentPortal.Core.Dashboards;

/// <summary>The 12-column grid: where tiles may sit, where a new one goes, and keeping a layout in step with the tiles.</summary>
public static class DashboardLayout
{
    public const int Columns = 12;
    public const int MaxHeight = 12;

    /// <summary>Rows below which nothing is placed; far more than any screen, small enough to keep the grid checks cheap.</summary>
    public const int MaxRows = 1000;

    /// <summary>
    /// Refuses a layout with a tile off the grid, too small or too large, two places for one tile, a place for a tile
    /// that is not on the dashboard, a tile without a place, or two tiles overlapping.
    /// </summary>
    public static void Validate(IReadOnlyList<TileLayout> layout, IReadOnlyList<TileDefinition> tiles)
    {
        string Name(string id) => tiles.FirstOrDefault(t => t.Id == id) is { Title.Length: > 0 } tile ? $"“{tile.Title}”" : $"tile {id}";
        var ids = tiles.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var place in layout)
        {
            if (!ids.Contains(place.TileId))
            {
                throw new PortalException($"The layout places tile {place.TileId}, which is not on this dashboard.");
            }
            if (!placed.Add(place.TileId))
            {
                throw new PortalException($"The layout places {Name(place.TileId)} twice.");
            }
            if (place.X is < 0 or >= Columns || place.W is < 1 or > Columns || place.X + place.W > Columns)
            {
                throw new PortalException($"{Name(place.TileId)} does not fit the {Columns}-column grid (column {place.X + 1}, {place.W} wide).");
            }
            if (place.H is < 1 or > MaxHeight)
            {
                throw new PortalException($"{Name(place.TileId)} must be 1 to {MaxHeight} rows high.");
            }
            if (place.Y is < 0 || place.Y + place.H > MaxRows)
            {
                throw new PortalException($"{Name(place.TileId)} is placed outside the grid.");
            }
        }
        if (tiles.FirstOrDefault(t => !placed.Contains(t.Id)) is { } missing)
        {
            throw new PortalException($"The layout has no place for {Name(missing.Id)}.");
        }
        for (var i = 0; i < layout.Count; i++)
        {
            for (var j = i + 1; j < layout.Count; j++)
            {
                if (Overlap(layout[i], layout[j]))
                {
                    throw new PortalException($"{Name(layout[i].TileId)} and {Name(layout[j].TileId)} overlap. Move one of them.");
                }
            }
        }
    }

    public static bool Overlap(TileLayout a, TileLayout b) =>
        a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;

    /// <summary>The first free place (top to bottom, left to right) for a tile of this size.</summary>
    public static TileLayout Place(string tileId, int w, int h, IReadOnlyList<TileLayout> layout)
    {
        w = Math.Clamp(w, 1, Columns);
        h = Math.Clamp(h, 1, MaxHeight);
        for (var y = 0; y + h <= MaxRows; y++)
        {
            for (var x = 0; x + w <= Columns; x++)
            {
                var candidate = new TileLayout(tileId, x, y, w, h);
                if (!layout.Any(other => Overlap(candidate, other)))
                {
                    return candidate;
                }
            }
        }
        throw new PortalException("This dashboard has no room for another tile.");
    }

    /// <summary>
    /// A layout fitted to the tiles there are now: places of removed tiles dropped, tiles without a place put in the
    /// first free spot (a restored older layout may predate tiles added since).
    /// </summary>
    public static IReadOnlyList<TileLayout> Reconcile(IReadOnlyList<TileLayout> layout, IReadOnlyList<TileDefinition> tiles)
    {
        var ids = tiles.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var result = layout.Where(l => ids.Contains(l.TileId)).DistinctBy(l => l.TileId).ToList();
        foreach (var tile in tiles.Where(t => result.All(l => l.TileId != t.Id)))
        {
            var kind = TileKinds.Of(tile.Type);
            result.Add(Place(tile.Id, kind.Width, kind.Height, result));
        }
        return result;
    }

    /// <summary>
    /// The board after moving a tile: it takes the place asked for (clamped to the grid); tiles it would overlap are
    /// pushed down below it, and those they then overlap in turn; then tiles lift up into gaps. No overlaps remain.
    /// </summary>
    public static IReadOnlyList<TileLayout> Move(IReadOnlyList<TileLayout> layout, string tileId, int x, int y)
    {
        var tile = Find(layout, tileId);
        return Settle(layout, tile with { X = Math.Clamp(x, 0, Columns - tile.W), Y = Math.Max(0, y) });
    }

    /// <summary>The board after resizing a tile (clamped to the grid), other tiles pushed down as for <see cref="Move"/>.</summary>
    public static IReadOnlyList<TileLayout> Resize(IReadOnlyList<TileLayout> layout, string tileId, int w, int h)
    {
        var tile = Find(layout, tileId);
        return Settle(layout, tile with { W = Math.Clamp(w, 1, Columns - tile.X), H = Math.Clamp(h, 1, MaxHeight) });
    }

    private static TileLayout Find(IReadOnlyList<TileLayout> layout, string tileId) =>
        layout.FirstOrDefault(l => l.TileId == tileId) ?? throw new PortalException("That tile is no longer on this dashboard.");

    private static IReadOnlyList<TileLayout> Settle(IReadOnlyList<TileLayout> layout, TileLayout changed)
    {
        // The changed tile is fixed; the others keep their order (top to bottom) and are pushed down past overlaps.
        var placed = new List<TileLayout> { changed };
        foreach (var other in layout.Where(l => l.TileId != changed.TileId).OrderBy(l => l.Y).ThenBy(l => l.X))
        {
            var current = other;
            while (placed.FirstOrDefault(p => Overlap(p, current)) is { } blocker)
            {
                current = current with { Y = blocker.Y + blocker.H };
            }
            placed.Add(current);
        }
        // Then every other tile lifts as far up as it goes without overlapping.
        var settled = new List<TileLayout> { changed };
        foreach (var tile in placed.Skip(1).OrderBy(l => l.Y).ThenBy(l => l.X))
        {
            var current = tile;
            while (current.Y > 0 && !settled.Any(r => Overlap(r, current with { Y = current.Y - 1 })))
            {
                current = current with { Y = current.Y - 1 };
            }
            settled.Add(current);
        }
        // In the caller's order, so a saved layout's diff stays readable.
        return layout.Select(l => settled.First(r => r.TileId == l.TileId)).ToList();
    }
}
