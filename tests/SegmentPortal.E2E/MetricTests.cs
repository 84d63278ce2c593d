using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class MetricTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task An_Analyst_defines_a_metric_with_a_target_and_sees_its_value_and_trend()
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
        await dialog.GetByTestId("metric-target").FillAsync("1000000");
        await dialog.GetByTestId("metric-warn").FillAsync("500000");
        await Expect(dialog.GetByTestId("metric-preview").GetByTestId("metric-trend").Locator(".main-svg").First)
            .ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "81-metric-editor");
        await dialog.GetByTestId("metric-save").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/metrics/\\d+$"));
        await Expect(page.GetByTestId("metric-title")).ToHaveTextAsync("Monthly revenue");
        await Expect(page.GetByTestId("metric-current-value")).ToContainTextAsync("€", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("metric-previous-value")).ToContainTextAsync("€");
        await Expect(page.GetByTestId("metric-change")).ToContainTextAsync("%");
        await Expect(page.GetByTestId("metric-status")).ToBeVisibleAsync();
        var trend = page.GetByTestId("metric-trend");
        await Expect(trend.Locator(".main-svg").First).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(trend.Locator(".legendtext").Filter(new() { HasText = "Target €1,000,000" })).ToHaveCountAsync(1);
        await Expect(trend.Locator(".legendtext").Filter(new() { HasText = "Warning below €500,000" })).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("metric-no-alerts")).ToHaveTextAsync("No alerts yet.");
        await Expect(page.GetByTestId("metric-history")).ToContainTextAsync("Created: Sum of amount of Demo orders");
        await BrowserFixture.ScreenshotAsync(page, "82-metric-page");

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
    }
}
