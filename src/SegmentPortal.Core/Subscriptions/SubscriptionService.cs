using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Subscriptions;

/// <summary>
/// A new subscription: a board or a segment, a schedule, and who gets it — the person making it (both
/// <see cref="UserId"/> and <see cref="Role"/> empty), another user, or everyone in a role.
/// </summary>
public sealed record SubscriptionDraft
{
    public SubscriptionTarget Target { get; init; }

    /// <summary>The board's or the segment's id, by <see cref="Target"/>.</summary>
    public int ItemId { get; init; }

    public CheckSchedule Schedule { get; init; } = new() { Frequency = ScheduleFrequency.Daily };

    /// <summary>Another user to send it to; null (and no <see cref="Role"/>) for oneself.</summary>
    public string? UserId { get; init; }

    /// <summary>A role whose enabled members get it.</summary>
    public string? Role { get; init; }
}

/// <summary>One subscription as the Subscriptions page lists it.</summary>
public sealed record SubscriptionRow(
    int Id,
    SubscriptionTarget Target,
    int ItemId,
    string ItemName,
    string Recipient,
    string Schedule,
    bool Paused,
    DateTimeOffset? LastSentAt,
    DateTimeOffset? NextRunAt,
    string? LastNote,
    bool CanChange)
{
    /// <summary>The item's page in the portal.</summary>
    public string ItemPath => Target == SubscriptionTarget.Dashboard ? $"/dashboards/{ItemId}" : $"/segments/{ItemId}";
}

/// <summary>Someone a subscription may be sent to, for the dialog's picker.</summary>
public sealed record SubscriptionUserChoice(string Id, string Label);

/// <summary>
/// Subscriptions to boards and segments by e-mail. Anyone who can view an item subscribes themselves; its owner, its
/// Editors and Admins may also subscribe other users or a role. The recipient's right to view is checked again at each
/// sending (<see cref="SubscriptionRunner"/>), so a subscription never outlives access.
/// </summary>
public sealed class SubscriptionService(ICurrentUser currentUser, IPortalDbFactory dbFactory, Authorizer access, AuditLog audit, TimeProvider clock)
{
    /// <summary>Whether the current user may subscribe others or a role to the item (owner, Editor, Admin).</summary>
    public async Task<bool> CanSubscribeOthersAsync(SubscriptionTarget target, int itemId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        if (ViewAsState.IsViewAs(user) || !Permissions.IsGranted(user, Permissions.ViewData))
        {
            return false;
        }
        return MaySubscribeOthers(user, await access.AccessAsync(ItemOf(target), itemId, cancellationToken));
    }

    /// <summary>The enabled users with an e-mail address, for owners, Editors and Admins picking recipients.</summary>
    public async Task<IReadOnlyList<SubscriptionUserChoice>> UserChoicesAsync(SubscriptionTarget target, int itemId, CancellationToken cancellationToken = default)
    {
        if (!await CanSubscribeOthersAsync(target, itemId, cancellationToken))
        {
            return [];
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().People().Where(u => u.Email != null)
            .Select(u => new { u.Id, u.Email, u.DisplayName }).ToListAsync(cancellationToken);
        return users.Select(u => new SubscriptionUserChoice(u.Id,
                string.IsNullOrWhiteSpace(u.DisplayName) || u.DisplayName == u.Email ? u.Email! : $"{u.DisplayName} ({u.Email})"))
            .OrderBy(u => u.Label, StringComparer.CurrentCultureIgnoreCase).ToList();
    }

    public async Task<int> CreateAsync(SubscriptionDraft draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        CurrentUserExtensions.RefuseViewAs(user);
        var me = user.UserId() ?? throw new PermissionDeniedException("Sign in to subscribe.");
        if (!Enum.IsDefined(draft.Target))
        {
            throw new PortalException("Choose a board or a segment to subscribe to.");
        }
        var item = ItemOf(draft.Target);
        var itemAccess = await access.AccessAsync(item, draft.ItemId, cancellationToken);
        if (!itemAccess.CanView)
        {
            throw Authorizer.Missing(item);
        }
        var schedule = draft.Schedule ?? throw new PortalException("Choose when it is sent.");
        if (schedule.Validate() is { } problem)
        {
            throw new PortalException(problem);
        }

        var role = string.IsNullOrWhiteSpace(draft.Role) ? null : draft.Role.Trim();
        var recipientId = string.IsNullOrWhiteSpace(draft.UserId) ? null : draft.UserId.Trim();
        if (role is not null && recipientId is not null)
        {
            throw new PortalException("Send it to one user or to a role, not both.");
        }
        recipientId ??= role is null ? me : null;
        if (recipientId != me && !MaySubscribeOthers(user, itemAccess))
        {
            throw new PermissionDeniedException($"Only the {item.ToString().ToLowerInvariant()}'s owner, its Editors or an Admin can subscribe other people.");
        }

        await using var db = await dbFactory.CreateAsync(cancellationToken);
        string recipientLabel;
        if (role is not null)
        {
            if (!Roles.IsKnown(role))
            {
                throw new PortalException($"“{role}” is not a role; choose {string.Join(", ", Roles.All)}.");
            }
            recipientLabel = $"everyone in the {role} role";
        }
        else
        {
            var recipient = await db.Users.AsNoTracking().Where(u => u.Id == recipientId).Select(u => new { u.Email, u.IsDisabled, u.LockoutEnd }).SingleOrDefaultAsync(cancellationToken)
                ?? throw new PortalException("That user no longer exists.");
            if (recipient.LockoutEnd == AppUser.LockedForGood)
            {
                throw new PortalException("That account is not a person (nobody signs in to it); choose someone else.");
            }
            if (recipient.IsDisabled)
            {
                throw new PortalException($"{recipient.Email} is disabled; enable them first.");
            }
            if (string.IsNullOrWhiteSpace(recipient.Email))
            {
                throw new PortalException("That user has no e-mail address to send to.");
            }
            recipientLabel = recipient.Email;
        }

        var itemName = await ItemNameAsync(db, draft.Target, draft.ItemId, cancellationToken);
        var now = clock.GetUtcNow();
        var subscription = new Subscription
        {
            Target = draft.Target,
            DashboardId = draft.Target == SubscriptionTarget.Dashboard ? draft.ItemId : null,
            SegmentId = draft.Target == SubscriptionTarget.Segment ? draft.ItemId : null,
            UserId = role is null ? recipientId : null,
            Role = role,
            CreatedById = me,
            ScheduleJson = SubscriptionSchedules.Write(schedule),
            NextRunAt = schedule.NextAfter(now),
            CreatedAt = now,
        };
        db.Subscriptions.Add(subscription);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SubscriptionChanged, $"{draft.Target} {draft.ItemId} “{itemName}”",
            $"Subscribed {recipientLabel}: {schedule.Describe()}", cancellationToken: cancellationToken);
        return subscription.Id;
    }

    /// <summary>
    /// The subscriptions that concern the current user: sent to them, to one of their roles, or made by them.
    /// <see cref="SubscriptionRow.CanChange"/> says which they may pause or delete.
    /// </summary>
    public async Task<IReadOnlyList<SubscriptionRow>> ListMineAsync(CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var me = user.UserId();
        var roles = Roles.All.Where(user.IsInRole).ToList();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await db.Subscriptions.AsNoTracking()
            .Where(s => s.UserId == me || s.CreatedById == me || (s.Role != null && roles.Contains(s.Role)))
            .ToListAsync(cancellationToken);
        return await RowsAsync(db, user, rows, cancellationToken);
    }

    /// <summary>Every subscription to one item, for its owner and Admins; others get theirs only.</summary>
    public async Task<IReadOnlyList<SubscriptionRow>> ListForItemAsync(SubscriptionTarget target, int itemId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var itemAccess = await access.RequireViewAsync(ItemOf(target), itemId, cancellationToken);
        var me = user.UserId();
        var roles = Roles.All.Where(user.IsInRole).ToList();
        var all = itemAccess.IsOwner || user.IsInRole(Roles.Admin);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var query = db.Subscriptions.AsNoTracking().Where(s => target == SubscriptionTarget.Dashboard ? s.DashboardId == itemId : s.SegmentId == itemId);
        if (!all)
        {
            query = query.Where(s => s.UserId == me || s.CreatedById == me || (s.Role != null && roles.Contains(s.Role)));
        }
        return await RowsAsync(db, user, await query.ToListAsync(cancellationToken), cancellationToken);
    }

    /// <summary>Pauses (no sending) or resumes a subscription; resuming sends at the next scheduled time, not for missed ones.</summary>
    public async Task SetPausedAsync(int id, bool paused, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var subscription = await RequireChangeableAsync(db, user, id, cancellationToken);
        if (subscription.Paused == paused)
        {
            return;
        }
        subscription.Paused = paused;
        subscription.NextRunAt = paused ? null : SubscriptionSchedules.Read(subscription.ScheduleJson).NextAfter(clock.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SubscriptionChanged, await SubjectAsync(db, subscription, cancellationToken),
            paused ? "Paused" : "Resumed", cancellationToken: cancellationToken);
    }

    /// <summary>Deletes a subscription (its recipient's, its maker's, or as the item's owner or an Admin).</summary>
    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var subscription = await RequireChangeableAsync(db, user, id, cancellationToken);
        var subject = await SubjectAsync(db, subscription, cancellationToken);
        db.Subscriptions.Remove(subscription);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SubscriptionChanged, subject, "Deleted", cancellationToken: cancellationToken);
    }

    private async Task<Subscription> RequireChangeableAsync(IPortalDb db, ClaimsPrincipal user, int id, CancellationToken cancellationToken)
    {
        var subscription = await db.Subscriptions.SingleOrDefaultAsync(s => s.Id == id, cancellationToken)
            ?? throw new PortalException("That subscription no longer exists.");
        if (!await CanChangeAsync(user, subscription, cancellationToken))
        {
            throw new PermissionDeniedException("Only its recipient, whoever made it, the owner of what it sends or an Admin can change this subscription.");
        }
        return subscription;
    }

    private async Task<bool> CanChangeAsync(ClaimsPrincipal user, Subscription subscription, CancellationToken cancellationToken)
    {
        var me = user.UserId();
        if (ViewAsState.IsViewAs(user) || me is null)
        {
            return false;
        }
        if (subscription.UserId == me || subscription.CreatedById == me || user.IsInRole(Roles.Admin))
        {
            return true;
        }
        return (await access.AccessAsync(ItemOf(subscription.Target), ItemIdOf(subscription), cancellationToken)).IsOwner;
    }

    private async Task<IReadOnlyList<SubscriptionRow>> RowsAsync(IPortalDb db, ClaimsPrincipal user, List<Subscription> subscriptions, CancellationToken cancellationToken)
    {
        var userIds = subscriptions.Select(s => s.UserId).OfType<string>().Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        var ids = subscriptions.Select(s => s.Id).ToList();
        var notes = (await db.SubscriptionRuns.AsNoTracking().Where(r => ids.Contains(r.SubscriptionId) && r.Status != SubscriptionRunStatus.Due)
                .Select(r => new { r.SubscriptionId, r.Id, r.Note, r.Status }).ToListAsync(cancellationToken))
            .GroupBy(r => r.SubscriptionId).ToDictionary(g => g.Key, g => g.MaxBy(r => r.Id));
        var rows = new List<SubscriptionRow>();
        foreach (var s in subscriptions)
        {
            var itemAccess = await access.AccessAsync(ItemOf(s.Target), ItemIdOf(s), cancellationToken);
            var name = itemAccess.CanView ? await ItemNameAsync(db, s.Target, ItemIdOf(s), cancellationToken) : $"A {s.Target.ToString().ToLowerInvariant()} you can no longer see";
            var last = notes.GetValueOrDefault(s.Id);
            var note = last is null ? null : last.Status == SubscriptionRunStatus.Failed ? $"Failed: {last.Note}" : last.Note;
            rows.Add(new SubscriptionRow(s.Id, s.Target, ItemIdOf(s), name,
                s.Role is { } role ? $"Role {role}" : emails.GetValueOrDefault(s.UserId ?? "", "a removed user"),
                SubscriptionSchedules.Read(s.ScheduleJson).Describe(), s.Paused, s.LastSentAt, s.NextRunAt, note,
                await CanChangeAsync(user, s, cancellationToken)));
        }
        return rows.OrderBy(r => r.ItemName, StringComparer.CurrentCultureIgnoreCase).ThenBy(r => r.Id).ToList();
    }

    private async Task<string> SubjectAsync(IPortalDb db, Subscription subscription, CancellationToken cancellationToken) =>
        $"{subscription.Target} {ItemIdOf(subscription)} “{await ItemNameAsync(db, subscription.Target, ItemIdOf(subscription), cancellationToken)}” subscription {subscription.Id}";

    internal static async Task<string> ItemNameAsync(IPortalDb db, SubscriptionTarget target, int itemId, CancellationToken cancellationToken) =>
        (target == SubscriptionTarget.Dashboard
            ? await db.Dashboards.AsNoTracking().Where(d => d.Id == itemId).Select(d => d.Name).SingleOrDefaultAsync(cancellationToken)
            : await db.Segments.AsNoTracking().Where(s => s.Id == itemId).Select(s => s.Name).SingleOrDefaultAsync(cancellationToken))
        ?? "(deleted)";

    /// <summary>Owners (who may still change data), Editors and Admins of the item may subscribe others.</summary>
    private static bool MaySubscribeOthers(ClaimsPrincipal user, ItemAccess itemAccess) =>
        itemAccess.CanView && (itemAccess.CanEdit || itemAccess.IsOwner || user.IsInRole(Roles.Admin));

    internal static SharedItem ItemOf(SubscriptionTarget target) => target == SubscriptionTarget.Dashboard ? SharedItem.Dashboard : SharedItem.Segment;

    internal static int ItemIdOf(Subscription subscription) =>
        (subscription.Target == SubscriptionTarget.Dashboard ? subscription.DashboardId : subscription.SegmentId) ?? 0;
}
