using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Dashboards;

/// <summary>A folder the user may see, with what they may do with it.</summary>
public sealed record FolderRow(int Id, string Name, string? OwnerId, ItemAccess Access);

/// <summary>
/// Folders of dashboards: listing, making, renaming and deleting them, and filing dashboards in them. A folder's shares
/// carry to the dashboards in it (<see cref="Authorizer"/> decides); every change is audited.
/// </summary>
public sealed class DashboardFolders(ICurrentUser currentUser, IPortalDbFactory dbFactory, Authorizer authorizer, AuditLog audit, TimeProvider clock)
{
    /// <summary>Folders the user may see: their own, shared with them, or (for Admins) all.</summary>
    public async Task<IReadOnlyList<FolderRow>> FoldersAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var map = await authorizer.MapAsync(cancellationToken);
        var folders = await db.Folders.AsNoTracking().ToListAsync(cancellationToken);
        return folders.Select(f => new FolderRow(f.Id, f.Name, f.OwnerId, map.Of(SharedItem.Folder, f.Id, f.OwnerId)))
            .Where(f => f.Access.CanView)
            .OrderBy(f => f.Name, StringComparer.CurrentCultureIgnoreCase).ToList();
    }

    public async Task<int> CreateFolderAsync(string name, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var folder = new Folder { Name = await CheckFolderNameAsync(db, user, name, null, cancellationToken), OwnerId = user.UserId(), CreatedAt = clock.GetUtcNow() };
        db.Folders.Add(folder);
        await db.SaveChangesAsync(cancellationToken);
        return folder.Id;
    }

    public async Task RenameFolderAsync(int folderId, string name, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var access = await authorizer.RequireViewAsync(SharedItem.Folder, folderId, cancellationToken);
        if (!access.CanEdit)
        {
            throw new PermissionDeniedException("Only the folder's owner, its Editors or an Admin can rename it.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var folder = await db.Folders.SingleAsync(f => f.Id == folderId, cancellationToken);
        folder.Name = await CheckFolderNameAsync(db, user, name, folderId, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Deletes a folder and its shares; its dashboards stay, in no folder (and lose what the folder shared).</summary>
    public async Task DeleteFolderAsync(int folderId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await currentUser.RequireWriterAsync();
        if (!(await authorizer.RequireViewAsync(SharedItem.Folder, folderId, cancellationToken)).CanShare)
        {
            throw new PermissionDeniedException("Only the folder's owner or an Admin can change who has access to it.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var folder = await db.Folders.SingleAsync(f => f.Id == folderId, cancellationToken);
        await db.Dashboards.Where(d => d.FolderId == folderId).ExecuteUpdateAsync(u => u.SetProperty(d => d.FolderId, (int?)null), cancellationToken);
        await db.Shares.Where(s => s.Item == SharedItem.Folder && s.ItemId == folderId).ExecuteDeleteAsync(cancellationToken);
        db.Folders.Remove(folder);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, Subject(SharedItem.Folder, folderId, folder.Name), "Folder deleted; its dashboards are in no folder", cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Files a dashboard in a folder (null: no folder). A folder's shares carry to its dashboards, so filing decides who
    /// sees the board: it needs the owner's rights on the dashboard (owner or Admin), and Edit on the folder.
    /// </summary>
    public async Task MoveAsync(int dashboardId, int? folderId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var access = await authorizer.RequireViewAsync(SharedItem.Dashboard, dashboardId, cancellationToken);
        if (!access.CanShare)
        {
            throw new PermissionDeniedException("Only the dashboard's owner or an Admin can move it: a folder's shares carry to the dashboards in it.");
        }
        string? folderName = null;
        if (folderId is { } target)
        {
            if (!(await authorizer.RequireViewAsync(SharedItem.Folder, target, cancellationToken)).CanEdit)
            {
                throw new PermissionDeniedException("You can only file dashboards in folders you own or edit.");
            }
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        if (folderId is { } id)
        {
            folderName = await db.Folders.AsNoTracking().Where(f => f.Id == id).Select(f => f.Name).SingleAsync(cancellationToken);
        }
        var dashboard = await db.Dashboards.SingleAsync(d => d.Id == dashboardId, cancellationToken);
        if (dashboard.FolderId == folderId)
        {
            return;
        }
        dashboard.FolderId = folderId;
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, Subject(SharedItem.Dashboard, dashboardId, dashboard.Name),
            folderName is null ? "Moved out of its folder" : $"Moved to folder “{folderName}”", cancellationToken: cancellationToken);
    }

    private static async Task<string> CheckFolderNameAsync(IPortalDb db, ClaimsPrincipal user, string name, int? except, CancellationToken cancellationToken)
    {
        var clean = (name ?? "").Trim();
        if (clean.Length == 0)
        {
            throw new PortalException("Give the folder a name.");
        }
        if (clean.Length > 200)
        {
            throw new PortalException("A folder name has at most 200 characters.");
        }
        var owner = user.UserId();
        var taken = await db.Folders.Where(f => f.OwnerId == owner && f.Id != except).Select(f => f.Name).ToListAsync(cancellationToken);
        UniqueNames.Require(clean, taken, "folder");
        return clean;
    }

    private static string Subject(SharedItem item, int id, string name) => $"{item} {id} “{name}”";
}
