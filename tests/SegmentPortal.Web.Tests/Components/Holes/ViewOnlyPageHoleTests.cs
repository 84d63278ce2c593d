using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Access;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Web.Components.Analysis;
using SegmentPortal.Web.Components.Data;
using SegmentPortal.Web.Components.Segments;
using SegmentPortal.Web.Tests.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Holes;

/// <summary>
/// Issue 12, the pages: controls the service refuses are not offered. A view-only sharee sees no new-file, refresh or
/// schedule controls on a dataset (B1) and no Refresh on a segment (B3); the clustering run button waits while the run
/// it started is queued or running (B7). Over the real Core services, the six customers of <see cref="ShopData"/> owned
/// by <see cref="ShopData.Owner"/>, and an Analyst the data is shared with read-only.
/// </summary>
public sealed class ViewOnlyPageHoleTests : PortalTestContext, IAsyncLifetime
{
    private const string Sharee = "bo@example.com";
    private PortalStore _store = null!;
    private int _customers;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddSingleton(_store.Changes);
        Services.AddSingleton<ICurrentUser>(CurrentUser);
        Services.AddSingleton<ISecretProtector, NoSecrets>();
        SignInAs(ShopData.Owner, Roles.Analyst);
        _customers = await ShopData.SeedAsync(_store, Services, Ct);
        await _store.AddUserAsync(Sharee, Roles.Analyst);
    }

    [Fact]
    public async Task B1_the_history_tab_hides_new_file_refresh_and_schedule_from_a_view_only_sharee()
    {
        // The orders as if they came from a connection: what decides between the file drop zone and Refresh now / schedule.
        int orders;
        await using (var db = await _store.Db.CreateAsync(Ct))
        {
            var dataset = await db.Datasets.SingleAsync(d => d.Name == ShopData.OrdersName, Ct);
            dataset.SourceKind = DatasetSourceKind.Connection;
            await db.SaveChangesAsync(Ct);
            orders = dataset.Id;
        }
        await Services.GetRequiredService<DatasetSharing>().SetAsync(_customers, [], [$"id-{Sharee}"], Ct);
        await Services.GetRequiredService<DatasetSharing>().SetAsync(orders, [], [$"id-{Sharee}"], Ct);

        // The owner: a new file for the file dataset, Refresh now and the schedule for the connection dataset.
        var file = await HistoryTabAsync(_customers);
        Assert.NotEmpty(file.FindAll("[data-testid=drop-zone]"));
        Assert.Empty(file.FindAll("[data-testid=dataset-refresh-owner-only]"));
        await DisposeComponentsAsync();
        var connection = await HistoryTabAsync(orders);
        Assert.NotEmpty(connection.FindAll("[data-testid=refresh-now]"));
        Assert.NotEmpty(connection.FindAll("[data-testid=schedule]"));
        await DisposeComponentsAsync();

        // The sharee: the history, and who may bring in new versions, but none of the controls.
        SignInAs(Sharee, Roles.Analyst);
        foreach (var id in new[] { _customers, orders })
        {
            var tab = await HistoryTabAsync(id);
            Assert.NotEmpty(tab.FindAll("[data-testid=dataset-refresh-owner-only]"));
            Assert.Empty(tab.FindAll("[data-testid=drop-zone]"));
            Assert.Empty(tab.FindAll("[data-testid=file-input]"));
            Assert.Empty(tab.FindAll("[data-testid=refresh-now]"));
            Assert.Empty(tab.FindAll("[data-testid=schedule]"));
            await DisposeComponentsAsync();
        }
    }

    [Fact]
    public async Task B3_refresh_is_not_offered_to_a_view_only_segment_sharee()
    {
        var segment = await Services.GetRequiredService<SegmentService>().CreateAsync(new SegmentDraft("North", _customers, new SegmentPortal.Core.Rules.RuleTree()), Ct);
        await Services.GetRequiredService<DatasetSharing>().SetAsync(_customers, [], [$"id-{Sharee}"], Ct);
        await Services.GetRequiredService<SharingService>().ShareAsync(SharedItem.Segment, segment, $"id-{Sharee}", null, ShareLevel.Viewer, Ct);

        Assert.Contains("Refresh", await SegmentMenuAsync("North"));

        SignInAs(Sharee, Roles.Analyst);
        var items = await SegmentMenuAsync("North");
        Assert.Contains("Open", items);
        Assert.DoesNotContain("Refresh", items);
    }

    [Fact]
    public async Task B7_the_run_button_is_disabled_while_a_run_of_the_same_settings_is_queued_or_running()
    {
        Render<MudPopoverProvider>();
        var page = Render<ClusteringPage>();
        var start = () => page.Find("[data-testid=clustering-start]");
        page.WaitForAssertion(() => Assert.False(start().HasAttribute("disabled")), TimeSpan.FromSeconds(90));

        await start().ClickAsync(new());

        // Started once, and the page moves to the run, which stays queued (no job runner here).
        var navigation = Services.GetRequiredService<NavigationManager>();
        page.WaitForAssertion(() => Assert.Matches(@"/analysis/clustering/\d+$", navigation.Uri));
        var run = Assert.Single(await Services.GetRequiredService<ClusteringService>().HistoryAsync(Ct));
        Assert.Equal(ClusteringRunStatus.Running, run.Status);
        Assert.EndsWith($"/analysis/clustering/{run.Id}", navigation.Uri, StringComparison.Ordinal);

        // The router gives the page the run's id: the button waits for it.
        page.Render(p => p.Add(x => x.RunId, run.Id));
        page.WaitForAssertion(() =>
        {
            Assert.True(start().HasAttribute("disabled"));
            Assert.Equal("Run queued or running…", start().TextContent.Trim());
        });
        Assert.Single(await Services.GetRequiredService<ClusteringService>().HistoryAsync(Ct));
    }

    /// <summary>The dataset page for <paramref name="id"/> with its History tab open.</summary>
    private async Task<IRenderedComponent<DatasetPage>> HistoryTabAsync(int id)
    {
        Render<MudPopoverProvider>();
        var cut = Render<DatasetPage>(p => p.Add(x => x.Id, id));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll(".mud-tab")));
        await cut.FindAll(".mud-tab").Single(t => t.TextContent.Contains("History", StringComparison.Ordinal)).ClickAsync(new());
        cut.WaitForAssertion(() => Assert.Contains("Imports and refreshes", cut.Markup, StringComparison.Ordinal));
        return cut;
    }

    /// <summary>The segments list's action menu for the row named <paramref name="name"/>, opened: its items' texts.</summary>
    private async Task<IReadOnlyList<string>> SegmentMenuAsync(string name)
    {
        var popovers = Render<MudPopoverProvider>();
        var cut = Render<SegmentsPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll($"button[aria-label='Actions for {name}']")));
        await cut.Find($"button[aria-label='Actions for {name}']").ClickAsync(new());
        IReadOnlyList<string> items = [];
        popovers.WaitForAssertion(() =>
        {
            items = popovers.FindAll("[role=menuitem]").Select(i => i.TextContent.Trim()).ToList();
            Assert.Contains("Open", items);
        });
        await DisposeComponentsAsync();
        return items;
    }

    /// <summary>The import service needs a protector for connection passwords; nothing here opens a connection.</summary>
    private sealed class NoSecrets : ISecretProtector
    {
        public string Protect(string plaintext) => throw new InvalidOperationException("No connection secrets in these tests.");

        public string Unprotect(string protectedValue) => throw new InvalidOperationException("No connection secrets in these tests.");
    }
}
