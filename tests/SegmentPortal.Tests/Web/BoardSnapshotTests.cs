using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Web.Infrastructure;
using UglyToad.PdfPig;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// Whole-board exports rendered by the server's own Chromium against the real app listening on a port: what the file
/// shows is the board once it has finished loading, not whatever was on screen at some moment.
/// </summary>
public sealed class BoardSnapshotTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public async Task A_board_pdf_shows_a_chart_that_draws_late()
    {
        // Plotly's script is held back: the tiles' data is in (the board says it is ready) but no chart can draw yet.
        var plotlyAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releasePlotly = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using var portal = new PortalFactory();
            await using var factory = StartOnAPort(portal, new HoldPlotly(plotlyAsked, releasePlotly));
            var (adminId, boardId) = await BoardWithABarChartAsync(factory.Services);
            var snapshots = factory.Services.GetRequiredService<BoardSnapshots>();

            var render = snapshots.RenderAsync(boardId, adminId, SnapshotFormat.Pdf, Ct);
            await Task.WhenAny(render, plotlyAsked.Task).WaitAsync(Ct);
            Assert.True(plotlyAsked.Task.IsCompleted, "The board's chart never asked for Plotly: " + (render.Exception?.ToString() ?? "the export ended first"));
            // A correct export cannot finish while the chart cannot draw, however long it is held; holding it a few
            // seconds gives an export that does not wait for the drawing the time to finish without it.
            await Task.WhenAny(render, Task.Delay(TimeSpan.FromSeconds(8), Ct));
            var finishedBeforeTheChartDrew = render.IsCompleted;
            releasePlotly.TrySetResult();
            var pdf = await render;

            Assert.Equal("%PDF-", System.Text.Encoding.ASCII.GetString(pdf, 0, 5));
            var text = PdfText(pdf);
            Assert.Contains("Customers by region", text); // the tile's title, drawn by the page itself
            Assert.Contains("Notes for the weekly review", text); // a text tile
            Assert.All(DemoDataGenerator.Regions.Select(r => r.Region), region => Assert.Contains(region, text)); // the chart's axis
            Assert.False(finishedBeforeTheChartDrew, "The export finished while the chart could not draw yet.");
        }
        finally
        {
            releasePlotly.TrySetResult();
        }
    }

    [Fact]
    public async Task A_board_whose_chart_never_draws_gives_up_after_the_timeout_with_a_message()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using var portal = new PortalFactory(settings: new Dictionary<string, string?> { ["Export:TimeoutSeconds"] = "3" });
            await using var factory = StartOnAPort(portal, new HoldPlotly(new TaskCompletionSource(), release));
            var (adminId, boardId) = await BoardWithABarChartAsync(factory.Services);
            var snapshots = factory.Services.GetRequiredService<BoardSnapshots>();

            var error = await Assert.ThrowsAsync<SegmentPortal.Core.PortalException>(() => snapshots.RenderAsync(boardId, adminId, SnapshotFormat.Png, Ct));

            Assert.Equal("The board took longer than 3 seconds to load for the export. Try again, or export tiles one by one.", error.Message);
            Assert.True(snapshots.Browser!.IsConnected); // the browser stays for the next export
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_chromium_that_does_not_start_in_time_gives_a_message_of_its_own()
    {
        // A "browser" that never answers: the launch gives up after Export:LaunchTimeoutSeconds with a message, not a
        // raw timeout, and the board's own page limit (Export:TimeoutSeconds) plays no part in it.
        var folder = Directory.CreateTempSubdirectory("sp-stuck-chromium-");
        try
        {
            var stuck = Path.Combine(folder.FullName, "chromium");
            await File.WriteAllTextAsync(stuck, "#!/bin/sh\nexec sleep 60\n", Ct);
            Assert.SkipWhen(OperatingSystem.IsWindows(), "A shell script stands in for Chromium.");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(stuck, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            await using var portal = new PortalFactory(settings: new Dictionary<string, string?> { ["Export:LaunchTimeoutSeconds"] = "2" });
            await using var factory = portal.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
                services.Configure<ExportOptions>(o => o.ChromiumPaths = [stuck])));
            var (adminId, boardId) = await BoardWithABarChartAsync(factory.Services);
            var snapshots = factory.Services.GetRequiredService<BoardSnapshots>();

            var error = await Assert.ThrowsAsync<SegmentPortal.Core.PortalException>(() => snapshots.RenderAsync(boardId, adminId, SnapshotFormat.Pdf, Ct));

            Assert.Equal("The server could not start Chromium within 2 seconds to export the board. Try again.", error.Message);
            Assert.Null(snapshots.Browser);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Exports_share_one_browser_and_start_it_again_once_it_has_gone()
    {
        await using var portal = new PortalFactory();
        await using var factory = StartOnAPort(portal, null);
        var (adminId, boardId) = await BoardWithABarChartAsync(factory.Services);
        var snapshots = factory.Services.GetRequiredService<BoardSnapshots>();

        var first = await snapshots.RenderAsync(boardId, adminId, SnapshotFormat.Png, Ct);
        var browser = snapshots.Browser;
        var second = await snapshots.RenderAsync(boardId, adminId, SnapshotFormat.Png, Ct);
        Assert.Same(browser, snapshots.Browser);

        await browser!.CloseAsync(); // as if Chromium had crashed
        var third = await snapshots.RenderAsync(boardId, adminId, SnapshotFormat.Png, Ct);

        Assert.NotSame(browser, snapshots.Browser);
        Assert.True(snapshots.Browser!.IsConnected);
        Assert.All([first, second, third], png =>
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            // IHDR: the board's width (the export's viewport) and a whole page's height.
            Assert.Equal(BoardSnapshots.BoardWidth, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)));
            Assert.True(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)) >= 300);
        });
    }

    /// <summary>The app on a free port of its own (the export's Chromium reaches it over HTTP), with an optional middleware.</summary>
    private static WebApplicationFactory<Program> StartOnAPort(PortalFactory portal, IStartupFilter? filter)
    {
        Assert.False(IsCi && !File.Exists(ChromiumPath), $"CI=true but no Chromium at {ChromiumPath}. Install it: apt-get install -y chromium");
        Assert.SkipUnless(File.Exists(ChromiumPath), $"No Chromium at {ChromiumPath} (install Debian's chromium package to run board exports).");
        var factory = portal.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            if (filter is not null)
            {
                services.AddSingleton(filter);
            }
        }));
        // An explicit endpoint on a port the system picks: the configured Urls (appsettings.json's localhost:5080) would
        // clash with a portal already running on this machine, or another test run.
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        return factory;
    }

    private static string PdfText(byte[] pdf)
    {
        using var document = PdfDocument.Open(pdf);
        return string.Join("\n", document.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text))));
    }

    /// <summary>The admin's id and a board of theirs with a bar chart of demo customers by region and a text tile.</summary>
    private static async Task<(string AdminId, int BoardId)> BoardWithABarChartAsync(IServiceProvider services)
    {
        string adminId;
        await using (var scope = services.CreateAsyncScope())
        {
            adminId = (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(PortalFactory.AdminEmail))!.Id;
        }
        async Task<T> AsAdmin<TService, T>(Func<TService, Task<T>> action) where TService : notnull
        {
            await using var scope = services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = CoreHarness.Principal(adminId, PortalFactory.AdminEmail, [Roles.Admin]);
            return await action(scope.ServiceProvider.GetRequiredService<TService>());
        }

        await AsAdmin<DemoDataLoader, DemoLoadResult>(l => l.LoadAsync(new DemoDataSize(Customers: 500), adminId, null, Ct));
        var customers = (await AsAdmin<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(Ct))).Single(d => d.Kind == DatasetKind.Customers);
        var boardId = await AsAdmin<DashboardService, int>(s => s.CreateAsync("Weekly review", null, Ct));
        await AsAdmin<DashboardService, DashboardView>(s => s.AddTileAsync(boardId, new TileDefinition
        {
            Id = "",
            Type = TileType.Bar,
            Title = "Customers by region",
            DatasetId = customers.Id,
            Dimensions = [new TileDimension("region")],
            Measures = [new TileMeasure(TileMeasureKind.Count)],
        }, cancellationToken: Ct));
        await AsAdmin<DashboardService, DashboardView>(s => s.AddTileAsync(boardId, new TileDefinition
        {
            Id = "",
            Type = TileType.Text,
            Title = "Notes",
            Markdown = "Notes for the weekly review",
        }, cancellationToken: Ct));
        return (adminId, boardId);
    }

    /// <summary>Holds the browser's request for Plotly's script until released (the interop module passes).</summary>
    private sealed class HoldPlotly(TaskCompletionSource asked, TaskCompletionSource release) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (HttpContext context, RequestDelegate inner) =>
            {
                var path = context.Request.Path.Value ?? "";
                if (path.StartsWith("/_content/Plotly.Blazor/plotly-", StringComparison.Ordinal) && !path.Contains("interop", StringComparison.Ordinal))
                {
                    asked.TrySetResult();
                    await release.Task.WaitAsync(context.RequestAborted);
                }
                await inner(context);
            });
            next(app);
        };
    }
}
