using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class DashboardTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Analyst_builds_a_six_tile_board_filters_cross_filters_drills_exports_and_finds_the_layout_saved()
    {
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(page);
        await BrowserFixture.ScreenshotAsync(page, "57-dashboards-empty");
        await page.GetByTestId("new-dashboard-name").FillAsync("Sales overview");
        await page.GetByTestId("new-dashboard").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboards/\\d+\\?edit=1$"));
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("dashboard-name")).ToHaveTextAsync("Sales overview");
        await BrowserFixture.ScreenshotAsync(page, "58-board-empty");

        await AddTileAsync(page, "Revenue", "KPI card", "Demo orders", measure: ("Sum", "amount"), dateColumn: "order_date");
        await AddTileAsync(page, "Revenue by month", "Line chart", "Demo orders", measure: ("Sum", "amount"), dimension: "order_date");
        await AddTileAsync(page, "Customers by region", "Bar chart", "Demo customers", measure: ("Customers", null), dimension: "region", drillTo: "city");
        await AddTileAsync(page, "Orders by channel", "Pie / donut", "Demo orders", measure: ("Count of rows", null), dimension: "channel");
        await AddTileAsync(page, "Customers table", "Table", "Demo customers", measure: ("Customers", null), dimension: "region");
        await AddTileAsync(page, "Retention", "Cohort retention", "Demo orders");
        await Expect(page.GetByTestId("dashboard-tile")).ToHaveCountAsync(6);
        await TilesLoadedAsync(page);
        await BrowserFixture.ScreenshotAsync(page, "60-dashboard");
        foreach (var chart in new[] { "chart-line", "chart-bar", "chart-pie", "chart-cohort" })
        {
            await Expect(page.GetByTestId(chart).Locator(".main-svg").First).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        }
        await Expect(page.GetByTestId("kpi-value")).Not.ToBeEmptyAsync();

        // Move the table one row down with the keyboard, on its handle; the layout is saved as it changes.
        var table = page.GetByTestId("dashboard-tile").Filter(new() { Has = page.GetByTestId("tile-table") });
        var before = await table.GetAttributeAsync("data-y");
        await table.GetByTestId("tile-handle").FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await Expect(table).Not.ToHaveAttributeAsync("data-y", before!);
        var moved = await table.GetAttributeAsync("data-y");

        // Filters: order dates in the last 12 months, region North or East.
        await AddFilterAsync(page, "order_date");
        await Pages.ChooseAsync(page, page.GetByTestId("filter-date-preset"), "Last 12 months");
        await AddFilterAsync(page, "region");
        await Pages.ChooseAsync(page, page.GetByTestId("filter-category"), "North", multiple: true);
        var tableRows = page.GetByTestId("tile-table").Locator("tbody tr");
        await Expect(tableRows).ToHaveCountAsync(1, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await TilesLoadedAsync(page);

        // Cross-filter from a bar: clicking the first bar filters the other tiles that have region.
        // Plotly listens on its drag layer above the bars: click where the bar is drawn.
        await page.GetByTestId("chart-bar").Locator(".point path").First.ClickAsync(new() { Force = true });
        await Expect(page.GetByTestId("cross-filter")).ToContainTextAsync("region");
        await TilesLoadedAsync(page);

        // Drill into a month on the line chart.
        await page.GetByTestId("chart-line").Locator(".point").Nth(3).ClickAsync(new() { Force = true });
        var line = page.GetByTestId("dashboard-tile").Filter(new() { Has = page.GetByTestId("chart-line") });
        await line.GetByTestId("tile-drill").ClickAsync();
        await Expect(line.GetByTestId("tile-drill-path")).ToBeVisibleAsync();
        await Expect(line.GetByTestId("chart-line").Locator(".point")).Not.ToHaveCountAsync(13, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await TilesLoadedAsync(page);
        await BrowserFixture.ScreenshotAsync(page, "61-dashboard-explored");

        // Export a tile as CSV and the board as PDF.
        var pie = page.GetByTestId("dashboard-tile").Filter(new() { Has = page.GetByTestId("chart-pie") });
        await pie.GetByTestId("tile-menu").ClickAsync();
        var csv = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("tile-export-csv").ClickAsync());
        var csvFile = Path.Combine(Path.GetTempPath(), $"tile-{Guid.NewGuid():N}.csv");
        await csv.SaveAsAsync(csvFile);
        var lines = await File.ReadAllLinesAsync(csvFile, TestContext.Current.CancellationToken);
        File.Delete(csvFile);
        Assert.StartsWith("channel,", lines[0].TrimStart('\uFEFF'));
        Assert.True(lines.Length > 1);

        await pie.GetByTestId("tile-menu").ClickAsync();
        var chartPng = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("tile-export-png").ClickAsync());
        Assert.Equal("\x89PNG", await HeadAsync(chartPng, 4));

        await page.GetByTestId("dashboard-export").ClickAsync();
        var boardPng = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-png").ClickAsync(), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        Assert.Equal("\x89PNG", await HeadAsync(boardPng, 4));

        await page.GetByTestId("dashboard-export").ClickAsync();
        var pdf = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-pdf").ClickAsync(), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        var pdfFile = Path.Combine(Path.GetTempPath(), $"board-{Guid.NewGuid():N}.pdf");
        await pdf.SaveAsAsync(pdfFile);
        var head = new byte[5];
        await using (var stream = File.OpenRead(pdfFile))
        {
            await stream.ReadExactlyAsync(head, TestContext.Current.CancellationToken);
        }
        Assert.Equal("%PDF-", System.Text.Encoding.ASCII.GetString(head));
        Assert.True(new FileInfo(pdfFile).Length > 10_000);
        File.Delete(pdfFile);

        await page.ReloadAsync();
        await Pages.WaitUntilInteractiveAsync(page);
        table = page.GetByTestId("dashboard-tile").Filter(new() { Has = page.GetByTestId("tile-table") });
        await Expect(table).ToHaveAttributeAsync("data-y", moved!);
        await Expect(page.GetByTestId("dashboard-tile")).ToHaveCountAsync(6);
    }

    internal static async Task AddTileAsync(IPage page, string title, string type, string dataset,
        (string Kind, string? Column)? measure = null, string? dimension = null, string? dateColumn = null, string? drillTo = null,
        string? secondDimension = null)
    {
        await page.GetByTestId("add-tile").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByTestId("editor-title")).ToBeVisibleAsync();
        await Pages.ChooseAsync(page, dialog.GetByTestId("editor-type"), type);
        await Pages.ChooseAsync(page, dialog.GetByTestId("editor-dataset"), dataset);
        if (measure is { } m)
        {
            await Pages.ChooseAsync(page, dialog.GetByTestId("measure-kind").First, m.Kind);
            if (m.Column is { } column)
            {
                await Pages.ChooseAsync(page, dialog.GetByTestId("measure-column").First, column);
            }
        }
        if (dimension is not null)
        {
            await Pages.ChooseAsync(page, dialog.GetByTestId("dimension-column").First, dimension);
        }
        if (secondDimension is not null)
        {
            await dialog.GetByTestId("editor-add-dimension").ClickAsync();
            await Pages.ChooseAsync(page, dialog.GetByTestId("dimension-column").Nth(1), secondDimension);
        }
        if (drillTo is not null)
        {
            await Pages.ChooseAsync(page, dialog.GetByTestId("dimension-hierarchy").First, drillTo, multiple: true);
        }
        if (dateColumn is not null)
        {
            await Pages.ChooseAsync(page, dialog.GetByTestId("editor-date-column"), dateColumn);
        }
        await dialog.GetByTestId("editor-title").FillAsync(title);
        // The preview shows the title as it is typed, not the one it had when the editor opened.
        await Expect(dialog.GetByTestId("editor-preview").GetByTestId("tile-title")).ToHaveTextAsync(title);
        if (type == "Bar chart")
        {
            await BrowserFixture.ScreenshotAsync(page, "59-tile-editor");
        }
        await dialog.GetByTestId("editor-save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("tile-title").Filter(new() { HasText = title })).ToBeVisibleAsync();
    }

    /// <summary>The first bytes of a downloaded file, as Latin-1 text.</summary>
    private static async Task<string> HeadAsync(IDownload download, int count)
    {
        var file = Path.Combine(Path.GetTempPath(), $"download-{Guid.NewGuid():N}");
        await download.SaveAsAsync(file);
        var head = new byte[count];
        await using (var stream = File.OpenRead(file))
        {
            await stream.ReadExactlyAsync(head, TestContext.Current.CancellationToken);
        }
        File.Delete(file);
        return System.Text.Encoding.Latin1.GetString(head);
    }

    /// <summary>
    /// Waits until no tile is loading or refreshing: a click on a chart that is about to be redrawn with new data
    /// lands on the drawing on its way out and does nothing.
    /// </summary>
    private static Task TilesLoadedAsync(IPage page) =>
        Expect(page.GetByTestId("tile-loading")).ToHaveCountAsync(0, new() { Timeout = BrowserFixture.WorkTimeoutMs });

    private static async Task AddFilterAsync(IPage page, string column)
    {
        await page.GetByTestId("add-filter").ClickAsync();
        await page.GetByTestId("add-filter-field").Filter(new() { HasText = column }).First.ClickAsync();
        await Expect(page.Locator($"[data-testid=dashboard-filter][data-column='{column}']")).ToBeVisibleAsync();
    }
}
