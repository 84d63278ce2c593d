using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using SegmentPortal.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// A live PostgreSQL dataset end to end, in its own app and its own PostgreSQL server: an Admin connects the shop
/// database, makes its customers table a live dataset (its rows stay in PostgreSQL), gives it a Customer ID, builds a
/// segment whose live count is the count of hand-written SQL on the server, puts a table tile of customers by city on a
/// board and shares it with a Viewer restricted to Kraków by a row rule, who sees only Kraków and its right count.
/// </summary>
public sealed class LiveDatasetTests : IAsyncLifetime
{
    private const string ViewerPassword = "Viewer-pass-2468";

    private readonly PostgresServer _postgres = new();
    private OwnAppBrowser _browser = null!;
    private string? _skipReason;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _browser = await OwnAppBrowser.StartAsync("live");
        _skipReason = _browser.SkipReason;
        if (_skipReason is null)
        {
            await _postgres.InitializeAsync();
            _skipReason = _postgres.SkipReason;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task A_live_PostgreSQL_dataset_counts_a_segment_in_the_source_and_a_row_ruled_Viewer_sees_only_their_rows_on_a_board()
    {
        Assert.SkipWhen(_skipReason is not null, _skipReason ?? "");
        await using var app = await AppUnderTest.StartAsync(Path.Combine(_browser.Folder, "data"), Ct);
        var page = await _browser.SignInAsync(app);

        // The shop database, through its read-only login.
        await page.GotoAsync("/admin/connections");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-connection").ClickAsync();
        await page.GetByTestId("connection-name").FillAsync("Shop");
        await page.GetByTestId("connection-host").FillAsync("127.0.0.1");
        await page.GetByTestId("connection-port").FillAsync(_postgres.Port.ToString(CultureInfo.InvariantCulture));
        await page.GetByTestId("connection-database").FillAsync(PostgresServer.Database);
        await page.GetByTestId("connection-user").FillAsync(PostgresServer.ReaderUser);
        await page.GetByTestId("connection-password").FillAsync(PostgresServer.ReaderPassword);
        await page.GetByTestId("save-connection").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Shop" })).ToBeVisibleAsync();

        // Live (query the database): the customers table becomes a dataset whose rows stay in PostgreSQL.
        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Database" }).ClickAsync();
        await Pages.ChooseAsync(page, page.GetByTestId("connection-picker"), "Shop");
        await page.GetByText("Live (query the database)").ClickAsync();
        await Expect(page.GetByTestId("live-cache-minutes")).ToBeVisibleAsync();
        await page.GetByTestId("table-picker").GetByRole(AriaRole.Row).Filter(new() { HasText = "public.customers" }).ClickAsync();
        await Expect(page.GetByTestId("create-live")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "34-live-dataset-choice");
        await page.GetByTestId("create-live").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/data/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("dataset-live")).ToContainTextAsync("always live");
        await Expect(page.GetByTestId("dataset-rows")).ToContainTextAsync(PostgresServer.CustomerCount.ToString("N0", CultureInfo.InvariantCulture),
            new() { Timeout = BrowserFixture.WorkTimeoutMs });

        // Roles as for an import: id is the Customer ID, city a dimension.
        foreach (var (column, role) in new[] { ("id", "Customer ID"), ("city", "Dimension") })
        {
            await page.GetByLabel($"Role of {column}").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = role, Exact = true }).ClickAsync();
            await Expect(page.Locator(".mud-popover-open [role=option]")).ToHaveCountAsync(0);
        }
        await page.GetByTestId("save-columns").ClickAsync();
        await Expect(page.GetByTestId("dataset-kind")).ToContainTextAsync("Customers", new() { Timeout = BrowserFixture.WorkTimeoutMs });

        // Shared with Viewers, like any dataset (their row rule decides which rows they read).
        await page.GetByRole(AriaRole.Tab, new() { Name = "Sharing" }).ClickAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Everyone with the Viewer role" }).CheckAsync();
        await page.GetByTestId("share-save").ClickAsync();
        await Expect(page.GetByText("Sharing saved.")).ToBeVisibleAsync();

        // A segment with its live count, counted in the source.
        await page.GotoAsync("/segments/new");
        await Pages.WaitUntilInteractiveAsync(page);
        // The live dataset is the only one with a Customer ID: the page takes it.
        await page.GetByTestId("rule-group").First.GetByTestId("add-condition").First.ClickAsync();
        await page.GetByTestId("add-field-condition").ClickAsync();
        await page.GetByTestId("rule-condition").Last.GetByTestId("condition-field").FillAsync("city");
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "city" }).First.ClickAsync();
        await Pages.PickConditionValueAsync(page, "Kraków");
        await Expect(page.GetByTestId("rule-summary")).ToHaveTextAsync(new Regex("city is Kraków"));
        var krakow = await PgScalarAsync("SELECT count(*) FROM customers WHERE city = 'Kraków'");
        await Expect(page.GetByTestId("live-count-value")).ToHaveTextAsync(krakow.ToString("N0", CultureInfo.InvariantCulture),
            new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "35-live-segment-count");
        await Pages.FillFieldsAsync(page.Locator("body"), ("segment-name", "Kraków customers"));
        await page.GetByTestId("save-segment").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });

        // A Viewer, restricted to Kraków by a row rule on the live dataset.
        await page.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-user").ClickAsync();
        const string viewerEmail = "vera@e2e.local";
        await Pages.FillNewUserAsync(page, viewerEmail, "Vera Kraków", ViewerPassword);
        await page.GetByTestId("create-user").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = viewerEmail })).ToContainTextAsync("Viewer");
        await page.GotoAsync("/admin/permissions");
        await Pages.WaitUntilInteractiveAsync(page);
        await Pages.ChooseAsync(page, page.GetByTestId("permissions-dataset"), "customers");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Row rules" }).ClickAsync();
        await page.GetByTestId("add-row-rule").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Pages.ChooseAsync(page, dialog.GetByTestId("row-rule-applies-to"), "Everyone with the Viewer role");
        await dialog.GetByTestId("add-condition").First.ClickAsync();
        await page.GetByTestId("add-field-condition").ClickAsync();
        await dialog.GetByTestId("condition-field").FillAsync("city");
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "city" }).First.ClickAsync();
        await Pages.PickConditionValueAsync(page, "Kraków");
        await Expect(dialog.GetByTestId("row-rule-summary")).ToContainTextAsync("Kraków");
        await dialog.GetByTestId("row-rule-save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("row-rule")).ToContainTextAsync("Viewer");

        // A board with customers by city over the live dataset, shared with the Viewer.
        await page.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-dashboard-name").FillAsync("Live shop");
        await page.GetByTestId("new-dashboard").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboards/\\d+\\?edit=1$"));
        await Pages.WaitUntilInteractiveAsync(page);
        var address = new Uri(page.Url).AbsolutePath;
        await DashboardTests.AddTileAsync(page, "Customers by city", "Table", "customers", measure: ("Customers", null), dimension: "city");
        await Expect(page.GetByTestId("tile-loading")).ToHaveCountAsync(0, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        var adminRows = page.GetByTestId("tile-table").Locator("tbody tr");
        await Expect(adminRows).ToHaveCountAsync(5, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "36-live-board");
        await page.GetByTestId("dashboard-share").ClickAsync();
        await Pages.ChooseAsync(page, page.GetByTestId("share-who"), viewerEmail);
        await page.GetByTestId("share-add").ClickAsync();
        await Expect(page.GetByTestId("share-list")).ToContainTextAsync(viewerEmail);

        // The Viewer sees Kraków only, with the count PostgreSQL gives for it.
        var viewer = await _browser.SignInAsync(app, viewerEmail, ViewerPassword);
        await viewer.GotoAsync(address);
        await Pages.WaitUntilInteractiveAsync(viewer);
        await Expect(viewer.GetByTestId("tile-loading")).ToHaveCountAsync(0, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(viewer, "37-live-board-viewer");
        var rows = viewer.GetByTestId("tile-table").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(1, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        var cells = (await rows.InnerTextAsync()).Split('\t', StringSplitOptions.TrimEntries);
        Assert.Equal("Kraków", cells[0]);
        Assert.Equal(krakow.ToString("N0", CultureInfo.InvariantCulture), cells[1]);
    }

    private async Task<long> PgScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_postgres.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }
}
