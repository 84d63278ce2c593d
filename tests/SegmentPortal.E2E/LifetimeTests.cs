using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class LifetimeTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Analyst_computes_lifetime_value_on_the_demo_data_reads_the_holdout_check_and_saves_slipping_valuable_customers()
    {
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GotoAsync("/analysis/lifetime");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("ltv-dataset")).ToContainTextAsync("Demo orders");
        await Expect(page.GetByTestId("ltv-calibration-end")).ToBeVisibleAsync();
        await page.GetByTestId("ltv-run").ClickAsync();
        // The job runs in the background with its progress on the page; the result replaces the empty state.
        var holdout = page.GetByTestId("ltv-holdout-summary");
        await Expect(holdout).ToContainTextAsync(new Regex(@"the model expected [\d,]+ repeat purchases by \d{4}-\d{2}-\d{2};\s+they made [\d,]+"),
            new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
        await Expect(page.GetByTestId("ltv-tracking").Locator(".main-svg").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("ltv-by-frequency").Locator(".main-svg").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("ltv-by-frequency-table")).ToContainTextAsync("7+");
        await Expect(page.GetByTestId("ltv-parameters")).ToContainTextAsync("Log-likelihood");
        await Expect(page.GetByTestId("ltv-matrix").Locator(".main-svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "55-lifetime-value");

        // "P(alive) < 0.3 and CLV in the top 20%" (the form's defaults) as a segment.
        await Expect(page.GetByTestId("ltv-segment-alive")).ToHaveValueAsync("0.3");
        await Expect(page.GetByTestId("ltv-segment-top")).ToHaveValueAsync("20");
        await page.GetByTestId("ltv-segment-save").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("segment-name")).ToHaveValueAsync("P(alive) < 0.3 and CLV top 20%");
        await Expect(page.GetByTestId("rule-summary")).ToContainTextAsync("P(alive)");
        await Expect(page.GetByTestId("rule-summary")).ToContainTextAsync("CLV");
        await Expect(page.GetByTestId("live-count-value")).ToHaveTextAsync(new Regex(@"^[\d,]+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "56-lifetime-segment");

        // The analysis on a board: its CLV histogram and its P(alive) matrix, chosen by their transactions in the tile editor.
        await NewBoardAsync(page, "Lifetime value");
        await AddAnalysisTileAsync(page, "CLV", "CLV distribution", "Demo orders");
        await AddAnalysisTileAsync(page, "Still buying", "P(alive) matrix", "Demo orders");
        await Expect(page.GetByTestId("chart-clv-distribution").Locator(".main-svg").First).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("chart-alive-matrix").Locator(".main-svg").First).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "56-lifetime-tiles");
    }

    [Fact]
    public async Task Analyst_runs_survival_by_region_on_the_demo_data_and_reads_the_log_rank_sentence()
    {
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GotoAsync("/analysis/survival");
        await Pages.WaitUntilInteractiveAsync(page);
        // The demo customers qualify too (a customer and a sign-up date) and come first by name: choose the orders.
        await Pages.ChooseAsync(page, page.GetByTestId("survival-dataset"), "Demo orders");
        await Expect(page.GetByTestId("survival-dataset")).ToContainTextAsync("Demo orders");
        await Pages.ChooseAsync(page, page.GetByTestId("survival-grouping"), "region");
        await page.GetByTestId("survival-run").ClickAsync();
        // A sentence in words: which region churns faster and the p-value, or that there is no clear difference.
        await Expect(page.GetByTestId("survival-sentence")).ToContainTextAsync(new Regex(@"(churn faster than|No clear difference).*p [<=] "),
            new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
        await Expect(page.GetByTestId("survival-group-row").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("survival-results").Locator(".main-svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "57-survival-by-region");

        // The same curves on a board: a survival tile shows the analysis its viewer ran last on the chosen transactions.
        await NewBoardAsync(page, "Survival");
        await AddAnalysisTileAsync(page, "Customers staying", "Survival curves", "Demo orders");
        await Expect(page.GetByTestId("chart-survival-curves").Locator(".main-svg").First).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "57-survival-tile");
    }

    private static async Task NewBoardAsync(IPage page, string name)
    {
        await page.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-dashboard-name").FillAsync(name);
        await page.GetByTestId("new-dashboard").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboards/\\d+\\?edit=1$"));
        await Pages.WaitUntilInteractiveAsync(page);
    }

    /// <summary>Adds a tile that shows an analysis of <paramref name="source"/> (picked in the editor's source list, not a dataset).</summary>
    private static async Task AddAnalysisTileAsync(IPage page, string title, string type, string source)
    {
        await page.GetByTestId("add-tile").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByTestId("editor-title")).ToBeVisibleAsync();
        await Pages.ChooseAsync(page, dialog.GetByTestId("editor-type"), type);
        await Pages.ChooseAsync(page, dialog.GetByTestId("editor-source"), source);
        await dialog.GetByTestId("editor-title").FillAsync(title);
        await Expect(dialog.GetByTestId("editor-preview").GetByTestId("tile-title")).ToHaveTextAsync(title);
        await dialog.GetByTestId("editor-save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("tile-title").Filter(new() { HasText = title })).ToBeVisibleAsync();
    }
}
