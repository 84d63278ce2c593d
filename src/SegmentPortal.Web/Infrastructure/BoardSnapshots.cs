using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using SegmentPortal.Core;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>Settings of whole-board exports (section <c>Export</c>).</summary>
public sealed class ExportOptions
{
    /// <summary>The Chromium (or Chrome) the server renders boards with; the first of these that exists is used.</summary>
    public string[] ChromiumPaths { get; set; } = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    /// <summary>How long a board may take to load all its tiles before the export gives up.</summary>
    public int TimeoutSeconds { get; set; } = 90;

    /// <summary>
    /// How long starting Chromium may take (once per process, and again after it stopped). Kept apart from
    /// <see cref="TimeoutSeconds"/>: a short page limit must not make a slow start on a busy server fail.
    /// </summary>
    public int LaunchTimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// Runs Chromium without its sandbox even though the portal does not run as root (for a host where the sandbox
    /// cannot start, such as a container without user namespaces). As root the sandbox is always off: Chromium refuses
    /// to start as root with it.
    /// </summary>
    public bool NoSandbox { get; set; }
}

/// <summary>
/// One-time tickets that let the server's own headless browser open a board as the user who asked for the export:
/// bound to that user and board, valid once, for a minute.
/// </summary>
public sealed class PrintTickets(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, (string UserId, int DashboardId, DateTimeOffset Expires)> _tickets = new();

    public string Issue(string userId, int dashboardId)
    {
        foreach (var stale in _tickets.Where(t => t.Value.Expires < clock.GetUtcNow()).Select(t => t.Key).ToList())
        {
            _tickets.TryRemove(stale, out _);
        }
        var ticket = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        _tickets[ticket] = (userId, dashboardId, clock.GetUtcNow().AddMinutes(1));
        return ticket;
    }

    /// <summary>The user and board of a valid ticket, which is then used up; null for an unknown, used or expired one.</summary>
    public (string UserId, int DashboardId)? Redeem(string ticket) =>
        _tickets.TryRemove(ticket, out var entry) && entry.Expires >= clock.GetUtcNow() ? (entry.UserId, entry.DashboardId) : null;
}

/// <summary>What a whole-board export produces.</summary>
public enum SnapshotFormat
{
    Pdf,
    Png,
}


/// <summary>
/// Renders a whole board to PDF or PNG in headless Chromium on the server, driven through Playwright: a fresh browser
/// context signs in with a one-time ticket as the user, opens the board, waits until the board says every tile has
/// loaded (data or error) and every chart on it is drawn, then prints or captures it. One Chromium serves the process:
/// started on the first export, started again when it has gone away (crashed or killed), closed with the app. Its
/// sandbox stays on unless the portal runs as root or <see cref="ExportOptions.NoSandbox"/> says otherwise. Where no
/// Chromium is installed the export says so.
/// </summary>
public sealed class BoardSnapshots(IOptions<ExportOptions> options, PrintTickets tickets, IServer server, ILogger<BoardSnapshots> logger)
    : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// The state an export waits for: the board marked ready (the page sets <c>data-board-ready</c> once every tile's
    /// load has ended) and, since Plotly draws after the data has arrived, a drawing in every chart on it.
    /// </summary>
    internal const string BoardDrawn = """
        () => {
            const board = document.querySelector('[data-board-ready="true"]');
            return board !== null && Array.from(board.querySelectorAll('.figure')).every(f => f.querySelector('.main-svg') !== null);
        }
        """;

    /// <summary>The board's width in the export's browser, in CSS pixels; PNGs are this wide.</summary>
    internal const int BoardWidth = 1400;

    /// <summary>A PDF page's margin: 0.3 inch.</summary>
    private const double MarginPixels = 0.3 * 96;

    private const double PageWidth = BoardWidth + 2 * MarginPixels;

    /// <summary>Transitions and animations end at once, so nothing is captured half faded in.</summary>
    private const string StillStyle = "*, *::before, *::after { transition: none !important; animation: none !important; }";

    private readonly SemaphoreSlim _launch = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private bool _disposed;

    public string? ChromiumPath => options.Value.ChromiumPaths.FirstOrDefault(File.Exists);

    /// <summary>The Chromium exports use now; null before the first export.</summary>
    internal IBrowser? Browser => _browser;

    /// <summary>
    /// Whether Chromium runs without its sandbox: always as root (Chromium refuses to start as root with it), otherwise
    /// only when the administrator turns it off.
    /// </summary>
    internal static bool WithoutSandbox(bool runsAsRoot, bool noSandboxSetting) => runsAsRoot || noSandboxSetting;

    /// <summary>Whether this process runs as root (effective user id 0); never on Windows.</summary>
    internal static bool RunsAsRoot() => !OperatingSystem.IsWindows() && GetEffectiveUserId() == 0;

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    public async Task<byte[]> RenderAsync(int dashboardId, string userId, SnapshotFormat format, CancellationToken cancellationToken)
    {
        var chromium = ChromiumPath ?? throw new PortalException(
            "Exporting a whole board needs Chromium on the server, and none is installed. Ask your administrator to install it (Debian: apt-get install chromium); tile exports still work.");
        var timeout = (float)TimeSpan.FromSeconds(options.Value.TimeoutSeconds).TotalMilliseconds;
        var browser = await BrowserAsync(chromium, cancellationToken);
        var url = $"{BaseAddress()}/print/{tickets.Issue(userId, dashboardId)}";
        IBrowserContext? context = null;
        try
        {
            context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = BoardWidth, Height = 1000 },
                DeviceScaleFactor = 1,
            });
            context.SetDefaultTimeout(timeout);
            context.SetDefaultNavigationTimeout(timeout);
            var closing = context;
            using var cancel = cancellationToken.Register(() => _ = closing.CloseAsync());
            var page = await context.NewPageAsync();
            // Print styles hide the app's bar and menu for the PNG as they do for the PDF.
            await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
            await page.GotoAsync(url);
            await page.AddStyleTagAsync(new PageAddStyleTagOptions { Content = StillStyle });
            await page.WaitForFunctionAsync(BoardDrawn);
            return format == SnapshotFormat.Pdf
                ? await page.PdfAsync(new PagePdfOptions
                {
                    // The board is printed as wide as it was laid out and its charts drawn (they do not redraw for
                    // print): paper of landscape Letter's proportions, scaled to the board's width plus the margins.
                    Width = Css(PageWidth),
                    Height = Css(PageWidth * 8.5 / 11),
                    PrintBackground = true,
                    Margin = new Margin { Top = Css(MarginPixels), Bottom = Css(MarginPixels), Left = Css(MarginPixels), Right = Css(MarginPixels) },
                })
                : await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true, Type = ScreenshotType.Png, Animations = ScreenshotAnimations.Disabled });
        }
        catch (PlaywrightException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The board export was cancelled.", ex, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new PortalException($"The board took longer than {options.Value.TimeoutSeconds} seconds to load for the export. Try again, or export tiles one by one.");
        }
        catch (PlaywrightException ex)
        {
            logger.LogWarning(ex, "The export browser failed on board {DashboardId}", dashboardId);
            throw new PortalException(browser.IsConnected
                ? "The export browser could not render the board. Try again, or export tiles one by one."
                : "The export browser stopped while rendering the board. Try again.");
        }
        finally
        {
            if (context is not null)
            {
                await CloseQuietlyAsync(() => context.CloseAsync());
            }
        }
    }

    private static string Css(double pixels) => FormattableString.Invariant($"{pixels:0.#}px");

    /// <summary>The running Chromium, started (again) when there is none or the last one has gone away.</summary>
    private async Task<IBrowser> BrowserAsync(string chromium, CancellationToken cancellationToken)
    {
        await _launch.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_browser is { IsConnected: true } running)
            {
                return running;
            }
            if (_browser is { } gone)
            {
                logger.LogWarning("The export browser had stopped; starting it again");
                _browser = null;
                await CloseQuietlyAsync(() => gone.CloseAsync());
            }
            var noSandbox = WithoutSandbox(RunsAsRoot(), options.Value.NoSandbox);
            if (noSandbox)
            {
                logger.LogWarning("Chromium runs without its sandbox for board exports ({Reason}); run the portal as an ordinary user to keep it",
                    options.Value.NoSandbox ? "Export:NoSandbox is set" : "the portal runs as root");
            }
            try
            {
                _playwright ??= await Playwright.CreateAsync();
                _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = chromium,
                    Headless = true,
                    ChromiumSandbox = !noSandbox,
                    Args = ["--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"],
                    Timeout = (float)TimeSpan.FromSeconds(options.Value.LaunchTimeoutSeconds).TotalMilliseconds,
                });
                return _browser;
            }
            catch (TimeoutException ex)
            {
                logger.LogError(ex, "Chromium at {Chromium} did not start within {Seconds} s for a board export", chromium, options.Value.LaunchTimeoutSeconds);
                _playwright?.Dispose();
                _playwright = null;
                throw new PortalException($"The server could not start Chromium within {options.Value.LaunchTimeoutSeconds} seconds to export the board. Try again.");
            }
            catch (PlaywrightException ex)
            {
                // The driver may be what failed: the next export starts it afresh too.
                logger.LogError(ex, "Could not start Chromium at {Chromium} for board exports", chromium);
                _playwright?.Dispose();
                _playwright = null;
                throw new PortalException("The server could not start Chromium to export the board.");
            }
        }
        finally
        {
            _launch.Release();
        }
    }

    private async Task CloseQuietlyAsync(Func<Task> close)
    {
        try
        {
            await close();
        }
        catch (PlaywrightException ex)
        {
            logger.LogDebug(ex, "The export browser was already gone");
        }
    }

    /// <summary>The address the app itself listens on, as the local browser reaches it.</summary>
    private string BaseAddress()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new PortalException("The server does not know its own address, so it cannot render the board.");
        var uri = new Uri(address.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://0.0.0.0", "://127.0.0.1").Replace("://[::]", "://localhost"));
        return uri.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>Where the app is disposed synchronously: stopping Playwright's driver ends the browsers it started.</summary>
    public void Dispose()
    {
        _disposed = true;
        _browser = null;
        _playwright?.Dispose();
        _playwright = null;
    }

    public async ValueTask DisposeAsync()
    {
        await _launch.WaitAsync();
        try
        {
            _disposed = true;
            if (_browser is { } browser)
            {
                _browser = null;
                await CloseQuietlyAsync(() => browser.CloseAsync());
            }
            _playwright?.Dispose();
            _playwright = null;
        }
        finally
        {
            _launch.Release();
        }
    }
}
