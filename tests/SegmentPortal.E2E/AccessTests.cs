using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class AccessTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_creates_a_viewer_who_cannot_reach_admin_pages_and_is_signed_out_when_disabled()
    {
        var admin = await browser.NewPageAsync();
        await Pages.SignInAsync(admin, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await admin.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-user").ClickAsync();
        var email = $"viewer-{Guid.NewGuid():N}"[..15] + "@e2e.local";
        await Pages.FillNewUserAsync(admin, email, "Vera Viewer", "Viewer-pass-1357");
        await BrowserFixture.ScreenshotAsync(admin, "10-new-user");
        await admin.GetByTestId("create-user").ClickAsync();
        var row = admin.GetByRole(AriaRole.Row).Filter(new() { HasText = email });
        await Expect(row).ToContainTextAsync("Viewer");
        await BrowserFixture.ScreenshotAsync(admin, "11-users");

        var viewer = await browser.NewPageAsync();
        await Pages.SignInAsync(viewer, email, "Viewer-pass-1357");
        await Expect(viewer.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveCountAsync(0);
        var response = await viewer.GotoAsync("/admin/users");
        Assert.Equal(403, response!.Status);
        await Expect(viewer.GetByTestId("status-heading")).ToHaveTextAsync("You don't have access to this page");
        await BrowserFixture.ScreenshotAsync(viewer, "12-viewer-403");
        await viewer.GotoAsync("/");
        await Pages.WaitUntilInteractiveAsync(viewer);

        await row.GetByRole(AriaRole.Button).ClickAsync();
        await admin.GetByText("Disable", new() { Exact = true }).ClickAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(row).ToContainTextAsync("Disabled");

        // The open session re-checks its user (every 2 s in this run) and sends them to sign in.
        await Expect(viewer).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
    }
}
