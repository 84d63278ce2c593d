using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Web.Tests.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared.Sharing;

/// <summary>The share dialog's panel over the real sharing service and a temp metadata store.</summary>
public sealed class SharePanelTests : PortalTestContext, IAsyncLifetime
{
    private const string Owner = "owner@example.com";
    private PortalStore _store = null!;
    private int _dashboardId;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSingleton(_store.Db);
        Services.AddScoped<AuditLog>();
        Services.AddScoped<SharingService>();
        Services.AddSingleton(_store.Changes);
        Services.AddPortalAccess();
        Services.AddScoped<IDashboardDatasets, SegmentPortal.Core.Dashboards.DashboardDatasets>();
        Services.AddSingleton<ISharedItemSource, DashboardItems>();
        Services.AddSingleton<ISharedItemSource, SegmentPortal.Core.Segments.SegmentItems>();
        await using var db = await _store.Db.CreateAsync(Ct);
        db.Users.AddRange(
            new AppUser { Id = $"id-{Owner}", UserName = Owner, Email = Owner },
            new AppUser { Id = "id-manager@example.com", UserName = "manager@example.com", Email = "manager@example.com" },
            new AppUser { Id = "id-clerk", UserName = "clerk@example.com", Email = "clerk@example.com" });
        var dataset = new Dataset
        {
            Name = "Orders", TableName = "t_orders", Kind = DatasetKind.Transactions, Source = "Test", OwnerId = $"id-{Owner}",
            CreatedAt = Clock.Now, RefreshedAt = Clock.Now,
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
        var dashboard = new Dashboard
        {
            Name = "Sales", OwnerId = $"id-{Owner}", CreatedAt = Clock.Now, UpdatedAt = Clock.Now,
            TilesJson = DashboardJson.Write(new[] { new TileDefinition { Id = "t1", Type = TileType.Kpi, Title = "Orders", DatasetId = dataset.Id, Measures = [new TileMeasure(TileMeasureKind.Count)] } }),
        };
        db.Dashboards.Add(dashboard);
        await db.SaveChangesAsync(Ct);
        _dashboardId = dashboard.Id;
        db.Shares.Add(new Share { Item = SharedItem.Dashboard, ItemId = _dashboardId, UserId = "id-manager@example.com", Level = ShareLevel.Viewer, CreatedAt = Clock.Now });
        await db.SaveChangesAsync(Ct);
    }

    private IRenderedComponent<SharePanelHost> RenderPanel() =>
        Render<SharePanelHost>(p => p.Add(x => x.Item, SharedItem.Dashboard).Add(x => x.ItemId, _dashboardId));

    private async Task<List<Share>> SharesAsync()
    {
        await using var db = await _store.Db.CreateAsync(Ct);
        return await db.Shares.AsNoTracking().Where(s => s.ItemId == _dashboardId).OrderBy(s => s.Id).ToListAsync(Ct);
    }

    [Fact]
    public async Task The_owner_sees_who_has_access_adds_a_role_changes_a_level_and_removes_a_person()
    {
        SignInAs(Owner, Roles.Analyst);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=share-entry]").Count));
        Assert.Equal([Owner, "manager@example.com"], cut.FindAll("[data-testid=share-entry]").Select(e => e.GetAttribute("data-share-name")));
        Assert.Contains("Owner", cut.FindAll("[data-testid=share-entry]")[0].TextContent);
        // The manager cannot read the orders the board shows: the panel says so.
        Assert.Contains("manager@example.com cannot read the dataset “Orders”", cut.Find("[data-testid=share-gap]").TextContent);

        await cut.ChooseAsync(() => cut.Find("[data-testid=share-who]"), "Everyone in Viewer");
        await cut.ChooseAsync(() => cut.Find("[data-testid=share-new-level]"), "Editor");
        await cut.Find("[data-testid=share-add]").ClickAsync(new());
        cut.WaitForAssertion(() => Assert.Contains(cut.FindAll("[data-testid=share-entry]"), e => e.GetAttribute("data-share-name") == "Everyone in Viewer"));
        Assert.Contains(await SharesAsync(), s => s.Role == Roles.Viewer && s.Level == ShareLevel.Editor);

        var manager = () => cut.FindAll("[data-testid=share-entry]").Single(e => e.GetAttribute("data-share-name") == "manager@example.com");
        await cut.ChooseAsync(() => manager().QuerySelector("[data-testid=share-level]")!, "Editor");
        cut.WaitForAssertion(() => Assert.Contains("Access changed.", SnackbarMessages));
        Assert.Equal(ShareLevel.Editor, (await SharesAsync()).Single(s => s.UserId == "id-manager@example.com").Level);

        await manager().QuerySelector("[data-testid=share-remove]")!.ClickAsync(new());
        cut.WaitForAssertion(() => Assert.DoesNotContain(cut.FindAll("[data-testid=share-entry]"), e => e.GetAttribute("data-share-name") == "manager@example.com"));
        Assert.DoesNotContain(await SharesAsync(), s => s.UserId == "id-manager@example.com");
    }

    [Fact]
    public void Someone_it_is_shared_with_sees_the_list_but_no_controls_to_change_it()
    {
        SignInAs("manager@example.com", Roles.Viewer);
        var cut = RenderPanel();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=share-entry]").Count));
        Assert.NotNull(cut.Find("[data-testid=share-readonly]"));
        Assert.Empty(cut.FindAll("[data-testid=share-add]"));
        Assert.Empty(cut.FindAll("[data-testid=share-remove]"));
        Assert.Empty(cut.FindAll("[data-testid=share-level]"));
    }
}
