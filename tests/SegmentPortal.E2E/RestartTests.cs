using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// Work survives a restart: the real app is killed with SIGKILL at seeded random moments while a large first import,
/// a refresh and a clustering run are under way, then started again on the same data folder. Each time: nothing stays
/// running, no half dataset is listed, the refreshed dataset still has its previous version unless its refresh
/// finished, Retry on the interrupted import completes, and so does Retry on the first interrupted clustering run.
/// The ten kills run as five rounds of two (a refresh killed, then a clustering run killed), each round a test of its own
/// on a fresh data folder, so that no single test runs long enough on a heavily loaded machine to be taken for a hung one. The seed is printed;
/// SEGMENTPORTAL_KILL_SEED repeats a run's kill moments.
/// </summary>
public sealed class RestartTests : IAsyncLifetime
{
    /// <summary>Kills per round; five rounds make the ten.</summary>
    private const int Kills = 2;
    private const int ImportRows = 200_000;
    private const string Interrupted = "Interrupted (the portal restarted)";
    private static readonly Regex ImportedRows = new(@"[\d,]+ rows imported");

    private OwnAppBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        _browser = await OwnAppBrowser.StartAsync("restart");
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Killed_at_random_moments_the_portal_comes_back_with_nothing_running_no_half_data_and_retries_that_complete(int round)
    {
        Assert.SkipWhen(_browser.SkipReason is not null, _browser.SkipReason ?? "");
        var ct = TestContext.Current.CancellationToken;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SEGMENTPORTAL_KILL_SEED"), CultureInfo.InvariantCulture, out var chosen)
            ? chosen
            : Random.Shared.Next(1, 1_000_000);
        var random = new Random(seed + round);
        TestContext.Current.TestOutputHelper?.WriteLine($"Kill seed: {seed}, round {round} (SEGMENTPORTAL_KILL_SEED={seed} repeats the moments)");
        Console.WriteLine($"RestartTests kill seed: {seed}, round {round}");

        var app = await AppUnderTest.StartAsync(null, ct);
        app.KeepDataDirectory = true;
        var data = app.DataDirectory;
        try
        {
            var page = await SignInAsync(app);

            // Before any kill: the dataset whose refreshes get killed (3 rows), and the demo customers to cluster.
            await ImportAsync(page, await WriteCsvAsync("base", 3, ct));
            await Expect(page.GetByTestId("job-list")).ToContainTextAsync("base: 3 rows imported", new() { Timeout = BrowserFixture.WorkTimeoutMs });
            var baseUrl = await DatasetPathAsync(page, "base");
            var baseRows = 3;
            var clusteringRetried = false;
            await page.GotoAsync("/");
            await Pages.WaitUntilInteractiveAsync(page);
            await page.GetByTestId("load-demo-data").ClickAsync();
            await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = BrowserFixture.WorkTimeoutMs });

            for (var kill = (round - 1) * Kills + 1; kill <= round * Kills; kill++)
            {
                // Start the work: a large first import, then a clustering run (even kills) or a large refresh of "base" (odd kills).
                var big = $"big-{kill}";
                await ImportAsync(page, await WriteCsvAsync(big, ImportRows, ct));
                string? runPath = null;
                var refreshRows = ImportRows + kill;
                if (kill % 2 == 0)
                {
                    runPath = await StartClusteringAsync(page, $"run-{kill}");
                }
                else
                {
                    await page.GotoAsync(baseUrl);
                    await Pages.WaitUntilInteractiveAsync(page);
                    await page.GetByRole(AriaRole.Tab, new() { Name = "History" }).ClickAsync();
                    await UploadAndStartAsync(page, await WriteCsvAsync($"base-v{kill}", refreshRows, ct));
                }

                var delay = random.Next(0, 3_000);
                TestContext.Current.TestOutputHelper?.WriteLine($"Kill {kill}: {delay} ms after starting the last job");
                await Task.Delay(delay, ct); // the random moment of the kill is the point of this test
                await app.KillAsync();
                await page.Context.CloseAsync();
                await app.DisposeAsync();

                app = await AppUnderTest.StartAsync(data, ct);
                app.KeepDataDirectory = true;
                page = await SignInAsync(app);

                // (a) Nothing stays running: every job is finished, failed or interrupted.
                await page.GotoAsync("/jobs");
                await Pages.WaitUntilInteractiveAsync(page);
                var jobs = page.GetByTestId("job-list");
                await Expect(jobs).ToBeVisibleAsync();
                await Expect(jobs.GetByRole(AriaRole.Progressbar)).ToHaveCountAsync(0);
                await Expect(jobs).Not.ToContainTextAsync("Waiting to start");
                await BrowserFixture.ScreenshotAsync(page, $"60-jobs-after-kill-{kill}");

                // (c) The refresh either finished, or the previous version is still the live one.
                if (runPath is null)
                {
                    // The list is whole once the import started before the refresh is on it. A kill within moments of the
                    // refresh being queued can come before the job journal wrote it down: then there is no trace of the
                    // refresh at all (as if the click had not reached the portal) and the previous version is the live one.
                    await Expect(JobRow(page, $"Import {big}.csv")).ToBeVisibleAsync();
                    var refreshJob = JobRow(page, $"Refresh from base-v{kill}.csv");
                    var refreshed = false;
                    if (await page.GetByTestId("job-row").Filter(new() { HasText = $"Refresh from base-v{kill}.csv" }).CountAsync() == 0)
                    {
                        TestContext.Current.TestOutputHelper?.WriteLine($"Kill {kill}: the refresh was not recorded yet; no trace of it");
                    }
                    else
                    {
                        await Expect(refreshJob).ToContainTextAsync(new Regex($"{Regex.Escape(Interrupted)}|rows imported"));
                        refreshed = ImportedRows.IsMatch(await refreshJob.InnerTextAsync());
                    }
                    if (refreshed)
                    {
                        baseRows = refreshRows;
                    }
                    TestContext.Current.TestOutputHelper?.WriteLine($"Kill {kill}: refresh {(refreshed ? "had finished" : "interrupted, previous version live")}");
                    await page.GotoAsync(baseUrl);
                    await Expect(page.GetByTestId("dataset-rows")).ToContainTextAsync(baseRows.ToString("N0", CultureInfo.InvariantCulture));
                    await page.GotoAsync("/jobs");
                    await Pages.WaitUntilInteractiveAsync(page);
                }

                // (b) The import either finished whole, or no trace of it is listed; (d) then its Retry completes.
                var importJob = JobRow(page, $"Import {big}.csv");
                await Expect(importJob).ToContainTextAsync(new Regex($"{Regex.Escape(Interrupted)}|rows imported"));
                var finished = ImportedRows.IsMatch(await importJob.InnerTextAsync());
                TestContext.Current.TestOutputHelper?.WriteLine($"Kill {kill}: import {(finished ? "had finished" : "interrupted")}");
                if (!finished)
                {
                    await page.GotoAsync("/data");
                    await Expect(page.GetByTestId("datasets-table")).ToContainTextAsync("base");
                    await Expect(page.GetByTestId("datasets-table")).Not.ToContainTextAsync(big);
                    await Expect(page.GetByTestId("datasets-table")).Not.ToContainTextAsync("Importing");
                    await page.GotoAsync("/jobs");
                    await Pages.WaitUntilInteractiveAsync(page);
                    await JobRow(page, $"Import {big}.csv").GetByTestId("job-retry").ClickAsync();
                    await Expect(page.GetByTestId("job-list")).ToContainTextAsync($"{big}: {ImportRows:N0} rows imported", new() { Timeout = BrowserFixture.WorkTimeoutMs });
                }
                await page.GotoAsync(await DatasetPathAsync(page, big));
                await Expect(page.GetByTestId("dataset-rows")).ToContainTextAsync(ImportRows.ToString("N0", CultureInfo.InvariantCulture));

                // A clustering run the kill stopped is no longer "running": it says why, and the last one is retried.
                if (runPath is not null)
                {
                    await page.GotoAsync(runPath);
                    await Pages.WaitUntilInteractiveAsync(page);
                    var error = page.GetByTestId("clustering-error");
                    var suggestion = page.GetByTestId("clustering-suggestion");
                    await Expect(error.Or(suggestion)).ToBeVisibleAsync();
                    TestContext.Current.TestOutputHelper?.WriteLine($"Kill {kill}: clustering run {(await error.IsVisibleAsync() ? "interrupted" : "had finished")}");
                    if (await error.IsVisibleAsync() && !clusteringRetried)
                    {
                        clusteringRetried = true;
                        await Expect(error).ToContainTextAsync(Interrupted);
                        await page.GotoAsync("/jobs");
                        await Pages.WaitUntilInteractiveAsync(page);
                        await JobRow(page, $"run-{kill}").GetByTestId("job-retry").ClickAsync();
                        await page.GotoAsync(runPath);
                        await Expect(page.GetByTestId("clustering-suggestion")).ToContainTextAsync(new Regex("^K = \\d+"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
                        TestContext.Current.TestOutputHelper?.WriteLine($"Kill {kill}: the retried clustering run completed");
                    }
                    else if (await error.IsVisibleAsync())
                    {
                        await Expect(error).ToContainTextAsync(Interrupted);
                    }
                }
            }
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private Task<IPage> SignInAsync(AppUnderTest app) => _browser.SignInAsync(app);

    private static ILocator JobRow(IPage page, string title) =>
        page.GetByTestId("job-row").Filter(new() { HasText = title }).First;

    private static async Task ImportAsync(IPage page, string file)
    {
        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);
        await UploadAndStartAsync(page, file);
    }

    /// <summary>Chooses the file on the page's drop zone, waits for the upload, and starts the import (or the replacement).</summary>
    private static async Task UploadAndStartAsync(IPage page, string file)
    {
        await page.Locator("[data-testid=drop-zone][data-ready=true]").WaitForAsync();
        await page.GetByTestId("file-input").SetInputFilesAsync(file);
        await Expect(page.GetByTestId("upload-list")).ToContainTextAsync("Uploaded, ready to import", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await page.GetByTestId("start-import").ClickAsync();
        await Expect(page.GetByTestId("job-list")).ToContainTextAsync(Path.GetFileName(file));
    }

    private static async Task<string> StartClusteringAsync(IPage page, string name)
    {
        await page.GotoAsync("/analysis/clustering");
        await Pages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("clustering-input")).ToHaveValueAsync("Demo customers");
        await Expect(page.GetByTestId("clustering-features")).ToContainTextAsync("Share of spend");
        await page.GetByTestId("clustering-name").FillAsync(name);
        await page.GetByTestId("clustering-start").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/analysis/clustering/\\d+$"));
        return new Uri(page.Url).AbsolutePath;
    }

    private static async Task<string> DatasetPathAsync(IPage page, string name)
    {
        await page.GotoAsync("/data");
        var link = page.GetByTestId("datasets-table").GetByRole(AriaRole.Link, new() { Name = name, Exact = true });
        await Expect(link).ToBeVisibleAsync();
        return (await link.GetAttributeAsync("href"))!;
    }

    /// <summary>A generated orders file: id, customer, date, amount, region, note.</summary>
    private async Task<string> WriteCsvAsync(string name, int rows, CancellationToken ct)
    {
        var path = Path.Combine(_browser.Folder, name + ".csv");
        var random = new Random(rows);
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        await writer.WriteLineAsync("order_id,customer_id,order_date,amount,region,note".AsMemory(), ct);
        var line = new StringBuilder();
        for (var i = 1; i <= rows; i++)
        {
            line.Clear();
            line.Append(CultureInfo.InvariantCulture,
                $"{i},{random.Next(1, 50_000)},2025-{random.Next(1, 13):00}-{random.Next(1, 29):00},{random.Next(100, 100_000) / 100.0:0.00},R{random.Next(10)},note {random.Next()}");
            await writer.WriteLineAsync(line, ct);
        }
        return path;
    }
}
