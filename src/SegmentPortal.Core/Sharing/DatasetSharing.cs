using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Sharing;

public sealed record SharedUser(string Id, string Email);

public sealed record DatasetShares(IReadOnlyList<string> Roles, IReadOnlyList<SharedUser> Users, bool CanChange);

/// <summary>
/// Who besides the owner and Admins may use a dataset: roles and individual users (the dataset grants
/// <see cref="Authorizer"/> reads). Only they may change it.
/// </summary>
public sealed class DatasetSharing(ICurrentUser currentUser, Authorizer access, IPortalDbFactory dbFactory)
{
    public async Task<DatasetShares> GetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var grants = await db.DatasetGrants.AsNoTracking().Where(g => g.DatasetId == datasetId).ToListAsync(cancellationToken);
        var userIds = grants.Where(g => g.UserId is not null).Select(g => g.UserId!).ToList();
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .Select(u => new SharedUser(u.Id, u.Email ?? u.UserName ?? u.Id)).ToListAsync(cancellationToken);
        return new DatasetShares(grants.Where(g => g.Role is not null).Select(g => g.Role!).Order().ToList(),
            users.OrderBy(u => u.Email).ToList(), Authorizer.CanShare(user, dataset));
    }

    /// <summary>Active users the dataset can be shared with (not its owner); only for those who may change sharing.</summary>
    public async Task<IReadOnlyList<SharedUser>> CandidatesAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        if (!Authorizer.CanShare(await currentUser.GetPrincipalAsync(), dataset))
        {
            return [];
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Users.AsNoTracking().People().Where(u => u.Id != dataset.OwnerId)
            .OrderBy(u => u.Email).Select(u => new SharedUser(u.Id, u.Email ?? u.UserName ?? u.Id)).ToListAsync(cancellationToken);
    }

    /// <summary>Replaces who the dataset is shared with.</summary>
    public async Task SetAsync(int datasetId, IReadOnlyCollection<string> roles, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireWriterAsync();
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        if (!Authorizer.CanShare(await currentUser.GetPrincipalAsync(), dataset))
        {
            throw new PermissionDeniedException("Only the dataset's owner or an Admin can change who may use it.");
        }
        var unknown = roles.Where(r => !Roles.IsKnown(r)).ToList();
        if (unknown.Count > 0)
        {
            throw new PortalException($"Unknown role: {string.Join(", ", unknown)}.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var known = await db.Users.Where(u => userIds.Contains(u.Id)).Select(u => u.Id).ToListAsync(cancellationToken);
        if (known.Count != userIds.Distinct().Count())
        {
            throw new PortalException("One of those users no longer exists.");
        }
        await db.DatasetGrants.Where(g => g.DatasetId == datasetId).ExecuteDeleteAsync(cancellationToken);
        db.DatasetGrants.AddRange(roles.Distinct().Select(r => new DatasetGrant { DatasetId = datasetId, Role = r }));
        db.DatasetGrants.AddRange(known.Select(id => new DatasetGrant { DatasetId = datasetId, UserId = id }));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>For data the portal itself provides (demo data): share with roles without an owner's say.</summary>
    internal static async Task GrantRolesAsync(IPortalDbFactory dbFactory, int datasetId, IReadOnlyCollection<string> roles, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var existing = await db.DatasetGrants.Where(g => g.DatasetId == datasetId && g.Role != null).Select(g => g.Role!).ToListAsync(cancellationToken);
        db.DatasetGrants.AddRange(roles.Except(existing).Select(r => new DatasetGrant { DatasetId = datasetId, Role = r }));
        await db.SaveChangesAsync(cancellationToken);
    }
}
