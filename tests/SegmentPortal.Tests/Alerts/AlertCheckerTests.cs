using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Metrics;

namespace SegmentPortal.Tests.Alerts;

/// <summary>
/// Alerts checked for real, over a real SQLite metadata file and DuckDB warehouse: the orders of <see cref="MetricOrders"/>
/// (today is 2024-06-15). June to date is 342 € in all, of which North 35 €; Viewers see only North's rows.
/// </summary>
public sealed class AlertCheckerTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness _harness = null!;
    private Dataset _orders = null!;
    private AppUser _analyst = null!;
    private AppUser _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        var orders = await MetricOrders.CreateAsync(Ct);
        (_harness, _orders, _analyst, _viewer) = orders;
        await orders.ViewersSeeTheirRegionAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private MetricDefinition Revenue(double target) => new()
    {
        Name = "Revenue",
        DatasetId = _orders.Id,
        Measure = new MetricMeasure(MetricMeasureKind.Sum, "amount"),
        TimeColumn = "order_date",
        Grain = DateBucket.Month,
        Format = MetricFormat.Currency,
        Unit = "€",
        Direction = MetricDirection.HigherIsBetter,
        Target = target,
    };

    private async Task<(int Metric, int Alert)> RevenueAlertAsync(double target, AlertRecipients recipients)
    {
        var metric = await _harness.WithAsync<MetricService, int>(m => m.CreateAsync(Revenue(target), Ct));
        var alert = await _harness.WithAsync<AlertService, int>(a => a.CreateAsync(new AlertDraft
        {
            Name = "Revenue below target",
            Subject = AlertSubject.Metric,
            MetricId = metric,
            Condition = new AlertCondition { Kind = AlertConditionKind.MissesTarget },
            Recipients = recipients,
        }, Ct));
        return (metric, alert);
    }

    private async Task<IPortalDb> DbAsync() => await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);

    [Fact]
    public async Task A_metric_below_target_fires_once_tells_the_owner_the_figure_and_a_restricted_viewer_only_that_it_fired()
    {
        var (_, alertId) = await RevenueAlertAsync(400, new AlertRecipients { UserIds = [_analyst.Id, _viewer.Id] });

        var first = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alertId, Ct));
        Assert.Equal(AlertCheckStatus.Done, first.Status);
        Assert.True(first.Met);
        Assert.Equal(AlertTransition.Fired, first.Transition);
        Assert.Equal(342, first.Value);
        Assert.Contains("vera@example.com", first.SentTo);
        Assert.Contains("without figures", first.SentTo);

        await using (var db = await DbAsync())
        {
            var notes = await db.Notifications.AsNoTracking().ToListAsync(Ct);
            var mine = Assert.Single(notes, n => n.UserId == _analyst.Id);
            Assert.Contains("342", mine.Body);
            Assert.StartsWith("/metrics/", mine.Link);
            var theirs = Assert.Single(notes, n => n.UserId == _viewer.Id);
            // The Viewer sees only North (35 €): they get neither the owner's 342 nor anything else numeric about revenue.
            Assert.DoesNotContain("342", theirs.Body + theirs.Title);
            Assert.Contains("not included", theirs.Body);
            var emails = await db.OutboxMessages.AsNoTracking().Where(m => m.Channel == DeliveryChannel.Email).ToListAsync(Ct);
            Assert.Equal(2, emails.Count);
            var viewerMail = Assert.Single(emails, m => m.Recipient == _viewer.Id);
            Assert.DoesNotContain("342", viewerMail.HtmlBody + viewerMail.TextBody + viewerMail.Subject);
            Assert.Null(viewerMail.AttachmentsJson); // no chart of the owner's figures either
            var ownerMail = Assert.Single(emails, m => m.Recipient == _analyst.Id);
            Assert.Contains("342", ownerMail.HtmlBody);
            Assert.Contains("cid:chart.png", ownerMail.HtmlBody);
            Assert.Contains("\"Inline\":true", ownerMail.AttachmentsJson);
        }

        // Still below target: recorded, but nobody is told again.
        var second = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alertId, Ct));
        Assert.True(second.Met);
        Assert.Equal(AlertTransition.None, second.Transition);
        Assert.Null(second.SentTo);
        await using (var db = await DbAsync())
        {
            Assert.Equal(2, await db.Notifications.CountAsync(Ct));
        }
    }

    [Fact]
    public async Task An_alert_clears_once_when_the_figure_is_back_on_target()
    {
        var (metricId, alertId) = await RevenueAlertAsync(400, new AlertRecipients { UserIds = [_analyst.Id], Email = false });
        await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alertId, Ct));
        await _harness.WithAsync<MetricService>(m => m.UpdateAsync(metricId, Revenue(300), Ct));

        var cleared = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alertId, Ct));

        Assert.False(cleared.Met);
        Assert.Equal(AlertTransition.Cleared, cleared.Transition);
        await using var db = await DbAsync();
        var notes = await db.Notifications.AsNoTracking().OrderBy(n => n.Id).ToListAsync(Ct);
        Assert.Equal(2, notes.Count);
        Assert.Contains("back to normal", notes[1].Title);
        Assert.Equal(0, await db.OutboxMessages.CountAsync(Ct));
    }

    [Fact]
    public async Task A_muted_alert_records_its_checks_and_tells_nobody()
    {
        var (_, alertId) = await RevenueAlertAsync(400, new AlertRecipients { UserIds = [_analyst.Id] });
        await _harness.WithAsync<AlertService>(a => a.MuteAsync(alertId, true, Ct));

        var check = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alertId, Ct));

        Assert.Equal(AlertTransition.Fired, check.Transition);
        Assert.Equal("Nobody: the alert is muted.", check.SentTo);
        await using var db = await DbAsync();
        Assert.Equal(0, await db.Notifications.CountAsync(Ct));
        Assert.Equal(0, await db.OutboxMessages.CountAsync(Ct));
    }

    [Fact]
    public async Task A_refresh_makes_checks_due_and_a_check_interrupted_by_a_crash_runs_again_without_telling_anyone_twice()
    {
        var (_, alertId) = await RevenueAlertAsync(400, new AlertRecipients { UserIds = [_analyst.Id, _viewer.Id] });
        var checker = _harness.Services.GetRequiredService<AlertChecker>();
        Assert.Contains(_harness.Services.CreateScope().ServiceProvider.GetServices<IDatasetRefreshListener>(), l => l is AlertRefreshListener);

        Assert.Equal(1, await checker.EnqueueForDatasetAsync(_orders.Id, Ct));
        long checkId;
        await using (var db = await DbAsync())
        {
            // As a process killed mid-check leaves it: started once, still due.
            var check = await db.AlertChecks.SingleAsync(Ct);
            Assert.Equal(AlertTrigger.Refresh, check.Trigger);
            check.Attempts = 1;
            await db.SaveChangesAsync(Ct);
            checkId = check.Id;
        }

        Assert.Equal(1, await checker.RunDueAsync(Ct));
        Assert.Equal(0, await checker.RunDueAsync(Ct));

        await using (var db = await DbAsync())
        {
            var check = await db.AlertChecks.AsNoTracking().SingleAsync(Ct);
            Assert.Equal(AlertCheckStatus.Done, check.Status);
            Assert.Equal(2, check.Attempts);
            var keys = await db.OutboxMessages.AsNoTracking().Select(m => m.IdempotencyKey).ToListAsync(Ct);
            Assert.Equal(2, keys.Count);
            Assert.All(keys, k => Assert.StartsWith($"alert-{alertId}-check-{checkId}-email-", k));
            Assert.Equal(2, await db.Notifications.CountAsync(Ct));
        }
        var history = await _harness.WithAsync<AlertService, IReadOnlyList<AlertCheckRow>>(a => a.ChecksAsync(alertId, Ct));
        Assert.Equal(2, Assert.Single(history).Messages);
    }

    [Fact]
    public async Task A_check_given_up_after_repeated_crashes_is_recorded_as_failed()
    {
        var (_, alertId) = await RevenueAlertAsync(400, new AlertRecipients { UserIds = [_analyst.Id] });
        await using (var db = await DbAsync())
        {
            db.AlertChecks.Add(new AlertCheck { AlertId = alertId, Status = AlertCheckStatus.Due, DueAt = DateTimeOffset.UnixEpoch, Attempts = AlertChecker.MaxAttempts });
            await db.SaveChangesAsync(Ct);
        }

        await _harness.Services.GetRequiredService<AlertChecker>().RunDueAsync(Ct);

        await using (var db = await DbAsync())
        {
            var check = await db.AlertChecks.AsNoTracking().SingleAsync(Ct);
            Assert.Equal(AlertCheckStatus.Failed, check.Status);
            Assert.Contains("given up", check.Reason);
        }
    }

    [Fact]
    public async Task Scheduled_alerts_become_due_once_and_move_their_next_time()
    {
        var metric = await _harness.WithAsync<MetricService, int>(m => m.CreateAsync(Revenue(400), Ct));
        var alertId = await _harness.WithAsync<AlertService, int>(a => a.CreateAsync(new AlertDraft
        {
            Name = "Daily revenue watch",
            Subject = AlertSubject.Metric,
            MetricId = metric,
            Condition = new AlertCondition { Kind = AlertConditionKind.Below, Threshold = 1000 },
            Schedule = new CheckSchedule { Frequency = ScheduleFrequency.Daily, At = new TimeOnly(9, 0), TimeZone = "Asia/Shanghai" },
            Recipients = new AlertRecipients { UserIds = [_analyst.Id] },
        }, Ct));
        await using (var db = await DbAsync())
        {
            var alert = await db.Alerts.SingleAsync(Ct);
            // Today is 2024-06-15 12:00 UTC = 20:00 in Shanghai: the next 09:00 there is 2024-06-16 01:00 UTC.
            Assert.Equal(new DateTimeOffset(2024, 6, 16, 1, 0, 0, TimeSpan.Zero), alert.NextCheckAt);
            alert.NextCheckAt = new DateTimeOffset(2024, 6, 15, 1, 0, 0, TimeSpan.Zero);
            await db.SaveChangesAsync(Ct);
        }
        var checker = _harness.Services.GetRequiredService<AlertChecker>();

        Assert.Equal(1, await checker.EnqueueScheduledAsync(Ct));
        Assert.Equal(0, await checker.EnqueueScheduledAsync(Ct));

        await using (var db = await DbAsync())
        {
            Assert.Equal(new DateTimeOffset(2024, 6, 16, 1, 0, 0, TimeSpan.Zero), (await db.Alerts.SingleAsync(Ct)).NextCheckAt);
            Assert.Equal(AlertTrigger.Schedule, (await db.AlertChecks.SingleAsync(Ct)).Trigger);
        }
        Assert.Equal(1, await checker.RunDueAsync(Ct));
        var check = Assert.Single(await _harness.WithAsync<AlertService, IReadOnlyList<AlertCheckRow>>(a => a.ChecksAsync(alertId, Ct)));
        Assert.Equal(AlertTransition.Fired, check.Transition);
    }

    [Fact]
    public async Task Bad_drafts_are_refused_in_words_and_others_alerts_look_missing()
    {
        var metric = await _harness.WithAsync<MetricService, int>(m => m.CreateAsync(Revenue(400) with { Target = null, Direction = MetricDirection.None }, Ct));
        var draft = new AlertDraft
        {
            Name = "Watch",
            Subject = AlertSubject.Metric,
            MetricId = metric,
            Condition = new AlertCondition { Kind = AlertConditionKind.MissesTarget },
            Recipients = new AlertRecipients { UserIds = [_analyst.Id] },
        };
        async Task<string> Refusal(AlertDraft d) =>
            (await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<AlertService, int>(a => a.CreateAsync(d, Ct)))).Message;

        Assert.Contains("no target", await Refusal(draft));
        Assert.Equal("Give the alert a name.", await Refusal(draft with { Name = " " }));
        Assert.Contains("who is told", await Refusal(draft with { Condition = new AlertCondition { Kind = AlertConditionKind.Above, Threshold = 1 }, Recipients = new AlertRecipients() }));
        Assert.Contains("time zone", await Refusal(draft with
        {
            Condition = new AlertCondition { Kind = AlertConditionKind.Above, Threshold = 1 },
            Schedule = new CheckSchedule { Frequency = ScheduleFrequency.Daily, TimeZone = "Mars/Olympus" },
        }));

        var id = await _harness.WithAsync<AlertService, int>(a => a.CreateAsync(draft with { Condition = new AlertCondition { Kind = AlertConditionKind.Above, Threshold = 1 } }, Ct));
        var other = await _harness.CreateUserAsync("other@example.com", "Correct-horse-9", Roles.Analyst);
        _harness.CurrentUser.Principal = CoreHarness.Principal(other.Id, other.Email!, Roles.Analyst);
        var missing = await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<AlertService, AlertDetails>(a => a.GetAsync(id, Ct)));
        Assert.Equal("That alert no longer exists.", missing.Message);
        Assert.Empty(await _harness.WithAsync<AlertService, IReadOnlyList<AlertSummary>>(a => a.ListAsync(cancellationToken: Ct)));
    }
}
