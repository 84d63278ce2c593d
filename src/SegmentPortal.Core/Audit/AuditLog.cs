using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Audit;

/// <summary>Writes audit entries. Every permission, sharing and export path calls it; Admins read the log.</summary>
public sealed class AuditLog(ICurrentUser currentUser, IPortalDbFactory dbFactory, TimeProvider clock)
{
    /// <summary>Records something the current user did.</summary>
    public async Task RecordAsync(string action, string? subject, string? detail = null, long? rows = null, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        var name = user.Identity?.IsAuthenticated == true ? user.Identity.Name : null;
        await RecordForAsync(user.UserId(), name, action, subject, detail, rows, address: null, cancellationToken);
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

    private static string? Cut(string? text, int length) => text is null || text.Length <= length ? text : text[..(length - 1)] + "…";
}
