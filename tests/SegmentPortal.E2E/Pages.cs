using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>Steps several tests share.</summary>
public static class Pages
{
    /// <summary>Waits for the live connection: before it, the page is prerendered HTML and clicks do nothing.</summary>
    public static Task WaitUntilInteractiveAsync(IPage page) =>
        page.Locator("#app-interactive").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/account/login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByTestId("sign-in").ClickAsync();
        await Expect(page.GetByTestId("user-menu")).ToBeVisibleAsync();
        await WaitUntilInteractiveAsync(page);
    }
}
