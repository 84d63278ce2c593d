using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Subscriptions;
using SegmentPortal.Web.Components.Subscriptions;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Subscriptions;

/// <summary>The Subscribe dialog and the Subscriptions page over the real Core services and a temp metadata store.</summary>
public sealed class SubscribeDialogTests : PortalTestContext, IAsyncLifetime
{
    private const string Owner = "owner@example.com";
    private const string Viewer = "viewer@example.com";

    private PortalStore _store = null!;
    private int _boardId;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        await _store.AddUserAsync(Owner, Roles.Analyst);
        await _store.AddUserAsync(Viewer, Roles.Viewer);
        await using var db = await _store.Db.CreateAsync(Ct);
        var board = new Dashboard { Name = "Weekly review", OwnerId = $"id-{Owner}", CreatedAt = Clock.GetUtcNow(), UpdatedAt = Clock.GetUtcNow() };
        db.Dashboards.Add(board);
        await db.SaveChangesAsync(Ct);
        _boardId = board.Id;
        db.Shares.Add(new Share { Item = SharedItem.Dashboard, ItemId = _boardId, UserId = $"id-{Viewer}", Level = ShareLevel.Viewer, CreatedAt = Clock.GetUtcNow() });
        await db.SaveChangesAsync(Ct);
    }

    private async Task<IRenderedComponent<MudDialogProvider>> OpenAsync()
    {
        var dialogs = Render<MudDialogProvider>();
        // Opened as SubscribeDialog.ShowAsync opens it (which then waits for it to close).
        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<SubscribeDialog>("Subscribe to “Weekly review”",
            new DialogParameters<SubscribeDialog> { { d => d.Target, SubscriptionTarget.Dashboard }, { d => d.ItemId, _boardId } }));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=subscribe-save]"));
        return dialogs;
    }

    private async Task<List<Subscription>> SubscriptionsAsync()
    {
        await using var db = await _store.Db.CreateAsync(Ct);
        return await db.Subscriptions.AsNoTracking().ToListAsync(Ct);
    }

    [Fact]
    public async Task A_Viewer_subscribes_themselves_daily_at_a_time_and_a_bad_time_says_how_to_write_it()
    {
        SignInAs(Viewer, Roles.Viewer);
        var dialogs = await OpenAsync();

        // A Viewer may not choose other recipients.
        Assert.Empty(dialogs.FindAll("[data-testid=subscribe-recipient-kind]"));
        Assert.Contains("as its recipient sees it", dialogs.Markup);

        dialogs.Find("input[data-testid=subscribe-time]").Change("25:99");
        dialogs.Find("[data-testid=subscribe-save]").Click();
        dialogs.WaitForAssertion(() => Assert.Equal("Enter the time as HH:mm on a 24-hour clock, e.g. 08:00 or 17:30.",
            dialogs.Find("[data-testid=subscribe-error]").TextContent.Trim()));
        Assert.Empty(await SubscriptionsAsync());

        dialogs.Find("input[data-testid=subscribe-time]").Change("7:15");
        dialogs.Find("[data-testid=subscribe-save]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=subscribe-save]")));

        var saved = Assert.Single(await SubscriptionsAsync());
        Assert.Equal($"id-{Viewer}", saved.UserId);
        Assert.Equal(_boardId, saved.DashboardId);
        Assert.Equal("Daily at 07:15 (UTC)", SubscriptionSchedules.Read(saved.ScheduleJson).Describe());
        Assert.Contains("Subscribed: Daily at 07:15 (UTC).", SnackbarMessages);
    }

    [Fact]
    public async Task The_owner_may_send_to_others_and_the_Subscriptions_page_lists_pauses_and_explains_when_empty()
    {
        SignInAs(Owner, Roles.Analyst);
        var page = Render<SubscriptionsPage>();
        page.WaitForAssertion(() => Assert.Contains("No subscriptions yet", page.Find(".empty-state").TextContent));

        var dialogs = await OpenAsync();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=subscribe-recipient-kind]"));
        dialogs.Find("[data-testid=subscribe-save]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=subscribe-save]")));

        page = Render<SubscriptionsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=subscriptions-table] tbody tr")));
        var row = page.Find("[data-testid=subscriptions-table] tbody tr");
        Assert.Contains("Weekly review", row.TextContent);
        Assert.Contains(Owner, row.TextContent);
        Assert.Contains("Daily at 08:00 (UTC)", row.TextContent);
        Assert.Contains("Not yet", row.TextContent);

        // The dialog, opened again, says what the board is already sent as.
        var again = await OpenAsync();
        again.WaitForAssertion(() => Assert.Contains($"To {Owner}: Daily at 08:00 (UTC)", again.Find("[data-testid=subscribe-existing]").TextContent));
        again.Find("[data-testid=subscribe-cancel]").Click();
        again.WaitForAssertion(() => Assert.Empty(again.FindAll("[data-testid=subscribe-save]")));

        page.Find("[data-testid=subscription-pause]").Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=subscription-paused]")));
        Assert.True(Assert.Single(await SubscriptionsAsync()).Paused);
    }
}
