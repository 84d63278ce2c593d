using Bunit;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Pages;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Pages;

/// <summary>The Notifications page over the real NotificationService and a temp metadata store.</summary>
public sealed class NotificationsPageTests : PortalTestContext, IAsyncLifetime
{
    private const string Ann = "ann@example.com";
    private const string AnnId = "id-ann@example.com";
    private PortalStore _store = null!;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
    }

    private NotificationService Notifications => Services.GetRequiredService<NotificationService>();

    private Task<Notification?> NotifyAsync(string userId, string title, string key, string? link = "/metrics/1") =>
        Notifications.AddAsync(userId, new NotificationRequest(title, $"{title}, details", link, NotificationKind.Warning, key), Ct);

    [Fact]
    public void With_no_notifications_the_page_says_so()
    {
        SignInAs(Ann, Roles.Viewer);

        var cut = Render<NotificationsPage>();

        cut.WaitForAssertion(() => Assert.Contains("No notifications yet", cut.Find(".empty-state").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=notification]"));
    }

    [Fact]
    public async Task Lists_the_users_own_newest_first_with_unread_marked_and_links_to_their_targets()
    {
        SignInAs(Ann, Roles.Viewer);
        var first = await NotifyAsync(AnnId, "Revenue below target", "a1", "/metrics/12");
        await NotifyAsync(AnnId, "Champions shrank", "a2", "/segments/3");
        await NotifyAsync("id-bob@example.com", "Not Ann's", "b1");
        await Notifications.MarkReadAsync(first!.Id, Ct);

        var cut = Render<NotificationsPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=notification]").Count));
        var rows = cut.FindAll("[data-testid=notification]");
        Assert.Contains("Champions shrank", rows[0].TextContent);
        Assert.Equal("true", rows[0].GetAttribute("data-unread"));
        Assert.Contains("Unread", rows[0].TextContent);
        Assert.Equal("/segments/3", rows[0].QuerySelector("[data-testid=notification-link]")!.GetAttribute("href"));
        Assert.Contains("Revenue below target", rows[1].TextContent);
        Assert.Equal("false", rows[1].GetAttribute("data-unread"));
        Assert.DoesNotContain("Not Ann's", cut.Markup);
        Assert.Contains("2 notifications, 1 unread", cut.Find("[data-testid=notifications-total]").TextContent);
    }

    [Fact]
    public async Task Opening_a_notification_marks_it_read_and_mark_all_read_clears_the_rest()
    {
        SignInAs(Ann, Roles.Viewer);
        await NotifyAsync(AnnId, "Revenue below target", "a1", "/metrics/12");
        await NotifyAsync(AnnId, "Champions shrank", "a2", "/segments/3");
        await NotifyAsync(AnnId, "Churn rising", "a3", null);
        var cut = Render<NotificationsPage>();
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=notification][data-unread=true]").Count));

        cut.FindAll("[data-testid=notification-link]")[0].Click();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=notification][data-unread=true]").Count));
        Assert.Equal(2, await Notifications.UnreadCountAsync(Ct));

        cut.Find("[data-testid=notifications-page-mark-all]").Click();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=notification][data-unread=true]")));
        Assert.Equal(0, await Notifications.UnreadCountAsync(Ct));
    }

    [Fact]
    public async Task The_mark_read_button_marks_one_and_unread_only_hides_it()
    {
        SignInAs(Ann, Roles.Viewer);
        await NotifyAsync(AnnId, "Revenue below target", "a1");
        await NotifyAsync(AnnId, "Champions shrank", "a2");
        var cut = Render<NotificationsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=notification-mark-read]").Count));

        cut.FindAll("[data-testid=notification-mark-read]")[0].Click();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=notification-mark-read]")));

        var unreadOnly = cut.FindComponent<MudBlazor.MudSwitch<bool>>();
        await cut.InvokeAsync(() => unreadOnly.Instance.ValueChanged.InvokeAsync(true));
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=notification]")));
        Assert.Contains("Revenue below target", cut.Find("[data-testid=notification]").TextContent);
    }
}
