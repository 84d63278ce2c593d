using Microsoft.Playwright;

namespace SegmentPortal.E2E;

/// <summary>
/// One running app (with its own empty data folder) and one Chromium per test class, so no class depends on what
/// another left behind. Without Chromium the tests are skipped with the reason,
/// except under CI=true, where a missing browser is a failure.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public AppUnderTest App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string? SkipReason { get; private set; }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// How long an assertion waits for the page to reach the expected state, and a navigation or a click for the page
    /// to answer. Playwright's defaults (5 s, 30 s) are shorter than a page can take on a 2-core machine shared with
    /// builds and other test runs (a navigation took over 30 s there); waiting longer costs nothing when the state
    /// comes sooner.
    /// </summary>
    public static readonly TimeSpan ExpectTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// How long a test waits for server work a user waits for (a job such as an import, RFM or clustering; a recount;
    /// an export), in milliseconds. Only a guard against a hang: each wait ends as soon as the work shows as done, and
    /// on a 2-core machine shared with other builds the work can take several times as long as on a quiet one.
    /// </summary>
    public const float WorkTimeoutMs = 5 * 60_000;

    /// <summary>
    /// The same guard for the longest job of the suite, clustering with automatic K (every K of a range trained
    /// several times, then the chosen K on everyone): at a load average near 80 on 2 cores it was seen at half way
    /// after five minutes, progressing. Still well under the run's 20-minute hang limit per test.
    /// </summary>
    public const float LongWorkTimeoutMs = 12 * 60_000;

    public async ValueTask InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout((float)ExpectTimeout.TotalMilliseconds);
        SkipReason = ChromiumMissing();
        if (SkipReason is not null)
        {
            return;
        }
        App = await AppUnderTest.StartAsync(CancellationToken.None);
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchChromiumAsync(_playwright);
    }

    /// <summary>Why the browser tests skip (no Chromium), or null; under CI=true a missing Chromium throws instead.</summary>
    public static string? ChromiumMissing()
    {
        if (File.Exists(ChromiumPath))
        {
            return null;
        }
        return IsCi
            ? throw new InvalidOperationException($"CI=true but no Chromium at {ChromiumPath}. Install it: apt-get install -y chromium")
            : $"No Chromium at {ChromiumPath} (install Debian's chromium package to run the browser tests).";
    }

    /// <summary>Debian's Chromium, headless.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Chromium's background calls home fail on a closed network; these keep it quiet and fast.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }

    /// <summary>A fresh browser context (own cookies) with a page on the app.</summary>
    public async Task<IPage> NewPageAsync()
    {
        Assert.SkipWhen(SkipReason is not null, SkipReason ?? "");
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = App.BaseUrl,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout((float)ExpectTimeout.TotalMilliseconds);
        return await context.NewPageAsync();
    }

    /// <summary>Saves a screenshot when SEGMENTPORTAL_SCREENSHOTS names a folder, for people to look at.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("SEGMENTPORTAL_SCREENSHOTS");
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        }
    }
}

