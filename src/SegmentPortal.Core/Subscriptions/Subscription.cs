namespace SegmentPortal.Core.Subscriptions;

/// <summary>What a subscription sends.</summary>
public enum SubscriptionTarget
{
    /// <summary>A board, rendered as the recipient sees it (PNG inline, PDF attached).</summary>
    Dashboard,

    /// <summary>A segment's size, change, entered and left counts and, where allowed, its member file.</summary>
    Segment,
}

/// <summary>
/// A standing order for a board or a segment by email, to one user or everyone in a role, on a schedule (daily, weekly,
/// monthly at a time in a time zone) or after each refresh of its data. Each sending is a <see cref="SubscriptionRun"/>.
/// </summary>
public class Subscription
{
    public int Id { get; set; }

    public SubscriptionTarget Target { get; set; }

    public int? DashboardId { get; set; }

    public int? SegmentId { get; set; }

    /// <summary>The user it is sent to; null when it is sent to a role.</summary>
    public string? UserId { get; set; }

    /// <summary>The role whose members it is sent to; null when it is sent to one user.</summary>
    public string? Role { get; set; }

    /// <summary>Who made it (the recipient themselves, or an owner, Editor or Admin).</summary>
    public required string CreatedById { get; set; }

    /// <summary>A <see cref="Common.CheckSchedule"/> as JSON.</summary>
    public required string ScheduleJson { get; set; }

    public DateTimeOffset? NextRunAt { get; set; }

    public bool Paused { get; set; }

    public DateTimeOffset? LastSentAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Where a subscription's sending is.</summary>
public enum SubscriptionRunStatus
{
    Due,
    Done,
    Failed,
}

/// <summary>
/// One sending of a subscription: made <see cref="SubscriptionRunStatus.Due"/> by its schedule or a refresh, then
/// rendered and put in the outbox (one message per recipient, keyed by the run and recipient, so a restart mid-run
/// sends nobody twice).
/// </summary>
public class SubscriptionRun
{
    public const int MaxTextLength = 2000;

    public long Id { get; set; }

    public int SubscriptionId { get; set; }

    public bool AfterRefresh { get; set; }

    public SubscriptionRunStatus Status { get; set; }

    public DateTimeOffset DueAt { get; set; }

    public DateTimeOffset? DoneAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>How many messages it put in the outbox.</summary>
    public int Messages { get; set; }

    /// <summary>What went wrong, or who was left without figures and why.</summary>
    public string? Note { get; set; }
}
