using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Sharing;

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

/// <summary>One line of a share dialog: the owner, a person or a role, with its level; folder shares are marked with the folder's name.</summary>
public sealed record ShareEntry(int? ShareId, string? UserId, string? Role, string Name, ShareLevel Level, bool IsOwner, string? InheritedFrom = null);

/// <summary>People or roles who were given an item but cannot read one of the datasets it reads.</summary>
public sealed record DatasetGap(int DatasetId, string DatasetName, IReadOnlyList<string> Lacking);

/// <summary>Who has access to an item, as the share dialog lists it.</summary>
public sealed record ShareList(
    SharedItem Item, int ItemId, string ItemName, IReadOnlyList<ShareEntry> Entries, bool CanShare, IReadOnlyList<DatasetGap> Gaps);

public sealed record ShareCandidate(string Id, string Name);

public sealed record FolderRow(int Id, string Name, string? OwnerId, ItemAccess Access);

/// <summary>
/// Sharing of dashboards, segments and folders. Items are private to their owner (and Admins) until shared with people
/// or roles as Viewer or Editor; a folder's shares carry to every dashboard in it (the higher level wins). The owner
/// and Admins change sharing; every change is audited. Sharing never grants data: a Viewer of a dashboard still reads
/// only the datasets granted to them, so the share list reports who lacks which dataset.
/// </summary>
public sealed class SharingService(ICurrentUser currentUser, IPortalDbFactory dbFactory, AuditLog audit, TimeProvider clock)
{
    /// <summary>The claim the server puts on the principal of a public-link visitor (the link's id); such a visitor only views.</summary>
    public const string PublicLinkClaim = PublicBoardScope.LinkClaim;

    public static bool IsPublicVisitor(ClaimsPrincipal user) => PublicBoardScope.IsPublicVisitor(user);

    /// <summary>What the current user may do with an item. Missing items give <see cref="ItemAccess.None"/>.</summary>
    public async Task<ItemAccess> AccessAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var map = await MapAsync(db, user, cancellationToken);
        return item switch
        {
            SharedItem.Dashboard => await db.Dashboards.AsNoTracking().Where(d => d.Id == itemId).Select(d => new { d.OwnerId, d.FolderId })
                .SingleOrDefaultAsync(cancellationToken) is { } d ? map.Dashboard(itemId, d.OwnerId, d.FolderId) : ItemAccess.None,
            SharedItem.Segment => await db.Segments.AsNoTracking().Where(s => s.Id == itemId).Select(s => new { s.OwnerId })
                .SingleOrDefaultAsync(cancellationToken) is { } s ? map.Of(SharedItem.Segment, itemId, s.OwnerId) : ItemAccess.None,
            _ => await db.Folders.AsNoTracking().Where(f => f.Id == itemId).Select(f => new { f.OwnerId })
                .SingleOrDefaultAsync(cancellationToken) is { } f ? map.Of(SharedItem.Folder, itemId, f.OwnerId) : ItemAccess.None,
        };
    }

    /// <summary>The current user's access to many items at once (one read of the shares that concern them).</summary>
    public async Task<AccessMap> MapAsync(CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await MapAsync(db, user, cancellationToken);
    }

    /// <summary>Refuses (as "missing", so ids cannot be probed) when the user cannot see the item; otherwise returns their access.</summary>
    public async Task<ItemAccess> RequireViewAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default)
    {
        var access = await AccessAsync(item, itemId, cancellationToken);
        return access.CanView ? access : throw Missing(item);
    }

    /// <summary>
    /// Whether the current user may export a dashboard's tiles or the board: Editors, owners and Admins always; Viewers
    /// when the board allows it; public-link visitors never.
    /// </summary>
    public async Task<bool> CanExportAsync(int dashboardId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        var access = await AccessAsync(SharedItem.Dashboard, dashboardId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var viewersMayExport = await db.Dashboards.AsNoTracking().Where(d => d.Id == dashboardId).Select(d => d.ViewersMayExport).SingleOrDefaultAsync(cancellationToken);
        return MayExport(user, access, viewersMayExport);
    }

    /// <summary>The export rule: Editors, owners and Admins always; Viewers when the board allows it; public-link visitors never.</summary>
    public static bool MayExport(ClaimsPrincipal user, ItemAccess access, bool viewersMayExport) =>
        access.CanView && !IsPublicVisitor(user) && (access.CanEdit || access.IsOwner || user.IsInRole(Roles.Admin) || viewersMayExport);

    /// <summary>Refuses an export the user may not make; the server's check behind every export button.</summary>
    public async Task RequireExportAsync(int dashboardId, CancellationToken cancellationToken = default)
    {
        if (!await CanExportAsync(dashboardId, cancellationToken))
        {
            throw new PermissionDeniedException("Exports of this dashboard are turned off for viewers.");
        }
    }

    /// <summary>
    /// Checks that the current user may export from a dashboard and records the export in the audit log: a tile's data
    /// or image (<paramref name="tileTitle"/>) or the whole board. Every export button calls it before the file is made.
    /// </summary>
    public async Task RecordExportAsync(int dashboardId, string? tileTitle, string format, long? rows, CancellationToken cancellationToken = default)
    {
        await RequireExportAsync(dashboardId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var name = await db.Dashboards.AsNoTracking().Where(d => d.Id == dashboardId).Select(d => d.Name).SingleAsync(cancellationToken);
        var subject = tileTitle is null ? Subject(SharedItem.Dashboard, dashboardId, name) : $"Tile “{tileTitle}” of {Subject(SharedItem.Dashboard, dashboardId, name)}";
        await audit.RecordAsync(AuditActions.Export, subject, format, rows, cancellationToken);
    }

    /// <summary>Who has access to an item: its owner, each person and role with their level, and (for dashboards) the folder's shares.</summary>
    public async Task<ShareList> ListAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default)
    {
        var access = await RequireViewAsync(item, itemId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (name, ownerId, folderId) = await DescribeItemAsync(db, item, itemId, cancellationToken);
        var shares = await db.Shares.AsNoTracking().Where(s => s.Item == item && s.ItemId == itemId).ToListAsync(cancellationToken);
        var inherited = new List<Share>();
        string? folderName = null;
        if (folderId is { } folder)
        {
            inherited = await db.Shares.AsNoTracking().Where(s => s.Item == SharedItem.Folder && s.ItemId == folder).ToListAsync(cancellationToken);
            folderName = await db.Folders.AsNoTracking().Where(f => f.Id == folder).Select(f => f.Name).SingleOrDefaultAsync(cancellationToken);
        }
        var userIds = shares.Concat(inherited).Select(s => s.UserId).Append(ownerId).OfType<string>().Distinct().ToList();
        var names = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => u.Email ?? u.UserName ?? u.Id, cancellationToken);
        string NameOf(Share s) => s.Role is not null ? $"Everyone in {s.Role}" : names.GetValueOrDefault(s.UserId!, "(removed user)");

        var entries = new List<ShareEntry>();
        if (ownerId is not null)
        {
            entries.Add(new ShareEntry(null, ownerId, null, names.GetValueOrDefault(ownerId, "(removed user)"), ShareLevel.Editor, IsOwner: true));
        }
        entries.AddRange(shares.OrderBy(s => s.Role is null).ThenBy(NameOf, StringComparer.CurrentCultureIgnoreCase)
            .Select(s => new ShareEntry(s.Id, s.UserId, s.Role, NameOf(s), s.Level, IsOwner: false)));
        entries.AddRange(inherited.OrderBy(s => s.Role is null).ThenBy(NameOf, StringComparer.CurrentCultureIgnoreCase)
            .Select(s => new ShareEntry(s.Id, s.UserId, s.Role, NameOf(s), s.Level, IsOwner: false, InheritedFrom: folderName ?? "its folder")));
        var gaps = item == SharedItem.Dashboard ? await GapsAsync(db, itemId, entries, cancellationToken) : [];
        return new ShareList(item, itemId, name, entries, access.CanShare, gaps);
    }

    /// <summary>Active people an item can be shared with (not its owner); empty for those who may not share it.</summary>
    public async Task<IReadOnlyList<ShareCandidate>> CandidatesAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default)
    {
        var access = await RequireViewAsync(item, itemId, cancellationToken);
        if (!access.CanShare)
        {
            return [];
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (_, ownerId, _) = await DescribeItemAsync(db, item, itemId, cancellationToken);
        return await db.Users.AsNoTracking().Where(u => !u.IsDisabled && u.Id != ownerId)
            .OrderBy(u => u.Email).Select(u => new ShareCandidate(u.Id, u.Email ?? u.UserName ?? u.Id)).ToListAsync(cancellationToken);
    }

    /// <summary>Gives a person or a role access at a level, or changes the level they have.</summary>
    public async Task ShareAsync(SharedItem item, int itemId, string? userId, string? role, ShareLevel level, CancellationToken cancellationToken = default)
    {
        if ((userId is null) == (role is null))
        {
            throw new PortalException("Share with one person or one role.");
        }
        if (role is not null && !Roles.IsKnown(role))
        {
            throw new PortalException($"Unknown role: {role}.");
        }
        if (!Enum.IsDefined(level))
        {
            throw new PortalException("Choose Viewer or Editor.");
        }
        await RequireShareAsync(item, itemId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (name, ownerId, _) = await DescribeItemAsync(db, item, itemId, cancellationToken);
        string who;
        if (userId is not null)
        {
            who = await db.Users.AsNoTracking().Where(u => u.Id == userId && !u.IsDisabled).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken)
                ?? throw new PortalException("That user no longer exists or is disabled.");
            if (userId == ownerId)
            {
                throw new PortalException($"{who} owns it already.");
            }
        }
        else
        {
            who = $"role {role}";
        }
        var share = await db.Shares.SingleOrDefaultAsync(s => s.Item == item && s.ItemId == itemId && s.UserId == userId && s.Role == role, cancellationToken);
        if (share is null)
        {
            db.Shares.Add(new Share { Item = item, ItemId = itemId, UserId = userId, Role = role, Level = level, CreatedAt = clock.GetUtcNow() });
        }
        else if (share.Level == level)
        {
            return;
        }
        else
        {
            share.Level = level;
        }
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, Subject(item, itemId, name), $"{who} is now {level}", cancellationToken: cancellationToken);
    }

    /// <summary>Changes the level of an existing share.</summary>
    public async Task ChangeLevelAsync(int shareId, ShareLevel level, CancellationToken cancellationToken = default)
    {
        var share = await FindShareAsync(shareId, cancellationToken);
        await ShareAsync(share.Item, share.ItemId, share.UserId, share.Role, level, cancellationToken);
    }

    /// <summary>Takes a share away; it applies to the next thing the person does.</summary>
    public async Task UnshareAsync(int shareId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireWriterAsync();
        var share = await FindShareAsync(shareId, cancellationToken);
        await RequireShareAsync(share.Item, share.ItemId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (name, _, _) = await DescribeItemAsync(db, share.Item, share.ItemId, cancellationToken);
        var who = share.Role is not null ? $"role {share.Role}"
            : await db.Users.AsNoTracking().Where(u => u.Id == share.UserId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken) ?? share.UserId;
        await db.Shares.Where(s => s.Id == shareId).ExecuteDeleteAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, Subject(share.Item, share.ItemId, name), $"{who} no longer has access", cancellationToken: cancellationToken);
    }

    // ---- Folders ----

    /// <summary>Folders the user may see: their own, shared with them, or (for Admins) all.</summary>
    public async Task<IReadOnlyList<FolderRow>> FoldersAsync(CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var map = await MapAsync(db, user, cancellationToken);
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
        var access = await RequireViewAsync(SharedItem.Folder, folderId, cancellationToken);
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
        await RequireShareAsync(SharedItem.Folder, folderId, cancellationToken);
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
        var access = await RequireViewAsync(SharedItem.Dashboard, dashboardId, cancellationToken);
        if (!access.CanShare)
        {
            throw new PermissionDeniedException("Only the dashboard's owner or an Admin can move it: a folder's shares carry to the dashboards in it.");
        }
        string? folderName = null;
        if (folderId is { } target)
        {
            if (!(await RequireViewAsync(SharedItem.Folder, target, cancellationToken)).CanEdit)
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

    // ---- Rules ----

    /// <summary>
    /// The level a share gives: people whose role cannot change data (Viewers) only ever view, even when shared as Editor.
    /// </summary>
    private static AccessLevel LevelOf(ClaimsPrincipal user, ShareLevel level) =>
        level == ShareLevel.Editor && Permissions.IsGranted(user, Permissions.ManageData) ? AccessLevel.Edit : AccessLevel.View;

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

        private bool IsAdmin => Signed && _user.IsInRole(Roles.Admin) && !IsPublicVisitor(_user);

        private bool Owns(string? ownerId) => Signed && ownerId is not null && ownerId == _user.UserId();

        /// <summary>Access to a segment or folder (owner, Admin, or shared).</summary>
        public ItemAccess Of(SharedItem item, int id, string? ownerId)
        {
            if (!Signed || IsPublicVisitor(_user))
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
            if (IsPublicVisitor(_user))
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

        /// <summary>An Admin viewing as someone sees what they may see, and changes nothing.</summary>
        private AccessLevel ReadOnlyIfViewingAs(AccessLevel level) => ViewAsState.IsViewAs(_user) ? (AccessLevel)Math.Min((int)level, (int)AccessLevel.View) : level;

        /// <summary>Shared with the user by someone else (not their own and not merely by being an Admin).</summary>
        public bool SharedWithMe(int dashboardId, int? folderId) =>
            _levels.ContainsKey((SharedItem.Dashboard, dashboardId)) || (folderId is { } f && _levels.ContainsKey((SharedItem.Folder, f)));
    }

    private async Task<AccessMap> MapAsync(IPortalDb db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!Permissions.IsGranted(user, Permissions.ViewData))
        {
            return new AccessMap(user, []);
        }
        if (IsPublicVisitor(user))
        {
            // A public visitor sees the link's dashboard while the link is valid: checked again on every call, so revoking,
            // expiry or turning public links off ends an open visit too.
            return new AccessMap(user, [], await PublicLinkService.ValidDashboardAsync(db, user, clock.GetUtcNow(), cancellationToken));
        }
        var userId = user.UserId();
        var roles = Roles.All.Where(user.IsInRole).ToList();
        var shares = await db.Shares.AsNoTracking().Where(s => (s.UserId != null && s.UserId == userId) || (s.Role != null && roles.Contains(s.Role)))
            .ToListAsync(cancellationToken);
        return new AccessMap(user, shares);
    }

    private async Task RequireShareAsync(SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        await currentUser.RequireWriterAsync();
        var access = await RequireViewAsync(item, itemId, cancellationToken);
        if (!access.CanShare)
        {
            throw new PermissionDeniedException($"Only the {Noun(item)}'s owner or an Admin can change who has access to it.");
        }
    }

    private async Task<Share> FindShareAsync(int shareId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Shares.AsNoTracking().SingleOrDefaultAsync(s => s.Id == shareId, cancellationToken)
            ?? throw new PortalException("That share no longer exists; reopen the list.");
    }

    private static async Task<(string Name, string? OwnerId, int? FolderId)> DescribeItemAsync(IPortalDb db, SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case SharedItem.Dashboard:
                var d = await db.Dashboards.AsNoTracking().Where(x => x.Id == itemId).Select(x => new { x.Name, x.OwnerId, x.FolderId }).SingleOrDefaultAsync(cancellationToken)
                    ?? throw Missing(item);
                return (d.Name, d.OwnerId, d.FolderId);
            case SharedItem.Segment:
                var s = await db.Segments.AsNoTracking().Where(x => x.Id == itemId).Select(x => new { x.Name, x.OwnerId }).SingleOrDefaultAsync(cancellationToken)
                    ?? throw Missing(item);
                return (s.Name, s.OwnerId, null);
            default:
                var f = await db.Folders.AsNoTracking().Where(x => x.Id == itemId).Select(x => new { x.Name, x.OwnerId }).SingleOrDefaultAsync(cancellationToken)
                    ?? throw Missing(item);
                return (f.Name, f.OwnerId, null);
        }
    }

    /// <summary>For each dataset a dashboard reads, the people and roles it is shared with who cannot read that dataset.</summary>
    private static async Task<IReadOnlyList<DatasetGap>> GapsAsync(IPortalDb db, int dashboardId, IReadOnlyList<ShareEntry> entries, CancellationToken cancellationToken)
    {
        var ids = await DatasetsOfAsync(db, dashboardId, cancellationToken);
        if (ids.Count == 0)
        {
            return [];
        }
        var datasets = await db.Datasets.AsNoTracking().Where(d => ids.Contains(d.Id)).Select(d => new { d.Id, d.Name, d.OwnerId }).ToListAsync(cancellationToken);
        var grants = await db.DatasetGrants.AsNoTracking().Where(g => ids.Contains(g.DatasetId)).ToListAsync(cancellationToken);
        var people = entries.Where(e => e.UserId is not null).Select(e => e.UserId!).Distinct().ToList();
        var rolesOf = (await (from ur in db.UserRoles
                              join r in db.Roles on ur.RoleId equals r.Id
                              where people.Contains(ur.UserId)
                              select new { ur.UserId, r.Name }).ToListAsync(cancellationToken))
            .GroupBy(x => x.UserId).ToDictionary(g => g.Key, g => g.Select(x => x.Name!).ToHashSet());
        var gaps = new List<DatasetGap>();
        foreach (var dataset in datasets.OrderBy(d => d.Name))
        {
            var mine = grants.Where(g => g.DatasetId == dataset.Id).ToList();
            bool RoleReads(string role) => role == Roles.Admin || mine.Any(g => g.Role == role);
            var lacking = entries.Where(e => !(e.Role is { } role ? RoleReads(role)
                    : e.UserId == dataset.OwnerId || mine.Any(g => g.UserId == e.UserId) || rolesOf.GetValueOrDefault(e.UserId!, []).Any(RoleReads)))
                .Select(e => e.Name).Distinct().ToList();
            if (lacking.Count > 0)
            {
                gaps.Add(new DatasetGap(dataset.Id, dataset.Name, lacking));
            }
        }
        return gaps;
    }

    /// <summary>The datasets a dashboard's tiles read: their own and their segments'.</summary>
    public static async Task<IReadOnlyList<int>> DatasetsOfAsync(IPortalDb db, int dashboardId, CancellationToken cancellationToken)
    {
        var json = await db.Dashboards.AsNoTracking().Where(d => d.Id == dashboardId).Select(d => d.TilesJson).SingleOrDefaultAsync(cancellationToken);
        var tiles = json is null ? [] : DashboardJson.Read<TileDefinition>(json);
        var segmentIds = tiles.SelectMany(t => t.SegmentIds.Append(t.SegmentId ?? 0)).Where(s => s != 0).Distinct().ToList();
        var fromSegments = await db.Segments.AsNoTracking().Where(s => segmentIds.Contains(s.Id)).Select(s => s.DatasetId).ToListAsync(cancellationToken);
        return tiles.Select(t => t.DatasetId).OfType<int>().Concat(fromSegments).Distinct().ToList();
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
        if (await db.Folders.AnyAsync(f => f.Name == clean && f.OwnerId == owner && f.Id != except, cancellationToken))
        {
            throw new PortalException($"You already have a folder called “{clean}”.");
        }
        return clean;
    }

    private static string Subject(SharedItem item, int id, string name) => $"{item} {id} “{name}”";

    private static string Noun(SharedItem item) => item.ToString().ToLowerInvariant();

    private static PortalException Missing(SharedItem item) => new($"That {Noun(item)} does not exist or you do not have access to it.");
}
