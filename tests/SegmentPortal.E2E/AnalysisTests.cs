using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class AnalysisTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Analyst_runs_rfm_on_the_demo_data_and_saves_at_risk_as_a_segment()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("load-demo-data").ClickAsync();
        await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = 120_000 });

        await page.GotoAsync("/analysis/rfm");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("rfm-dataset")).ToContainTextAsync("Demo orders");
        await page.GetByTestId("rfm-compute").ClickAsync();
        var groups = page.GetByTestId("rfm-groups");
        await Expect(groups).ToContainTextAsync("At risk", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("rfm-heatmap").Locator(".main-svg").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("rfm-treemap").Locator(".main-svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "50-rfm");

        var atRisk = groups.GetByRole(AriaRole.Row).Filter(new() { HasText = "At risk" });
        var customers = (await atRisk.Locator("td").Nth(1).InnerTextAsync()).Trim();
        await page.GetByTestId("rfm-save-at-risk").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"));
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("live-count-value")).ToHaveTextAsync(customers, new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("rule-summary")).ToContainTextAsync("RFM group");
        await BrowserFixture.ScreenshotAsync(page, "51-rfm-segment");
    }
}
