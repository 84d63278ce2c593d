using Microsoft.Playwright;

namespace SegmentPortal.E2E;

/// <summary>
/// Chromium for the test classes that start (and kill) their own apps rather than share <see cref="BrowserFixture"/>'s:
/// one browser per class, a temp folder for the apps' data, and sign-in on any of those apps. Without Chromium the tests
/// are skipped with <see cref="SkipReason"/>, except under CI=true, where a missing browser is a failure.
/// </summary>
public sealed class OwnAppBrowser : IAsyncDisposable
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private OwnAppBrowser(string folder)
    {
        Folder = folder;
    }

    /// <summary>The apps' data folders go below this one; it is deleted with the browser.</summary>
    public string Folder { get; }

    public string? SkipReason { get; private set; }

    /// <summary>Launches Chromium (or notes why the tests skip), with a new temp folder named after <paramref name="name"/>.</summary>
    public static async Task<OwnAppBrowser> StartAsync(string name)
    {
        Assertions.SetDefaultExpectTimeout((float)BrowserFixture.ExpectTimeout.TotalMilliseconds);
        var browser = new OwnAppBrowser(Path.Combine(Path.GetTempPath(), "segmentportal-" + name, Guid.NewGuid().ToString("N")));
        browser.SkipReason = BrowserFixture.ChromiumMissing();
        if (browser.SkipReason is null)
        {
            Directory.CreateDirectory(browser.Folder);
            browser._playwright = await Playwright.CreateAsync();
            browser._browser = await BrowserFixture.LaunchChromiumAsync(browser._playwright);
        }
        return browser;
    }

    /// <summary>Signs in on a fresh browser context (own cookies) of <paramref name="app"/> and waits for the page to be interactive.</summary>
    public async Task<IPage> SignInAsync(AppUnderTest app, string email = AppUnderTest.AdminEmail, string password = AppUnderTest.AdminPassword)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.BaseUrl,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout((float)BrowserFixture.ExpectTimeout.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await Pages.SignInAsync(page, email, password);
        await Pages.WaitUntilInteractiveAsync(page);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        try
        {
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }
}
