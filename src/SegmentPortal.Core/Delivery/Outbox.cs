using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Delivery;

/// <summary>A file to attach to an e-mail.</summary>
public sealed record OutboxFile(string FileName, string ContentType, byte[] Content)
{
    /// <summary>Shown inside an email's HTML (referenced as <c>cid:</c> + the file name) instead of attached.</summary>
    public bool Inline { get; init; }
}

/// <summary>What to send. Build one with <see cref="Email"/> or <see cref="Webhook"/>.</summary>
public sealed record OutboxRequest
{
    public required DeliveryChannel Channel { get; init; }

    /// <summary>Email: an address or a user's id. Webhook: the endpoint's id.</summary>
    public required string Recipient { get; init; }

    /// <summary>Unique per message: the same key is never added twice, and every attempt carries it.</summary>
    public required string IdempotencyKey { get; init; }

    public string Subject { get; init; } = "";

    public string? HtmlBody { get; init; }

    public string? TextBody { get; init; }

    public string? EventType { get; init; }

    public string? PayloadJson { get; init; }

    public IReadOnlyList<OutboxFile> Attachments { get; init; } = [];

    public static OutboxRequest Email(string recipient, string subject, string? html, string? text, string idempotencyKey,
        IReadOnlyList<OutboxFile>? attachments = null) => new()
    {
        Channel = DeliveryChannel.Email,
        Recipient = recipient,
        Subject = subject,
        HtmlBody = html,
        TextBody = text,
        IdempotencyKey = idempotencyKey,
        Attachments = attachments ?? [],
    };

    public static OutboxRequest Webhook(int endpointId, string eventType, string subject, string? text, string? payloadJson, string idempotencyKey) => new()
    {
        Channel = DeliveryChannel.Webhook,
        Recipient = endpointId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        EventType = eventType,
        Subject = subject,
        TextBody = text,
        PayloadJson = payloadJson,
        IdempotencyKey = idempotencyKey,
    };
}

/// <summary>
/// Adds messages to the outbox; the delivery worker sends them, with retries. Alerts and subscriptions add their
/// messages in the same metadata-store context as the result they record, so both are saved together or not at all.
/// </summary>
public interface IOutbox
{
    /// <summary>
    /// Adds a message to <paramref name="db"/> without saving: the caller's <c>SaveChangesAsync</c> (or transaction)
    /// stores it together with the caller's own changes. Attachments are written to the data folder now. Returns null
    /// when a message with the same idempotency key is already stored or added. Call <see cref="Notify"/> after saving
    /// to send at once (otherwise the worker finds it within <see cref="DeliveryOptions.PollSeconds"/>).
    /// </summary>
    Task<OutboxMessage?> EnqueueAsync(IPortalDb db, OutboxRequest request, CancellationToken cancellationToken = default);

    /// <summary>Adds a message and saves it at once, then wakes the worker. Null when the key is already stored.</summary>
    Task<OutboxMessage?> EnqueueAsync(OutboxRequest request, CancellationToken cancellationToken = default);

    /// <summary>Wakes the worker: a message was saved or made due.</summary>
    void Notify();
}

/// <summary>Wakes the delivery worker when a message was added, retried or became due.</summary>
internal sealed class OutboxSignal : Common.WorkSignal;

internal sealed class Outbox(IPortalDbFactory dbFactory, StoragePaths paths, OutboxSignal signal, TimeProvider clock) : IOutbox
{
    public static string AttachmentsFolder(StoragePaths paths) => Path.Combine(paths.DataDirectory, "outbox", "attachments");

    public async Task<OutboxMessage?> EnqueueAsync(IPortalDb db, OutboxRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        var key = request.IdempotencyKey?.Trim() ?? "";
        if (key.Length is 0 or > OutboxMessage.MaxKeyLength)
        {
            throw new ArgumentException($"An outbox message needs an idempotency key of 1 to {OutboxMessage.MaxKeyLength} characters.", nameof(request));
        }
        if (key.Any(c => c is < '!' or > '~'))
        {
            // It travels in headers (webhook-id) as it is: printable ASCII, no spaces.
            throw new ArgumentException("An idempotency key holds printable ASCII characters only, without spaces.", nameof(request));
        }
        var recipient = request.Recipient?.Trim() ?? "";
        if (recipient.Length is 0 or > OutboxMessage.MaxRecipientLength)
        {
            throw new ArgumentException("An outbox message needs a recipient.", nameof(request));
        }
        if (request.Channel == DeliveryChannel.Webhook && !int.TryParse(recipient, out _))
        {
            throw new ArgumentException("A webhook message's recipient is the endpoint's id.", nameof(request));
        }
        if (db.OutboxMessages.Local.Any(m => m.IdempotencyKey == key)
            || await db.OutboxMessages.AnyAsync(m => m.IdempotencyKey == key, cancellationToken))
        {
            return null;
        }
        var now = clock.GetUtcNow();
        var message = new OutboxMessage
        {
            Channel = request.Channel,
            Recipient = recipient,
            Subject = Cut(request.Subject ?? "", OutboxMessage.MaxSubjectLength),
            HtmlBody = request.HtmlBody,
            TextBody = request.TextBody,
            EventType = request.EventType is null ? null : Cut(request.EventType, 100),
            PayloadJson = request.PayloadJson,
            AttachmentsJson = request.Attachments.Count == 0 ? null : JsonSerializer.Serialize(await SaveAttachmentsAsync(key, request.Attachments, cancellationToken)),
            IdempotencyKey = key,
            State = OutboxState.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        };
        db.OutboxMessages.Add(message);
        return message;
    }

    public async Task<OutboxMessage?> EnqueueAsync(OutboxRequest request, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var message = await EnqueueAsync(db, request, cancellationToken);
        if (message is null)
        {
            return null;
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another caller stored the same key a moment ago: theirs is the message.
            return null;
        }
        Notify();
        return message;
    }

    public void Notify() => signal.Notify();

    private async Task<List<OutboxAttachment>> SaveAttachmentsAsync(string key, IReadOnlyList<OutboxFile> files, CancellationToken cancellationToken)
    {
        // One folder per message, named from its key (so a repeat of the same key writes the same place).
        var folder = Path.Combine(AttachmentsFolder(paths), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32]);
        Directory.CreateDirectory(folder);
        var saved = new List<OutboxAttachment>();
        foreach (var (file, index) in files.Select((f, i) => (f, i)))
        {
            var name = SafeFileName(file.FileName);
            var path = Path.Combine(folder, $"{index}-{name}");
            await File.WriteAllBytesAsync(path, file.Content, cancellationToken);
            saved.Add(new OutboxAttachment(name, string.IsNullOrWhiteSpace(file.ContentType) ? "application/octet-stream" : file.ContentType, path, file.Inline));
        }
        return saved;
    }

    internal static string SafeFileName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var safe = new string((Path.GetFileName(name ?? "") ?? "").Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c).ToArray()).Trim();
        return safe.Length == 0 || safe is "." or ".." ? "attachment" : Cut(safe, 120);
    }

    private static string Cut(string text, int length) => text.Length > length ? text[..(length - 1)] + "…" : text;
}
