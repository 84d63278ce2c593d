using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Queries;

namespace SegmentPortal.Tests.Alerts;

/// <summary>
/// The churn warning (流失预警) on real RFM groups: the shop's customers scored at one reference date and again a year
/// later, the groups saved as segments, and an alert on customers moving from one group to another.
/// </summary>
public sealed class AlertRfmTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Scores the customers as of <paramref name="day"/> (the customer fields then hold that run) and reads each one's group.</summary>
    private async Task<Dictionary<long, string?>> GroupsAsOfAsync(DateOnly day)
    {
        await shop.Harness.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(shop.OrderData.Id, new RfmInput { ReferenceDate = day }, RfmSettings.Default, Ct));
        var result = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            Columns = ["id", RfmService.GroupField],
        }, Ct));
        return result.Rows.ToDictionary(r => Convert.ToInt64(r[0]), r => r[1] as string);
    }

    [Fact]
    public async Task Customers_moving_from_one_RFM_group_to_another_fire_the_alert_with_who_moved()
    {
        var early = new DateOnly(2024, 6, 2);
        var late = early.AddYears(1);
        var before = await GroupsAsOfAsync(early);
        var after = await GroupsAsOfAsync(late);
        var moves = before.Where(c => c.Value is not null && after.GetValueOrDefault(c.Key) is { } g && g != c.Value)
            .Select(c => (Customer: c.Key, From: c.Value!, To: after[c.Key]!)).ToList();
        Assert.NotEmpty(moves); // a year without orders moves someone
        var (_, from, to) = moves[0];
        var expected = moves.Where(m => m.From == from && m.To == to).Select(m => m.Customer.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();

        // As of the early date: the two groups saved as segments, and the alert on customers moving between them.
        await GroupsAsOfAsync(early);
        var fromId = await shop.Harness.WithAsync<RfmService, int>(s => s.SaveGroupAsSegmentAsync(shop.OrderData.Id, from, cancellationToken: Ct));
        var toId = await shop.Harness.WithAsync<RfmService, int>(s => s.SaveGroupAsSegmentAsync(shop.OrderData.Id, to, cancellationToken: Ct));
        var alertId = await shop.Harness.WithAsync<AlertService, int>(a => a.CreateAsync(new AlertDraft
        {
            Name = $"{from} slipping to {to}",
            Subject = AlertSubject.Segment,
            SegmentId = fromId,
            SegmentAlertCondition = new SegmentAlertCondition { Kind = SegmentAlertKind.MovedTo, ToSegmentId = toId },
            Recipients = new AlertRecipients { UserIds = [shop.Harness.CurrentUser.Principal.UserId()!], Email = false },
        }, Ct));

        // The next RFM run, a year on, and the segments' refresh after it.
        await GroupsAsOfAsync(late);
        await shop.Harness.WithAsync<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(fromId, Ct));
        await shop.Harness.WithAsync<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(toId, Ct));
        var check = await shop.Harness.WithAsync<AlertService, AlertCheckRow>(a => a.CheckNowAsync(alertId, Ct));

        Assert.Equal(AlertCheckStatus.Done, check.Status);
        Assert.Equal(AlertTransition.Fired, check.Transition);
        Assert.Equal(expected.Count, check.Value);
        Assert.Contains($"moved to RFM: {to}", check.Reason);
        // The notification lists who moved.
        await using var db = await shop.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        var body = db.Notifications.Where(n => n.IdempotencyKey.StartsWith($"alert-{alertId}-")).Select(n => n.Body).Single();
        Assert.Contains($"Customers: {string.Join(", ", expected)}.", body);
    }
}
