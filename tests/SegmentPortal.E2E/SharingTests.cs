using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class SharingTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task An_Analyst_shares_a_dashboard_with_a_Viewer_who_then_opens_it_read_only()
    {
        var admin = await browser.NewPageAsync();
        await Pages.SignInAsync(admin, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await admin.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-user").ClickAsync();
        var email = $"share-{Guid.NewGuid():N}"[..14] + "@e2e.local";
        await Pages.FillNewUserAsync(admin, email, "Sam Viewer", "Viewer-pass-1357");
        await admin.GetByTestId("create-user").ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Row).Filter(new() { HasText = email })).ToContainTextAsync("Viewer");

        var name = $"Shared board {Guid.NewGuid():N}"[..21];
        await admin.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-dashboard-name").FillAsync(name);
        await admin.GetByTestId("new-dashboard").ClickAsync();
        await Expect(admin.GetByTestId("dashboard-name")).ToHaveTextAsync(name);
        var address = new Uri(admin.Url).AbsolutePath;

        var viewer = await browser.NewPageAsync();
        await Pages.SignInAsync(viewer, email, "Viewer-pass-1357");
        var refused = await viewer.GotoAsync(address);
        Assert.Equal(403, refused!.Status);
        Assert.DoesNotContain(name, await viewer.ContentAsync());

        await admin.GetByTestId("dashboard-share").ClickAsync();
        await Pages.ChooseAsync(admin, admin.GetByTestId("share-who"), email);
        await admin.GetByTestId("share-add").ClickAsync();
        await Expect(admin.GetByTestId("share-list")).ToContainTextAsync(email);
        await BrowserFixture.ScreenshotAsync(admin, "60-share-dialog");

        var opened = await viewer.GotoAsync(address);
        Assert.Equal(200, opened!.Status);
        await Pages.WaitUntilInteractiveAsync(viewer);
        await Expect(viewer.GetByTestId("dashboard-name")).ToHaveTextAsync(name);
        await Expect(viewer.GetByTestId("add-tile")).ToHaveCountAsync(0);
        await Expect(viewer.GetByTestId("dashboard-settings")).ToHaveCountAsync(0);
        await Expect(viewer.GetByTestId("dashboard-share")).ToHaveCountAsync(0);
        await viewer.GotoAsync("/dashboards");
        await Expect(viewer.GetByRole(AriaRole.Row).Filter(new() { HasText = name })).ToContainTextAsync("Shared with me");
    }
}
