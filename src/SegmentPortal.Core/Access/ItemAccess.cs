using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>What a person may do with one dashboard, segment or folder.</summary>
public enum AccessLevel
{
    None = 0,
    View = 1,
    Edit = 2,
}

/// <summary>The current user's access to one item: the level, whether they may change who has access, and whether it is theirs.</summary>
public sealed record ItemAccess(AccessLevel Level, bool CanShare, bool IsOwner)
{
    public static readonly ItemAccess None = new(AccessLevel.None, false, false);

    public bool CanView => Level >= AccessLevel.View;

    public bool CanEdit => Level == AccessLevel.Edit;
}

/// <summary>The shares that concern one user (theirs and their roles'), ready to answer for many items.</summary>
public sealed class AccessMap
{
    private readonly ClaimsPrincipal _user;
    private readonly Dictionary<(SharedItem, int), AccessLevel> _levels;
    private readonly int? _publicDashboard;

    internal AccessMap(ClaimsPrincipal user, IEnumerable<Share> shares, int? publicDashboard = null)
    {
        _user = user;
        _publicDashboard = publicDashboard;
        _levels = shares.GroupBy(s => (s.Item, s.ItemId)).ToDictionary(g => g.Key, g => g.Max(s => LevelOf(user, s.Level)));
    }

    private bool Signed => Permissions.IsGranted(_user, Permissions.ViewData);

    private bool IsAdmin => Signed && _user.IsInRole(Roles.Admin) && !PublicBoardScope.IsPublicVisitor(_user);

    private bool Owns(string? ownerId) => Signed && ownerId is not null && ownerId == _user.UserId();

    /// <summary>Access to a segment or folder (owner, Admin, or shared).</summary>
    public ItemAccess Of(SharedItem item, int id, string? ownerId)
    {
        if (!Signed || PublicBoardScope.IsPublicVisitor(_user))
        {
            return ItemAccess.None;
        }
        if (IsAdmin || Owns(ownerId))
        {
            // Owners who lost the right to change data (now a Viewer) still see their items but change nothing.
            var level = Permissions.IsGranted(_user, Permissions.ManageData) && !ViewAsState.IsViewAs(_user) ? AccessLevel.Edit : AccessLevel.View;
            return new ItemAccess(level, level == AccessLevel.Edit, Owns(ownerId));
        }
        return new ItemAccess(ReadOnlyIfViewingAs(_levels.GetValueOrDefault((item, id))), false, false);
    }

    /// <summary>Access to a dashboard: its own shares and its folder's, the higher wins.</summary>
    public ItemAccess Dashboard(int id, string? ownerId, int? folderId)
    {
        if (PublicBoardScope.IsPublicVisitor(_user))
        {
            return _publicDashboard == id && Signed ? new ItemAccess(AccessLevel.View, false, false) : ItemAccess.None;
        }
        var own = Of(SharedItem.Dashboard, id, ownerId);
        if (own.CanShare || folderId is not { } folder)
        {
            return own;
        }
        var fromFolder = ReadOnlyIfViewingAs(_levels.GetValueOrDefault((SharedItem.Folder, folder)));
        return fromFolder > own.Level ? own with { Level = fromFolder } : own;
    }

    /// <summary>Shared with the user by someone else (not their own and not merely by being an Admin).</summary>
    public bool SharedWithMe(int dashboardId, int? folderId) =>
        _levels.ContainsKey((SharedItem.Dashboard, dashboardId)) || (folderId is { } f && _levels.ContainsKey((SharedItem.Folder, f)));

    /// <summary>An Admin viewing as someone sees what they may see, and changes nothing.</summary>
    private AccessLevel ReadOnlyIfViewingAs(AccessLevel level) => ViewAsState.IsViewAs(_user) ? (AccessLevel)Math.Min((int)level, (int)AccessLevel.View) : level;

    /// <summary>
    /// The level a share gives: people whose role cannot change data (Viewers) only ever view, even when shared as Editor.
    /// </summary>
    private static AccessLevel LevelOf(ClaimsPrincipal user, ShareLevel level) =>
        level == ShareLevel.Editor && Permissions.IsGranted(user, Permissions.ManageData) ? AccessLevel.Edit : AccessLevel.View;
}

/// <summary>
/// Who may do what to a dashboard, segment or folder: items are private to their owner (and Admins) until shared with
/// people or roles as Viewer or Editor; a folder's shares carry to every dashboard in it (the higher level wins); a
/// public-link visitor views the link's dashboard only while the link is valid. Callers reach it through
/// <see cref="Authorizer"/>.
/// </summary>
internal sealed class ItemPermissions(ICurrentUser currentUser, IPortalDbFactory dbFactory, SharedItems items, TimeProvider clock)
{
    public async Task<ItemAccess> AccessAsync(SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var map = await MapAsync(db, user, cancellationToken);
        return await items.FindAsync(db, item, itemId, cancellationToken) is not { } facts ? ItemAccess.None
            : item == SharedItem.Dashboard ? map.Dashboard(itemId, facts.OwnerId, facts.FolderId)
            : map.Of(item, itemId, facts.OwnerId);
    }

    public async Task<AccessMap> MapAsync(CancellationToken cancellationToken)
    {
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await MapAsync(db, user, cancellationToken);
    }

    public async Task<bool> CanExportAsync(int dashboardId, CancellationToken cancellationToken)
    {
        var user = await currentUser.GetPrincipalAsync();
        var access = await AccessAsync(SharedItem.Dashboard, dashboardId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var viewersMayExport = (await items.FindAsync(db, SharedItem.Dashboard, dashboardId, cancellationToken))?.ViewersMayExport ?? false;
        return MayExport(user, access, viewersMayExport);
    }

    /// <summary>The export rule: Editors, owners and Admins always; Viewers when the board allows it; public-link visitors never.</summary>
    public static bool MayExport(ClaimsPrincipal user, ItemAccess access, bool viewersMayExport) =>
        access.CanView && !PublicBoardScope.IsPublicVisitor(user) && (access.CanEdit || access.IsOwner || user.IsInRole(Roles.Admin) || viewersMayExport);

    private async Task<AccessMap> MapAsync(IPortalDb db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!Permissions.IsGranted(user, Permissions.ViewData))
        {
            return new AccessMap(user, []);
        }
        if (PublicBoardScope.IsPublicVisitor(user))
        {
            // A public visitor sees the link's dashboard while the link is valid: checked again on every call, so revoking,
            // expiry or turning public links off ends an open visit too.
            return new AccessMap(user, [], (await PublicLinkValidity.ValidLinkAsync(db, user, clock.GetUtcNow(), cancellationToken))?.DashboardId);
        }
        var userId = user.UserId();
        var roles = Roles.All.Where(user.IsInRole).ToList();
        var shares = await db.Shares.AsNoTracking().Where(s => (s.UserId != null && s.UserId == userId) || (s.Role != null && roles.Contains(s.Role)))
            .ToListAsync(cancellationToken);
        return new AccessMap(user, shares);
    }
}
