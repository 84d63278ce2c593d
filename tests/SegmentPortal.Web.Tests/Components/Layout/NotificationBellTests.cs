using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Layout;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Layout;

/// <summary>The bell over the real NotificationService and a temp metadata store.</summary>
public sealed class NotificationBellTests : PortalTestContext, IAsyncLifetime
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

    private Task NotifyAsync(string userId, string title, string key, string? link = "/metrics/1") =>
        Notifications.AddAsync(userId, new NotificationRequest(title, null, link, NotificationKind.Warning, key), Ct);

    private async Task NotifyManyAsync(string userId, int count)
    {
        await using var db = await _store.Db.CreateAsync(Ct);
        for (var i = 1; i <= count; i++)
        {
            await Notifications.AddAsync(db, userId, new NotificationRequest($"N{i}", null, null, NotificationKind.Info, $"k{i}"), Ct);
        }
        await db.SaveChangesAsync(Ct);
        Notifications.Announce(userId);
    }

    private IRenderedComponent<ContainerFragment> RenderBell() => Render(builder =>
    {
        builder.OpenComponent<MudPopoverProvider>(0);
        builder.CloseComponent();
        builder.OpenComponent<NotificationBell>(1);
        builder.CloseComponent();
    });

    private static string? Badge(IRenderedComponent<ContainerFragment> cut) =>
        cut.FindAll(".mud-badge").SingleOrDefault()?.TextContent.Trim();

    private static string? Label(IRenderedComponent<ContainerFragment> cut) => cut.Find("[data-testid=notification-bell]").GetAttribute("aria-label");

    [Fact]
    public void With_nothing_unread_the_badge_is_hidden()
    {
        SignInAs(Ann, Roles.Viewer);

        var cut = RenderBell();

        cut.WaitForAssertion(() => Assert.Equal("Notifications, none unread", Label(cut)));
        Assert.Null(Badge(cut));
    }

    [Fact]
    public async Task The_badge_shows_the_users_unread_count_and_99_plus_above_99()
    {
        SignInAs(Ann, Roles.Viewer);
        await NotifyAsync(AnnId, "Revenue below target", "a1");
        await NotifyAsync(AnnId, "Churn rising", "a2");
        await NotifyAsync(AnnId, "Segment shrank", "a3");
        await NotifyAsync("id-bob@example.com", "Not Ann's", "b1");

        var cut = RenderBell();

        cut.WaitForAssertion(() => Assert.Equal("3", Badge(cut)));
        Assert.Equal("Notifications, 3 unread", Label(cut));

        await NotifyManyAsync(AnnId, 100);
        cut.WaitForAssertion(() => Assert.Equal("99+", Badge(cut)));
        Assert.Equal("Notifications, 99+ unread", Label(cut));
    }

    [Fact]
    public async Task The_count_rises_live_for_the_users_own_notifications_only()
    {
        SignInAs(Ann, Roles.Viewer);
        var cut = RenderBell();
        cut.WaitForAssertion(() => Assert.Equal("Notifications, none unread", Label(cut)));

        // Another user's notification: Ann's bell hears nothing and counts nothing.
        await NotifyAsync("id-bob@example.com", "Not Ann's", "b1");
        await NotifyAsync(AnnId, "Revenue below target", "a1");

        cut.WaitForAssertion(() => Assert.Equal("1", Badge(cut)));
        Assert.Equal("Notifications, 1 unread", Label(cut));

        await NotifyAsync(AnnId, "Churn rising", "a2");
        cut.WaitForAssertion(() => Assert.Equal("2", Badge(cut)));
    }

    [Fact]
    public async Task The_menu_lists_the_latest_five_and_mark_all_read_clears_the_badge()
    {
        SignInAs(Ann, Roles.Viewer);
        for (var i = 1; i <= 7; i++)
        {
            await NotifyAsync(AnnId, $"Alert {i}", $"a{i}");
        }
        var cut = RenderBell();
        cut.WaitForAssertion(() => Assert.Equal("7", Badge(cut)));

        var menu = cut.FindComponent<MudMenu>();
        await cut.InvokeAsync(() => menu.Instance.OpenMenuAsync(new MouseEventArgs()));
        cut.WaitForAssertion(() => Assert.Equal(5, cut.FindAll("[data-testid=notification-menu-item]").Count));
        var items = cut.FindAll("[data-testid=notification-menu-item]");
        Assert.Contains("Alert 7", items[0].TextContent);
        Assert.Contains("Alert 3", items[4].TextContent);
        Assert.Equal("/notifications", cut.Find("[data-testid=notifications-see-all]").GetAttribute("href"));

        cut.Find("[data-testid=notifications-mark-all]").Click();

        cut.WaitForAssertion(() => Assert.Null(Badge(cut)));
        Assert.Equal("Notifications, none unread", Label(cut));
    }

    [Fact]
    public void Signed_out_there_is_no_bell()
    {
        SignedOut();

        var cut = RenderBell();

        Assert.Empty(cut.FindAll("[data-testid=notification-bell]"));
    }
}
