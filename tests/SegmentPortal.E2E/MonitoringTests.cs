using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SegmentPortal.Tests.Delivery;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// Monitoring for real, each test on its own portal with a real SMTP server (and a real webhook receiver): the flow of an
/// Analyst from a metric to an alert that fires after a data refresh and reaches the bell, a webhook and e-mail; and the
/// alert path across a kill: the portal is killed (SIGKILL, no shutdown code) while an alert's email waits in the
/// outbox for its retry (the SMTP server was unreachable) and three alert checks are half done (started, not finished,
/// as a kill mid-check leaves them). After the restart, with the SMTP server reachable, every message arrives once per
/// idempotency key and every check is finished.
/// </summary>
public sealed class MonitoringTests : IAsyncLifetime
{
    private OwnAppBrowser _browser = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _browser = await OwnAppBrowser.StartAsync("monitoring");
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
    }

    private static Dictionary<string, string> Smtp(int port) => new()
    {
        ["Smtp__Host"] = "127.0.0.1",
        ["Smtp__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Smtp__Tls"] = "None",
        ["Smtp__From"] = "portal@e2e.local",
        // Retries come quickly, so the test waits on deliveries rather than on the backoff.
        ["Delivery__FirstRetrySeconds"] = "2",
        ["Delivery__MaxRetrySeconds"] = "4",
        ["Delivery__PollSeconds"] = "1",
    };

    /// <summary>This month's orders of a small shop: the file imported first (amounts 100 + 200 + 300) and its refresh (10 + 20).</summary>
    private async Task<string> OrdersCsvAsync(string name, params int[] amounts)
    {
        var today = DateTime.UtcNow;
        var lines = amounts.Select((amount, i) =>
            $"{i + 1},{i % 3 + 1},{new DateTime(today.Year, today.Month, 1):yyyy-MM-dd},{amount},{(i % 2 == 0 ? "North" : "South")}");
        var path = Path.Combine(_browser.Folder, name + ".csv");
        await File.WriteAllLinesAsync(path, ["order_id,customer_id,order_date,amount,region", .. lines], Ct);
        return path;
    }

    [Fact]
    public async Task An_Analyst_watches_a_metric_with_a_target_and_after_a_refresh_is_told_in_the_portal_by_webhook_and_by_email_and_gets_the_board()
    {
        Assert.SkipWhen(_browser.SkipReason is not null, _browser.SkipReason ?? "");
        await using var smtp = TestSmtpServer.Start();
        await using var receiver = await TestWebhookReceiver.StartAsync();
        await using var app = await AppUnderTest.StartAsync(Path.Combine(_browser.Folder, "flow"), Smtp(smtp.Port), Ct);
        var page = await SignInAsync(app);

        // An Admin adds the endpoint of the campaign tool; its secret is shown once.
        await page.GotoAsync("/admin/webhooks");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-webhook").ClickAsync();
        var hookDialog = page.GetByRole(AriaRole.Dialog);
        await Pages.FillFieldsAsync(hookDialog, ("webhook-name", "Campaign tool"), ("webhook-url", receiver.Url));
        await hookDialog.GetByTestId("create-webhook").ClickAsync();
        var secret = await hookDialog.GetByTestId("webhook-secret").InputValueAsync();
        Assert.StartsWith("whsec_", secret);
        await hookDialog.GetByTestId("webhook-done").ClickAsync();

        // The Analyst who does the rest.
        await page.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-user").ClickAsync();
        await Pages.FillNewUserAsync(page, "ana@e2e.local", "Ana Analyst", "Analyst-pass-2468");
        await page.GetByRole(AriaRole.Dialog).GetByLabel("Analyst", new() { Exact = true }).CheckAsync();
        await page.GetByTestId("create-user").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "ana@e2e.local" })).ToContainTextAsync("Analyst");
        var admin = page;
        page = await SignInAsync(app, "ana@e2e.local", "Analyst-pass-2468");

        // The shop's orders: 600 this month.
        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.Locator("[data-testid=drop-zone][data-ready=true]").WaitForAsync();
        await page.GetByTestId("file-input").SetInputFilesAsync(await OrdersCsvAsync("shop-orders", 100, 200, 300));
        await Expect(page.GetByTestId("upload-list")).ToContainTextAsync("Uploaded, ready to import", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await page.GetByTestId("start-import").ClickAsync();
        await Expect(page.GetByTestId("job-list")).ToContainTextAsync("shop-orders: 3 rows imported", new() { Timeout = BrowserFixture.WorkTimeoutMs });

        // A metric with a target: revenue this month, at least 500.
        await page.GotoAsync("/metrics");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-metric-empty").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByTestId("metric-name")).ToBeVisibleAsync();
        await dialog.GetByTestId("metric-name").FillAsync("Shop revenue");
        await Pages.ChooseAsync(page, dialog.GetByTestId("measure-column"), "amount");
        await Pages.ChooseAsync(page, dialog.GetByTestId("metric-time-column"), "order_date");
        await Pages.ChooseAsync(page, dialog.GetByTestId("metric-direction"), "Higher is better");
        await dialog.GetByTestId("metric-target").FillAsync("500");
        await Expect(dialog.GetByTestId("metric-preview-value")).ToHaveTextAsync("600", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await dialog.GetByTestId("metric-save").ClickAsync();
        await Expect(page.GetByTestId("metric-title")).ToHaveTextAsync("Shop revenue");
        var metricUrl = page.Url;

        // On a board, as a KPI tile.
        await page.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-dashboard-name").FillAsync("Shop board");
        await page.GetByTestId("new-dashboard").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboards/\\d+"));
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("add-tile").ClickAsync();
        var editor = page.GetByRole(AriaRole.Dialog);
        await Pages.ChooseAsync(page, editor.GetByTestId("editor-type"), "KPI card");
        await editor.GetByTestId("editor-measure-source").GetByText("From a metric").ClickAsync();
        await Pages.ChooseAsync(page, editor.GetByTestId("editor-metric"), "Shop revenue");
        await editor.GetByTestId("editor-save").ClickAsync();
        await Expect(page.GetByTestId("tile-host")).ToContainTextAsync("600", new() { Timeout = BrowserFixture.WorkTimeoutMs });

        // Subscribed to the board after each refresh of its data.
        await page.GetByTestId("dashboard-subscribe").ClickAsync();
        var subscribe = page.GetByRole(AriaRole.Dialog);
        await Expect(subscribe.GetByTestId("subscribe-save")).ToBeVisibleAsync();
        await Pages.ChooseAsync(page, subscribe.GetByTestId("subscribe-frequency"), "After each refresh of its data");
        await subscribe.GetByTestId("subscribe-save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);

        // The alert: below target, told in the portal, by email, and to the campaign tool.
        await page.GotoAsync(metricUrl);
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("metric-alerts").GetByTestId("new-alert").ClickAsync();
        var alertDialog = page.GetByRole(AriaRole.Dialog);
        await Expect(alertDialog.GetByTestId("alert-name")).ToHaveValueAsync("Shop revenue misses its target");
        await Pages.ChooseAsync(page, alertDialog.GetByTestId("alert-webhooks"), "Campaign tool", multiple: true);
        await alertDialog.GetByTestId("alert-save").ClickAsync();
        await Expect(alertDialog).ToHaveCountAsync(0);
        var bell = page.GetByTestId("notification-bell");
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, none unread");

        // The data is refreshed: this month falls to 30. The refresh makes the alert's check due; it fires.
        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("datasets-table").GetByRole(AriaRole.Link, new() { Name = "shop-orders", Exact = true }).ClickAsync();
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "History" }).ClickAsync();
        await page.Locator("[data-testid=drop-zone][data-ready=true]").WaitForAsync();
        await page.GetByTestId("file-input").SetInputFilesAsync(await OrdersCsvAsync("shop-orders-v2", 10, 20));
        await Expect(page.GetByTestId("upload-list")).ToContainTextAsync("Uploaded, ready to import", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await page.GetByTestId("start-import").ClickAsync();
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, 1 unread", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "95-alert-after-refresh");

        // The notification links to the metric, which shows the alert firing.
        await bell.ClickAsync();
        var note = page.GetByTestId("notification-menu-item");
        await Expect(note).ToContainTextAsync("Shop revenue misses its target");
        await note.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/metrics/\\d+\\?alert=\\d+$"));
        await Expect(page.GetByTestId("metric-alerts").GetByTestId("alert-firing")).ToBeVisibleAsync();
        // The check that fired is opened: after the refresh, fired, told in the portal and by e-mail.
        var check = page.GetByTestId("alert-checks").Locator("tbody tr").First;
        await Expect(check).ToContainTextAsync("Refresh");
        await Expect(check).ToContainTextAsync("Fired");
        await Expect(check).ToContainTextAsync("Ana Analyst (ana@e2e.local) (in the portal and by email)");
        await BrowserFixture.ScreenshotAsync(page, "97-alert-check-fired");
        await Expect(page.GetByTestId("metric-current-value")).ToContainTextAsync("30");

        // The campaign tool received one signed alert.fired event, listed in the endpoint's history.
        await receiver.WaitForAsync(1, Ct);
        var (headers, body, _) = Assert.Single(receiver.Received);
        new StandardWebhooks.StandardWebhook(secret).Verify(body, headers); // throws when the signature does not match
        Assert.Contains("\"type\":\"alert.fired\"", body);
        Assert.Contains("\"value\":30", body);
        await admin.GotoAsync("/admin/webhooks");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("webhook-history-toggle").ClickAsync();
        await Expect(admin.GetByTestId("webhook-history")).ToContainTextAsync("Shop revenue misses its target");
        await Expect(admin.GetByTestId("webhook-history")).ToContainTextAsync("Delivered");
        await BrowserFixture.ScreenshotAsync(admin, "96-webhook-history");

        // And the e-mails: the alert's, with the figure and the chart inline, and the board's, rendered after the refresh.
        await smtp.WaitForAsync(2, Ct);
        var mail = Assert.Single(smtp.Received, r => (r.Message.Subject ?? "").StartsWith("Shop revenue", StringComparison.Ordinal)).Message;
        Assert.Equal("Shop revenue misses its target: 30", mail.Subject);
        var board = Assert.Single(smtp.Received, r => r.Message.Subject == "Shop board (board subscription)").Message;
        Assert.Contains(board.BodyParts.OfType<MimeKit.MimePart>(), p => p.ContentId == "board.png" && p.ContentType.MimeType == "image/png");
        Assert.Contains(board.Attachments.OfType<MimeKit.MimePart>(), p => p.ContentType.MimeType == "application/pdf");
        Assert.Contains("30", mail.HtmlBody);
        Assert.Contains("cid:chart.png", mail.HtmlBody);
        Assert.Contains(mail.BodyParts.OfType<MimeKit.MimePart>(), p => p.ContentId == "chart.png" && p.ContentType.MimeType == "image/png");
    }

    [Fact]
    public async Task Killed_with_an_email_queued_and_checks_half_done_the_portal_sends_each_message_once_and_finishes_every_check()
    {
        Assert.SkipWhen(_browser.SkipReason is not null, _browser.SkipReason ?? "");
        await using var smtp = TestSmtpServer.Start();
        var data = Path.Combine(_browser.Folder, "data");
        var unreachable = AppUnderTest.FreePort(); // nothing listens there

        var app = await AppUnderTest.StartAsync(data, Smtp(unreachable), Ct);
        try
        {
            var page = await SignInAsync(app);
            await page.GetByTestId("load-demo-data").ClickAsync();
            await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = BrowserFixture.WorkTimeoutMs });

            // A metric with a target the data misses, and an alert on it that emails the Admin.
            await page.GotoAsync("/metrics");
            await Pages.WaitUntilInteractiveAsync(page);
            await page.GetByTestId("new-metric-empty").ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog.GetByTestId("metric-preview-value")).Not.ToBeEmptyAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
            await dialog.GetByTestId("metric-name").FillAsync("Monthly revenue");
            await Pages.ChooseAsync(page, dialog.GetByTestId("metric-direction"), "Higher is better");
            await dialog.GetByTestId("metric-target").FillAsync("10000000");
            await dialog.GetByTestId("metric-save").ClickAsync();
            await Expect(page.GetByTestId("metric-title")).ToHaveTextAsync("Monthly revenue");
            await page.GetByTestId("metric-alerts").GetByTestId("new-alert").ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByTestId("alert-save").ClickAsync();
            var row = page.GetByTestId("metric-alerts").Locator("tbody tr");
            await row.GetByTestId("alert-check-now").ClickAsync();
            await Expect(row.GetByTestId("alert-firing")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });

            // Its email could not be sent (nothing listens at the SMTP port): it waits in the outbox for a retry.
            await WaitForAsync(data, "SELECT COUNT(*) FROM OutboxMessages WHERE State = 'Pending' AND Attempts >= 1", 1);
            // Three more alerts on the metric, each with a check that was started and not finished.
            await ExecuteAsync(data, """
                INSERT INTO Alerts (Name, OwnerId, Subject, MetricId, DashboardId, TileId, SegmentId, ConditionJson, ScheduleJson, NextCheckAt,
                                    RecipientsJson, Firing, Muted, SnoozedUntil, LastCheckedAt, CreatedAt, UpdatedAt)
                SELECT Name || ' ' || n.value, OwnerId, Subject, MetricId, DashboardId, TileId, SegmentId, ConditionJson, ScheduleJson, NULL,
                       RecipientsJson, 0, 0, NULL, NULL, CreatedAt, UpdatedAt
                FROM Alerts, (SELECT 2 AS value UNION ALL SELECT 3 UNION ALL SELECT 4) AS n;
                INSERT INTO AlertChecks (AlertId, "Trigger", Status, DueAt, Attempts, Met, Transition)
                SELECT Id, 'Refresh', 'Due', CreatedAt, 1, 0, 'None' FROM Alerts WHERE Name LIKE '% 2' OR Name LIKE '% 3' OR Name LIKE '% 4';
                """);
            Assert.Equal(3, await ScalarAsync(data, "SELECT COUNT(*) FROM AlertChecks WHERE Status = 'Due'"));
            Assert.Empty(smtp.Received);
        }
        finally
        {
            await app.KillAsync();
        }

        // Restarted with the SMTP server reachable: the queued email goes out, the half-done checks run again.
        await using var restarted = await AppUnderTest.StartAsync(data, Smtp(smtp.Port), Ct);
        await WaitForAsync(data, "SELECT COUNT(*) FROM AlertChecks WHERE Status = 'Done'", 4);
        await smtp.WaitForAsync(4, Ct);
        await WaitForAsync(data, "SELECT COUNT(*) FROM OutboxMessages WHERE State = 'Delivered'", 4);

        Assert.Equal(0, await ScalarAsync(data, "SELECT COUNT(*) FROM AlertChecks WHERE Status <> 'Done'"));
        Assert.Equal(4, await ScalarAsync(data, "SELECT COUNT(*) FROM OutboxMessages"));
        var ids = smtp.Received.Where(r => r.Accepted).Select(r => r.Message.MessageId).ToList();
        Assert.Equal(4, ids.Count);
        Assert.Equal(4, ids.Distinct().Count()); // one message per idempotency key, none twice
        Assert.All(smtp.Received, r => Assert.Matches(new Regex("^Monthly revenue misses its target( [234])?: [0-9,]+$"), r.Message.Subject));
        // Each checked alert notified the Admin once in the portal too.
        Assert.Equal(4, await ScalarAsync(data, "SELECT COUNT(*) FROM Notifications"));
    }

    private Task<IPage> SignInAsync(AppUnderTest app) => _browser.SignInAsync(app);

    private Task<IPage> SignInAsync(AppUnderTest app, string email, string password) => _browser.SignInAsync(app, email, password);

    private static Task ExecuteAsync(string data, string sql) => PortalStore.ExecuteAsync(data, sql, Ct);

    private static Task<long> ScalarAsync(string data, string sql) => PortalStore.ScalarAsync(data, sql, Ct);

    private static Task WaitForAsync(string data, string sql, long count) => PortalStore.WaitForAsync(data, sql, count, Ct);
}
