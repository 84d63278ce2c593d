using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using SegmentPortal.Tests.Delivery;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// The alert path across a kill: the portal is killed (SIGKILL, no shutdown code) while an alert's email waits in the
/// outbox for its retry (the SMTP server was unreachable) and three alert checks are half done (started, not finished,
/// as a kill mid-check leaves them). After the restart, with the SMTP server reachable, every message arrives once per
/// idempotency key and every check is finished.
/// </summary>
public sealed class AlertRestartTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "segmentportal-alert-restart", Guid.NewGuid().ToString("N"));
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string? _skipReason;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout((float)BrowserFixture.ExpectTimeout.TotalMilliseconds);
        if (!File.Exists(BrowserFixture.ChromiumPath))
        {
            if (BrowserFixture.IsCi)
            {
                throw new InvalidOperationException($"CI=true but no Chromium at {BrowserFixture.ChromiumPath}. Install it: apt-get install -y chromium");
            }
            _skipReason = $"No Chromium at {BrowserFixture.ChromiumPath} (install Debian's chromium package to run the browser tests).";
            return;
        }
        Directory.CreateDirectory(_folder);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFixture.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage"],
        });
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
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }

    private static Dictionary<string, string> Smtp(int port) => new()
    {
        ["Smtp__Host"] = "127.0.0.1",
        ["Smtp__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Smtp__Tls"] = "None",
        ["Smtp__From"] = "portal@e2e.local",
        // Retries come quickly, so the test waits on deliveries rather than on the backoff.
        ["Delivery__FirstRetrySeconds"] = "2",
        ["Delivery__MaxRetrySeconds"] = "4",
        ["Delivery__PollSeconds"] = "1",
    };

    [Fact]
    public async Task Killed_with_an_email_queued_and_checks_half_done_the_portal_sends_each_message_once_and_finishes_every_check()
    {
        Assert.SkipWhen(_skipReason is not null, _skipReason ?? "");
        await using var smtp = TestSmtpServer.Start();
        var data = Path.Combine(_folder, "data");
        var unreachable = AppUnderTest.FreePort(); // nothing listens there

        var app = await AppUnderTest.StartAsync(data, Smtp(unreachable), Ct);
        try
        {
            var page = await SignInAsync(app);
            await page.GetByTestId("load-demo-data").ClickAsync();
            await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = BrowserFixture.WorkTimeoutMs });

            // A metric with a target the data misses, and an alert on it that emails the Admin.
            await page.GotoAsync("/metrics");
            await Pages.WaitUntilInteractiveAsync(page);
            await page.GetByTestId("new-metric-empty").ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog.GetByTestId("metric-preview-value")).Not.ToBeEmptyAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });
            await dialog.GetByTestId("metric-name").FillAsync("Monthly revenue");
            await Pages.ChooseAsync(page, dialog.GetByTestId("metric-direction"), "Higher is better");
            await dialog.GetByTestId("metric-target").FillAsync("10000000");
            await dialog.GetByTestId("metric-save").ClickAsync();
            await Expect(page.GetByTestId("metric-title")).ToHaveTextAsync("Monthly revenue");
            await page.GetByTestId("metric-alerts").GetByTestId("new-alert").ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByTestId("alert-save").ClickAsync();
            var row = page.GetByTestId("metric-alerts").Locator("tbody tr");
            await row.GetByTestId("alert-check-now").ClickAsync();
            await Expect(row.GetByTestId("alert-firing")).ToBeVisibleAsync(new() { Timeout = BrowserFixture.WorkTimeoutMs });

            // Its email could not be sent (nothing listens at the SMTP port): it waits in the outbox for a retry.
            await WaitForAsync(data, "SELECT COUNT(*) FROM OutboxMessages WHERE State = 'Pending' AND Attempts >= 1", 1);
            // Three more alerts on the metric, each with a check that was started and not finished.
            await ExecuteAsync(data, """
                INSERT INTO Alerts (Name, OwnerId, Subject, MetricId, DashboardId, TileId, SegmentId, ConditionJson, ScheduleJson, NextCheckAt,
                                    RecipientsJson, Firing, Muted, SnoozedUntil, LastCheckedAt, CreatedAt, UpdatedAt)
                SELECT Name || ' ' || n.value, OwnerId, Subject, MetricId, DashboardId, TileId, SegmentId, ConditionJson, ScheduleJson, NULL,
                       RecipientsJson, 0, 0, NULL, NULL, CreatedAt, UpdatedAt
                FROM Alerts, (SELECT 2 AS value UNION ALL SELECT 3 UNION ALL SELECT 4) AS n;
                INSERT INTO AlertChecks (AlertId, "Trigger", Status, DueAt, Attempts, Met, Transition)
                SELECT Id, 'Refresh', 'Due', CreatedAt, 1, 0, 'None' FROM Alerts WHERE Name LIKE '% 2' OR Name LIKE '% 3' OR Name LIKE '% 4';
                """);
            Assert.Equal(3, await ScalarAsync(data, "SELECT COUNT(*) FROM AlertChecks WHERE Status = 'Due'"));
            Assert.Empty(smtp.Received);
        }
        finally
        {
            await app.KillAsync();
        }

        // Restarted with the SMTP server reachable: the queued email goes out, the half-done checks run again.
        await using var restarted = await AppUnderTest.StartAsync(data, Smtp(smtp.Port), Ct);
        await WaitForAsync(data, "SELECT COUNT(*) FROM AlertChecks WHERE Status = 'Done'", 4);
        await smtp.WaitForAsync(4, Ct);
        await WaitForAsync(data, "SELECT COUNT(*) FROM OutboxMessages WHERE State = 'Delivered'", 4);

        Assert.Equal(0, await ScalarAsync(data, "SELECT COUNT(*) FROM AlertChecks WHERE Status <> 'Done'"));
        Assert.Equal(4, await ScalarAsync(data, "SELECT COUNT(*) FROM OutboxMessages"));
        var ids = smtp.Received.Where(r => r.Accepted).Select(r => r.Message.MessageId).ToList();
        Assert.Equal(4, ids.Count);
        Assert.Equal(4, ids.Distinct().Count()); // one message per idempotency key, none twice
        Assert.All(smtp.Received, r => Assert.Matches(new Regex("Monthly revenue misses its target( [234])?: Monthly revenue misses the target"), r.Message.Subject));
        // Each checked alert notified the Admin once in the portal too.
        Assert.Equal(4, await ScalarAsync(data, "SELECT COUNT(*) FROM Notifications"));
    }

    private async Task<IPage> SignInAsync(AppUnderTest app)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.BaseUrl,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout((float)BrowserFixture.ExpectTimeout.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await Pages.WaitUntilInteractiveAsync(page);
        return page;
    }

    private static SqliteConnection Open(string data) => new($"Data Source={Path.Combine(data, "portal.db")};Pooling=False;Default Timeout=60");

    private static async Task ExecuteAsync(string data, string sql)
    {
        await using var connection = Open(data);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<long> ScalarAsync(string data, string sql)
    {
        await using var connection = Open(data);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Waits until the metadata store answers <paramref name="count"/> (or more) to a count query.</summary>
    private static async Task WaitForAsync(string data, string sql, long count)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMinutes(5)); // only a guard against a hang
        while (await ScalarAsync(data, sql) < count)
        {
            // The app is another process: its store is polled, there is nothing to wait on.
            await Task.Delay(250, limit.Token);
        }
    }
}
