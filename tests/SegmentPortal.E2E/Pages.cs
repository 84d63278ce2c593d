using System.Text.RegularExpressions;
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

    /// <summary>
    /// Opens a MudSelect and picks the option with this text. The click goes to the server and the list comes back
    /// open, which on a busy machine can take a while: it waits for the option (as long as any expected state). Only
    /// when no list opened at all (the click was lost) does it click again; it never presses Escape, which would close
    /// the dialog the select is in if its list were not open yet.
    /// </summary>
    public static async Task ChooseAsync(IPage page, ILocator select, string option, bool multiple = false)
    {
        var choice = page.GetByRole(AriaRole.Option).Filter(new() { HasText = option }).First;
        var openList = page.Locator(".mud-popover-open");
        for (var attempt = 1; ; attempt++)
        {
            await select.ClickAsync();
            try
            {
                await choice.WaitForAsync(new() { Timeout = (float)BrowserFixture.ExpectTimeout.TotalMilliseconds });
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                if (await openList.CountAsync() > 0)
                {
                    throw; // the list is open and does not offer the option
                }
                // Nothing opened: the click did not reach the select. Click it again.
            }
        }
        await choice.ClickAsync();
        if (multiple)
        {
            // A multi-select stays open for more choices; clicking it again closes it.
            await select.ClickAsync(new() { Force = true });
        }
        await Expect(page.Locator(".mud-popover-open [role=option]")).ToHaveCountAsync(0);
    }

    /// <summary>Fills the "New user" dialog and checks what each field holds (see <see cref="FillFieldsAsync"/>).</summary>
    public static Task FillNewUserAsync(IPage page, string email, string name, string password) =>
        FillFieldsAsync(page.Locator("body"), ("user-email", email), ("user-name", name), ("user-password", password));

    /// <summary>
    /// Fills a dialog's fields and checks what each one holds. On a busy machine the dialog's autofocus on its first field
    /// can land while a later field is being typed into, sending that text to the first; then the fields are filled again.
    /// </summary>
    public static async Task FillFieldsAsync(ILocator scope, params (string TestId, string Value)[] fields)
    {
        for (var attempt = 1; ; attempt++)
        {
            foreach (var (testId, value) in fields)
            {
                await scope.GetByTestId(testId).FillAsync(value);
            }
            var held = new List<string>();
            foreach (var (testId, _) in fields)
            {
                held.Add(await scope.GetByTestId(testId).InputValueAsync());
            }
            if (held.SequenceEqual(fields.Select(f => f.Value)) || attempt == 5)
            {
                break;
            }
        }
        foreach (var (testId, value) in fields)
        {
            await Expect(scope.GetByTestId(testId)).ToHaveValueAsync(value);
        }
    }

    /// <summary>Signs in as the Admin on a fresh page and loads the demo data (100,000 customers) from the home page.</summary>
    public static async Task<IPage> SignInWithDemoDataAsync(BrowserFixture browser)
    {
        var page = await browser.NewPageAsync();
        await SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await WaitUntilInteractiveAsync(page);
        await page.GetByTestId("load-demo-data").ClickAsync();
        await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        return page;
    }

    /// <summary>
    /// Builds a segment of the demo customers of one region on a new segment page and saves it; on return the page is
    /// the saved segment's, interactive.
    /// </summary>
    public static async Task SaveRegionSegmentAsync(IPage page, string name, string region)
    {
        await page.GotoAsync("/segments/new");
        await WaitUntilInteractiveAsync(page);
        await page.GetByTestId("segment-dataset").ClickAsync();
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Demo customers" }).ClickAsync();
        await page.GetByTestId("rule-group").First.GetByTestId("add-condition").First.ClickAsync();
        await page.GetByTestId("add-field-condition").ClickAsync();
        var condition = page.GetByTestId("rule-condition").Last;
        await condition.GetByTestId("condition-field").FillAsync("region");
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "region" }).First.ClickAsync();
        await PickConditionValueAsync(page, region);
        await Expect(page.GetByTestId("rule-summary")).ToHaveTextAsync(new Regex($"region is {region}"));
        await FillFieldsAsync(page.Locator("body"), ("segment-name", name));
        await page.GetByTestId("save-segment").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await WaitUntilInteractiveAsync(page);
    }

    /// <summary>Adds a value to the last condition's value list.</summary>
    public static async Task PickConditionValueAsync(IPage page, string value)
    {
        var condition = page.GetByTestId("rule-condition").Last;
        await condition.GetByTestId("condition-values").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = value, Exact = true }).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
    }
}
