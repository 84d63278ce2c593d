using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Metrics;

namespace SegmentPortal.Tests.Alerts;

/// <summary>
/// Segment alerts over the orders of <see cref="MetricOrders"/>: customers 1 and 4 ordered only in the North, 2 only in
/// the South, 3 in both. The segments' rules are changed between refreshes to move customers, as new data would.
/// </summary>
public sealed class AlertSegmentTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness _harness = null!;
    private Dataset _orders = null!;
    private AppUser _analyst = null!;

    /// <summary>Time moves on a little at every reading, so a refresh comes after the check that asked for it, as in life.</summary>
    private sealed class TickingClock(DateTimeOffset start) : TimeProvider
    {
        private long _ticks;

        public override DateTimeOffset GetUtcNow() => start.AddMilliseconds(Interlocked.Increment(ref _ticks));

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }

    public async ValueTask InitializeAsync() =>
        (_harness, _orders, _analyst, _) = await MetricOrders.CreateAsync(Ct, new TickingClock(MetricOrders.Noon));

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private static RuleTree Where(string field, RuleOperator op, string value) =>
        new() { Root = new RuleGroup { Children = [new FieldCondition { Field = field, Operator = op, Value = value }] } };

    private async Task<int> SegmentAsync(string name, RuleTree rule)
    {
        var id = await _harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft(name, _orders.Id, rule), Ct));
        await _harness.WithAsync<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(id, Ct));
        return id;
    }

    private Task ChangeAsync(int id, string name, RuleTree rule) =>
        _harness.WithAsync<SegmentService>(s => s.UpdateAsync(id, new SegmentDraft(name, _orders.Id, rule), Ct));

    private Task<int> AlertAsync(string name, int segmentId, SegmentAlertCondition condition) =>
        _harness.WithAsync<AlertService, int>(a => a.CreateAsync(new AlertDraft
        {
            Name = name,
            Subject = AlertSubject.Segment,
            SegmentId = segmentId,
            SegmentAlertCondition = condition,
            Recipients = new AlertRecipients { UserIds = [_analyst.Id], Email = false },
        }, Ct));

    [Fact]
    public async Task Customers_moving_from_one_segment_to_another_fire_the_churn_warning_with_who_moved()
    {
        var champions = await SegmentAsync("Champions", Where("region", RuleOperator.Equals, "North")); // 1, 3, 4
        var atRisk = await SegmentAsync("At risk", Where("region", RuleOperator.Equals, "South"));      // 2, 3
        var moves = await AlertAsync("Champions slipping", champions,
            new SegmentAlertCondition { Kind = SegmentAlertKind.MovedTo, ToSegmentId = atRisk, ListCap = 5 });
        var shrink = await AlertAsync("Champions shrank", champions,
            new SegmentAlertCondition { Kind = SegmentAlertKind.SizeChange, ChangePercent = 20, Direction = ChangeDirection.Down });
        // New data: Champions become {1, 2} (3 and 4 left), At risk {3, 4} (4 entered): customer 4 moved.
        await ChangeAsync(champions, "Champions", Where("amount", RuleOperator.GreaterOrEqual, "100"));
        await ChangeAsync(atRisk, "At risk", Where("amount", RuleOperator.Less, "30"));

        var moved = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(moves, Ct));
        var shrank = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(shrink, Ct));

        Assert.Equal(AlertCheckStatus.Done, moved.Status);
        Assert.Equal(AlertTransition.Fired, moved.Transition);
        Assert.Equal(1, moved.Value);
        Assert.Contains("1 customer moved to At risk", moved.Reason);
        Assert.Equal(AlertTransition.Fired, shrank.Transition);
        Assert.Equal(2, shrank.Value);
        Assert.Equal(3, shrank.Compared);
        Assert.Contains("-33.3%", shrank.Reason);
        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        var note = await db.Notifications.AsNoTracking().SingleAsync(n => n.Title.StartsWith("Champions slipping"), Ct);
        Assert.Contains("Customers: 4.", note.Body);
        Assert.StartsWith("/segments/", note.Link);
    }

    [Fact]
    public async Task Each_refresh_with_customers_entering_is_news_and_one_without_clears_quietly()
    {
        var north = await SegmentAsync("North buyers", Where("region", RuleOperator.Equals, "North"));
        var alert = await AlertAsync("North changes", north, new SegmentAlertCondition { Kind = SegmentAlertKind.EnteredOrLeft, ListCap = 1 });
        await ChangeAsync(north, "North buyers", Where("amount", RuleOperator.GreaterOrEqual, "0")); // 2 enters

        var first = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alert, Ct));
        var second = await _harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alert, Ct));

        Assert.Equal(AlertTransition.Fired, first.Transition);
        Assert.Contains("1 entered and 0 left", first.Reason);
        Assert.False(second.Met); // the refresh of the second check moved nobody
        Assert.Equal(AlertTransition.None, second.Transition); // an event has no "back to normal" message
    }

    [Fact]
    public async Task Segment_conditions_are_checked_in_words()
    {
        var north = await SegmentAsync("North buyers", Where("region", RuleOperator.Equals, "North"));
        var refusal = await Assert.ThrowsAsync<SegmentPortal.Core.PortalException>(() =>
            AlertAsync("Moves", north, new SegmentAlertCondition { Kind = SegmentAlertKind.MovedTo, ToSegmentId = north }));
        Assert.Equal("Choose another segment for customers to move to.", refusal.Message);
        Assert.Equal("Say by how many per cent or customers the size must change.",
            AlertSegments.Validate(new SegmentAlertCondition { Kind = SegmentAlertKind.SizeChange }));
    }
}
