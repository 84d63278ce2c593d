using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class ConnectionsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_tests_saves_and_deletes_a_connection()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Connections" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Database connections" })).ToBeVisibleAsync();
        await Pages.WaitUntilInteractiveAsync(page);

        await page.GetByTestId("new-connection").ClickAsync();
        await Expect(page.GetByTestId("connection-port")).ToHaveValueAsync("5432");
        var name = $"Warehouse {Guid.NewGuid():N}"[..16];
        await page.GetByTestId("connection-name").FillAsync(name);
        await page.GetByTestId("connection-host").FillAsync("127.0.0.1");
        await page.GetByTestId("connection-port").FillAsync(FreePort().ToString());
        await page.GetByTestId("connection-database").FillAsync("dw");
        await page.GetByTestId("connection-user").FillAsync("reader");
        await page.GetByTestId("connection-password").FillAsync("Reader-pass-1");
        await page.GetByTestId("test-connection").ClickAsync();
        await Expect(page.GetByTestId("connection-test-result")).ToContainTextAsync("Nothing is accepting connections");
        await BrowserFixture.ScreenshotAsync(page, "30-connection-dialog");

        await page.GetByTestId("save-connection").ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = name });
        await Expect(row).ToContainTextAsync("Password set");
        await Expect(row).ToContainTextAsync("PostgreSQL");
        await BrowserFixture.ScreenshotAsync(page, "31-connections");

        await row.GetByRole(AriaRole.Button).ClickAsync();
        await page.GetByText("Delete", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Analyst_imports_a_table_from_a_sqlite_connection()
    {
        var sources = Path.Combine(browser.App.DataDirectory, "sources");
        Directory.CreateDirectory(sources);
        await using (var source = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(sources, "shop.db")};Pooling=False"))
        {
            await source.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = source.CreateCommand();
            command.CommandText = "CREATE TABLE customers (id INTEGER, name TEXT, region TEXT);" +
                string.Concat(Enumerable.Range(1, 250).Select(i => $"INSERT INTO customers VALUES ({i}, 'Customer {i}', '{(i % 2 == 0 ? "North" : "South")}');"));
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await page.GotoAsync("/admin/connections");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-connection").ClickAsync();
        await page.GetByTestId("connection-name").FillAsync("Shop file");
        await page.GetByTestId("connection-kind").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "SQLite" }).ClickAsync();
        // The form swaps server fields for a file name; type into the new field, not the one on its way out.
        await Expect(page.GetByTestId("connection-host")).ToHaveCountAsync(0);
        await page.GetByTestId("connection-database").FillAsync("shop.db");
        await page.GetByTestId("save-connection").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Shop file" })).ToBeVisibleAsync();

        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Database" }).ClickAsync();
        // The tab loads the connections from the server first; a busy machine can take a while.
        try
        {
            await Expect(page.GetByTestId("connection-picker")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
        }
        catch
        {
            TestContext.Current.TestOutputHelper?.WriteLine("APPLOG " + browser.App.Log);
            throw;
        }
        await Pages.ChooseAsync(page, page.GetByTestId("connection-picker"), "Shop file");
        await page.GetByTestId("table-picker").GetByText("customers").ClickAsync();
        await Expect(page.GetByText("Customer 1", new() { Exact = true })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "32-connection-import");
        await page.GetByTestId("import-connection").ClickAsync();
        await Expect(page.GetByTestId("job-list")).ToContainTextAsync("customers: 250 rows imported", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "customers", Exact = true })).ToBeVisibleAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
