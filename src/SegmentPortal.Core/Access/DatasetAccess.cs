using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>
/// Who may use which dataset: Admins all, owners their own, everyone else what is granted to them or to one of their
/// roles. Every read of a dataset's rows passes through here; callers reach it through <see cref="Authorizer"/>.
/// </summary>
internal sealed class DatasetAccess(ICurrentUser currentUser, IPortalDbFactory dbFactory)
{
    public async Task<Dataset> RequireReadableAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        return await LoadAsync(datasetId, user, requireReady: true, cancellationToken);
    }

    public async Task<Dataset> RequireWritableAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var dataset = await LoadAsync(datasetId, user, requireReady: true, cancellationToken);
        // A grant lets people use a dataset, not change its schema, roles, recipes or relationships.
        return CanChange(user, dataset) ? dataset : throw new PortalException($"Only the owner of {dataset.Name} or an Admin can change it.");
    }

    /// <summary>The dataset if the user may read it (any status), else null; for optional reads such as related orders.</summary>
    public async Task<Dataset?> FindReadableAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        if (!Permissions.IsGranted(user, Permissions.ViewData) || !PublicBoardScope.MayReadDatasets(user))
        {
            return null;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking().Include(d => d.Columns.OrderBy(c => c.Ordinal))
            .SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken);
        return dataset is not null && dataset.Status == DatasetStatus.Ready
            && CanRead(user, dataset, await GrantsAsync(db, [datasetId], cancellationToken)) ? dataset : null;
    }

    /// <summary>The ids among <paramref name="datasetIds"/> the current user may read.</summary>
    public async Task<IReadOnlySet<int>> ReadableAsync(IReadOnlyCollection<int> datasetIds, IReadOnlyDictionary<int, string?> owners, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var grants = await GrantsAsync(db, datasetIds, cancellationToken);
        if (!PublicBoardScope.MayReadDatasets(user))
        {
            return new HashSet<int>();
        }
        return datasetIds.Where(id => IsAdmin(user) || owners.GetValueOrDefault(id) == user.UserId() || Granted(user, grants, id)).ToHashSet();
    }

    public static bool CanRead(ClaimsPrincipal user, Dataset dataset, IReadOnlyList<DatasetGrant> grants) =>
        IsAdmin(user) || (dataset.OwnerId is not null && dataset.OwnerId == user.UserId()) || Granted(user, grants, dataset.Id);

    /// <summary>Owners (who may manage data) and Admins change a dataset's columns, roles, cleaning and relationships.</summary>
    public static bool CanChange(ClaimsPrincipal user, Dataset dataset) => CanShare(user, dataset);

    /// <summary>Owners and Admins decide who else may use a dataset (not while an Admin views as someone).</summary>
    public static bool CanShare(ClaimsPrincipal user, Dataset dataset) => !ViewAsState.IsViewAs(user)
        && (IsAdmin(user) || (dataset.OwnerId is not null && dataset.OwnerId == user.UserId() && Permissions.IsGranted(user, Permissions.ManageData)));

    private async Task<Dataset> LoadAsync(int datasetId, ClaimsPrincipal user, bool requireReady, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking()
            .Include(d => d.Columns.OrderBy(c => c.Ordinal))
            .SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken);
        // Missing and forbidden look the same, so ids cannot be probed. A public visitor reads only through its board.
        if (dataset is null || !PublicBoardScope.MayReadDatasets(user) || !CanRead(user, dataset, await GrantsAsync(db, [datasetId], cancellationToken)))
        {
            throw new PortalException("That dataset does not exist or you do not have access to it.");
        }
        if (requireReady && dataset.Status != DatasetStatus.Ready)
        {
            throw new PortalException($"{dataset.Name} is still being imported.");
        }
        return dataset;
    }

    private static bool IsAdmin(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true && user.IsInRole(Roles.Admin);

    private static bool Granted(ClaimsPrincipal user, IEnumerable<DatasetGrant> grants, int datasetId) =>
        user.Identity?.IsAuthenticated == true && grants.Any(g => g.DatasetId == datasetId
            && ((g.UserId is not null && g.UserId == user.UserId()) || (g.Role is not null && user.IsInRole(g.Role))));

    private static async Task<List<DatasetGrant>> GrantsAsync(IPortalDb db, IReadOnlyCollection<int> datasetIds, CancellationToken cancellationToken) =>
        await db.DatasetGrants.AsNoTracking().Where(g => datasetIds.Contains(g.DatasetId)).ToListAsync(cancellationToken);
}
