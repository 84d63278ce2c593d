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
        await BrowserFixture.ScreenshotAsync(page, "20-connection-dialog");

        await page.GetByTestId("save-connection").ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = name });
        await Expect(row).ToContainTextAsync("Password set");
        await Expect(row).ToContainTextAsync("PostgreSQL");
        await BrowserFixture.ScreenshotAsync(page, "21-connections");

        await row.GetByRole(AriaRole.Button).ClickAsync();
        await page.GetByText("Delete", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
