using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Audit;

/// <summary>Which audit entries to show: every part optional; text parts match anywhere, ignoring case.</summary>
public sealed record AuditQuery
{
    public string? Action { get; init; }

    /// <summary>Matches the user's name (e-mail, or the name tried for a failed sign-in).</summary>
    public string? User { get; init; }

    /// <summary>Matches the subject or the detail.</summary>
    public string? Text { get; init; }

    /// <summary>From this day on (inclusive, UTC).</summary>
    public DateOnly? From { get; init; }

    /// <summary>Up to and including this day (UTC).</summary>
    public DateOnly? To { get; init; }
}

/// <summary>One page of audit entries, newest first, and how many match in all.</summary>
public sealed record AuditResults(IReadOnlyList<AuditEntry> Entries, int Total);

/// <summary>Writes audit entries. Every permission, sharing and export path calls it; Admins read, export and purge the log.</summary>
public sealed class AuditLog(ICurrentUser currentUser, IPortalDbFactory dbFactory, TimeProvider clock)
{
    public const int MaxPageSize = 500;

    /// <summary>The columns of the CSV export, in order.</summary>
    public static readonly IReadOnlyList<string> ExportColumns = ["Time (UTC)", "User", "Action", "Subject", "Detail", "Rows", "Address"];

    /// <summary>
    /// Records something the current user did. While an Admin views the portal as another user, the entry is the
    /// Admin's ("admin@… as ann@…").
    /// </summary>
    public async Task RecordAsync(string action, string? subject, string? detail = null, long? rows = null, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        var name = user.Identity?.IsAuthenticated == true ? user.Identity.Name : null;
        var userId = user.UserId();
        if (user.FindFirstValue(ViewAsState.AdminClaim) is { Length: > 0 } adminId)
        {
            name = $"{user.FindFirstValue(ViewAsState.AdminNameClaim)} as {name}";
            userId = adminId;
        }
        await RecordForAsync(userId, name, action, subject, detail, rows, address: null, cancellationToken);
    }

    /// <summary>Records something for a named user (sign-ins, where there is no current user yet).</summary>
    public async Task RecordForAsync(
        string? userId, string? userName, string action, string? subject, string? detail = null, long? rows = null, string? address = null,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        db.AuditEntries.Add(new AuditEntry
        {
            At = clock.GetUtcNow(),
            UserId = userId,
            UserName = Cut(userName, 256),
            Action = action,
            Subject = Cut(subject, 400),
            Detail = Cut(detail, 2000),
            Rows = rows,
            Address = Cut(address, 64),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A page of the entries that match, newest first. Admins only.</summary>
    public async Task<AuditResults> SearchAsync(AuditQuery query, int page, int pageSize, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        if (page < 0 || pageSize is < 1 or > MaxPageSize)
        {
            throw new PortalException($"Pages hold 1 to {MaxPageSize} entries.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var filtered = Filter(db.AuditEntries.AsNoTracking(), query);
        var total = await filtered.CountAsync(cancellationToken);
        var entries = await filtered.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(page * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return new AuditResults(entries, total);
    }

    /// <summary>
    /// Every matching entry, newest first, read as it is enumerated; the audit CSV export (AuditExport, in Exports)
    /// writes them. Admins only.
    /// </summary>
    public async IAsyncEnumerable<AuditEntry> ExportEntriesAsync(
        AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var entries = Filter(db.AuditEntries.AsNoTracking(), query).OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .AsAsyncEnumerable();
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            yield return entry;
        }
    }

    /// <summary>Deletes entries older than the retention period; returns how many. Run by <see cref="AuditRetention"/>, not by users.</summary>
    public async Task<int> PurgeAsync(int retentionDays, CancellationToken cancellationToken = default)
    {
        if (retentionDays < 1)
        {
            throw new PortalException("Audit:RetentionDays must be at least 1.");
        }
        var cutoff = clock.GetUtcNow().AddDays(-retentionDays);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.AuditEntries.Where(e => e.At < cutoff).ExecuteDeleteAsync(cancellationToken);
    }

    private static IQueryable<AuditEntry> Filter(IQueryable<AuditEntry> entries, AuditQuery query)
    {
        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            entries = entries.Where(e => e.Action == query.Action);
        }
        if (!string.IsNullOrWhiteSpace(query.User))
        {
            var user = query.User.Trim().ToLower();
            entries = entries.Where(e => e.UserName != null && e.UserName.ToLower().Contains(user));
        }
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim().ToLower();
            entries = entries.Where(e => (e.Subject != null && e.Subject.ToLower().Contains(text)) || (e.Detail != null && e.Detail.ToLower().Contains(text)));
        }
        if (query.From is { } from)
        {
            var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            entries = entries.Where(e => e.At >= start);
        }
        if (query.To is { } to)
        {
            var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            entries = entries.Where(e => e.At < end);
        }
        return entries;
    }

    private static string? Cut(string? text, int length) => text is null || text.Length <= length ? text : text[..(length - 1)] + "…";
}
