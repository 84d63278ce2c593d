using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using SegmentPortal.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// A segment sync to a table of a real PostgreSQL server, with the portal killed in the middle of a delta: the sync's
/// write waits on a lock the test holds on the table, the process is killed, the lock let go, the portal started again
/// on the same data. The interrupted run is run again, the table ends with exactly the segment's members, and the delta
/// is delivered once (the next run finds nothing to send).
/// </summary>
public sealed class SyncRestartTests : IAsyncLifetime
{
    private const string Writer = "portal_sync_writer";
    private const string WriterPassword = "Writer-pass-1357";

    private readonly PostgresServer _postgres = new();
    private OwnAppBrowser _browser = null!;
    private string? _skipReason;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _browser = await OwnAppBrowser.StartAsync("syncrestart");
        _skipReason = _browser.SkipReason;
        if (_skipReason is not null)
        {
            return;
        }
        await _postgres.InitializeAsync();
        _skipReason = _postgres.SkipReason;
        if (_skipReason is null)
        {
            await AdminSqlAsync($"CREATE ROLE {Writer} LOGIN PASSWORD '{WriterPassword}'; CREATE SCHEMA crm AUTHORIZATION {Writer};");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task Killed_in_the_middle_of_a_delta_to_a_PostgreSQL_table_the_portal_delivers_it_once_after_a_restart()
    {
        Assert.SkipWhen(_skipReason is not null, _skipReason ?? "");
        var data = Path.Combine(_browser.Folder, "data");
        var app = await AppUnderTest.StartAsync(data, Ct);
        // The test's hold on the destination table, let go only once the portal is dead.
        await using var locker = new NpgsqlConnection(_postgres.AdminConnectionString());
        try
        {
            var page = await _browser.SignInAsync(app);
            await page.GetByTestId("load-demo-data").ClickAsync();
            await Expect(page.GetByTestId("stat-customers")).ToContainTextAsync("100,000", new() { Timeout = BrowserFixture.WorkTimeoutMs });

            // The CRM database, which an Admin marks writable for syncs.
            await page.GotoAsync("/admin/connections");
            await Pages.WaitUntilInteractiveAsync(page);
            await page.GetByTestId("new-connection").ClickAsync();
            await page.GetByTestId("connection-name").FillAsync("CRM");
            await page.GetByTestId("connection-host").FillAsync("127.0.0.1");
            await page.GetByTestId("connection-port").FillAsync(_postgres.Port.ToString(CultureInfo.InvariantCulture));
            await page.GetByTestId("connection-database").FillAsync(PostgresServer.Database);
            await page.GetByTestId("connection-user").FillAsync(Writer);
            await page.GetByTestId("connection-password").FillAsync(WriterPassword);
            await page.GetByRole(AriaRole.Checkbox, new() { Name = "Writable for segment syncs" }).CheckAsync();
            await BrowserFixture.ScreenshotAsync(page, "63-connection-writable-for-syncs");
            await page.GetByTestId("save-connection").ClickAsync();
            await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "CRM" })).ToBeVisibleAsync();

            // The West's customers, sent with their region to crm.campaign_audience after each refresh; a first full sync.
            await Pages.SaveRegionSegmentAsync(page, "West customers", "West");
            await page.GetByRole(AriaRole.Tab, new() { Name = "Send to…" }).ClickAsync();
            await page.GetByTestId("new-sync").ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await dialog.GetByTestId("sync-name").FillAsync("CRM audience");
            await Pages.ChooseAsync(page, dialog.GetByTestId("sync-kind"), "Database table");
            await Pages.ChooseAsync(page, dialog.GetByTestId("sync-connection"), "CRM");
            await dialog.GetByTestId("sync-schema").FillAsync("crm");
            await dialog.GetByTestId("sync-table").FillAsync("campaign_audience");
            await dialog.GetByRole(AriaRole.Checkbox, new() { Name = "region", Exact = true }).CheckAsync();
            await dialog.GetByTestId("save-sync").ClickAsync();
            await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
            await page.GetByTestId("sync-now").ClickAsync();
            await Expect(page.GetByTestId("sync-last-run")).ToContainTextAsync("Succeeded", new() { Timeout = BrowserFixture.WorkTimeoutMs });
            var west = await SegmentSizeAsync(data);
            Assert.Equal(west, await PgScalarAsync("SELECT count(*) FROM crm.campaign_audience WHERE region = 'West'"));

            // The test holds the table: the delta after the segment is widened waits on it, mid-sync, and the portal is killed.
            await locker.OpenAsync(Ct);
            var hold = await locker.BeginTransactionAsync(Ct);
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE crm.campaign_audience IN ACCESS EXCLUSIVE MODE", locker, hold))
            {
                await lockTable.ExecuteNonQueryAsync(Ct);
            }
            await Pages.PickConditionValueAsync(page, "East");
            await Expect(page.GetByTestId("rule-summary")).ToHaveTextAsync(new Regex("region is West or East"));
            await page.GetByTestId("save-segment").ClickAsync();
            await PortalStore.WaitForAsync(data, "SELECT COUNT(*) FROM SyncRuns WHERE Status = 'Running' AND Full = 0", 1, Ct);
            await WaitForPgAsync($"SELECT count(*) FROM pg_stat_activity WHERE usename = '{Writer}' AND wait_event_type = 'Lock'");
        }
        finally
        {
            await app.KillAsync();
            await locker.CloseAsync(); // lets the lock go: the killed portal's waiting write runs into its closed socket and rolls back
        }
        Assert.Equal(0, await PortalStore.ScalarAsync(data, "SELECT COUNT(*) FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0", Ct));

        // Started again on the same data: the interrupted run is run again and succeeds.
        await using var restarted = await AppUnderTest.StartAsync(data, Ct);
        await PortalStore.WaitForAsync(data, "SELECT COUNT(*) FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0", 1, Ct);
        var members = await SegmentSizeAsync(data);
        var east = members - await PgScalarAsync("SELECT count(*) FROM crm.campaign_audience WHERE region = 'West'");
        Assert.True(east > 0);
        Assert.Equal(members, await PgScalarAsync("SELECT count(*) FROM crm.campaign_audience"));
        Assert.Equal(members, await PgScalarAsync("SELECT count(*) FROM crm.campaign_audience WHERE region IN ('West', 'East')"));
        Assert.Equal(1, await PortalStore.ScalarAsync(data, "SELECT COUNT(*) FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 1", Ct));
        Assert.Equal(1, await PortalStore.ScalarAsync(data, "SELECT COUNT(*) FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0", Ct));
        Assert.Equal(east, await PortalStore.ScalarAsync(data, "SELECT Added FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0", Ct));
        Assert.Equal(0, await PortalStore.ScalarAsync(data, "SELECT Removed FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0", Ct));

        // The delta was delivered once: a run by hand now finds nobody entered or left.
        var again = await _browser.SignInAsync(restarted);
        await again.GotoAsync("/segments");
        await Pages.WaitUntilInteractiveAsync(again);
        await again.GetByRole(AriaRole.Link, new() { Name = "West customers" }).ClickAsync();
        await Pages.WaitUntilInteractiveAsync(again);
        await again.GetByRole(AriaRole.Tab, new() { Name = "Send to…" }).ClickAsync();
        await again.GetByTestId("sync-now").ClickAsync();
        await PortalStore.WaitForAsync(data, "SELECT COUNT(*) FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0", 2, Ct);
        Assert.Equal(0, await PortalStore.ScalarAsync(data, "SELECT Added + Removed FROM SyncRuns WHERE Status = 'Succeeded' AND Full = 0 ORDER BY Id DESC LIMIT 1", Ct));
        Assert.Equal(members, await PgScalarAsync("SELECT count(*) FROM crm.campaign_audience"));
    }

    private static Task<long> SegmentSizeAsync(string data) =>
        PortalStore.ScalarAsync(data, "SELECT Size FROM Segments WHERE Name = 'West customers'", Ct);

    private async Task AdminSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_postgres.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<long> PgScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_postgres.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until PostgreSQL answers at least 1 to a count query (the portal is another process: polled).</summary>
    private async Task WaitForPgAsync(string sql)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMinutes(5)); // only a guard against a hang
        while (await PgScalarAsync(sql) < 1)
        {
            await Task.Delay(250, limit.Token);
        }
    }
}
