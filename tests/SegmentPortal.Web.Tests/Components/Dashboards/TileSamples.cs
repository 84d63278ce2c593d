using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

/// <summary>Hand-built tiles and their data, as the dashboard services would hand them over.</summary>
internal static class TileSamples
{
    public static TileDefinition Tile(TileType type, string id = "t1", string title = "Revenue by country") =>
        new() { Id = id, Type = type, Title = title };

    public static TileData DataOf(TileType type, string[] dimensions, string[] measures, params object?[][] rows) =>
        new(type, dimensions, measures, rows);

    /// <summary>Revenue by country: four countries, one measure.</summary>
    public static TileData ByCountry(TileType type) => DataOf(type, ["Country"], ["Revenue"],
        ["France", 1200.5],
        ["Germany", 3400.0],
        ["Spain", 800.25],
        ["Italy", 2100.0]);

    /// <summary>Revenue by quarter and channel: a second dimension makes series.</summary>
    public static TileData ByQuarterAndChannel(TileType type) => DataOf(type, ["Quarter", "Channel"], ["Revenue"],
        [new DateTime(2025, 1, 1), "Web", 100.0],
        [new DateTime(2025, 1, 1), "Store", 50.0],
        [new DateTime(2025, 4, 1), "Web", 120.0],
        [new DateTime(2025, 4, 1), "Store", 70.0],
        [new DateTime(2025, 7, 1), "Web", 90.0]);

    public static TileDefinition Quarterly(TileType type) => Tile(type) with
    {
        Title = "Revenue by quarter",
        Dimensions = [new TileDimension("order_date", DateBucket.Quarter), new TileDimension("channel")],
    };
}
