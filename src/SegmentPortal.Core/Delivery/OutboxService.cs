using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Delivery;

/// <summary>One outbox message as the Outbox page and an endpoint's history list it.</summary>
public sealed record OutboxMessageSummary(
    long Id, DeliveryChannel Channel, string Recipient, string Subject, OutboxState State, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset NextAttemptAt, DateTimeOffset? LastAttemptAt, DateTimeOffset? DeliveredAt,
    string? LastError, string IdempotencyKey, bool WrittenToFolder);

/// <summary>One message opened on the Outbox page: its bodies, payload and, for the development outbox, the .eml file.</summary>
public sealed record OutboxMessageDetails(OutboxMessageSummary Summary, string? HtmlBody, string? TextBody, string? PayloadJson,
    string? WrittenTo, string? Eml);

/// <summary>The outbox for Admins: every message with its state, opening one, and retrying a failed one.</summary>
public sealed class OutboxService(ICurrentUser currentUser, IPortalDbFactory dbFactory, IOutbox outbox, StoragePaths paths, TimeProvider clock)
{
    public const int MaxListed = 500;

    /// <summary>The .eml files of the largest size the page shows.</summary>
    private const int MaxEmlChars = 500_000;

    /// <summary>Where the development outbox writes e-mail when no SMTP host is set.</summary>
    public string MailFolder => EmailDelivery.MailFolder(paths);

    public async Task<IReadOnlyList<OutboxMessageSummary>> ListAsync(OutboxState? state = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageDelivery);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var query = db.OutboxMessages.AsNoTracking();
        if (state is { } s)
        {
            query = query.Where(m => m.State == s);
        }
        var messages = await query.OrderByDescending(m => m.Id).Take(MaxListed).ToListAsync(cancellationToken);
        return messages.Select(Summarize).ToList();
    }

    public async Task<OutboxMessageDetails> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageDelivery);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var message = await db.OutboxMessages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, cancellationToken)
            ?? throw new PortalException("That message is no longer in the outbox.");
        string? eml = null;
        if (message.WrittenTo is { } path && IsInMailFolder(path) && File.Exists(path))
        {
            using var reader = new StreamReader(path);
            var buffer = new char[MaxEmlChars];
            var read = await reader.ReadBlockAsync(buffer, cancellationToken);
            eml = new string(buffer, 0, read);
        }
        return new OutboxMessageDetails(Summarize(message), message.HtmlBody, message.TextBody, message.PayloadJson, message.WrittenTo, eml);
    }

    /// <summary>Sends a failed message again, from a fresh count of attempts, with the same idempotency key.</summary>
    public async Task RetryAsync(long id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageDelivery);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var message = await db.OutboxMessages.SingleOrDefaultAsync(m => m.Id == id, cancellationToken)
            ?? throw new PortalException("That message is no longer in the outbox.");
        if (message.State != OutboxState.Failed)
        {
            throw new PortalException("Only failed messages can be retried; the others are sent or about to be.");
        }
        message.State = OutboxState.Pending;
        message.Attempts = 0;
        message.NextAttemptAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        outbox.Notify();
    }

    private bool IsInMailFolder(string path)
    {
        var folder = Path.GetFullPath(MailFolder) + Path.DirectorySeparatorChar;
        return Path.GetFullPath(path).StartsWith(folder, StringComparison.Ordinal);
    }

    internal static OutboxMessageSummary Summarize(OutboxMessage m) => new(
        m.Id, m.Channel, m.Recipient, m.Subject, m.State, m.Attempts, m.CreatedAt, m.NextAttemptAt, m.LastAttemptAt, m.DeliveredAt,
        m.LastError, m.IdempotencyKey, m.WrittenTo is not null);
}
