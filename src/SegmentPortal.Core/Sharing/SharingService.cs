using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Sharing;

/// <summary>One line of a share dialog: the owner, a person or a role, with its level; folder shares are marked with the folder's name.</summary>
public sealed record ShareEntry(int? ShareId, string? UserId, string? Role, string Name, ShareLevel Level, bool IsOwner, string? InheritedFrom = null);

/// <summary>People or roles who were given an item but cannot read one of the datasets it reads.</summary>
public sealed record DatasetGap(int DatasetId, string DatasetName, IReadOnlyList<string> Lacking);

/// <summary>Who has access to an item, as the share dialog lists it.</summary>
public sealed record ShareList(
    SharedItem Item, int ItemId, string ItemName, IReadOnlyList<ShareEntry> Entries, bool CanShare, IReadOnlyList<DatasetGap> Gaps);

public sealed record ShareCandidate(string Id, string Name);

/// <summary>
/// Sharing of dashboards, segments and folders. Items are private to their owner (and Admins) until shared with people
/// or roles as Viewer or Editor; a folder's shares carry to every dashboard in it (the higher level wins). The owner
/// and Admins change sharing; every change is audited. Sharing never grants data: a Viewer of a dashboard still reads
/// only the datasets granted to them, so the share list reports who lacks which dataset.
/// </summary>
/// <remarks>The decisions (who may see, edit, share or export an item) are <see cref="Authorizer"/>'s; this service
/// changes shares and lists them for the share dialog.</remarks>
public sealed class SharingService(
    ICurrentUser currentUser, IPortalDbFactory dbFactory, Authorizer authorizer, SharedItems items, IDashboardDatasets dashboardDatasets, AuditLog audit,
    TimeProvider clock)
{
    /// <summary>The claim the server puts on the principal of a public-link visitor (the link's id); such a visitor only views.</summary>
    public const string PublicLinkClaim = PublicBoardScope.LinkClaim;

    public static bool IsPublicVisitor(ClaimsPrincipal user) => PublicBoardScope.IsPublicVisitor(user);

    /// <summary>
    /// Checks that the current user may export from a dashboard and records the export in the audit log: a tile's data
    /// or image (<paramref name="tileTitle"/>) or the whole board. Every export button calls it before the file is made.
    /// </summary>
    public async Task RecordExportAsync(int dashboardId, string? tileTitle, string format, long? rows, CancellationToken cancellationToken = default)
    {
        await authorizer.RequireExportAsync(dashboardId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var name = (await items.FindAsync(db, SharedItem.Dashboard, dashboardId, cancellationToken) ?? throw Missing(SharedItem.Dashboard)).Name;
        var subject = tileTitle is null ? Subject(SharedItem.Dashboard, dashboardId, name) : $"Tile “{tileTitle}” of {Subject(SharedItem.Dashboard, dashboardId, name)}";
        await audit.RecordAsync(AuditActions.Export, subject, format, rows, cancellationToken);
    }

    /// <summary>Who has access to an item: its owner, each person and role with their level, and (for dashboards) the folder's shares.</summary>
    public async Task<ShareList> ListAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default)
    {
        var access = await authorizer.RequireViewAsync(item, itemId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (name, ownerId, folderId) = await DescribeItemAsync(db, item, itemId, cancellationToken);
        var shares = await db.Shares.AsNoTracking().Where(s => s.Item == item && s.ItemId == itemId).ToListAsync(cancellationToken);
        var inherited = new List<Share>();
        string? folderName = null;
        if (folderId is { } folder)
        {
            inherited = await db.Shares.AsNoTracking().Where(s => s.Item == SharedItem.Folder && s.ItemId == folder).ToListAsync(cancellationToken);
            folderName = (await items.FindAsync(db, SharedItem.Folder, folder, cancellationToken))?.Name;
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
        var access = await authorizer.RequireViewAsync(item, itemId, cancellationToken);
        if (!access.CanShare)
        {
            return [];
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (_, ownerId, _) = await DescribeItemAsync(db, item, itemId, cancellationToken);
        return await db.Users.AsNoTracking().People().Where(u => u.Id != ownerId)
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
            who = await db.Users.AsNoTracking().People().Where(u => u.Id == userId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken)
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

    private async Task RequireShareAsync(SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        await currentUser.RequireWriterAsync();
        var access = await authorizer.RequireViewAsync(item, itemId, cancellationToken);
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

    private async Task<(string Name, string? OwnerId, int? FolderId)> DescribeItemAsync(IPortalDb db, SharedItem item, int itemId, CancellationToken cancellationToken)
    {
        var facts = await items.FindAsync(db, item, itemId, cancellationToken) ?? throw Missing(item);
        return (facts.Name, facts.OwnerId, facts.FolderId);
    }

    /// <summary>For each dataset a dashboard reads, the people and roles it is shared with who cannot read that dataset.</summary>
    private async Task<IReadOnlyList<DatasetGap>> GapsAsync(IPortalDb db, int dashboardId, IReadOnlyList<ShareEntry> entries, CancellationToken cancellationToken)
    {
        var ids = await dashboardDatasets.DatasetsOfAsync(dashboardId, cancellationToken);
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

    private static string Subject(SharedItem item, int id, string name) => $"{item} {id} “{name}”";

    private static string Noun(SharedItem item) => item.ToString().ToLowerInvariant();

    private static PortalException Missing(SharedItem item) => new($"That {Noun(item)} does not exist or you do not have access to it.");
}
