using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Alerts;

/// <summary>
/// Runs alert checks. A check is first saved as <see cref="AlertCheckStatus.Due"/> (by a refresh, the schedule or "check
/// now"); running it reads the figure as the alert's owner sees it (their row and column rules, through the query
/// layer; metrics of one owner are read together, so checks on one dataset share their scans), decides whether the alert
/// starts or stops firing, and saves the result together with the messages it sends — in-portal notifications and
/// outbox messages — in one transaction. A check interrupted before that (a crash, a kill) is still Due and runs again
/// after a restart; the messages' idempotency keys (alert, check, recipient) keep anyone from being told twice.
/// </summary>
public sealed class AlertChecker(
    IServiceScopeFactory scopes,
    IPortalDbFactory dbFactory,
    IOutbox outbox,
    NotificationSignals notificationSignals,
    AlertSignal signal,
    PortalAddress address,
    TimeProvider clock,
    ILogger<AlertChecker> logger)
{
    /// <summary>Runs of one check before it is given up as failed (each restart mid-check counts one).</summary>
    public const int MaxAttempts = 3;

    /// <summary>How many checks' results are saved in one transaction.</summary>
    public const int SaveBatch = 100;

    /// <summary>How many checks one run takes at most; the rest wait for the next.</summary>
    public const int Batch = 2000;

    private readonly SemaphoreSlim _gate = new(1, 1);

    internal static AlertCheck AddDue(IPortalDb db, int alertId, AlertTrigger trigger, DateTimeOffset now)
    {
        var check = new AlertCheck { AlertId = alertId, Trigger = trigger, Status = AlertCheckStatus.Due, DueAt = now };
        db.AlertChecks.Add(check);
        return check;
    }

    /// <summary>The idempotency key of one message of a check: the alert, the check, the channel and the recipient.</summary>
    internal static string KeyOf(int alertId, long checkId, string channel, string recipient) =>
        string.Create(CultureInfo.InvariantCulture, $"alert-{alertId}-check-{checkId}-{channel}-{recipient}");

    /// <summary>The check a message key belongs to; 0 for another key.</summary>
    internal static long CheckOfKey(string key)
    {
        var parts = key.Split('-');
        return parts.Length > 3 && parts[2] == "check" && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0;
    }

    /// <summary>Makes a due check for every alert that reads the dataset (after its refresh); returns how many.</summary>
    public async Task<int> EnqueueForDatasetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var metricIds = await db.Metrics.AsNoTracking().Where(m => m.DatasetId == datasetId).Select(m => m.Id).ToListAsync(cancellationToken);
        var segmentIds = await db.Segments.AsNoTracking().Where(s => s.DatasetId == datasetId).Select(s => s.Id).ToListAsync(cancellationToken);
        var alerts = await db.Alerts.AsNoTracking()
            .Where(a => (a.MetricId != null && metricIds.Contains(a.MetricId.Value)) || (a.SegmentId != null && segmentIds.Contains(a.SegmentId.Value))
                || a.Subject == AlertSubject.Tile)
            .Select(a => new { a.Id, a.Subject, a.DashboardId }).ToListAsync(cancellationToken);
        var ids = new List<int>();
        foreach (var alert in alerts)
        {
            if (alert.Subject != AlertSubject.Tile
                || (alert.DashboardId is { } board && (await DashboardDatasets.DatasetsOfAsync(db, board, cancellationToken)).Contains(datasetId)))
            {
                ids.Add(alert.Id);
            }
        }
        var now = clock.GetUtcNow();
        foreach (var id in ids)
        {
            AddDue(db, id, AlertTrigger.Refresh, now);
        }
        await db.SaveChangesAsync(cancellationToken);
        if (ids.Count > 0)
        {
            signal.Notify();
        }
        return ids.Count;
    }

    /// <summary>Makes a due check for every alert whose scheduled time has come, moving its next time in the same save.</summary>
    public async Task<int> EnqueueScheduledAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var due = await db.Alerts.Where(a => a.NextCheckAt != null && a.NextCheckAt <= now).ToListAsync(cancellationToken);
        foreach (var alert in due)
        {
            AddDue(db, alert.Id, AlertTrigger.Schedule, now);
            alert.NextCheckAt = (AlertService.Read<CheckSchedule>(alert.ScheduleJson) ?? CheckSchedule.AfterRefreshOnly).NextAfter(now);
        }
        await db.SaveChangesAsync(cancellationToken);
        if (due.Count > 0)
        {
            signal.Notify();
        }
        return due.Count;
    }

    /// <summary>Runs every due check (oldest first); returns how many were run.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken = default)
    {
        List<long> ids;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            ids = await db.AlertChecks.AsNoTracking().Where(c => c.Status == AlertCheckStatus.Due)
                .OrderBy(c => c.Id).Select(c => c.Id).Take(Batch).ToListAsync(cancellationToken);
        }
        if (ids.Count > 0)
        {
            await RunAsync(ids, cancellationToken);
        }
        return ids.Count;
    }

    /// <summary>Runs these checks (those still due).</summary>
    public async Task RunAsync(IReadOnlyCollection<long> checkIds, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RunLockedAsync(checkIds, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RunLockedAsync(IReadOnlyCollection<long> checkIds, CancellationToken cancellationToken)
    {
        List<(AlertCheck Check, Alert Alert)> work;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var checks = await db.AlertChecks.Where(c => checkIds.Contains(c.Id) && c.Status == AlertCheckStatus.Due).ToListAsync(cancellationToken);
            var alertIds = checks.Select(c => c.AlertId).Distinct().ToList();
            var alerts = await db.Alerts.AsNoTracking().Where(a => alertIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
            foreach (var check in checks)
            {
                // Counted before the work, so a check that keeps crashing the process is given up after a few restarts.
                check.Attempts++;
                if (check.Attempts > MaxAttempts)
                {
                    check.Status = AlertCheckStatus.Failed;
                    check.CheckedAt = clock.GetUtcNow();
                    check.Reason = $"The check was interrupted {MaxAttempts} times and was given up.";
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            work = checks.Where(c => c.Status == AlertCheckStatus.Due && alerts.ContainsKey(c.AlertId))
                .Select(c => (c, alerts[c.AlertId])).ToList();
        }
        foreach (var owner in work.GroupBy(w => w.Alert.OwnerId))
        {
            await RunForOwnerAsync(owner.Key, owner.ToList(), cancellationToken);
        }
    }

    private async Task RunForOwnerAsync(string ownerId, IReadOnlyList<(AlertCheck Check, Alert Alert)> work, CancellationToken cancellationToken)
    {
        PortalPerson? owner;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            owner = await db.FindEnabledAsync(ownerId, cancellationToken);
        }
        if (owner is null)
        {
            foreach (var (check, _) in work)
            {
                await FailAsync(check.Id, "The alert's owner is disabled or removed, so it is not checked. An Admin can delete it.", cancellationToken);
            }
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = owner.Principal();
        var reader = new AlertReader(scope.ServiceProvider);
        // Who recipients are, read once per run: an owner's many alerts usually tell the same people.
        var people = new Dictionary<string, PortalPerson?>(StringComparer.Ordinal);
        await reader.LoadMetricsAsync(work.Where(w => w.Alert.Subject == AlertSubject.Metric)
            .Select(w => (w.Alert.MetricId!.Value, AlertService.DraftOf(w.Alert).Condition ?? new AlertCondition())).ToList(), cancellationToken);
        var done = new List<(AlertCheck Check, Alert Alert, AlertResult Result)>();
        foreach (var (check, alert) in work)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AlertResult result;
            try
            {
                result = await reader.ReadAsync(alert, check, cancellationToken);
            }
            catch (PortalException ex)
            {
                await FailAsync(check.Id, ex.Message, cancellationToken);
                continue;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Alert {AlertId} could not be checked", alert.Id);
                await FailAsync(check.Id, "The check failed unexpectedly; it is in the server log.", cancellationToken);
                continue;
            }
            done.Add((check, alert, result));
            if (done.Count == SaveBatch)
            {
                await SaveAsync(owner, done, people, cancellationToken);
                done.Clear();
            }
        }
        if (done.Count > 0)
        {
            await SaveAsync(owner, done, people, cancellationToken);
        }
    }

    /// <summary>
    /// Saves checks' results, their alerts' new states and every message they send, in one transaction (up to
    /// <see cref="SaveBatch"/> checks of a run together): all of it is stored, or none and the checks stay due.
    /// </summary>
    private async Task SaveAsync(PortalPerson owner, IReadOnlyList<(AlertCheck Check, Alert Alert, AlertResult Result)> items,
        Dictionary<string, PortalPerson?> people, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var checkIds = items.Select(i => i.Check.Id).ToList();
        var alertIds = items.Select(i => i.Alert.Id).Distinct().ToList();
        var checks = await db.AlertChecks.Where(c => checkIds.Contains(c.Id) && c.Status == AlertCheckStatus.Due).ToDictionaryAsync(c => c.Id, cancellationToken);
        var alerts = await db.Alerts.Where(a => alertIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var notifications = scope.ServiceProvider.GetRequiredService<NotificationService>();
        var notified = new HashSet<string>(StringComparer.Ordinal);
        var sent = false;
        foreach (var (checkAsRead, alertAsRead, result) in items)
        {
            // A check done meanwhile, or an alert deleted, is left as it is.
            if (checks.TryGetValue(checkAsRead.Id, out var check) && alerts.TryGetValue(alertAsRead.Id, out var alert))
            {
                sent |= await RecordAsync(db, notifications, owner, alert, check, result, people, now, notified, cancellationToken);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        if (sent)
        {
            outbox.Notify();
        }
        if (notified.Count > 0)
        {
            notificationSignals.Raise(notified);
        }
    }

    /// <summary>One check's result and the alert's new state, with the notifications and outbox messages it sends, added to <paramref name="db"/>; says whether anything is sent.</summary>
    private async Task<bool> RecordAsync(IPortalDb db, NotificationService notifications, PortalPerson owner, Alert alert, AlertCheck check, AlertResult result,
        Dictionary<string, PortalPerson?> people, DateTimeOffset now, HashSet<string> notified, CancellationToken cancellationToken)
    {
        var reading = result.Reading;
        var transition = result.IsEvent
            ? reading.Outcome == AlertOutcome.Firing ? AlertTransition.Fired : AlertTransition.None
            : AlertConditions.Next(alert.Firing, reading.Outcome);
        check.Status = AlertCheckStatus.Done;
        check.CheckedAt = now;
        check.Value = reading.Value;
        check.Compared = reading.Compared;
        check.Threshold = Cut(result.Threshold, 200);
        check.Met = reading.Outcome == AlertOutcome.Firing;
        check.Transition = transition;
        check.Reason = Cut(reading.Reason, AlertCheck.MaxTextLength);
        if (reading.Outcome != AlertOutcome.NotEvaluable)
        {
            alert.Firing = reading.Outcome == AlertOutcome.Firing;
        }
        alert.LastCheckedAt = now;

        var told = new List<string>();
        if (!AlertConditions.Sends(transition, alert.Muted, alert.SnoozedUntil, now))
        {
            check.SentTo = transition == AlertTransition.None ? null
                : alert.Muted ? "Nobody: the alert is muted."
                : $"Nobody: the alert is snoozed until {alert.SnoozedUntil:u}.";
        }
        else
        {
            var recipients = AlertService.Read<AlertRecipients>(alert.RecipientsJson) ?? new AlertRecipients();
            var message = new AlertMessage(alert, check, result, transition, owner, address);
            foreach (var person in await PeopleAsync(db, recipients, people, cancellationToken))
            {
                var figures = person.Id == owner.Id || await SeesSameAsync(person, owner, result.DatasetIds, cancellationToken);
                var (title, body) = message.Text(figures);
                if (await notifications.AddAsync(db, person.Id,
                        new NotificationRequest(title, body, message.Link, transition == AlertTransition.Fired ? NotificationKind.Warning : NotificationKind.Success,
                            KeyOf(alert.Id, check.Id, "portal", person.Id)), cancellationToken) is not null)
                {
                    notified.Add(person.Id);
                }
                var channels = "in the portal";
                if (recipients.Email)
                {
                    var chart = figures ? message.ChartPng() : null;
                    await outbox.EnqueueAsync(db, OutboxRequest.Email(person.Id, title, message.Html(figures, chart is not null), body,
                        KeyOf(alert.Id, check.Id, "email", person.Id),
                        chart is null ? null : [new OutboxFile(AlertMessage.ChartFileName, "image/png", chart) { Inline = true }]), cancellationToken);
                    channels = "in the portal and by email";
                }
                told.Add($"{person.Label} ({channels}{(figures ? "" : ", without figures: they see other data")})");
            }
            var endpoints = recipients.WebhookIds.Count == 0 ? []
                : await db.WebhookEndpoints.AsNoTracking().Where(e => recipients.WebhookIds.Contains(e.Id))
                    .Select(e => new { e.Id, e.Name }).ToListAsync(cancellationToken);
            foreach (var endpoint in endpoints)
            {
                var (title, body) = message.Text(figures: true);
                await outbox.EnqueueAsync(db, OutboxRequest.Webhook(endpoint.Id, message.EventType, title, body, message.PayloadJson(),
                    KeyOf(alert.Id, check.Id, "webhook", endpoint.Id.ToString(CultureInfo.InvariantCulture))), cancellationToken);
                told.Add($"webhook {endpoint.Name}");
            }
            check.SentTo = Cut(told.Count == 0 ? "Nobody: no recipient is left (removed, disabled or empty roles)." : string.Join("; ", told), AlertCheck.MaxTextLength);
        }
        return told.Count > 0;
    }

    /// <summary>
    /// Whether a recipient may be given the owner's figures: they see these datasets' rows and columns exactly as the owner
    /// does, or all of them. Anyone else is told the alert fired, without figures (the message says less, never more).
    /// </summary>
    private async Task<bool> SeesSameAsync(PortalPerson person, PortalPerson owner, IReadOnlyCollection<int> datasetIds, CancellationToken cancellationToken)
    {
        if (datasetIds.Count == 0)
        {
            return false;
        }
        var recipientKey = await ViewKeyAsync(person.Principal(), datasetIds);
        if (recipientKey.Failed)
        {
            return false;
        }
        if (recipientKey.Key is null)
        {
            return true;
        }
        var ownerKey = await ViewKeyAsync(owner.Principal(), datasetIds);
        return !ownerKey.Failed && ownerKey.Key == recipientKey.Key;

        async Task<(bool Failed, string? Key)> ViewKeyAsync(ClaimsPrincipal principal, IReadOnlyCollection<int> ids)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = principal;
            try
            {
                return (false, await scope.ServiceProvider.GetRequiredService<Authorizer>().ViewKeyAsync(ids, cancellationToken));
            }
            catch (PortalException)
            {
                return (true, null); // A refused account (disabled, no data role) sees nothing.
            }
        }
    }

    private static async Task<IReadOnlyList<PortalPerson>> PeopleAsync(IPortalDb db, AlertRecipients recipients, Dictionary<string, PortalPerson?> known,
        CancellationToken cancellationToken)
    {
        var ids = new List<string>(recipients.UserIds);
        foreach (var role in recipients.Roles)
        {
            ids.AddRange(await db.EnabledMembersAsync(role, cancellationToken));
        }
        var people = new List<PortalPerson>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (!known.TryGetValue(id, out var person))
            {
                known[id] = person = await db.FindEnabledAsync(id, cancellationToken);
            }
            if (person is not null)
            {
                people.Add(person);
            }
        }
        return people;
    }

    private async Task FailAsync(long checkId, string reason, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var check = await db.AlertChecks.SingleOrDefaultAsync(c => c.Id == checkId && c.Status == AlertCheckStatus.Due, cancellationToken);
        if (check is null)
        {
            return;
        }
        check.Status = AlertCheckStatus.Failed;
        check.CheckedAt = clock.GetUtcNow();
        check.Reason = Cut(reason, AlertCheck.MaxTextLength);
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string? Cut(string? text, int length) => text is null || text.Length <= length ? text : text[..(length - 1)] + "…";
}
