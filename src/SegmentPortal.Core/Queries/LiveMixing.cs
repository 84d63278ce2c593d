using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// One question runs on one engine: the warehouse, or the database of one connection. A live dataset may be read with
/// other live datasets of the same connection (joined in the source); mixing it with imported datasets, or with live
/// datasets of another connection, is refused with a message saying which.
/// </summary>
internal static class LiveMixing
{
    /// <summary>Whether two datasets' rows are in the same database (the warehouse, or one connection).</summary>
    public static bool SameStore(LiveSource? a, LiveSource? b) => a?.ConnectionId == b?.ConnectionId;

    /// <summary>The SQL dialect a query over <paramref name="live"/> (null: the warehouse) is compiled to.</summary>
    public static ISqlDialect DialectFor(LiveSource? live) => live is null ? DuckDbDialect.Instance : SqlDialects.For(live.Engine);

    public static void Check(QueryDataset dataset, FactSource? facts, IEnumerable<SegmentReference> segments)
    {
        if (facts is not null && !SameStore(dataset.Live, facts.Orders.Live))
        {
            throw new PortalException(Mixed(dataset, facts.Orders, "its customer facts come from"));
        }
        foreach (var segment in segments)
        {
            if (!SameStore(dataset.Live, segment.Dataset.Live))
            {
                throw new PortalException(
                    $"The segment {segment.Name} is over {segment.Dataset.Name}, {Where(segment.Dataset)}, and {dataset.Name} is {Where(dataset)}: " +
                    "one question reads one database, so a segment can only be used on datasets stored in the same place.");
            }
            if (segment.Facts is not null && !SameStore(dataset.Live, segment.Facts.Orders.Live))
            {
                throw new PortalException(Mixed(dataset, segment.Facts.Orders, $"the segment {segment.Name} reads facts from"));
            }
        }
    }

    private static string Mixed(QueryDataset dataset, QueryDataset other, string relation) =>
        $"{dataset.Name} is {Where(dataset)} but {relation} {other.Name}, {Where(other)}: one question reads one database, " +
        "so live and imported datasets (or live datasets of different connections) cannot be combined. Import both, or make both live on the same connection.";

    private static string Where(QueryDataset dataset) => dataset.Live is { } live
        ? $"live on connection #{live.ConnectionId}"
        : "imported into the portal";
}
