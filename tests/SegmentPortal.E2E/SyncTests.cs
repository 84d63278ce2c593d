using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SegmentPortal.Tests.Delivery;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

/// <summary>
/// Sending a segment to a campaign tool: an endpoint (a real webhook receiver), a segment of the demo customers, a sync
/// after each refresh, "Sync now" (every member, signed), then the segment widened and saved: the next run sends only who
/// entered, and the sync's history shows both runs.
/// </summary>
public sealed class SyncTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_segment_sent_to_a_webhook_sends_every_member_then_only_who_entered_after_a_refresh()
    {
        await using var receiver = await TestWebhookReceiver.StartAsync();
        var page = await Pages.SignInWithDemoDataAsync(browser);

        await page.GotoAsync("/admin/webhooks");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("new-webhook").ClickAsync();
        var hookDialog = page.GetByRole(AriaRole.Dialog);
        await hookDialog.GetByTestId("webhook-name").FillAsync("Audience tool");
        await hookDialog.GetByTestId("webhook-url").FillAsync(receiver.Url);
        await hookDialog.GetByTestId("create-webhook").ClickAsync();
        var secret = await hookDialog.GetByTestId("webhook-secret").InputValueAsync();
        await hookDialog.GetByTestId("webhook-done").ClickAsync();

        // A segment: the demo customers of the West.
        await page.GotoAsync("/segments/new");
        await Pages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("segment-dataset").ClickAsync();
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Demo customers" }).ClickAsync();
        await page.GetByTestId("rule-group").First.GetByTestId("add-condition").First.ClickAsync();
        await page.GetByTestId("add-field-condition").ClickAsync();
        var condition = page.GetByTestId("rule-condition").Last;
        await condition.GetByTestId("condition-field").FillAsync("region");
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "region" }).First.ClickAsync();
        await PickAsync(page, "West");
        await Expect(page.GetByTestId("rule-summary")).ToHaveTextAsync(new Regex("region is West"));
        await page.GetByTestId("segment-name").FillAsync("West customers");
        await page.GetByTestId("save-segment").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/segments/\\d+$"), new() { Timeout = BrowserFixture.WorkTimeoutMs });
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
        await PickAsync(page, "East");
        await Expect(page.GetByTestId("rule-summary")).ToHaveTextAsync(new Regex("region is West or East"));
        await page.GetByTestId("save-segment").ClickAsync();
        await Expect(page.GetByTestId("sync-run-mode").First).ToHaveTextAsync("Delta", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("sync-run-status").First).ToContainTextAsync("Succeeded", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("sync-run-removed").First).ToHaveTextAsync("0");
        await BrowserFixture.ScreenshotAsync(page, "60-segment-sync-history");

        var verifier = new StandardWebhooks.StandardWebhook(secret);
        var modes = new List<string>();
        foreach (var (headers, body, _) in receiver.Received)
        {
            verifier.Verify(body, headers); // throws when the signature does not match
            using var json = JsonDocument.Parse(body);
            modes.Add(json.RootElement.GetProperty("mode").GetString()!);
        }
        Assert.All(modes.Take(fullCount), m => Assert.Equal("full", m));
        Assert.NotEmpty(modes.Skip(fullCount));
        Assert.All(modes.Skip(fullCount), m => Assert.Equal("delta", m));
    }

    private static async Task PickAsync(IPage page, string value)
    {
        var condition = page.GetByTestId("rule-condition").Last;
        await condition.GetByTestId("condition-values").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = value, Exact = true }).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
    }
}
