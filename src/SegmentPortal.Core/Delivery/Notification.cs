namespace SegmentPortal.Core.Delivery;

/// <summary>How much a notification asks of its reader: the bell and the Notifications page show it as a colour and icon.</summary>
public enum NotificationKind
{
    Info,
    Success,
    Warning,
    Error,
}

/// <summary>
/// One in-portal notification for one user (the bell in the app bar, the Notifications page): what happened, a link to
/// the metric, segment or board it is about, and whether the user has read it. Added with <see cref="NotificationService"/>,
/// in the same metadata-store context as the result that caused it, so both are saved together.
/// </summary>
public class Notification
{
    public const int MaxTitleLength = 200;
    public const int MaxBodyLength = 2000;
    public const int MaxLinkLength = 1000;
    public const int MaxKeyLength = 200;

    public long Id { get; set; }

    /// <summary>The user who sees it (only ever them).</summary>
    public required string UserId { get; set; }

    public required string Title { get; set; }

    public string? Body { get; set; }

    /// <summary>A relative URL in the portal (e.g. <c>/metrics/12</c>), or null.</summary>
    public string? Link { get; set; }

    public NotificationKind Kind { get; set; }

    /// <summary>Unique per user: the same event (e.g. an alert's firing) never notifies the same user twice.</summary>
    public required string IdempotencyKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ReadAt { get; set; }
}
