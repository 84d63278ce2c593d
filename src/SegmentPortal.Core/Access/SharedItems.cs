using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>
/// What access and sharing need to know of a dashboard, segment or folder: its name and owner; for a dashboard also its
/// folder and whether its Viewers may export.
/// </summary>
public sealed record SharedItemFacts(string Name, string? OwnerId, int? FolderId = null, bool ViewersMayExport = false);

/// <summary>
/// The shareable items of one module (dashboards and their folders; segments), supplied by the module that owns them,
/// so that access and sharing can decide and list who may do what without depending on it.
/// </summary>
public interface ISharedItemSource
{
    /// <summary>Whether this source holds the items of kind <paramref name="item"/>.</summary>
    bool Holds(SharedItem item);

    /// <summary>The item's facts as read from <paramref name="db"/>; null when there is no such item.</summary>
    Task<SharedItemFacts?> FindAsync(IPortalDb db, SharedItem item, int itemId, CancellationToken cancellationToken);
}

/// <summary>The facts of any shareable item, read through the <see cref="ISharedItemSource"/> that holds its kind.</summary>
public sealed class SharedItems(IEnumerable<ISharedItemSource> sources)
{
    /// <summary>The item's facts; null when there is no such item. Refuses an item kind no registered source holds.</summary>
    public Task<SharedItemFacts?> FindAsync(IPortalDb db, SharedItem item, int itemId, CancellationToken cancellationToken) =>
        (sources.FirstOrDefault(s => s.Holds(item))
            ?? throw new InvalidOperationException($"No {nameof(ISharedItemSource)} for {item} items is registered."))
        .FindAsync(db, item, itemId, cancellationToken);
}
