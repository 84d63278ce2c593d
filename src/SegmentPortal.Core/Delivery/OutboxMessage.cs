namespace SegmentPortal.Core.Delivery;

/// <summary>How an outbox message leaves the portal.</summary>
public enum DeliveryChannel
{
    Email,
    Webhook,
}

/// <summary>Where an outbox message is: waiting (or waiting to be retried), being sent, sent, or given up on.</summary>
public enum OutboxState
{
    Pending,
    Sending,
    Delivered,
    Failed,
}

/// <summary>
/// One message to send, kept in the metadata store until it is delivered (or given up on), so nothing is lost when the
/// process stops. Added with <see cref="IOutbox"/>, sent by the delivery worker, listed on Admin &gt; Outbox.
/// </summary>
public class OutboxMessage
{
    public const int MaxKeyLength = 200;
    public const int MaxRecipientLength = 320;
    public const int MaxSubjectLength = 400;
    public const int MaxErrorLength = 2000;

    public long Id { get; set; }

    public DeliveryChannel Channel { get; set; }

    /// <summary>Email: an address, or a user's id (their e-mail is read when the message is sent). Webhook: the endpoint's id.</summary>
    public required string Recipient { get; set; }

    public string Subject { get; set; } = "";

    public string? HtmlBody { get; set; }

    public string? TextBody { get; set; }

    /// <summary>Webhooks: the event's type (<c>type</c> of the Standard JSON body), e.g. <c>portal.test</c>.</summary>
    public string? EventType { get; set; }

    /// <summary>The event's data as JSON (webhooks send it; e-mail ignores it).</summary>
    public string? PayloadJson { get; set; }

    /// <summary>The files to attach, as JSON (<see cref="OutboxAttachment"/>): kept under the data folder's <c>outbox/attachments</c>.</summary>
    public string? AttachmentsJson { get; set; }

    /// <summary>
    /// Unique: a second message with the same key is not added. Every attempt carries it (the e-mail's Message-ID is
    /// made from it, a webhook's <c>webhook-id</c> is it), so a receiver can drop a repeat after a retry.
    /// </summary>
    public required string IdempotencyKey { get; set; }

    public OutboxState State { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>Where the development outbox wrote the message (.eml), when no SMTP server is set.</summary>
    public string? WrittenTo { get; set; }
}

/// <summary>A file attached to an outbox message: its name in the e-mail and where it is kept.</summary>
internal sealed record OutboxAttachment(string FileName, string ContentType, string Path, bool Inline = false);
