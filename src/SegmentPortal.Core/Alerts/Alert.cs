namespace SegmentPortal.Core.Alerts;

/// <summary>What an alert watches.</summary>
public enum AlertSubject
{
    /// <summary>A metric's current value (<see cref="Alert.MetricId"/>).</summary>
    Metric,

    /// <summary>A dashboard tile's value (<see cref="Alert.DashboardId"/>, <see cref="Alert.TileId"/>).</summary>
    Tile,

    /// <summary>A segment's size and members (<see cref="Alert.SegmentId"/>).</summary>
    Segment,
}

/// <summary>
/// A watch on a figure (a metric or a tile's value) or on a segment, checked as its owner sees the data after every
/// refresh of the data it reads and on its schedule. It fires once when its condition starts to hold and once when it
/// stops (<see cref="Firing"/> remembers which), and can be muted or snoozed. Every check is kept as an
/// <see cref="AlertCheck"/>.
/// </summary>
public class Alert
{
    public const int MaxNameLength = 200;

    public int Id { get; set; }

    public required string Name { get; set; }

    /// <summary>Whose view of the data the alert is checked with; they (or an Admin) may change it.</summary>
    public required string OwnerId { get; set; }

    public AlertSubject Subject { get; set; }

    public int? MetricId { get; set; }

    public int? DashboardId { get; set; }

    public string? TileId { get; set; }

    public int? SegmentId { get; set; }

    /// <summary>The condition as JSON: an <see cref="AlertCondition"/> for figures, a <see cref="SegmentAlertCondition"/> for segments.</summary>
    public required string ConditionJson { get; set; }

    /// <summary>When it is checked besides after each refresh: a <see cref="Common.CheckSchedule"/> as JSON.</summary>
    public required string ScheduleJson { get; set; }

    /// <summary>The next scheduled check; null when it is only checked after refreshes.</summary>
    public DateTimeOffset? NextCheckAt { get; set; }

    /// <summary>Who is told and how: an <see cref="AlertRecipients"/> as JSON.</summary>
    public required string RecipientsJson { get; set; }

    /// <summary>Whether the condition held at the last check.</summary>
    public bool Firing { get; set; }

    /// <summary>Checks go on and are recorded, but nobody is told.</summary>
    public bool Muted { get; set; }

    /// <summary>Until then checks go on and are recorded, but nobody is told.</summary>
    public DateTimeOffset? SnoozedUntil { get; set; }

    public DateTimeOffset? LastCheckedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What started a check.</summary>
public enum AlertTrigger
{
    Refresh,
    Schedule,
    Manual,
}

/// <summary>Where a check is.</summary>
public enum AlertCheckStatus
{
    /// <summary>Waiting to run (or interrupted: it runs again after a restart).</summary>
    Due,

    /// <summary>Ran; its result and messages were saved together.</summary>
    Done,

    /// <summary>Could not run (the data or the metric is gone, the owner lost access…); <see cref="AlertCheck.Reason"/> says why.</summary>
    Failed,
}

/// <summary>
/// One check of an alert: made <see cref="AlertCheckStatus.Due"/> when a refresh or the schedule calls for it, then
/// run, and its result — the value, what it was compared with, whether it fired, to whom it was sent — saved in the same
/// transaction as the messages it sends, so a check is never lost or half sent.
/// </summary>
public class AlertCheck
{
    public const int MaxTextLength = 2000;

    public long Id { get; set; }

    public int AlertId { get; set; }

    public AlertTrigger Trigger { get; set; }

    public AlertCheckStatus Status { get; set; }

    public DateTimeOffset DueAt { get; set; }

    public DateTimeOffset? CheckedAt { get; set; }

    /// <summary>How many times a run was started (a restart mid-check starts it again).</summary>
    public int Attempts { get; set; }

    /// <summary>The value checked, in the figure's own scale (a segment's size for segment alerts).</summary>
    public double? Value { get; set; }

    /// <summary>The value compared with (the previous period's, the last refresh's size), where the condition uses one.</summary>
    public double? Compared { get; set; }

    /// <summary>The threshold or band in words ("below 35%", "outside 120 – 180").</summary>
    public string? Threshold { get; set; }

    /// <summary>Whether the condition held.</summary>
    public bool Met { get; set; }

    /// <summary>Started or stopped firing at this check (a message was due), as <see cref="AlertTransition"/>.</summary>
    public AlertTransition Transition { get; set; }

    /// <summary>Why it fired or not, in words; or why the check failed.</summary>
    public string? Reason { get; set; }

    /// <summary>Who was told (names and channels), or why nobody was (muted, snoozed, no change).</summary>
    public string? SentTo { get; set; }
}
