using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class AdminPermissionsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_sets_a_users_attribute_views_as_them_stops_and_finds_it_all_in_the_audit_log()
    {
        var admin = await browser.NewPageAsync();
        await Pages.SignInAsync(admin, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await admin.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-user").ClickAsync();
        var email = $"north-{Guid.NewGuid():N}"[..14] + "@e2e.local";
        await Pages.FillNewUserAsync(admin, email, "Nora North", "Viewer-pass-1357");
        await admin.GetByTestId("create-user").ClickAsync();
        var row = admin.GetByRole(AriaRole.Row).Filter(new() { HasText = email });
        await Expect(row).ToContainTextAsync("Viewer");

        await row.GetByRole(AriaRole.Button).ClickAsync();
        await admin.GetByTestId("user-attributes").ClickAsync();
        await admin.GetByTestId("add-attribute").ClickAsync();
        await admin.GetByTestId("attribute-name").FillAsync("Region");
        await admin.GetByTestId("attribute-value").FillAsync("North");
        await admin.GetByTestId("attributes-save").ClickAsync();
        await Expect(admin.GetByText($"Attributes of {email} saved.")).ToBeVisibleAsync();

        await row.GetByRole(AriaRole.Button).ClickAsync();
        await admin.GetByTestId("user-view-as").ClickAsync();
        var banner = admin.GetByTestId("view-as-banner");
        await Expect(banner).ToContainTextAsync($"Viewing as Nora North ({email})");
        await admin.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(admin);
        // A new page load is a new session: viewing-as belongs to the tab's live session, which navigation within the app keeps.
        await Expect(banner).ToHaveCountAsync(0);

        await admin.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(admin);
        await row.GetByRole(AriaRole.Button).ClickAsync();
        await admin.GetByTestId("user-view-as").ClickAsync();
        await Expect(banner).ToBeVisibleAsync();
        await admin.GetByRole(AriaRole.Link, new() { Name = "Data", Exact = true }).ClickAsync();
        await Expect(admin).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/data$"));
        await Expect(banner).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(admin, "40-view-as");
        // Stop reloads the page as the Admin.
        await admin.EvaluateAsync("() => window.beforeStop = true");
        await admin.GetByTestId("view-as-stop").ClickAsync();
        await admin.WaitForFunctionAsync("() => window.beforeStop === undefined");
        await Pages.WaitUntilInteractiveAsync(admin);
        await Expect(banner).ToHaveCountAsync(0);

        await admin.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("audit-text").FillAsync(email);
        await admin.GetByTestId("audit-search").ClickAsync();
        var entries = admin.GetByTestId("audit-entry");
        await Expect(entries.Filter(new() { HasText = "Stopped viewing as" })).ToHaveCountAsync(1);
        await Expect(entries.Filter(new() { HasText = "Started viewing as" })).ToHaveCountAsync(2);
        await Expect(entries.Filter(new() { HasText = "Region = North" })).ToHaveCountAsync(1);
        await Expect(entries.Filter(new() { HasText = "Created with roles Viewer" })).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(admin, "41-audit-log");
    }
}
