using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SegmentPortal.TestData;
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
        // Transactions come first: the demo orders, not the demo customers (whose only date is the sign-up).
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

    /// <summary>
    /// The CDNOW sample the literature uses (tests/SegmentPortal.Tests/Data/cdnow, see its SOURCE.md), uploaded as a file
    /// like any customer's orders: with calibration to 1997-09-30 in weeks, the page shows the published BG/NBD and
    /// Gamma-Gamma parameters (Fader, Hardie &amp; Lee 2005: r 0.243, α 4.414, a 0.793, b 2.426; Fader &amp; Hardie 2013:
    /// p 6.25, q 3.74, γ 15.44).
    /// </summary>
    [Fact]
    public async Task Analyst_uploads_the_CDNOW_orders_and_the_page_shows_the_published_fit()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        var file = Path.Combine(Path.GetTempPath(), $"cdnow-{Guid.NewGuid():N}", "cdnow-orders.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllLinesAsync(file, CdnowCsv(), TestContext.Current.CancellationToken);
        try
        {
            await page.GotoAsync("/data");
            await Pages.WaitUntilInteractiveAsync(page);
            await page.Locator("[data-testid=drop-zone][data-ready=true]").WaitForAsync();
            await page.GetByTestId("file-input").SetInputFilesAsync(file);
            await Expect(page.GetByTestId("upload-list")).ToContainTextAsync("Uploaded, ready to import", new() { Timeout = BrowserFixture.WorkTimeoutMs });
            await page.GetByTestId("start-import").ClickAsync();
            await Expect(page.GetByTestId("job-list")).ToContainTextAsync("cdnow-orders: 6,919 rows imported", new() { Timeout = BrowserFixture.WorkTimeoutMs });

            await page.GetByRole(AriaRole.Link, new() { Name = "cdnow-orders", Exact = true }).ClickAsync();
            await Pages.WaitUntilInteractiveAsync(page);
            await Pages.ChooseAsync(page, page.GetByLabel("Role of customer_id"), "Customer ID");
            await Pages.ChooseAsync(page, page.GetByLabel("Role of order_date"), "Order / event date");
            await Pages.ChooseAsync(page, page.GetByLabel("Role of amount"), "Amount");
            await page.GetByTestId("save-columns").ClickAsync();
            await Expect(page.GetByTestId("dataset-kind")).ToContainTextAsync("Transactions", new() { Timeout = BrowserFixture.WorkTimeoutMs });

            await page.GotoAsync("/analysis/lifetime");
            await Pages.WaitUntilInteractiveAsync(page);
            await Pages.ChooseAsync(page, page.GetByTestId("ltv-dataset"), "cdnow-orders");
            // The picker's text box (MudBlazor puts the test id on the input itself).
            var end = page.GetByTestId("ltv-calibration-end");
            if (await end.EvaluateAsync<string>("e => e.tagName") != "INPUT")
            {
                end = end.Locator("input");
            }
            await end.FillAsync("1997-09-30");
            await end.PressAsync("Tab");
            await Expect(end).ToHaveValueAsync("1997-09-30");
            await Pages.ChooseAsync(page, page.GetByTestId("ltv-unit"), "Weeks");
            await page.GetByTestId("ltv-run").ClickAsync();

            var calibration = page.GetByTestId("ltv-calibration-parameters");
            await Expect(calibration).ToContainTextAsync("BG/NBD, 2,357 customers", new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
            await Expect(page.GetByTestId("ltv-holdout-summary")).ToContainTextAsync("up to 1997-09-30");
            var tables = calibration.GetByTestId("ltv-parameter-table");
            // Four decimals on the page; the paper gives three (r 0.243, α 4.414, a 0.793, b 2.426; LL −9582.4).
            await Expect(tables.Nth(0)).ToContainTextAsync(new Regex(@"r\s*0\.24(2|3)\d"));
            await Expect(tables.Nth(0)).ToContainTextAsync(new Regex(@"alpha\s*4\.41\d"));
            await Expect(tables.Nth(0)).ToContainTextAsync(new Regex(@"a\s*0\.79\d"));
            await Expect(tables.Nth(0)).ToContainTextAsync(new Regex(@"b\s*2\.42\d"));
            await Expect(tables.Nth(0)).ToContainTextAsync("-9,582.4");
            await Expect(calibration).ToContainTextAsync("Gamma-Gamma, 946 repeat customers");
            await Expect(tables.Nth(1)).ToContainTextAsync(new Regex(@"p\s*6\.2[45]\d"));
            await Expect(tables.Nth(1)).ToContainTextAsync(new Regex(@"q\s*3\.74\d"));
            await Expect(tables.Nth(1)).ToContainTextAsync(new Regex(@"gamma\s*15\.4[34]\d"));
            await BrowserFixture.ScreenshotAsync(page, "58-lifetime-cdnow");

            // The same uploaded orders in survival: time until churn, with the curve and its table.
            await page.GotoAsync("/analysis/survival");
            await Pages.WaitUntilInteractiveAsync(page);
            await Pages.ChooseAsync(page, page.GetByTestId("survival-dataset"), "cdnow-orders");
            await page.GetByTestId("survival-run").ClickAsync();
            await Expect(page.GetByTestId("survival-group-row").First).ToContainTextAsync("2,357", new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
            await Expect(page.GetByTestId("survival-results").Locator(".main-svg").First).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "59-survival-cdnow");

            // And churn risk, trained on the orders alone (no customer list): validated on the later cut-off, every customer scored.
            await page.GotoAsync("/analysis/churn");
            await Pages.WaitUntilInteractiveAsync(page);
            await Pages.ChooseAsync(page, page.GetByTestId("churn-input"), "cdnow-orders");
            await Expect(page.GetByTestId("churn-defaults")).ToContainTextAsync("suggested horizon", new() { Timeout = BrowserFixture.WorkTimeoutMs });
            await page.GetByTestId("churn-name").FillAsync("CDNOW churn");
            await page.GetByTestId("churn-start").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/analysis/churn/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
            await Expect(page.GetByTestId("churn-auc")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.LongWorkTimeoutMs });
            await Expect(page.GetByTestId("churn-fields")).ToContainTextAsync("Churn risk (CDNOW churn)");
            await BrowserFixture.ScreenshotAsync(page, "59-churn-cdnow");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    /// <summary>The CDNOW sample (customer, customer again, yyyyMMdd, CDs, dollars; space-aligned) as the CSV a shop would export.</summary>
    private static IEnumerable<string> CdnowCsv()
    {
        var source = Path.Combine(TestDatasets.Folder, "..", "SegmentPortal.Tests", "Data", "cdnow", "CDNOW_sample.txt");
        yield return "customer_id,order_date,quantity,amount";
        foreach (var line in File.ReadLines(source))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 5)
            {
                var day = parts[2];
                yield return $"{parts[0]},{day[..4]}-{day[4..6]}-{day[6..]},{parts[3]},{parts[4]}";
            }
        }
    }
}
