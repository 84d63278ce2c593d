using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class AnalysisTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Analyst_runs_rfm_on_the_demo_data_and_saves_at_risk_as_a_segment()
    {
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GotoAsync("/analysis/rfm");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("rfm-dataset")).ToContainTextAsync("Demo orders");
        await page.GetByTestId("rfm-compute").ClickAsync();
        var groups = page.GetByTestId("rfm-groups");
        await Expect(groups).ToContainTextAsync("At risk", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("rfm-heatmap").Locator(".main-svg").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("rfm-treemap").Locator(".main-svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "50-rfm");

        var atRisk = groups.GetByRole(AriaRole.Row).Filter(new() { HasText = "At risk" });
        var customers = (await atRisk.Locator("td").Nth(1).InnerTextAsync()).Trim();
        await page.GetByTestId("rfm-save-at-risk").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("live-count-value")).ToHaveTextAsync(customers, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("rule-summary")).ToContainTextAsync("RFM group");
        await BrowserFixture.ScreenshotAsync(page, "51-rfm-segment");

        // Clustering with automatic K over the demo customers: spend, orders, recency and the RFM monetary value.
        await page.GotoAsync("/analysis/clustering");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("clustering-input")).ToHaveValueAsync("Demo customers");
        var features = page.GetByTestId("clustering-features");
        await Expect(features).ToContainTextAsync("RFM monetary");
        await BrowserFixture.ScreenshotAsync(page, "52-clustering-start");
        await page.GetByTestId("clustering-name").FillAsync("Demo groups");
        await page.GetByTestId("clustering-start").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/analysis/clustering/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("clustering-suggestion")).ToContainTextAsync(new Regex("^K = \\d+: .*silhouette"), new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
        var rows = page.GetByTestId("cluster-row");
        var k = int.Parse((await page.GetByTestId("clustering-k-value").Locator(".stat-value").InnerTextAsync()).Trim());
        await Expect(rows).ToHaveCountAsync(k);
        await Expect(page.GetByTestId("chart-pca").Locator(".main-svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "53-clustering");

        await rows.First.GetByTestId("cluster-rename").ClickAsync();
        await rows.First.GetByTestId("cluster-name-input").FillAsync("Best customers");
        await rows.First.GetByTestId("cluster-name-input").PressAsync("Enter");
        await Expect(rows.First.GetByTestId("cluster-name")).ToHaveTextAsync("Best customers");
        var size = (await rows.First.Locator("td").Nth(1).InnerTextAsync()).Split('\n')[0].Trim();

        await rows.First.GetByTestId("cluster-save-segment").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("segment-name")).ToHaveValueAsync("Demo groups: Best customers");
        await Expect(page.GetByTestId("live-count-value")).ToHaveTextAsync(size, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "54-cluster-segment");
    }
}
