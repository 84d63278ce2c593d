using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using SegmentPortal.Core;

namespace SegmentPortal.Web.Infrastructure;

public sealed class ExportOptions
{
    /// <summary>The Chromium (or Chrome) the server renders boards with; the first of these that exists is used.</summary>
    public string[] ChromiumPaths { get; set; } = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    /// <summary>How long a board may take to load all its tiles before the export gives up.</summary>
    public int TimeoutSeconds { get; set; } = 90;
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

public enum SnapshotFormat
{
    Pdf,
    Png,
}

/// <summary>
/// Renders a whole board to PDF or PNG in headless Chromium on the server, driven over the DevTools protocol: the
/// browser signs in with a one-time ticket as the user, opens the board, waits until every tile has loaded, then
/// prints or captures it. Where no Chromium is installed it says so.
/// </summary>
public sealed class BoardSnapshots(IOptions<ExportOptions> options, PrintTickets tickets, IServer server, ILogger<BoardSnapshots> logger)
{
    public string? ChromiumPath => options.Value.ChromiumPaths.FirstOrDefault(File.Exists);

    public async Task<byte[]> RenderAsync(int dashboardId, string userId, SnapshotFormat format, CancellationToken cancellationToken)
    {
        var chromium = ChromiumPath ?? throw new PortalException(
            "Exporting a whole board needs Chromium on the server, and none is installed. Ask your administrator to install it (Debian: apt-get install chromium); tile exports still work.");
        var url = $"{BaseAddress()}/print/{tickets.Issue(userId, dashboardId)}";
        var profile = Directory.CreateTempSubdirectory("segmentportal-print-");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        using var process = Process.Start(new ProcessStartInfo(chromium)
        {
            ArgumentList =
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--remote-debugging-port=0", $"--user-data-dir={profile.FullName}", "--window-size=1400,1000", "about:blank",
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new PortalException("The server could not start Chromium to export the board.");
        try
        {
            using var devTools = await DevToolsSession.ConnectAsync(profile.FullName, timeout.Token);
            return await devTools.SnapshotAsync(url, format, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PortalException($"The board took longer than {options.Value.TimeoutSeconds} seconds to load for the export. Try again, or export tiles one by one.");
        }
        finally
        {
            try
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException ex)
            {
                logger.LogDebug(ex, "Could not remove the print profile {Profile}", profile.FullName);
            }
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

    /// <summary>A minimal DevTools protocol client: one browser connection, one page target.</summary>
    private sealed class DevToolsSession : IDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private int _nextId;

        public static async Task<DevToolsSession> ConnectAsync(string profile, CancellationToken cancellationToken)
        {
            // Chromium writes the port and the browser's path here once it listens.
            var portFile = Path.Combine(profile, "DevToolsActivePort");
            string[] lines = [];
            while (lines.Length < 2)
            {
                await Task.Delay(100, cancellationToken);
                lines = File.Exists(portFile) ? await File.ReadAllLinesAsync(portFile, cancellationToken) : [];
            }
            var (port, path) = (lines[0].Trim(), lines[1].Trim());
            var session = new DevToolsSession();
            await session._socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}{path}"), cancellationToken);
            return session;
        }

        public async Task<byte[]> SnapshotAsync(string url, SnapshotFormat format, CancellationToken cancellationToken)
        {
            var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, null, cancellationToken);
            var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, null, cancellationToken);
            var session = attached["sessionId"]!.GetValue<string>();
            await SendAsync("Emulation.setDeviceMetricsOverride",
                new JsonObject { ["width"] = 1400, ["height"] = 1000, ["deviceScaleFactor"] = 1, ["mobile"] = false }, session, cancellationToken);
            // Print styles hide the app's bar and menu for the PNG as they do for the PDF.
            await SendAsync("Emulation.setEmulatedMedia", new JsonObject { ["media"] = "print" }, session, cancellationToken);
            await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, session, cancellationToken);

            // The board marks itself ready once every tile has its data (or its error).
            while (true)
            {
                var ready = await SendAsync("Runtime.evaluate", new JsonObject
                {
                    ["expression"] = "document.querySelector('[data-board-ready=\"true\"]') !== null",
                    ["returnByValue"] = true,
                }, session, cancellationToken);
                if (ready["result"]?["value"]?.GetValue<bool>() == true)
                {
                    break;
                }
                await Task.Delay(250, cancellationToken);
            }
            // Charts animate in; give the last frame a moment.
            await Task.Delay(500, cancellationToken);

            if (format == SnapshotFormat.Pdf)
            {
                var pdf = await SendAsync("Page.printToPDF", new JsonObject
                {
                    ["landscape"] = true,
                    ["printBackground"] = true,
                    ["marginTop"] = 0.3, ["marginBottom"] = 0.3, ["marginLeft"] = 0.3, ["marginRight"] = 0.3,
                }, session, cancellationToken);
                return Convert.FromBase64String(pdf["data"]!.GetValue<string>());
            }
            var metrics = await SendAsync("Page.getLayoutMetrics", [], session, cancellationToken);
            var height = (int)Math.Ceiling(metrics["cssContentSize"]?["height"]?.GetValue<double>() ?? 1000);
            await SendAsync("Emulation.setDeviceMetricsOverride",
                new JsonObject { ["width"] = 1400, ["height"] = Math.Clamp(height, 600, 16000), ["deviceScaleFactor"] = 1, ["mobile"] = false }, session, cancellationToken);
            await Task.Delay(300, cancellationToken);
            var png = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, session, cancellationToken);
            return Convert.FromBase64String(png["data"]!.GetValue<string>());
        }

        private async Task<JsonNode> SendAsync(string method, JsonObject parameters, string? session, CancellationToken cancellationToken)
        {
            var id = ++_nextId;
            var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
            if (session is not null)
            {
                message["sessionId"] = session;
            }
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
            while (true)
            {
                var reply = await ReceiveAsync(cancellationToken);
                if (reply["id"]?.GetValue<int>() != id)
                {
                    continue; // An event, or another reply.
                }
                if (reply["error"] is { } error)
                {
                    throw new PortalException($"The export browser refused {method}: {error["message"]}");
                }
                return reply["result"] ?? new JsonObject();
            }
        }

        private async Task<JsonNode> ReceiveAsync(CancellationToken cancellationToken)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[64 * 1024];
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(chunk, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new PortalException("The export browser closed unexpectedly.");
                }
                buffer.Write(chunk, 0, result.Count);
            }
            while (!result.EndOfMessage);
            return JsonNode.Parse(buffer.ToArray()) ?? new JsonObject();
        }

        public void Dispose() => _socket.Dispose();
    }
}
