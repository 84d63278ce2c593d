using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Web.Components.Activation;
using SegmentPortal.Web.Infrastructure;
using SegmentPortal.Web.Tests.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Activation;

/// <summary>The segment's "Send to…" panel and dialog over the real Core services, six real customers and a temp data folder.</summary>
public sealed class SegmentSyncsPanelTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;
    private int _segment;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddSingleton<ISecretProtector, PlainProtector>();
        Services.AddSingleton<IWebhookSigner, StandardWebhookSigner>();
        SignInAs(ShopData.Owner, Roles.Analyst);
        var customers = await ShopData.SeedAsync(_store, Services, Ct);
        await using (var db = await _store.Db.CreateAsync(Ct))
        {
            var name = await db.DatasetColumns.SingleAsync(c => c.DatasetId == customers && c.Name == "name", Ct);
            db.ColumnRules.Add(new ColumnRule { DatasetId = customers, ColumnId = name.Id, Column = "name", Role = Roles.Analyst, Treatment = ColumnTreatment.Masked });
            await db.SaveChangesAsync(Ct);
        }
        var rule = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.IsNotEmpty }] } };
        await using var scope = Services.CreateAsyncScope();
        _segment = await scope.ServiceProvider.GetRequiredService<SegmentService>().CreateAsync(new SegmentDraft("Has a region", customers, rule), Ct);
    }

    [Fact]
    public async Task The_dialog_offers_only_columns_that_may_leave_and_says_why_the_others_may_not()
    {
        var dialogs = Render<MudDialogProvider>();
        var panel = Render<SegmentSyncsPanel>(p => p.Add(x => x.SegmentId, _segment));
        panel.WaitForAssertion(() => panel.Find("[data-testid=no-syncs]"));

        panel.Find("[data-testid=new-sync]").Click();
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=sync-column]")));

        var name = dialogs.FindAll("[data-testid=sync-column]").Single(c => c.TextContent.Contains("name", StringComparison.Ordinal) && !c.TextContent.Contains("birth", StringComparison.Ordinal));
        Assert.NotNull(name.QuerySelector("input[disabled]"));
        Assert.Contains("Masked for you by a column rule", name.TextContent);
        var city = dialogs.FindAll("[data-testid=sync-column]").Single(c => c.TextContent.Contains("city", StringComparison.Ordinal));
        Assert.Null(city.QuerySelector("input[disabled]"));
        Assert.Contains("No webhook endpoint yet", dialogs.Markup);

        dialogs.Find("input[data-testid=sync-name]").Change("Campaign tool");
        dialogs.Find("[data-testid=save-sync]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains(SnackbarMessages, m => m.Contains("Choose a webhook endpoint", StringComparison.Ordinal)));
        await using var db = await _store.Db.CreateAsync(Ct);
        Assert.Empty(await db.SegmentSyncs.ToListAsync(Ct));
    }

    [Fact]
    public async Task A_sync_is_listed_run_by_hand_and_its_history_shows_the_full_run()
    {
        await using (var scope = Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<SyncService>().CreateAsync(_segment, new SyncInput
            {
                Name = "Nightly file",
                Kind = SyncDestinationKind.FileDrop,
                Folder = "crm",
                Columns = ["city"],
                Schedule = SyncSchedule.Daily,
            }, Ct);
        }
        var panel = Render<SegmentSyncsPanel>(p => p.Add(x => x.SegmentId, _segment));
        panel.WaitForAssertion(() => Assert.Contains("Nightly file", panel.Find("[data-testid=sync-list]").TextContent));
        var listed = panel.Find("[data-testid=sync-list]").TextContent;
        Assert.True(listed.Contains("CSV files in crm", StringComparison.Ordinal), listed);
        Assert.Contains("customer_key, city", listed);
        Assert.Contains("never", panel.Find("[data-testid=sync-last-run]").TextContent);

        panel.Find("[data-testid=sync-now]").Click();
        panel.WaitForAssertion(() => Assert.Contains("Waiting to run", panel.Find("[data-testid=sync-last-run]").TextContent));
        await Services.GetRequiredService<SyncRunner>().RunDueAsync(Ct);

        panel.Find("[data-testid=sync-show-history]").Click();
        panel.WaitForAssertion(() => Assert.Single(panel.FindAll("[data-testid=sync-history] tbody tr")));
        panel.Find("[data-testid=sync-history-reload]").Click();
        panel.WaitForAssertion(() => Assert.Contains("Succeeded", panel.Find("[data-testid=sync-run-status]").TextContent));
        Assert.Equal("Full", panel.Find("[data-testid=sync-run-mode]").TextContent.Trim());
        Assert.Equal("5", panel.Find("[data-testid=sync-run-added]").TextContent.Trim());
        Assert.Contains("Succeeded", panel.Find("[data-testid=sync-last-run]").TextContent);
        Assert.Single(Directory.GetFiles(Path.Combine(_store.Paths.DataDirectory, "drops", "crm"), "*-members.csv"));
    }

    private sealed class PlainProtector : ISecretProtector
    {
        public string Protect(string plaintext) => plaintext;

        public string Unprotect(string protectedValue) => protectedValue;
    }
}
