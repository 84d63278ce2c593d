using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Datasets;

/// <summary>
/// The gate in front of every read of a dataset's rows: returns the dataset only when the current user may read it
/// (or change it, for <see cref="RequireWritableAsync"/>). Dataset grants, row rules and column masks plug in here.
/// </summary>
public sealed class DatasetAccess(ICurrentUser currentUser, IPortalDbFactory dbFactory)
{
    public async Task<Dataset> RequireReadableAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        return await LoadReadyAsync(datasetId, cancellationToken);
    }

    public async Task<Dataset> RequireWritableAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        return await LoadReadyAsync(datasetId, cancellationToken);
    }

    private async Task<Dataset> LoadReadyAsync(int datasetId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking()
            .Include(d => d.Columns.OrderBy(c => c.Ordinal))
            .SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken);
        // Missing and forbidden look the same, so ids cannot be probed.
        if (dataset is null)
        {
            throw new PortalException("That dataset does not exist or you do not have access to it.");
        }
        if (dataset.Status != DatasetStatus.Ready)
        {
            throw new PortalException($"{dataset.Name} is still being imported.");
        }
        return dataset;
    }
}
