using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class MetricTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task An_Analyst_defines_a_metric_with_a_target_sees_its_value_and_trend_and_puts_it_on_a_board()
    {
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GetByRole(AriaRole.Link, new() { Name = "Metrics", Exact = true }).First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/metrics$"));
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.Locator(".empty-state")).ToContainTextAsync("No metrics yet");
        await BrowserFixture.ScreenshotAsync(page, "80-metrics-empty");

        await page.GetByTestId("new-metric-empty").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByTestId("metric-name")).ToBeVisibleAsync();
        // The editor's first guess for the orders: the sum of the amount along the order date, by month, previewed.
        await Expect(dialog.GetByTestId("metric-preview-value")).Not.ToBeEmptyAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await dialog.GetByTestId("metric-name").FillAsync("Monthly revenue");
        await dialog.GetByTestId("metric-description").FillAsync("Order amounts per calendar month.");
        await Pages.ChooseAsync(page, dialog.GetByTestId("metric-format"), "Money");
        await dialog.GetByTestId("metric-unit").FillAsync("€");
        await Pages.ChooseAsync(page, dialog.GetByTestId("metric-direction"), "Higher is better");
        await dialog.GetByTestId("metric-target").FillAsync("10000000");
        await dialog.GetByTestId("metric-warn").FillAsync("500000");
        await Expect(dialog.GetByTestId("metric-preview").GetByTestId("metric-trend").Locator(".main-svg").First)
            .ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "81-metric-editor");
        await dialog.GetByTestId("metric-save").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/metrics/\\d+$"));
        var metricUrl = page.Url;
        await Expect(page.GetByTestId("metric-title")).ToHaveTextAsync("Monthly revenue");
        await Expect(page.GetByTestId("metric-current-value")).ToContainTextAsync("€", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("metric-previous-value")).ToContainTextAsync("€");
        await Expect(page.GetByTestId("metric-change")).ToContainTextAsync("%");
        // The demo orders run up to today, so the month is not over: it is compared with the same days of the month before.
        await Expect(page.GetByTestId("metric-change-label")).ToContainTextAsync("Month to date vs same days of");
        await Expect(page.GetByTestId("metric-previous-full")).ToContainTextAsync("Whole ");
        var currentValue = (await page.GetByTestId("metric-current-value").TextContentAsync())!.Trim();
        var relativeChange = Regex.Match((await page.GetByTestId("metric-change").TextContentAsync())!, @"\(([^)]*%)\)").Groups[1].Value;
        await Expect(page.GetByTestId("metric-status")).ToBeVisibleAsync();
        var trend = page.GetByTestId("metric-trend");
        await Expect(trend.Locator(".main-svg").First).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(trend.Locator(".legendtext").Filter(new() { HasText = "Target €10,000,000" })).ToHaveCountAsync(1);
        await Expect(trend.Locator(".legendtext").Filter(new() { HasText = "Warning below €500,000" })).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("metric-alerts").GetByTestId("no-alerts")).ToContainTextAsync("No alerts yet.");
        await Expect(page.GetByTestId("metric-history")).ToContainTextAsync("Created: Sum of amount of Demo orders");
        await BrowserFixture.ScreenshotAsync(page, "82-metric-page");

        // An alert "below target": the editor starts with the metric, its target and the author as recipient.
        var bell = page.GetByTestId("notification-bell");
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, none unread");
        await page.GetByTestId("metric-alerts").GetByTestId("new-alert").ClickAsync();
        var alertDialog = page.GetByRole(AriaRole.Dialog);
        await Expect(alertDialog.GetByTestId("alert-name")).ToHaveValueAsync("Monthly revenue misses its target");
        await Expect(alertDialog.GetByTestId("alert-kind")).ToContainTextAsync("Missing the metric's target");
        await alertDialog.GetByTestId("alert-save").ClickAsync();
        await Expect(alertDialog).ToHaveCountAsync(0);
        var alertRow = page.GetByTestId("metric-alerts").Locator("tbody tr");
        await Expect(alertRow).ToContainTextAsync("Monthly revenue misses its target");
        await Expect(alertRow.GetByTestId("alert-ok")).ToBeVisibleAsync();

        // Checked now (as after a refresh): month to date is far below €10,000,000, so it fires once, and the bell says so.
        await alertRow.GetByTestId("alert-check-now").ClickAsync();
        await Expect(alertRow.GetByTestId("alert-firing")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, 1 unread", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(trend.Locator(".legendtext").Filter(new() { HasText = "Target €10,000,000" })).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(page, "83-metric-alert-firing");
        await bell.ClickAsync();
        var note = page.GetByTestId("notification-menu-item");
        await Expect(note).ToContainTextAsync(new Regex("Monthly revenue misses its target: €[0-9,]+"));
        await note.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/metrics/\\d+\\?alert=\\d+$"));
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, none unread");

        // The link opened the alert's recent checks. Checked again while still below target: recorded, nobody told twice.
        await Pages.WaitUntilInteractiveAsync(page);
        var checks = page.GetByTestId("alert-checks").Locator("tbody tr");
        await Expect(checks).ToHaveCountAsync(1);
        alertRow = page.GetByTestId("metric-alerts").Locator("tbody tr").First; // the alert list comes before its checks
        await alertRow.GetByTestId("alert-check-now").ClickAsync();
        await Expect(checks).ToHaveCountAsync(2, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(checks.First).ToContainTextAsync("Still firing");
        await Expect(checks.Last).ToContainTextAsync("Fired");
        await Expect(bell).ToHaveAttributeAsync("aria-label", "Notifications, none unread");
        await page.GetByTestId("alert-checks").GetByLabel("Close the checks").ClickAsync();

        // An Admin certifies it; the list shows the value, the change and the mark.
        await page.GetByTestId("metric-certify").ClickAsync();
        await Expect(page.GetByTestId("metric-certified-badge")).ToBeVisibleAsync();
        await page.GotoAsync("/metrics");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("/metrics$"));
        var row = page.GetByTestId("metrics-table").Locator("tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("metric-current")).ToContainTextAsync("€", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(row.GetByTestId("metric-certified")).ToBeVisibleAsync();
        await Expect(row.GetByTestId("metric-change")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "83-metrics-list");

        // The Analyst puts the metric on a new board as a KPI tile: it shows the metric's value, written the metric's way.
        await page.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-dashboard-name").FillAsync("Revenue board");
        await page.GetByTestId("new-dashboard").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboards/\\d+\\?edit=1$"));
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("add-tile").ClickAsync();
        var editor = page.GetByRole(AriaRole.Dialog);
        await Expect(editor.GetByTestId("editor-title")).ToBeVisibleAsync();
        await Pages.ChooseAsync(page, editor.GetByTestId("editor-type"), "KPI card");
        await editor.GetByTestId("editor-measure-source").GetByText("From a metric").ClickAsync();
        await Pages.ChooseAsync(page, editor.GetByTestId("editor-metric"), "Monthly revenue");
        await Expect(editor.GetByTestId("editor-metric-summary")).ToContainTextAsync("Sum of amount of Demo orders by month");
        await Expect(editor.GetByTestId("measure-kind")).ToHaveCountAsync(0);
        await editor.GetByTestId("editor-title").FillAsync("Revenue this month");
        await Expect(editor.GetByTestId("editor-preview").GetByTestId("kpi-value")).ToHaveTextAsync(currentValue, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "84-metric-tile-editor");
        await editor.GetByTestId("editor-save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        var tile = page.GetByTestId("dashboard-tile").Filter(new() { HasText = "Revenue this month" });
        await Expect(tile.GetByTestId("kpi-value")).ToHaveTextAsync(currentValue, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(tile.GetByTestId("metric-status")).ToBeVisibleAsync();
        // The same like-for-like change as on the metric's page.
        await Expect(tile.GetByTestId("kpi-change")).ToContainTextAsync(relativeChange);
        await Expect(tile.GetByTestId("kpi-change")).ToContainTextAsync("Month to date vs same days of");
        await BrowserFixture.ScreenshotAsync(page, "85-metric-tile");

        // The metric's page names the tile using it.
        await page.GotoAsync(metricUrl);
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("metric-tiles")).ToContainTextAsync("Revenue board › Revenue this month");
    }
}
