using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Alerts;

/// <summary>What the alert editor saves.</summary>
public sealed record AlertDraft
{
    public string Name { get; init; } = "";

    public AlertSubject Subject { get; init; }

    public int? MetricId { get; init; }

    public int? DashboardId { get; init; }

    public string? TileId { get; init; }

    public int? SegmentId { get; init; }

    /// <summary>For metric and tile alerts.</summary>
    public AlertCondition? Condition { get; init; }

    /// <summary>For segment alerts.</summary>
    public SegmentAlertCondition? SegmentAlertCondition { get; init; }

    public CheckSchedule Schedule { get; init; } = CheckSchedule.AfterRefreshOnly;

    public AlertRecipients Recipients { get; init; } = new();
}

/// <summary>An alert's band on a metric's chart: the fine range, and whether the current value is outside it.</summary>
public sealed record AlertChartBand(string AlertName, AlertConditionKind Kind, AlertBand Band, bool Firing);

/// <summary>One choice in the editor's lists: an id and what people read.</summary>
public sealed record AlertChoice(string Id, string Label);

/// <summary>Who an alert can tell.</summary>
public sealed record AlertRecipientChoices(IReadOnlyList<AlertChoice> People, IReadOnlyList<string> Roles, IReadOnlyList<AlertChoice> Webhooks);

/// <summary>An alert as lists show it.</summary>
public sealed record AlertSummary(
    int Id,
    string Name,
    AlertSubject Subject,
    string SubjectName,
    string Link,
    string ConditionText,
    string ScheduleText,
    bool Firing,
    bool Muted,
    DateTimeOffset? SnoozedUntil,
    DateTimeOffset? LastCheckedAt,
    string Owner,
    bool CanEdit)
{
    public bool Snoozed(DateTimeOffset now) => SnoozedUntil > now;
}

/// <summary>An alert with everything its editor needs.</summary>
public sealed record AlertDetails(AlertSummary Summary, AlertDraft Draft, string? ToSegmentName);

/// <summary>One recorded check, with what happened to its messages.</summary>
public sealed record AlertCheckRow(
    long Id,
    DateTimeOffset DueAt,
    DateTimeOffset? CheckedAt,
    AlertTrigger Trigger,
    AlertCheckStatus Status,
    double? Value,
    double? Compared,
    string? Threshold,
    bool Met,
    AlertTransition Transition,
    string? Reason,
    string? SentTo,
    int Messages,
    int Delivered,
    int FailedMessages);

/// <summary>
/// Alerts (数据监控与预警): watches on a metric, a KPI tile's value or a segment, made by Analysts and Admins on what they
/// can see, checked as their owner sees the data after each refresh of it and on their schedule, firing once when the
/// condition starts and once when it clears. Recipients are told in the portal and by email, and webhooks get the event;
/// a recipient who may not see the same figures is told that the alert fired, without them. The checks themselves are
/// run by <see cref="AlertChecker"/>.
/// </summary>
public sealed class AlertService(
    ICurrentUser currentUser,
    IPortalDbFactory dbFactory,
    MetricService metrics,
    DashboardService dashboards,
    SegmentService segments,
    AlertChecker checker,
    AuditLog audit,
    TimeProvider clock)
{
    public const int MaxRecipients = 50;
    public const int MaxChecksListed = 200;

    public async Task<IReadOnlyList<AlertSummary>> ListAsync(AlertSubject? subject = null, int? itemId = null, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var query = db.Alerts.AsNoTracking();
        if (!user.IsInRole(Roles.Admin))
        {
            var me = user.UserId();
            query = query.Where(a => a.OwnerId == me);
        }
        query = subject switch
        {
            AlertSubject.Metric when itemId is { } id => query.Where(a => a.Subject == AlertSubject.Metric && a.MetricId == id),
            AlertSubject.Segment when itemId is { } id => query.Where(a => a.Subject == AlertSubject.Segment && a.SegmentId == id),
            AlertSubject.Tile when itemId is { } id => query.Where(a => a.Subject == AlertSubject.Tile && a.DashboardId == id),
            _ => query,
        };
        var alerts = await query.ToListAsync(cancellationToken);
        var names = await AlertNames.LoadAsync(db, alerts, cancellationToken);
        return alerts.OrderByDescending(a => a.Firing).ThenBy(a => a.Name, StringComparer.CurrentCultureIgnoreCase)
            .Select(a => Summarize(a, names, user)).ToList();
    }

    public async Task<AlertDetails> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var alert = await FindOwnAsync(db, id, user, cancellationToken);
        var names = await AlertNames.LoadAsync(db, [alert], cancellationToken);
        var draft = DraftOf(alert);
        return new AlertDetails(Summarize(alert, names, user), draft,
            draft.SegmentAlertCondition?.ToSegmentId is { } to ? names.Segment(to) : null);
    }

    public async Task<int> CreateAsync(AlertDraft draft, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var clean = await ValidateAsync(db, draft, cancellationToken);
        var now = clock.GetUtcNow();
        var alert = new Alert
        {
            Name = clean.Name,
            OwnerId = user.UserId()!,
            ConditionJson = "{}",
            ScheduleJson = "{}",
            RecipientsJson = "{}",
            CreatedAt = now,
        };
        Apply(alert, clean, now);
        db.Alerts.Add(alert);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.AlertChanged, $"Alert {alert.Id} “{alert.Name}”", "Created", cancellationToken: cancellationToken);
        return alert.Id;
    }

    public async Task UpdateAsync(int id, AlertDraft draft, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var alert = await FindOwnAsync(db, id, user, cancellationToken);
        var clean = await ValidateAsync(db, draft, cancellationToken);
        var watchesOther = alert.Subject != clean.Subject || alert.MetricId != clean.MetricId || alert.DashboardId != clean.DashboardId
            || alert.TileId != clean.TileId || alert.SegmentId != clean.SegmentId || alert.ConditionJson != Json(clean.Condition ?? (object?)clean.SegmentAlertCondition);
        Apply(alert, clean, clock.GetUtcNow());
        if (watchesOther)
        {
            // A different watch starts afresh: its first firing is news.
            alert.Firing = false;
        }
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.AlertChanged, $"Alert {alert.Id} “{alert.Name}”", "Changed", cancellationToken: cancellationToken);
    }

    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var alert = await FindOwnAsync(db, id, user, cancellationToken);
        db.Alerts.Remove(alert);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.AlertChanged, $"Alert {alert.Id} “{alert.Name}”", "Deleted", cancellationToken: cancellationToken);
    }

    /// <summary>Mutes (nobody is told until unmuted; checks go on) or unmutes an alert.</summary>
    public async Task MuteAsync(int id, bool muted, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var alert = await FindOwnAsync(db, id, user, cancellationToken);
        alert.Muted = muted;
        alert.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.AlertChanged, $"Alert {alert.Id} “{alert.Name}”", muted ? "Muted" : "Unmuted", cancellationToken: cancellationToken);
    }

    /// <summary>Snoozes an alert until a time (null wakes it).</summary>
    public async Task SnoozeAsync(int id, DateTimeOffset? until, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        if (until is { } end && end <= clock.GetUtcNow())
        {
            throw new PortalException("Choose a time in the future to snooze until.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var alert = await FindOwnAsync(db, id, user, cancellationToken);
        alert.SnoozedUntil = until;
        alert.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.AlertChanged, $"Alert {alert.Id} “{alert.Name}”",
            until is null ? "Woken from snooze" : $"Snoozed until {until:u}", cancellationToken: cancellationToken);
    }

    /// <summary>Checks an alert now (as its owner), sending what the check calls for; returns the recorded check.</summary>
    public async Task<AlertCheckRow> CheckNowAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        long checkId;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var alert = await FindOwnAsync(db, id, user, cancellationToken);
            var check = AlertChecker.AddDue(db, alert.Id, AlertTrigger.Manual, clock.GetUtcNow());
            await db.SaveChangesAsync(cancellationToken);
            checkId = check.Id;
        }
        await checker.RunAsync([checkId], cancellationToken);
        return (await ChecksAsync(id, cancellationToken)).First(c => c.Id == checkId);
    }

    /// <summary>The alert's checks, newest first, with how many of their messages were delivered.</summary>
    public async Task<IReadOnlyList<AlertCheckRow>> ChecksAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await FindOwnAsync(db, id, user, cancellationToken);
        var checks = await db.AlertChecks.AsNoTracking().Where(c => c.AlertId == id)
            .OrderByDescending(c => c.DueAt).ThenByDescending(c => c.Id).Take(MaxChecksListed).ToListAsync(cancellationToken);
        var prefix = $"alert-{id}-";
        var messages = await db.OutboxMessages.AsNoTracking().Where(m => m.IdempotencyKey.StartsWith(prefix))
            .Select(m => new { m.IdempotencyKey, m.State }).ToListAsync(cancellationToken);
        var byCheck = messages.GroupBy(m => AlertChecker.CheckOfKey(m.IdempotencyKey)).ToDictionary(g => g.Key, g => g.ToList());
        return checks.Select(c =>
        {
            var sent = byCheck.GetValueOrDefault(c.Id) ?? [];
            return new AlertCheckRow(c.Id, c.DueAt, c.CheckedAt, c.Trigger, c.Status, c.Value, c.Compared, c.Threshold, c.Met, c.Transition,
                c.Reason, c.SentTo, sent.Count, sent.Count(m => m.State == OutboxState.Delivered), sent.Count(m => m.State == OutboxState.Failed));
        }).ToList();
    }

    /// <summary>
    /// The bands the user's alerts on a metric draw on its chart, as they apply to these values (a threshold, a band, the
    /// target, the change allowed, or the usual range the metric's own history gives for the current period).
    /// </summary>
    public async Task<IReadOnlyList<AlertChartBand>> BandsAsync(int metricId, MetricValues values, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var metric = (await metrics.GetAsync(metricId, cancellationToken)).Definition;
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var me = user.UserId();
        var admin = user.IsInRole(Roles.Admin);
        var alerts = await db.Alerts.AsNoTracking().Where(a => a.MetricId == metricId && (admin || a.OwnerId == me)).ToListAsync(cancellationToken);
        var conditions = alerts.Select(a => Read<AlertCondition>(a.ConditionJson)).OfType<AlertCondition>().ToList();
        if (conditions.Count == 0)
        {
            return [];
        }
        // The band a check uses is learnt from as many periods as its condition asks; read them when the chart shows fewer.
        var needed = AlertReader.PeriodsFor(conditions);
        if (values.Trend.Count < needed && values.Through is not null)
        {
            values = await metrics.ValuesAsync(metricId, needed, cancellationToken: cancellationToken);
        }
        var history = values.Trend.Take(Math.Max(0, values.Trend.Count - 1)).Select(p => new AlertHistoryPoint(p.Start, p.Value)).ToList();
        var input = new AlertInput(values.Current?.Value, values.Compared, history, values.Current?.Start, metric.Target, metric.Direction);
        return alerts.Select(a => (a.Name, Condition: Read<AlertCondition>(a.ConditionJson)))
            .Where(a => a.Condition is not null)
            .Select(a => (a.Name, a.Condition, Reading: AlertConditions.Evaluate(a.Condition!, input)))
            .Where(a => a.Reading.Band is { } band && (band.Low is not null || band.High is not null))
            .Select(a => new AlertChartBand(a.Name, a.Condition!.Kind, a.Reading.Band!, a.Reading.Outcome == AlertOutcome.Firing))
            .ToList();
    }

    /// <summary>Who an alert can tell, for the editor: enabled users (by label), the roles, and the webhooks an Admin set up (by name).</summary>
    public async Task<AlertRecipientChoices> RecipientChoicesAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().People()
            .Select(u => new { u.Id, u.Email, u.DisplayName }).ToListAsync(cancellationToken);
        var hooks = await db.WebhookEndpoints.AsNoTracking().Select(e => new { e.Id, e.Name }).ToListAsync(cancellationToken);
        return new AlertRecipientChoices(
            users.Select(u => new AlertChoice(u.Id, string.IsNullOrWhiteSpace(u.DisplayName) || u.DisplayName == u.Email ? u.Email ?? u.Id : $"{u.DisplayName} ({u.Email})"))
                .OrderBy(u => u.Label, StringComparer.CurrentCultureIgnoreCase).ToList(),
            Roles.All.ToList(),
            hooks.Select(h => new AlertChoice(h.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), h.Name)).OrderBy(h => h.Label, StringComparer.CurrentCultureIgnoreCase).ToList());
    }

    internal static AlertDraft DraftOf(Alert alert) => new()
    {
        Name = alert.Name,
        Subject = alert.Subject,
        MetricId = alert.MetricId,
        DashboardId = alert.DashboardId,
        TileId = alert.TileId,
        SegmentId = alert.SegmentId,
        Condition = alert.Subject == AlertSubject.Segment ? null : Read<AlertCondition>(alert.ConditionJson),
        SegmentAlertCondition = alert.Subject == AlertSubject.Segment ? Read<SegmentAlertCondition>(alert.ConditionJson) : null,
        Schedule = Read<CheckSchedule>(alert.ScheduleJson) ?? CheckSchedule.AfterRefreshOnly,
        Recipients = Read<AlertRecipients>(alert.RecipientsJson) ?? new AlertRecipients(),
    };

    internal static T? Read<T>(string json) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string Json(object? value) => JsonSerializer.Serialize(value, JsonOptions);

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static AlertSummary Summarize(Alert alert, AlertNames names, System.Security.Claims.ClaimsPrincipal user)
    {
        var draft = DraftOf(alert);
        var (subjectName, link) = alert.Subject switch
        {
            AlertSubject.Metric => (names.Metric(alert.MetricId) ?? "(deleted metric)", $"/metrics/{alert.MetricId}"),
            AlertSubject.Tile => ($"{names.Dashboard(alert.DashboardId) ?? "(deleted board)"} › {names.Tile(alert.DashboardId, alert.TileId) ?? "(deleted tile)"}", $"/dashboards/{alert.DashboardId}"),
            _ => (names.Segment(alert.SegmentId) ?? "(deleted segment)", $"/segments/{alert.SegmentId}"),
        };
        var condition = alert.Subject == AlertSubject.Segment
            ? AlertSegments.Describe(draft.SegmentAlertCondition ?? new SegmentAlertCondition(), draft.SegmentAlertCondition?.ToSegmentId is { } to ? names.Segment(to) : null)
            : draft.Condition is { } c ? AlertConditions.Describe(c, names.Formatter(alert.MetricId)) : "";
        var schedule = draft.Schedule.Frequency == ScheduleFrequency.AfterRefresh
            ? draft.Schedule.Describe()
            : $"After each refresh and {draft.Schedule.Describe().ToLowerInvariant()}";
        var canEdit = alert.OwnerId == user.UserId() || user.IsInRole(Roles.Admin);
        return new AlertSummary(alert.Id, alert.Name, alert.Subject, subjectName, link, condition, schedule, alert.Firing, alert.Muted,
            alert.SnoozedUntil, alert.LastCheckedAt, names.User(alert.OwnerId), canEdit);
    }

    private void Apply(Alert alert, AlertDraft clean, DateTimeOffset now)
    {
        alert.Name = clean.Name;
        alert.Subject = clean.Subject;
        alert.MetricId = clean.MetricId;
        alert.DashboardId = clean.DashboardId;
        alert.TileId = clean.TileId;
        alert.SegmentId = clean.SegmentId;
        alert.ConditionJson = Json(clean.Subject == AlertSubject.Segment ? clean.SegmentAlertCondition : clean.Condition);
        alert.ScheduleJson = Json(clean.Schedule);
        alert.NextCheckAt = clean.Schedule.NextAfter(now);
        alert.RecipientsJson = Json(clean.Recipients);
        alert.UpdatedAt = now;
    }

    /// <summary>Checks a draft in the user's words and returns it cleaned; the watched item must be visible to the user.</summary>
    private async Task<AlertDraft> ValidateAsync(IPortalDb db, AlertDraft draft, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var name = draft.Name.Trim();
        if (name.Length == 0)
        {
            throw new PortalException("Give the alert a name.");
        }
        if (name.Length > Alert.MaxNameLength)
        {
            throw new PortalException($"An alert's name can have at most {Alert.MaxNameLength} characters.");
        }
        if (draft.Schedule.Validate() is { } scheduleProblem)
        {
            throw new PortalException(scheduleProblem);
        }
        var clean = draft with { Name = name, MetricId = null, DashboardId = null, TileId = null, SegmentId = null, Condition = null, SegmentAlertCondition = null };
        switch (draft.Subject)
        {
            case AlertSubject.Metric:
                {
                    var metricId = draft.MetricId ?? throw new PortalException("Choose the metric the alert watches.");
                    var metric = await metrics.GetAsync(metricId, cancellationToken);
                    var condition = draft.Condition ?? throw new PortalException("Choose what the alert watches for.");
                    if (AlertConditions.Validate(condition) is { } problem)
                    {
                        throw new PortalException(problem);
                    }
                    if (condition.Kind == AlertConditionKind.MissesTarget && (metric.Definition.Target is null || metric.Definition.Direction == MetricDirection.None))
                    {
                        throw new PortalException($"{metric.Definition.Name} has no target with a good direction; set one on the metric, or choose another condition.");
                    }
                    if (condition is { Kind: AlertConditionKind.Unusual, Method: UnusualMethod.SameWeekday } && metric.Definition.Grain != Queries.DateBucket.Day)
                    {
                        throw new PortalException("The same-weekday range needs a metric measured by day.");
                    }
                    clean = clean with { MetricId = metricId, Condition = condition };
                    break;
                }
            case AlertSubject.Tile:
                {
                    var dashboardId = draft.DashboardId ?? throw new PortalException("Choose the board the tile is on.");
                    var board = await dashboards.GetAsync(dashboardId, cancellationToken);
                    var tile = board.Tiles.FirstOrDefault(t => t.Id == draft.TileId) ?? throw new PortalException("That tile is no longer on the board.");
                    if (tile.Type != TileType.Kpi)
                    {
                        throw new PortalException("Alerts watch a KPI tile's figure; choose a KPI tile (or a metric).");
                    }
                    var condition = draft.Condition ?? throw new PortalException("Choose what the alert watches for.");
                    if (AlertConditions.Validate(condition) is { } problem)
                    {
                        throw new PortalException(problem);
                    }
                    if (condition.Kind is AlertConditionKind.Unusual or AlertConditionKind.MissesTarget)
                    {
                        throw new PortalException("A tile's figure has no history or target of its own: put a metric on the tile and watch the metric for that.");
                    }
                    clean = clean with { DashboardId = dashboardId, TileId = tile.Id, Condition = condition };
                    break;
                }
            case AlertSubject.Segment:
                {
                    var segmentId = draft.SegmentId ?? throw new PortalException("Choose the segment the alert watches.");
                    var (segment, _, _) = await segments.GetAsync(segmentId, cancellationToken);
                    var condition = draft.SegmentAlertCondition ?? throw new PortalException("Choose what the alert watches for.");
                    if (AlertSegments.Validate(condition) is { } problem)
                    {
                        throw new PortalException(problem);
                    }
                    if (condition.Kind == SegmentAlertKind.MovedTo)
                    {
                        var (to, _, _) = await segments.GetAsync(condition.ToSegmentId!.Value, cancellationToken);
                        if (to.Id == segment.Id)
                        {
                            throw new PortalException("Choose another segment for customers to move to.");
                        }
                        if (to.DatasetId != segment.DatasetId)
                        {
                            throw new PortalException($"{to.Name} is on another dataset than {segment.Name}; customers can only move between segments of one dataset.");
                        }
                    }
                    clean = clean with { SegmentId = segmentId, SegmentAlertCondition = condition };
                    break;
                }
            default:
                throw new PortalException("Choose what the alert watches.");
        }
        var recipients = draft.Recipients;
        var userIds = recipients.UserIds.Where(u => !string.IsNullOrWhiteSpace(u)).Distinct(StringComparer.Ordinal).ToList();
        var roles = recipients.Roles.Where(r => !string.IsNullOrWhiteSpace(r)).Distinct(StringComparer.Ordinal).ToList();
        if (userIds.Count + roles.Count + recipients.WebhookIds.Count == 0)
        {
            throw new PortalException("Choose who is told: at least one person, role or webhook.");
        }
        if (userIds.Count + roles.Count + recipients.WebhookIds.Count > MaxRecipients)
        {
            throw new PortalException($"An alert can tell at most {MaxRecipients} people, roles and webhooks; use a role for more.");
        }
        if (roles.FirstOrDefault(r => !Roles.All.Contains(r)) is { } unknownRole)
        {
            throw new PortalException($"There is no role “{unknownRole}”.");
        }
        var known = await db.Users.AsNoTracking().People().Where(u => userIds.Contains(u.Id)).Select(u => u.Id).ToListAsync(cancellationToken);
        if (userIds.Except(known).Any())
        {
            throw new PortalException("One of the people chosen no longer exists or is disabled; choose again.");
        }
        var hooks = recipients.WebhookIds.Distinct().ToList();
        var knownHooks = await db.WebhookEndpoints.AsNoTracking().Where(e => hooks.Contains(e.Id)).Select(e => e.Id).ToListAsync(cancellationToken);
        if (hooks.Except(knownHooks).Any())
        {
            throw new PortalException("One of the webhooks chosen no longer exists; choose again.");
        }
        return clean with { Recipients = recipients with { UserIds = userIds, Roles = roles, WebhookIds = hooks } };
    }

    private async Task<Alert> FindOwnAsync(IPortalDb db, int id, System.Security.Claims.ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var alert = await db.Alerts.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        // Someone else's alert looks like a missing one, so ids cannot be probed.
        if (alert is null || (alert.OwnerId != user.UserId() && !user.IsInRole(Roles.Admin)))
        {
            throw new PortalException("That alert no longer exists.");
        }
        return alert;
    }
}
