namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>
/// What a click on a tile stands for: the tile, and the value of each dimension the clicked bar, slice, point,
/// cell or row has, keyed by the names in <see cref="SegmentPortal.Core.Dashboards.TileData.Dimensions"/>. The
/// values are the raw ones from the tile's rows (a bucket's start date, a bin's start, a category), not their labels.
/// No values means the whole tile (e.g. "view customers" from the tile's menu).
/// </summary>
public sealed record TileMark(string TileId, IReadOnlyDictionary<string, object?> Values)
{
    /// <summary>The whole tile, no particular mark.</summary>
    public static TileMark All(string tileId) => new(tileId, new Dictionary<string, object?>());

    public bool IsAll => Values.Count == 0;
}
