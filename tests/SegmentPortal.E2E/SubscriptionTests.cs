using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class SubscriptionTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Subscribing_from_the_board_page_lists_the_subscription_and_its_e_mail_reaches_the_development_outbox()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await page.GotoAsync("/subscriptions");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.Locator(".empty-state")).ToContainTextAsync("No subscriptions yet");

        await page.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-dashboard-name").FillAsync("Morning board");
        await page.GetByTestId("new-dashboard").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboards/\\d+\\?edit=1$"));
        await Pages.WaitUntilInteractiveAsync(page);

        // Subscribe: weekly on Friday at 06:45; a time written wrongly is explained in the dialog first.
        await page.GetByTestId("dashboard-subscribe").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByTestId("subscribe-save")).ToBeVisibleAsync();
        await Pages.ChooseAsync(page, dialog.GetByTestId("subscribe-frequency"), "Weekly");
        await Pages.ChooseAsync(page, dialog.GetByTestId("subscribe-day"), "Friday");
        await dialog.GetByTestId("subscribe-time").FillAsync("6.45");
        await dialog.GetByTestId("subscribe-save").ClickAsync();
        await Expect(dialog.GetByTestId("subscribe-error")).ToContainTextAsync("Enter the time as HH:mm");
        await dialog.GetByTestId("subscribe-time").FillAsync("06:45");
        await BrowserFixture.ScreenshotAsync(page, "95-subscribe-dialog");
        await dialog.GetByTestId("subscribe-save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);

        await page.GotoAsync("/subscriptions");
        await Pages.WaitUntilInteractiveAsync(page);
        var row = page.GetByTestId("subscriptions-table").Locator("tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("Morning board");
        await Expect(row).ToContainTextAsync(new Regex("Weekly on Friday at 06:45 \\(.+\\)"));
        await Expect(row).ToContainTextAsync("Not yet");
        await BrowserFixture.ScreenshotAsync(page, "96-subscriptions-page");

        // Its time comes (moved to a minute ago); the scheduler's next round sends it, rendered by the server's Chromium.
        await MakeDueAsync();
        var written = await WaitForMailAsync("Morning board (board subscription)");
        Assert.Contains("Content-ID: <board.png>", written, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("application/pdf", written, StringComparison.Ordinal);

        await page.GotoAsync("/admin/outbox");
        await Pages.WaitUntilInteractiveAsync(page);
        var message = page.Locator("tr").Filter(new() { HasText = "Morning board (board subscription)" });
        await Expect(message.GetByTestId("outbox-state")).ToHaveTextAsync("Delivered");
        await page.GotoAsync("/subscriptions");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("subscriptions-table").Locator("tbody tr")).Not.ToContainTextAsync("Not yet");
    }

    private async Task MakeDueAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(browser.App.DataDirectory, "portal.db")};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE Subscriptions SET NextRunAt = $due";
        // How the metadata store keeps a UTC time on SQLite (EF's DateTimeOffsetToBinaryConverter).
        command.Parameters.AddWithValue("$due", (DateTimeOffset.UtcNow.AddMinutes(-1).UtcTicks / 1000) << 11);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }

    /// <summary>The .eml the development outbox wrote with this subject, once the worker has written it.</summary>
    private async Task<string> WaitForMailAsync(string subject)
    {
        var folder = Path.Combine(browser.App.DataDirectory, "outbox", "mail");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMilliseconds(BrowserFixture.WorkTimeoutMs)); // a guard against a hang only
        while (true)
        {
            if (Directory.Exists(folder))
            {
                foreach (var file in Directory.GetFiles(folder, "*.eml"))
                {
                    var text = await File.ReadAllTextAsync(file, limit.Token);
                    if (text.Contains(subject, StringComparison.Ordinal))
                    {
                        return text;
                    }
                }
            }
            // The scheduler runs once a minute: look again shortly.
            await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
        }
    }
}
