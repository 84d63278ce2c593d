using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Web.Components.Dashboards;

/// <summary>Which customers to list: those behind a tile's mark (its values in dimension order), or the whole tile.</summary>
public sealed record UnderlyingRequest(TileDefinition Tile, IReadOnlyList<object?> Values, string Label);
