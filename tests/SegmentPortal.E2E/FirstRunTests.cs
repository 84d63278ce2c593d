using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class FirstRunTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_signs_in_loads_demo_data_and_sees_the_customer_count()
    {
        var page = await browser.NewPageAsync();

        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await BrowserFixture.ScreenshotAsync(page, "01-sign-in");
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No data yet" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "02-home-empty");
        await page.GetByTestId("load-demo-data").ClickAsync();
        await Expect(page.GetByTestId("job-progress")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "03-loading");

        await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("stat-datasets")).ToContainTextAsync("2");
        await BrowserFixture.ScreenshotAsync(page, "04-home-loaded");

        await page.GetByRole(AriaRole.Link, new() { Name = "Data", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Demo orders" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "05-data");
        await page.GetByRole(AriaRole.Link, new() { Name = "Demo customers" }).ClickAsync();
        await Expect(page.GetByTestId("role-customer")).ToContainTextAsync("customer_id");
        await BrowserFixture.ScreenshotAsync(page, "06-dataset");

        // The theme choice is remembered for the user, across reloads.
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-label", "Switch to light mode");
        await page.ReloadAsync();
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-label", "Switch to light mode");
        await BrowserFixture.ScreenshotAsync(page, "07-dataset-dark");
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-label", "Switch to dark mode");

        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("sign-out").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await page.GotoAsync("/data");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
    }
}
