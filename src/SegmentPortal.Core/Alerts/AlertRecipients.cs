namespace SegmentPortal.Core.Alerts;

/// <summary>
/// Who an alert tells and how, saved with it as JSON. People are portal users (by id) or everyone in a role; each is
/// told in the portal (the bell) and, with <see cref="Email"/>, by email. Webhook endpoints are set up by an Admin.
/// </summary>
public sealed record AlertRecipients
{
    public IReadOnlyList<string> UserIds { get; init; } = [];

    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Also by email to each person (in-portal notifications are always sent).</summary>
    public bool Email { get; init; } = true;

    public IReadOnlyList<int> WebhookIds { get; init; } = [];
}

/// <summary>What a segment alert watches for.</summary>
public enum SegmentAlertKind
{
    /// <summary>The size moved since the last refresh by more than <see cref="SegmentAlertCondition.ChangePercent"/> per cent or <see cref="SegmentAlertCondition.ChangeCount"/> customers.</summary>
    SizeChange,

    /// <summary>Any customer entered or left at the last refresh (up to <see cref="SegmentAlertCondition.ListCap"/> are listed).</summary>
    EnteredOrLeft,

    /// <summary>Customers left this segment and entered <see cref="SegmentAlertCondition.ToSegmentId"/> (e.g. from Champions to At risk).</summary>
    MovedTo,
}

/// <summary>The condition of a segment alert, saved with it as JSON.</summary>
public sealed record SegmentAlertCondition
{
    public const int DefaultListCap = 20;
    public const int MaxListCap = 200;

    public SegmentAlertKind Kind { get; init; }

    public double? ChangePercent { get; init; }

    public long? ChangeCount { get; init; }

    public ChangeDirection Direction { get; init; } = ChangeDirection.Either;

    /// <summary><see cref="SegmentAlertKind.MovedTo"/>: the segment customers moved into.</summary>
    public int? ToSegmentId { get; init; }

    /// <summary>At least this many customers must move for <see cref="SegmentAlertKind.MovedTo"/> (and enter or leave for <see cref="SegmentAlertKind.EnteredOrLeft"/>).</summary>
    public long MinCustomers { get; init; } = 1;

    /// <summary>How many customer ids a message lists at most.</summary>
    public int ListCap { get; init; } = DefaultListCap;
}
