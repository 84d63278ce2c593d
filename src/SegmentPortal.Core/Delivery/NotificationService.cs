using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Delivery;

/// <summary>
/// What to tell a user. <see cref="IdempotencyKey"/> names the event (e.g. <c>alert:12:fired:2026-12-07T06:00Z</c>): a
/// second notification with the same key for the same user is not added.
/// </summary>
public sealed record NotificationRequest(string Title, string? Body, string? Link, NotificationKind Kind, string IdempotencyKey);

/// <summary>One notification as the bell and the Notifications page show it.</summary>
public sealed record NotificationSummary(long Id, string Title, string? Body, string? Link, NotificationKind Kind, DateTimeOffset CreatedAt,
    DateTimeOffset? ReadAt)
{
    public bool IsRead => ReadAt is not null;
}

/// <summary>One page of the current user's notifications, newest first, and how many there are in all.</summary>
public sealed record NotificationPage(IReadOnlyList<NotificationSummary> Items, int Total, int Page, int PageSize)
{
    public int PageCount => Total == 0 ? 1 : (Total + PageSize - 1) / PageSize;
}

/// <summary>
/// In-portal notifications: adding them for a user (inside the caller's metadata-store context, so a check's result and
/// its notifications are saved together), and the current user's own list, unread count and marking read. A user only
/// ever sees and marks their own. Every saved change is announced through <see cref="NotificationSignals"/>.
/// </summary>
public sealed class NotificationService(ICurrentUser currentUser, IPortalDbFactory dbFactory, NotificationSignals signals, TimeProvider clock)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    /// <summary>
    /// Adds a notification for <paramref name="userId"/> to <paramref name="db"/> without saving: the caller's
    /// <c>SaveChangesAsync</c> stores it with the caller's own changes. Returns null when that user already has (or is
    /// about to get) one with the same idempotency key. After saving, call <see cref="Announce"/> so open pages update.
    /// </summary>
    public async Task<Notification?> AddAsync(IPortalDb db, string userId, NotificationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        var key = request.IdempotencyKey?.Trim() ?? "";
        if (key.Length is 0 or > Notification.MaxKeyLength)
        {
            throw new ArgumentException($"A notification needs an idempotency key of 1 to {Notification.MaxKeyLength} characters.", nameof(request));
        }
        var title = request.Title?.Trim() ?? "";
        if (title.Length == 0)
        {
            throw new ArgumentException("A notification needs a title.", nameof(request));
        }
        var link = string.IsNullOrWhiteSpace(request.Link) ? null : request.Link.Trim();
        if (link is not null && !IsPortalLink(link))
        {
            throw new ArgumentException("A notification links to a page of the portal: a relative URL starting with one '/'.", nameof(request));
        }
        if (db.Notifications.Local.Any(n => n.UserId == userId && n.IdempotencyKey == key)
            || await db.Notifications.AnyAsync(n => n.UserId == userId && n.IdempotencyKey == key, cancellationToken))
        {
            return null;
        }
        var notification = new Notification
        {
            UserId = userId,
            Title = Cut(title, Notification.MaxTitleLength),
            Body = request.Body is null ? null : Cut(request.Body, Notification.MaxBodyLength),
            Link = link,
            Kind = Enum.IsDefined(request.Kind) ? request.Kind : NotificationKind.Info,
            IdempotencyKey = key,
            CreatedAt = clock.GetUtcNow(),
        };
        db.Notifications.Add(notification);
        return notification;
    }

    /// <summary>Adds a notification for <paramref name="userId"/>, saves it and announces it. Null when its key was already used for them.</summary>
    public async Task<Notification?> AddAsync(string userId, NotificationRequest request, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var notification = await AddAsync(db, userId, request, cancellationToken);
        if (notification is null)
        {
            return null;
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another caller stored the same key for this user a moment ago: theirs is the notification.
            return null;
        }
        Announce(userId);
        return notification;
    }

    /// <summary>Tells the users' open pages that their notifications changed: call after saving what <see cref="AddAsync(IPortalDb, string, NotificationRequest, CancellationToken)"/> added.</summary>
    public void Announce(params IEnumerable<string> userIds) => signals.Raise(userIds);

    /// <summary>
    /// Calls <paramref name="onChange"/> (on any thread) whenever the current user's notifications change: one is added
    /// for them or they read one, from any page or process part. Null when no one is signed in. Dispose to stop.
    /// </summary>
    public async Task<IDisposable?> SubscribeAsync(Action onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        var userId = await UserIdAsync();
        return userId is null ? null : signals.Subscribe(userId, onChange);
    }

    /// <summary>The current user's notifications, newest first; <paramref name="page"/> counts from 0.</summary>
    public async Task<NotificationPage> ListAsync(bool unreadOnly = false, int page = 0, int pageSize = DefaultPageSize,
        CancellationToken cancellationToken = default)
    {
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        page = Math.Max(page, 0);
        var userId = await UserIdAsync();
        if (userId is null)
        {
            return new NotificationPage([], 0, 0, pageSize);
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var query = db.Notifications.AsNoTracking().Where(n => n.UserId == userId);
        if (unreadOnly)
        {
            query = query.Where(n => n.ReadAt == null);
        }
        var total = await query.CountAsync(cancellationToken);
        // Newest first; ids grow with time, and SQLite keeps dates as numbers that sort the same way.
        var items = await query.OrderByDescending(n => n.Id).Skip(page * pageSize).Take(pageSize)
            .Select(n => new NotificationSummary(n.Id, n.Title, n.Body, n.Link, n.Kind, n.CreatedAt, n.ReadAt))
            .ToListAsync(cancellationToken);
        return new NotificationPage(items, total, page, pageSize);
    }

    /// <summary>How many of the current user's notifications are unread.</summary>
    public async Task<int> UnreadCountAsync(CancellationToken cancellationToken = default)
    {
        var userId = await UserIdAsync();
        if (userId is null)
        {
            return 0;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Notifications.CountAsync(n => n.UserId == userId && n.ReadAt == null, cancellationToken);
    }

    /// <summary>Marks one of the current user's notifications read. False when it was already read; another user's is "not found".</summary>
    public async Task<bool> MarkReadAsync(long id, CancellationToken cancellationToken = default)
    {
        var userId = await WriterIdAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var notification = await db.Notifications.SingleOrDefaultAsync(n => n.Id == id && n.UserId == userId, cancellationToken)
            ?? throw new PortalException("That notification no longer exists.");
        if (notification.ReadAt is not null)
        {
            return false;
        }
        notification.ReadAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        Announce(userId);
        return true;
    }

    /// <summary>Marks all the current user's unread notifications read; returns how many.</summary>
    public async Task<int> MarkAllReadAsync(CancellationToken cancellationToken = default)
    {
        var userId = await WriterIdAsync();
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var unread = await db.Notifications.Where(n => n.UserId == userId && n.ReadAt == null).ToListAsync(cancellationToken);
        foreach (var notification in unread)
        {
            notification.ReadAt = now;
        }
        if (unread.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            Announce(userId);
        }
        return unread.Count;
    }

    /// <summary>A relative URL in the portal: one leading '/', no scheme, no host ("//evil.example" and "/\evil" are refused).</summary>
    public static bool IsPortalLink(string link) =>
        link.Length <= Notification.MaxLinkLength && link.StartsWith('/') && !link.StartsWith("//", StringComparison.Ordinal)
        && !link.StartsWith("/\\", StringComparison.Ordinal) && !link.Any(char.IsControl)
        && Uri.TryCreate(link, UriKind.Relative, out _);

    private async Task<string?> UserIdAsync()
    {
        var principal = await currentUser.GetPrincipalAsync();
        return principal.Identity?.IsAuthenticated == true ? principal.UserId() : null;
    }

    private async Task<string> WriterIdAsync()
    {
        var principal = await currentUser.RequireWriterAsync();
        return principal.UserId() ?? throw new PermissionDeniedException("Sign in to read your notifications.");
    }

    private static string Cut(string text, int length) => text.Length > length ? text[..(length - 1)] + "…" : text;
}
