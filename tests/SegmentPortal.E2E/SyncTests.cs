using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SegmentPortal.Tests.Delivery;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// A segment leaving the portal, as an Analyst does it: the Admin adds a webhook endpoint (a real receiver) and the
/// Analyst's account; the Analyst builds a segment of the demo customers, keeps a 10% holdout, makes a personal access
/// token and reads the segment's members with it over plain HTTP, the holdout flagged (then revokes it), adds a sync
/// after each refresh, "Sync now" (every member but the holdout, signed), then widens the segment and saves: the next
/// run sends only who entered, and the sync's history shows both.
/// </summary>
public sealed class SyncTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_Analyst_reads_a_segment_with_a_token_then_sends_it_to_a_webhook_in_full_and_then_only_who_entered()
    {
        await using var receiver = await TestWebhookReceiver.StartAsync();
        var admin = await Pages.SignInWithDemoDataAsync(browser);

        await admin.GotoAsync("/admin/webhooks");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-webhook").ClickAsync();
        var hookDialog = admin.GetByRole(AriaRole.Dialog);
        await Pages.FillFieldsAsync(hookDialog, ("webhook-name", "Audience tool"), ("webhook-url", receiver.Url));
        await hookDialog.GetByTestId("create-webhook").ClickAsync();
        var secret = await hookDialog.GetByTestId("webhook-secret").InputValueAsync();
        await hookDialog.GetByTestId("webhook-done").ClickAsync();

        // The Analyst's account.
        const string analystEmail = "ana@e2e.local", analystPassword = "Analyst-pass-1357";
        await admin.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-user").ClickAsync();
        await Pages.FillNewUserAsync(admin, analystEmail, "Ana Analyst", analystPassword);
        await admin.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Checkbox, new() { Name = "Analyst" }).CheckAsync();
        await admin.GetByTestId("create-user").ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Row).Filter(new() { HasText = analystEmail })).ToContainTextAsync("Analyst");

        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, analystEmail, analystPassword);
        await Pages.WaitUntilInteractiveAsync(page);

        // A segment: the demo customers of the West.
        await Pages.SaveRegionSegmentAsync(page, "West customers", "West");
        var segmentUrl = page.Url;
        var segmentId = int.Parse(Regex.Match(segmentUrl, "/segments/(\\d+)$").Groups[1].Value, CultureInfo.InvariantCulture);
        await Expect(page.GetByTestId("live-count-value")).Not.ToHaveTextAsync("…", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        var westCount = long.Parse(await page.GetByTestId("live-count-value").InnerTextAsync(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

        // A 10% holdout, kept out of every campaign: counted at the last refresh.
        await page.GetByTestId("holdout-percent").FillAsync("10");
        await page.GetByTestId("holdout-save").ClickAsync();
        await Expect(page.GetByTestId("holdout-counts")).ToContainTextAsync("treated");
        var split = Regex.Match(await page.GetByTestId("holdout-counts").InnerTextAsync(), "([0-9,]+) held out .*?([0-9,]+) treated");
        var heldOut = long.Parse(split.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        var treated = long.Parse(split.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.Equal(westCount, heldOut + treated);
        Assert.InRange(heldOut, westCount * 0.08, westCount * 0.12);
        await Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Holdout", Exact = true })).ToBeVisibleAsync(); // the member list marks them

        // The lift report of a campaign that started six months ago: orders per customer, treated against the holdout.
        await page.GetByTestId("holdout-lift").ClickAsync();
        var lift = page.GetByRole(AriaRole.Dialog);
        await lift.GetByTestId("lift-start").FillAsync(DateTime.UtcNow.AddMonths(-6).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await lift.GetByTestId("lift-start").PressAsync("Tab");
        await Expect(lift.GetByTestId("lift-run")).ToBeEnabledAsync();
        await lift.GetByTestId("lift-run").ClickAsync();
        await Expect(lift.GetByTestId("lift-sentence")).ToContainTextAsync("95% CI", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(lift.GetByTestId("lift-ci")).ToContainTextAsync(" to ");
        await BrowserFixture.ScreenshotAsync(page, "58-holdout-lift-report");
        await lift.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);

        // A personal access token (segments:read) and the members read with it over plain HTTP, page by page.
        var token = await CreateTokenAsync(page, "Campaign script");
        using var http = new HttpClient { BaseAddress = new Uri(browser.App.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var me = await http.GetFromJsonAsync<JsonElement>("/api/v1/me", Ct);
        Assert.Equal(analystEmail, me.GetProperty("email").GetString());
        var keys = new HashSet<string>();
        var flagged = 0;
        string? cursor = null;
        do
        {
            var members = await http.GetFromJsonAsync<JsonElement>(
                $"/api/v1/segments/{segmentId}/members?columns=region&limit=1000" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), Ct);
            Assert.Equal(["customer_id", "region"], members.GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToList());
            foreach (var row in members.GetProperty("rows").EnumerateArray())
            {
                Assert.Equal("West", row[1].GetString());
                Assert.True(keys.Add(row[0].ToString()), $"Member {row[0]} came twice.");
            }
            flagged += members.GetProperty("holdout").EnumerateArray().Count(h => h.GetBoolean());
            cursor = members.GetProperty("next").GetString();
        }
        while (cursor is not null);
        Assert.Equal(westCount, keys.Count);
        Assert.Equal(heldOut, flagged);

        // Revoked on the tokens page: the next request is refused.
        await page.GetByTestId("revoke-token").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("token-status")).ToHaveTextAsync(new Regex("Revoked"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync($"/api/v1/segments/{segmentId}/members", Ct)).StatusCode);
        await BrowserFixture.ScreenshotAsync(page, "61-access-tokens-revoked");

        // The Admin sees every user's tokens, the Analyst's revoked one among them.
        await admin.GotoAsync("/admin/tokens");
        await Pages.WaitUntilInteractiveAsync(admin);
        await Expect(admin.GetByTestId("tokens-table")).ToContainTextAsync(analystEmail);
        await Expect(admin.GetByTestId("token-status")).ToHaveTextAsync(new Regex("Revoked"));
        await BrowserFixture.ScreenshotAsync(admin, "62-admin-api-tokens");
        await page.GotoAsync(segmentUrl);
        await Pages.WaitUntilInteractiveAsync(page);

        // Send to… the audience tool, after each refresh; then Sync now.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Send to…" }).ClickAsync();
        await page.GetByTestId("new-sync").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByTestId("sync-name").FillAsync("Audience tool");
        await Pages.ChooseAsync(page, dialog.GetByTestId("sync-webhook"), "Audience tool");
        await dialog.GetByTestId("save-sync").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        var list = page.GetByTestId("sync-list");
        await Expect(list).ToContainTextAsync("Webhook Audience tool");
        await page.GetByTestId("sync-now").ClickAsync();
        await Expect(page.GetByTestId("sync-last-run")).ToContainTextAsync("Succeeded", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await page.GetByTestId("sync-show-history").ClickAsync();
        await Expect(page.GetByTestId("sync-run-mode").First).ToHaveTextAsync("Full");
        var fullCount = receiver.Received.Count;
        Assert.True(fullCount > 0);

        // The segment widened to the West and the East and saved: the refresh sends who entered, as a delta.
        await Pages.PickConditionValueAsync(page, "East");
        await Expect(page.GetByTestId("rule-summary")).ToHaveTextAsync(new Regex("region is West or East"));
        await page.GetByTestId("save-segment").ClickAsync();
        await Expect(page.GetByTestId("sync-run-mode").First).ToHaveTextAsync("Delta", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("sync-run-status").First).ToContainTextAsync("Succeeded", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("sync-run-removed").First).ToHaveTextAsync("0");
        await BrowserFixture.ScreenshotAsync(page, "60-segment-sync-history");

        var verifier = new StandardWebhooks.StandardWebhook(secret);
        var modes = new List<string>();
        var sentInFull = 0;
        foreach (var (headers, body, _) in receiver.Received)
        {
            verifier.Verify(body, headers); // throws when the signature does not match
            using var json = JsonDocument.Parse(body);
            modes.Add(json.RootElement.GetProperty("mode").GetString()!);
            if (modes.Count <= fullCount)
            {
                sentInFull += json.RootElement.GetProperty("entered").GetArrayLength();
            }
        }
        Assert.Equal(treated, sentInFull); // the holdout never leaves the portal
        Assert.All(modes.Take(fullCount), m => Assert.Equal("full", m));
        Assert.NotEmpty(modes.Skip(fullCount));
        Assert.All(modes.Skip(fullCount), m => Assert.Equal("delta", m));
    }

    /// <summary>Makes a token on the Access tokens page (from the user menu) with its default scope, segments:read.</summary>
    private static async Task<string> CreateTokenAsync(IPage page, string name)
    {
        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("access-tokens-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/account/tokens$"));
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-token").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByTestId("token-name").FillAsync(name);
        await Expect(dialog.GetByRole(AriaRole.Checkbox, new() { Name = "Read segments", Exact = false })).ToBeCheckedAsync();
        await dialog.GetByTestId("create-token").ClickAsync();
        await Expect(dialog.GetByTestId("token-once-warning")).ToBeVisibleAsync();
        var token = await dialog.GetByTestId("token-value").InputValueAsync();
        Assert.StartsWith("sp_", token);
        await BrowserFixture.ScreenshotAsync(page, "59-access-token-shown-once");
        await dialog.GetByTestId("token-done").ClickAsync();
        await Expect(page.GetByTestId("tokens-table")).ToContainTextAsync(name);
        return token;
    }
}
