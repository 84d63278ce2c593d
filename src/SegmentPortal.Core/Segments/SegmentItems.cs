using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Segments;

/// <summary>Segments as shareable items (<see cref="ISharedItemSource"/>): their name and owner.</summary>
internal sealed class SegmentItems : ISharedItemSource
{
    public bool Holds(SharedItem item) => item == SharedItem.Segment;

    public async Task<SharedItemFacts?> FindAsync(IPortalDb db, SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.Segments.AsNoTracking().Where(s => s.Id == itemId).Select(s => new SharedItemFacts(s.Name, s.OwnerId, null, false))
            .SingleOrDefaultAsync(cancellationToken);
    }
}
