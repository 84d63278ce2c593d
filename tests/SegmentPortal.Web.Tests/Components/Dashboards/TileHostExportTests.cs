using Bunit;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Dashboards;
using SegmentPortal.Web.Infrastructure;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

/// <summary>A tile on a board offers exports only to those the board lets export (the server refuses the rest as well).</summary>
public sealed class TileHostExportTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;
    private int _boardId;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddScoped<BrowserFiles>();
        // Tiles load only for a stored board the user may open (checked on every request): the viewer's own board here.
        await _store.AddUserAsync("viewer@example.com", Roles.Viewer);
        await using var db = await _store.Db.CreateAsync();
        var board = new Dashboard { Name = "Sales", OwnerId = "id-viewer@example.com" };
        db.Dashboards.Add(board);
        await db.SaveChangesAsync();
        _boardId = board.Id;
    }

    private DashboardView Board(bool canExport) =>
        new(_boardId, "Sales", null, "id-owner", [Note], [new TileLayout("note", 0, 0, 4, 2)], [], 0, false, false, DateTimeOffset.UnixEpoch) { CanExport = canExport };

    private static readonly TileDefinition Note = new() { Id = "note", Type = TileType.Text, Title = "Read me", Markdown = "Numbers are net of returns." };

    private IRenderedComponent<TileHost> RenderTile(bool canExport) =>
        Render<TileHost>(p => p.Add(x => x.Dashboard, Board(canExport)).Add(x => x.Tile, Note).Add(x => x.State, DashboardState.Empty));

    [Fact]
    public void A_Viewer_of_a_board_that_forbids_exports_sees_no_export_menu()
    {
        SignInAs("viewer@example.com", Roles.Viewer);

        var cut = RenderTile(canExport: false);

        cut.WaitForAssertion(() => Assert.Contains("Numbers are net of returns.", cut.Markup));
        Assert.Empty(cut.FindAll("[data-testid=tile-menu]"));
    }

    [Fact]
    public void Where_exports_are_allowed_the_tile_has_its_export_menu()
    {
        SignInAs("viewer@example.com", Roles.Viewer);

        var cut = RenderTile(canExport: true);

        cut.WaitForAssertion(() => Assert.Contains("Numbers are net of returns.", cut.Markup));
        Assert.Single(cut.FindAll("[data-testid=tile-menu]"));
    }
}
