using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class NotificationTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task The_bell_counts_unread_notifications_opens_the_latest_and_links_to_their_target()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        var bell = page.GetByTestId("notification-bell");
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, none unread");

        // No alert exists yet to raise one: two notifications are stored as a check would store them.
        await AddNotificationAsync("Revenue below target", "/jobs", "e2e:1");
        await AddNotificationAsync("Champions shrank", null, "e2e:2");
        await page.ReloadAsync();
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, 2 unread");

        await bell.ClickAsync();
        var items = page.GetByTestId("notification-menu-item");
        await Expect(items).ToHaveCountAsync(2);
        await Expect(items.First).ToContainTextAsync("Champions shrank");
        await BrowserFixture.ScreenshotAsync(page, "90-notification-menu");
        await items.Filter(new() { HasText = "Revenue below target" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/jobs$"));
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, 1 unread");

        await page.GotoAsync("/notifications");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("notification")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-testid=notification][data-unread=true]")).ToHaveCountAsync(1);
        await page.GetByTestId("notifications-page-mark-all").ClickAsync();
        await Expect(page.Locator("[data-testid=notification][data-unread=true]")).ToHaveCountAsync(0);
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, none unread");
        await BrowserFixture.ScreenshotAsync(page, "91-notifications-page");
    }

    private async Task AddNotificationAsync(string title, string? link, string key)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(browser.App.DataDirectory, "portal.db")};Pooling=False");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO Notifications (UserId, Title, Body, Link, Kind, IdempotencyKey, CreatedAt)
            SELECT Id, $title, 'From the browser test.', $link, 'Warning', $key, $createdAt FROM AspNetUsers WHERE Email = $email
            """;
        command.Parameters.AddWithValue("$title", title);
        command.Parameters.AddWithValue("$link", (object?)link ?? DBNull.Value);
        command.Parameters.AddWithValue("$key", key);
        // How the metadata store keeps a UTC time on SQLite (EF's DateTimeOffsetToBinaryConverter).
        command.Parameters.AddWithValue("$createdAt", (DateTimeOffset.UtcNow.UtcTicks / 1000) << 11);
        command.Parameters.AddWithValue("$email", AppUnderTest.AdminEmail);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
    }
}
