using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Sharing;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12, L4 and L6: an open board keeps asking for data, and every request is checked again (the board's share, the
/// public link); a public link is a picture of the board, not a way to list customers.
/// </summary>
public sealed class LinkHoleTests(PermissionFixture f) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TileMeasure Revenue = new(TileMeasureKind.Sum, "amount");

    private static readonly CategoryFilter CategoryFilter = new("category", []);

    /// <summary>The owner's stored board (a bar chart of orders by region, a category filter), with a public link opened by a visitor.</summary>
    private async Task<(int Board, NewPublicLink Link, PublicVisit Visit)> LinkedBoardAsync(TileDefinition? tile = null)
    {
        f.AsAdmin();
        await f.With<PublicLinkService>(s => s.SetEnabledAsync(true, Ct));
        f.AsOwner();
        var id = await f.With<DashboardService, int>(s => s.CreateAsync($"Linked {Guid.NewGuid():N}", cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.AddTileAsync(id, tile ?? Chart("byRegion", TileType.Bar, f.Orders.Id, ["region"], Revenue), cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.SetFiltersAsync(id, [CategoryFilter], Ct));
        var link = await f.With<PublicLinkService, NewPublicLink>(s => s.CreateAsync(id, 7, Ct));
        var visit = (await f.With<PublicLinkService, PublicVisit?>(s => s.OpenAsync(link.Token, countUse: true, cancellationToken: Ct)))!;
        // The public account is a Viewer: the Viewers' row rule gives it the rows of its Region.
        f.AsAdmin();
        await f.With<DataPermissionService>(s => s.SetAttributesAsync(visit.Principal.UserId()!, new Dictionary<string, string> { ["Region"] = "North" }, Ct));
        return (id, link, visit);
    }

    private Task<TileData> LoadAsync(DashboardView board, DashboardState? state = null) =>
        f.With<TileDataService, TileData>(s => s.LoadAsync(board, board.Tiles[0], state ?? DashboardState.Empty, Ct));

    private Task<IReadOnlyList<FilterValue>> FilterValuesAsync(DashboardView board) =>
        f.With<TileDataService, IReadOnlyList<FilterValue>>(s => s.FilterValuesAsync(board, 0, null, Ct));

    private Task<UnderlyingRows> UnderlyingAsync(DashboardView board, string region = "North") =>
        f.With<TileDataService, UnderlyingRows>(s => s.UnderlyingAsync(board, board.Tiles[0], DashboardState.Empty, [region], Ct));

    /// <summary>Every data request of an open board, each expected to be refused with <paramref name="message"/>.</summary>
    private async Task AssertEveryRequestRefusedAsync(DashboardView board, string message)
    {
        var filtered = DashboardState.Empty with { Filters = [CategoryFilter with { Values = ["Toys"] }] };
        Assert.Contains(message, (await Assert.ThrowsAsync<PermissionDeniedException>(() => LoadAsync(board))).Message);
        Assert.Contains(message, (await Assert.ThrowsAsync<PermissionDeniedException>(() => LoadAsync(board, filtered))).Message);
        Assert.Contains(message, (await Assert.ThrowsAsync<PermissionDeniedException>(() => FilterValuesAsync(board))).Message);
        Assert.Contains(message, (await Assert.ThrowsAsync<PermissionDeniedException>(() => UnderlyingAsync(board))).Message);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<TileDataService, IReadOnlyList<SegmentPortal.Core.Access.QueryField>>(s => s.FilterFieldsAsync(board, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<TileDataService, IReadOnlyList<FilterCoverage>>(s => s.CoverageAsync(board, null, Ct)));
    }

    [Fact]
    public async Task L4_a_revoked_public_link_stops_serving_tiles_filter_values_and_rows_to_the_open_tab()
    {
        var (id, link, visit) = await LinkedBoardAsync();
        f.Harness.CurrentUser.Principal = visit.Principal;
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        Assert.NotEmpty((await LoadAsync(board)).Rows);
        Assert.NotEmpty(await FilterValuesAsync(board));

        f.AsOwner();
        await f.With<PublicLinkService>(s => s.RevokeAsync(link.Link.Id, Ct));

        f.Harness.CurrentUser.Principal = visit.Principal;
        await AssertEveryRequestRefusedAsync(board, TileDataService.LinkNoLongerValidMessage);
    }

    [Fact]
    public async Task L4_an_expired_public_link_stops_serving_the_open_tab()
    {
        var (id, link, visit) = await LinkedBoardAsync();
        f.Harness.CurrentUser.Principal = visit.Principal;
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        Assert.NotEmpty((await LoadAsync(board)).Rows);

        await using (var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var stored = await db.PublicLinks.SingleAsync(l => l.Id == link.Link.Id, Ct);
            stored.ExpiresAt = stored.CreatedAt.AddMinutes(-1);
            await db.SaveChangesAsync(Ct);
        }

        await AssertEveryRequestRefusedAsync(board, TileDataService.LinkNoLongerValidMessage);
    }

    [Fact]
    public async Task L4_an_unshared_board_stops_serving_data_to_a_signed_in_viewer_with_it_open()
    {
        f.AsOwner();
        var id = await f.With<DashboardService, int>(s => s.CreateAsync($"Shared {Guid.NewGuid():N}", cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.AddTileAsync(id, Chart("byRegion", TileType.Bar, f.Orders.Id, ["region"], Revenue), cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.SetFiltersAsync(id, [CategoryFilter], Ct));
        await f.With<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, id, f.NorthViewer.Id, null, ShareLevel.Viewer, Ct));

        f.AsNorthViewer();
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        Assert.NotEmpty((await LoadAsync(board)).Rows);

        f.AsOwner();
        var share = (await f.With<SharingService, ShareList>(s => s.ListAsync(SharedItem.Dashboard, id, Ct))).Entries.Single(e => e.UserId == f.NorthViewer.Id);
        await f.With<SharingService>(s => s.UnshareAsync(share.ShareId!.Value, Ct));

        f.AsNorthViewer();
        await AssertEveryRequestRefusedAsync(board, TileDataService.BoardNoLongerSharedMessage);
    }

    [Fact]
    public async Task L6_a_public_link_visitor_cannot_list_the_customers_behind_a_mark_by_default()
    {
        var (id, _, visit) = await LinkedBoardAsync();
        f.Harness.CurrentUser.Principal = visit.Principal;
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        Assert.NotEmpty((await LoadAsync(board)).Rows);

        Assert.False(await f.With<TileDataService, bool>(s => s.CanViewRowsAsync(board, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => UnderlyingAsync(board));

        // The owner still can.
        f.AsOwner();
        Assert.True(await f.With<TileDataService, bool>(s => s.CanViewRowsAsync(board, Ct)));
        Assert.False((await f.With<PublicLinkService, IReadOnlyList<PublicLinkRow>>(s => s.ListAsync(id, Ct))).Single().AllowRows);
        Assert.NotEmpty((await UnderlyingAsync(board)).Rows);
    }

    [Fact]
    public async Task L6_a_link_that_allows_customer_lists_shows_them_with_every_ruled_column_masked()
    {
        // A rule for Analysts only: Viewers (the public account) see names as they are, but a visitor's list masks them.
        f.AsAdmin();
        await f.With<DataPermissionService>(s => s.SetColumnTreatmentAsync(f.Customers.Id, "name", Roles.Analyst, ColumnTreatment.Masked, Ct));
        var people = Chart("people", TileType.Bar, f.Customers.Id, ["region"], new TileMeasure(TileMeasureKind.Customers));
        var (id, link, visit) = await LinkedBoardAsync(people);
        var editor = f.NorthAnalyst;
        f.AsOwner();
        await f.With<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, id, editor.Id, null, ShareLevel.Editor, Ct));
        f.AsNorthAnalyst();
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<PublicLinkService>(s => s.SetRowsAllowedAsync(link.Link.Id, true, Ct)));
        f.AsOwner();
        await f.With<PublicLinkService>(s => s.SetRowsAllowedAsync(link.Link.Id, true, Ct));
        Assert.True((await f.With<PublicLinkService, IReadOnlyList<PublicLinkRow>>(s => s.ListAsync(id, Ct))).Single().AllowRows);

        f.Harness.CurrentUser.Principal = visit.Principal;
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        Assert.True(await f.With<TileDataService, bool>(s => s.CanViewRowsAsync(board, Ct)));
        var rows = await UnderlyingAsync(board);

        string[] Column(string name) => rows.Rows.Select(r => Convert.ToString(r[rows.Columns.ToList().IndexOf(name)], System.Globalization.CultureInfo.InvariantCulture)!)
            .Order(StringComparer.Ordinal).ToArray();
        Assert.DoesNotContain("phone", rows.Columns); // hidden for Viewers stays hidden
        Assert.DoesNotContain("credit_limit", rows.Columns);
        Assert.Equal(["**", "***"], Column("name"));
        Assert.Equal(["a***@example.com", "c***@example.com"], Column("email"));
        Assert.Equal(["Bergen", "Oslo"], Column("city")); // no rule on it

        f.AsOwner();
        await f.With<PublicLinkService>(s => s.SetRowsAllowedAsync(link.Link.Id, false, Ct));
        f.Harness.CurrentUser.Principal = visit.Principal;
        await Assert.ThrowsAsync<PermissionDeniedException>(() => UnderlyingAsync(board));
        await using var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        Assert.Equal(2, await db.AuditEntries.CountAsync(e => e.Action == SegmentPortal.Core.Audit.AuditActions.SharingChanged && e.Detail!.StartsWith($"Public link {link.Link.Id}:"), Ct));
    }
}
