using DuckDB.NET.Data;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Activation;

/// <summary>What one run hands its destination: the change (who entered, who left) and how to read it.</summary>
internal sealed class SyncDeliveryWork
{
    public required SegmentSync Sync { get; init; }

    public required Segment Segment { get; init; }

    public required long RunId { get; init; }

    /// <summary>The delivered version this change is computed against (0 for the first, full sync).</summary>
    public required long BaseVersion { get; init; }

    public required bool Full { get; init; }

    public required SyncChange Change { get; init; }

    public required IReadOnlyList<SyncColumn> Columns { get; init; }

    public required DuckDBConnection Warehouse { get; init; }

    public required DateTimeOffset Now { get; init; }

    /// <summary>Every member who entered (every member, for a full sync); by key when <paramref name="ordered"/>.</summary>
    public IEnumerable<SyncMember> Entered(bool ordered = true) => SyncWarehouse.Entered(Warehouse, Sync.Id, Full, Columns.Count, ordered);

    /// <summary>Every key that left; in order when <paramref name="ordered"/>.</summary>
    public IEnumerable<string> Left(bool ordered = true) => SyncWarehouse.Left(Warehouse, Sync.Id, ordered);
}

/// <summary>What a destination did: rows written, members added (or updated), members removed.</summary>
internal sealed record SyncOutcome(long Sent, long Added, long Removed);

/// <summary>A kind of destination. It either takes the whole change or throws; the delivered set moves only on success.</summary>
internal interface ISyncDestination
{
    SyncDestinationKind Kind { get; }

    Task<SyncOutcome> DeliverAsync(SyncDeliveryWork work, IServiceProvider services, CancellationToken cancellationToken);
}

/// <summary>A destination refused or failed the delivery with a message for people.</summary>
internal sealed class SyncFailedException(string message, Exception? inner = null) : PortalException(message, inner);
