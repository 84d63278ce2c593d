using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class ChurnTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Analyst_trains_churn_risk_on_the_demo_data_and_reads_the_validation_and_lifecycle()
    {
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GotoAsync("/analysis/churn");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("churn-input")).ToHaveValueAsync("Demo customers");
        await Expect(page.GetByTestId("churn-defaults")).ToContainTextAsync("suggested horizon", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "55-churn-start");
        await page.GetByTestId("churn-name").FillAsync("Demo churn");
        await page.GetByTestId("churn-start").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/analysis/churn/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("churn-auc")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
        await Expect(page.GetByTestId("churn-explanation").First).ToContainTextAsync("matters most");
        await Expect(page.GetByTestId("chart-churn-calibration").Locator(".main-svg").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("churn-lifecycle-row")).ToHaveCountAsync(6);
        await Expect(page.GetByTestId("churn-fields")).ToContainTextAsync("Churn risk (Demo churn)");
        await BrowserFixture.ScreenshotAsync(page, "56-churn");
    }
}
