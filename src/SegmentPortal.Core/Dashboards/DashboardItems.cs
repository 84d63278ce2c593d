using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// Dashboards and folders as shareable items (<see cref="ISharedItemSource"/>): their name and owner; a dashboard's
/// folder and whether its Viewers may export.
/// </summary>
internal sealed class DashboardItems : ISharedItemSource
{
    public bool Holds(SharedItem item) => item is SharedItem.Dashboard or SharedItem.Folder;

    public async Task<SharedItemFacts?> FindAsync(IPortalDb db, SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return item == SharedItem.Dashboard
            ? await db.Dashboards.AsNoTracking().Where(d => d.Id == itemId)
                .Select(d => new SharedItemFacts(d.Name, d.OwnerId, d.FolderId, d.ViewersMayExport)).SingleOrDefaultAsync(cancellationToken)
            : await db.Folders.AsNoTracking().Where(f => f.Id == itemId)
                .Select(f => new SharedItemFacts(f.Name, f.OwnerId, null, false)).SingleOrDefaultAsync(cancellationToken);
    }
}
