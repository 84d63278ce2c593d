using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Users;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// One test per read path: each asserts exactly the rows, columns and masked values the policy allows, for the North
/// Viewer (rows of North; e-mail masked; phone and credit limit hidden), against the unrestricted owner and, where it
/// matters, a user no rule is for (no rows). The data is in <see cref="PermissionFixture"/>.
/// </summary>
public sealed class PermissionMatrixTests(PermissionFixture f) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] ViewerCustomerColumns = ["id", "name", "region", "email", "city"];
    private static readonly string[] AllCustomerColumns = ["id", "name", "region", "email", "phone", "credit_limit", "city"];
    private static readonly TileMeasure Revenue = new(TileMeasureKind.Sum, "amount");
    private static readonly TileMeasure CustomerCount = new(TileMeasureKind.Customers);
    private static readonly TileMeasure OrderCount = new(TileMeasureKind.Count);

    private static List<string> Show(IEnumerable<object?[]> rows) =>
        rows.Select(r => string.Join("|", r.Select(v => v is double d ? d.ToString("0.##", CultureInfo.InvariantCulture) : MarkValue.Text(v) ?? "∅"))).ToList();

    private static List<string> Sorted(IEnumerable<object?[]> rows) => Show(rows).Order(StringComparer.Ordinal).ToList();

    private static List<string> Column(IReadOnlyList<string> columns, IEnumerable<object?[]> rows, string name)
    {
        var index = columns.ToList().IndexOf(name);
        return rows.Select(r => MarkValue.Text(r[index]) ?? "∅").Order(StringComparer.Ordinal).ToList();
    }

    private Task<TileData> LoadAsync(DashboardView board, TileDefinition tile, DashboardState? state = null) =>
        f.With<TileDataService, TileData>(s => s.LoadAsync(board, tile, state ?? DashboardState.Empty, Ct));

    private static async Task<string[]> CsvLinesAsync(Func<Stream, Task<long>> write)
    {
        using var buffer = new MemoryStream();
        await write(buffer);
        return Encoding.UTF8.GetString(buffer.ToArray()).TrimStart('\uFEFF').Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Dataset_preview()
    {
        f.AsNorthViewer();
        var viewer = await f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(f.Customers.Id, Ct));
        f.AsOwner();
        var owner = await f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(f.Customers.Id, Ct));
        f.AsRulelessAnalyst();
        var ruleless = await f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(f.Customers.Id, Ct));

        Assert.Equal(ViewerCustomerColumns, viewer.Columns);
        Assert.Equal(["1|Ann|North|a***@example.com|Oslo", "3|Cy|North|c***@example.com|Bergen"], Sorted(viewer.Rows));
        Assert.Equal(2, viewer.TotalRows);
        Assert.Equal(AllCustomerColumns, owner.Columns);
        Assert.Equal(5, owner.Rows.Count);
        Assert.Equal(5, owner.TotalRows);
        Assert.Empty(ruleless.Rows);
        Assert.Equal(0, ruleless.TotalRows);
    }

    [Fact]
    public async Task Column_profile()
    {
        f.AsNorthViewer();
        var viewer = await f.With<DatasetProfiler, IReadOnlyList<ColumnProfile>>(p => p.ProfileAsync(f.Customers.Id, Ct));
        f.AsOwner();
        var owner = await f.With<DatasetProfiler, IReadOnlyList<ColumnProfile>>(p => p.ProfileAsync(f.Customers.Id, Ct));

        Assert.Equal(ViewerCustomerColumns, viewer.Select(c => c.Name));
        var region = viewer.Single(c => c.Name == "region");
        Assert.Equal(2, region.Rows);
        Assert.Equal(1, region.Distinct);
        Assert.Equal([new ValueCount("North", 2)], region.TopValues);
        Assert.Equal(("1", "3"), (viewer[0].Min, viewer[0].Max));
        var email = viewer.Single(c => c.Name == "email");
        Assert.Equal(["a***@example.com", "c***@example.com"], email.TopValues.Select(v => v.Value).Order());
        Assert.Equal(ColumnType.Text, email.Type);
        Assert.Equal(("a***@example.com", "c***@example.com"), (email.Min, email.Max));

        Assert.Equal(AllCustomerColumns, owner.Select(c => c.Name));
        Assert.Equal(3, owner.Single(c => c.Name == "region").Distinct);
        Assert.Equal("ann@example.com", owner.Single(c => c.Name == "email").Min);
    }

    [Fact]
    public async Task Dataset_page_and_list_columns_rows_and_who_may_change_it()
    {
        f.AsNorthViewer();
        var viewer = await f.With<DatasetProfiler, DatasetOverview>(p => p.OverviewAsync(f.Customers.Id, Ct));
        var listed = (await f.With<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(Ct))).Single(d => d.Id == f.Customers.Id);
        f.AsRulelessAnalyst();
        var granted = await f.With<DatasetProfiler, DatasetOverview>(p => p.OverviewAsync(f.Customers.Id, Ct));
        var refused = await Assert.ThrowsAsync<PortalException>(() => f.With<DatasetSchemaService, Dataset>(s =>
            s.SaveColumnsAsync(f.Customers.Id, DatasetRebuilder.SettingsOf(f.Customers).ToList(), Ct)));
        f.AsOwner();
        var owner = await f.With<DatasetProfiler, DatasetOverview>(p => p.OverviewAsync(f.Customers.Id, Ct));

        Assert.Equal(ViewerCustomerColumns, viewer.Columns.Select(c => c.Name));
        Assert.Equal(2, viewer.Rows);
        Assert.False(viewer.CanChange);
        Assert.Equal((2L, 5), (listed.RowCount, listed.ColumnCount));
        Assert.False(granted.CanChange);
        Assert.Equal(0, granted.Rows);
        Assert.Contains("Only the owner", refused.Message);
        Assert.True(owner.CanChange);
        Assert.Equal(5, owner.Rows);
    }

    [Fact]
    public async Task Filter_value_lists()
    {
        var board = Board([new CategoryFilter("region", []), new CategoryFilter("category", []), new CategoryFilter("email", [])],
            Chart("customers", TileType.Bar, f.Customers.Id, ["region"], CustomerCount), Chart("orders", TileType.Bar, f.Orders.Id, ["category"], OrderCount));
        Task<IReadOnlyList<FilterValue>> Values(int index) => f.With<TileDataService, IReadOnlyList<FilterValue>>(s => s.FilterValuesAsync(board, index, cancellationToken: Ct));

        f.AsNorthViewer();
        var regions = await Values(0);
        var categories = await Values(1);
        var emails = await Values(2);
        var fields = await f.With<TileDataService, IReadOnlyList<QueryField>>(s => s.FilterFieldsAsync(board, Ct));
        f.AsOwner();
        var ownerRegions = await Values(0);

        // Two North customers and three North orders.
        Assert.Equal([new FilterValue("North", 5)], regions);
        Assert.Equal(["Books", "Electronics", "Toys"], categories.Select(v => v.Value).Order());
        Assert.Equal(["a***@example.com", "c***@example.com"], emails.Select(v => v.Value).Order());
        Assert.DoesNotContain(fields, x => x.Name is "phone" or "credit_limit");
        Assert.Equal(["East", "North", "South"], ownerRegions.Select(v => v.Value).Order());
    }

    [Fact]
    public async Task Segment_count()
    {
        var rule = new RuleGroup { Children = [new FieldCondition { Id = "c", Field = "city", Operator = RuleOperator.IsNotEmpty }] };
        Task<LiveCount> Count() => f.With<SegmentService, LiveCount>(s => s.CountAsync(f.Customers.Id, rule, Ct));

        f.AsNorthViewer();
        var viewer = await Count();
        f.AsOwner();
        var owner = await Count();
        f.AsRulelessAnalyst();
        var ruleless = await Count();

        Assert.Equal((2L, 2L), (viewer.Matching, viewer.Total));
        Assert.Equal((5L, 5L), (owner.Matching, owner.Total));
        Assert.Equal((0L, 0L), (ruleless.Matching, ruleless.Total));
    }

    [Fact]
    public async Task Segment_preview_members_grid()
    {
        f.AsNorthViewer();
        var page = await f.With<SegmentService, MemberPage>(s => s.MembersAsync(f.Customers.Id, new RuleGroup(), cancellationToken: Ct));

        Assert.Equal(ViewerCustomerColumns, page.Columns);
        Assert.Equal(["1|Ann|North|a***@example.com|Oslo", "3|Cy|North|c***@example.com|Bergen"], Show(page.Rows));
        Assert.Equal(2, page.Total);
    }

    [Fact]
    public async Task Segment_member_export()
    {
        f.AsOwner();
        var id = await f.With<SegmentService, int>(s => s.CreateAsync(new SegmentDraft($"Export {Guid.NewGuid():N}", f.Customers.Id,
            new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "city", Operator = RuleOperator.IsNotEmpty }] } }), Ct));
        await f.With<SharingService, bool>(async s => { await s.ShareAsync(SharedItem.Segment, id, null, Roles.Viewer, ShareLevel.Viewer, Ct); return true; });

        f.AsNorthViewer();
        var members = await f.With<SegmentService, QueryResult>(s => s.AllMembersAsync(id, Ct));
        var csv = await CsvLinesAsync(stream => TableExport.WriteCsvAsync(members, stream, Ct));

        Assert.Equal("id,name,region,email,city", csv[0]);
        Assert.Equal(["1,Ann,North,a***@example.com,Oslo", "3,Cy,North,c***@example.com,Bergen"], csv.Skip(1).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dashboard_tile()
    {
        var tile = Chart("revenue", TileType.Bar, f.Orders.Id, ["category"], Revenue);
        var board = Board(null, tile);

        f.AsNorthViewer();
        var viewer = await LoadAsync(board, tile);
        f.AsOwner();
        var owner = await LoadAsync(board, tile);
        f.AsRulelessAnalyst();
        var ruleless = await LoadAsync(board, tile);

        Assert.Equal(["Electronics|2000", "Books|700", "Toys|500"], Show(viewer.Rows));
        Assert.Equal(["Electronics|2000", "Books|800", "Toys|550", "Garden|110"], Show(owner.Rows));
        Assert.Empty(ruleless.Rows);
    }

    [Fact]
    public async Task Drill_down()
    {
        var tile = Chart("regions", TileType.Bar, f.Customers.Id, [], CustomerCount) with { Dimensions = [new TileDimension("region", Hierarchy: ["city"])] };
        var board = Board(null, tile);

        f.AsNorthViewer();
        var top = await LoadAsync(board, tile);
        var cities = await LoadAsync(board, tile, DashboardState.Empty.DrillDown(tile.Id, DrillStep.From(top.Grouping[0], top.Rows[0][0])));

        Assert.Equal(["North|2"], Show(top.Rows));
        Assert.Equal(["Bergen|1", "Oslo|1"], Sorted(cities.Rows));
    }

    [Fact]
    public async Task Underlying_rows()
    {
        var tile = Chart("categories", TileType.Bar, f.Orders.Id, ["category"], OrderCount);
        var board = Board(null, tile);
        Task<UnderlyingRows> Toys() => f.With<TileDataService, UnderlyingRows>(s => s.UnderlyingAsync(board, tile, DashboardState.Empty, ["Toys"], Ct));

        f.AsNorthViewer();
        var viewer = await Toys();
        f.AsOwner();
        var owner = await Toys();

        Assert.Equal(["1"], Column(viewer.Columns, viewer.Rows, "customer_id"));
        Assert.Equal(["1", "2"], Column(owner.Columns, owner.Rows, "customer_id"));
    }

    [Fact]
    public async Task Tile_export()
    {
        var tile = Chart("people", TileType.Table, f.Customers.Id, ["id", "name", "email"]);
        var board = Board(null, tile);

        f.AsNorthViewer();
        var data = await LoadAsync(board, tile);
        // What the tile's CSV export writes: the tile's columns and the rows the tile holds.
        var csv = await CsvLinesAsync(stream => TableExport.WriteCsvAsync([.. data.Dimensions, .. data.Measures], data.Rows, stream, Ct));

        Assert.Equal("id,name,email", csv[0]);
        Assert.Equal(["1,Ann,a***@example.com", "3,Cy,c***@example.com"], csv.Skip(1).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dashboard_export()
    {
        // The print page (what the dashboard's PDF export renders) loads every tile through TileDataService under the
        // signed-in user's identity; this loads a stored board's tiles the same way, as the Viewer.
        f.AsOwner();
        var id = await f.With<DashboardService, int>(s => s.CreateAsync($"Board {Guid.NewGuid():N}", cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.AddTileAsync(id, Chart("byRegion", TileType.Bar, f.Orders.Id, ["region"], Revenue), cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.AddTileAsync(id, Chart("names", TileType.Table, f.Customers.Id, ["name"]), cancellationToken: Ct));
        await f.With<SharingService, bool>(async s => { await s.ShareAsync(SharedItem.Dashboard, id, null, Roles.Viewer, ShareLevel.Viewer, Ct); return true; });

        f.AsNorthViewer();
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        var tiles = new List<TileData>();
        foreach (var tile in board.Tiles)
        {
            tiles.Add(await LoadAsync(board, tile));
        }

        Assert.Equal(["North|3200"], Show(tiles[0].Rows));
        Assert.Equal(["Ann", "Cy"], Sorted(tiles[1].Rows));
    }

    [Fact]
    public async Task View_as_user()
    {
        // An Admin viewing the portal as the North Viewer: the circuit's principal is the Viewer's (as the web host's
        // CurrentUser returns it while viewing as), so every path answers with the Viewer's rows and columns.
        f.AsAdmin();
        var asAdmin = await f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(f.Customers.Id, Ct));
        System.Security.Claims.ClaimsPrincipal viewing;
        await using (var scope = f.Harness.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ViewAsService>().StartAsync(f.NorthViewer.Id, Ct);
            viewing = scope.ServiceProvider.GetRequiredService<ViewAsState>().Principal!;
        }
        f.Harness.CurrentUser.Principal = viewing;

        var preview = await f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(f.Customers.Id, Ct));
        var tile = Chart("revenue", TileType.Bar, f.Orders.Id, ["region"], Revenue);
        var data = await LoadAsync(Board(null, tile), tile);

        Assert.Equal(AllCustomerColumns, asAdmin.Columns);
        Assert.Equal(5, asAdmin.Rows.Count);
        Assert.Equal(ViewerCustomerColumns, preview.Columns);
        Assert.Equal(["1|Ann|North|a***@example.com|Oslo", "3|Cy|North|c***@example.com|Bergen"], Sorted(preview.Rows));
        Assert.Equal(["North|3200"], Show(data.Rows));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<DataPermissionService>(s => s.SetAdminsSeeAllDataAsync(false, Ct)));
    }

    [Fact]
    public async Task Public_link()
    {
        // The owner's board, opened by a public link: the visit acts as the public account, a Viewer whose Region the
        // Admin set to South, so the Viewers' row rule and column rules apply to it like to any Viewer.
        f.AsAdmin();
        await f.With<PublicLinkService>(s => s.SetEnabledAsync(true, Ct));
        f.AsOwner();
        var id = await f.With<DashboardService, int>(s => s.CreateAsync($"Public {Guid.NewGuid():N}", cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.AddTileAsync(id, Chart("byRegion", TileType.Bar, f.Orders.Id, ["region"], Revenue), cancellationToken: Ct));
        await f.With<DashboardService, DashboardView>(s => s.AddTileAsync(id, Chart("people", TileType.Table, f.Customers.Id, ["name", "email"]), cancellationToken: Ct));
        var link = await f.With<PublicLinkService, NewPublicLink>(s => s.CreateAsync(id, 7, Ct));
        var visit = (await f.With<PublicLinkService, PublicVisit?>(s => s.OpenAsync(link.Token, countUse: true, cancellationToken: Ct)))!;
        f.AsAdmin();
        await f.With<DataPermissionService>(s => s.SetAttributesAsync(visit.Principal.UserId()!, new Dictionary<string, string> { ["Region"] = "South" }, Ct));

        f.Harness.CurrentUser.Principal = visit.Principal;
        var board = await f.With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));
        var revenue = await LoadAsync(board, board.Tiles[0]);
        var people = await LoadAsync(board, board.Tiles[1]);

        Assert.Equal(["South|160"], Show(revenue.Rows));
        Assert.Equal(["Bo|b***@example.com", "Ed|e***@example.com"], Sorted(people.Rows));
        Assert.False(board.CanEdit);
        Assert.False(board.CanExport);
    }

    [Fact]
    public async Task Cross_filter()
    {
        var regions = Chart("regions", TileType.Bar, f.Customers.Id, ["region"], CustomerCount);
        var categories = Chart("categories", TileType.Bar, f.Orders.Id, ["category"], Revenue);
        var board = Board(null, regions, categories);
        var state = DashboardState.Empty with { CrossFilter = CrossFilter.From(regions.Id, new TileDimension("region"), "North") };

        f.AsNorthViewer();
        var narrowed = await LoadAsync(board, categories, state);

        Assert.Equal(["Electronics|2000", "Books|700", "Toys|500"], Show(narrowed.Rows));
    }

    [Fact]
    public async Task Rfm()
    {
        var input = new RfmInput { ReferenceDate = new DateOnly(2024, 6, 15) };
        f.AsNorthAnalyst();
        var north = await f.With<RfmService, RfmView>(s => s.ComputeAsync(f.Orders.Id, input, RfmSettings.Default, Ct));
        var grid = new TileDefinition { Id = "rfm", Type = TileType.RfmGrid, SourceId = f.Orders.Id };
        f.AsNorthViewer();
        var viewerGrid = await LoadAsync(Board(null, grid), grid);
        f.AsOwner();
        var owner = await f.With<RfmService, RfmView>(s => s.ComputeAsync(f.Orders.Id, input, RfmSettings.Default, Ct));
        f.AsNorthViewer();
        var viewerGridAfter = await LoadAsync(Board(null, grid), grid);
        f.AsAdmin();
        var adminGrid = await LoadAsync(Board(null, grid), grid);

        Assert.Equal(2, north.Result!.Customers);
        Assert.Equal(3200, north.Result.TotalRevenue);
        Assert.Equal(5, owner.Result!.Customers);
        Assert.Equal(3460, owner.Result.TotalRevenue);
        // The saved grid counts the rows of whoever computed it; the Viewer's grid is computed again over North's rows.
        Assert.Equal(2, viewerGrid.Rows.Sum(r => (double)r[3]!));
        Assert.Equal(2, viewerGridAfter.Rows.Sum(r => (double)r[3]!));
        Assert.Equal(5, adminGrid.Rows.Sum(r => (double)r[3]!));

        // The saved scores as customer fields: computed over the owner's rows, so not offered to users with data rules.
        async Task<IReadOnlyList<string>> FieldsAsync() => (await f.With<PermissionPolicy, QueryDataset>(async p =>
            await p.DescribeAsync(await f.With<Authorizer, Dataset>(a => a.RequireReadableAsync(f.Customers.Id, Ct)), Ct))).Fields
            .Where(x => x.Source is not null).Select(x => x.Name).ToList();
        f.AsAdmin();
        Assert.NotEmpty(await FieldsAsync());
        f.AsNorthViewer();
        Assert.Empty(await FieldsAsync());
    }

    [Fact]
    public async Task Clustering_input()
    {
        f.AsNorthViewer();
        var viewerOptions = await f.With<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(f.Customers.Id, Ct));
        var orders = viewerOptions.Single(o => o.Feature.Measure == CustomerMeasure.OrderCount).Feature;
        var spent = viewerOptions.Single(o => o.Feature.Measure == CustomerMeasure.TotalAmount).Feature;
        var request = new ClusteringRequest { Name = "Input", DatasetId = f.Customers.Id, Features = [orders, spent] };
        var (keys, data, _) = await f.With<ClusteringFeatureReader, (IReadOnlyList<object> Keys, ClusteringData Data, ColumnType KeyType)>(s => s.LoadAsync(request, Ct));
        var hidden = request with { Features = [new ClusteringFeature("credit_limit", FeatureSource.Field, Field: "credit_limit")] };
        var refused = await Assert.ThrowsAsync<PortalException>(() =>
            f.With<ClusteringFeatureReader, (IReadOnlyList<object> Keys, ClusteringData Data, ColumnType KeyType)>(s => s.LoadAsync(hidden, Ct)));
        f.AsOwner();
        var ownerOptions = await f.With<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(f.Customers.Id, Ct));

        Assert.DoesNotContain(viewerOptions, o => o.Feature.Field is "credit_limit" or "phone");
        Assert.Contains(ownerOptions, o => o.Feature.Field == "credit_limit");
        Assert.Equal(["1", "3"], keys.Select(k => MarkValue.Text(k)!).Order());
        var byKey = keys.Select((k, i) => (Key: MarkValue.Text(k), Row: data.Rows[i])).ToDictionary(x => x.Key!, x => x.Row);
        Assert.Equal([2.0, 1200.0], byKey["1"]);
        Assert.Equal([1.0, 2000.0], byKey["3"]);
        Assert.Contains("credit_limit", refused.Message);
    }

    [Fact]
    public async Task Rule_builder_field_list_and_category_values()
    {
        f.AsNorthViewer();
        var options = await f.With<RuleBuilderService, RuleBuilderOptions>(s => s.OptionsAsync(f.Customers.Id, cancellationToken: Ct));
        var regions = await f.With<RuleBuilderService, IReadOnlyList<string>>(s => s.ValuesAsync(f.Customers.Id, "region", Ct));
        var categories = await f.With<RuleBuilderService, IReadOnlyList<string>>(s => s.ValuesAsync(f.Orders.Id, "category", Ct));
        var emails = await f.With<RuleBuilderService, IReadOnlyList<string>>(s => s.ValuesAsync(f.Customers.Id, "email", Ct));
        var phone = await Assert.ThrowsAsync<PortalException>(() => f.With<RuleBuilderService, IReadOnlyList<string>>(s => s.ValuesAsync(f.Customers.Id, "phone", Ct)));

        Assert.Equal(ViewerCustomerColumns, options.Fields.Where(x => x.Source is null).Select(x => x.Name));
        Assert.Equal(["North"], regions);
        Assert.Equal(["Books", "Electronics", "Toys"], categories.Order());
        Assert.Equal(["a***@example.com", "c***@example.com"], emails.Order());
        Assert.Contains("do not have access to the column \"phone\"", phone.Message);
    }

    [Fact]
    public async Task Hidden_column_in_a_rule_or_tile_is_refused()
    {
        var rule = new RuleGroup { Children = [new FieldCondition { Field = "phone", Operator = RuleOperator.IsNotEmpty }] };
        var tile = Chart("phones", TileType.Table, f.Customers.Id, ["name", "phone"]);
        f.AsNorthViewer();

        var members = await Assert.ThrowsAsync<PortalException>(() => f.With<SegmentService, MemberPage>(s => s.MembersAsync(f.Customers.Id, rule, cancellationToken: Ct)));
        var query = await Assert.ThrowsAsync<PortalException>(() => f.With<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec { DatasetId = f.Customers.Id, Filter = rule }, Ct)));
        var tileError = await Assert.ThrowsAsync<PortalException>(() => LoadAsync(Board(null, tile), tile));

        Assert.Contains("do not have access to the column \"phone\"", members.Message);
        Assert.Contains("do not have access to the column \"phone\"", query.Message);
        Assert.Contains("do not have access to the column \"phone\"", tileError.Message);
    }

    [Fact]
    public async Task Segment_stored_sizes_and_history()
    {
        f.AsOwner();
        var id = await f.With<SegmentService, int>(s => s.CreateAsync(new SegmentDraft($"Sized {Guid.NewGuid():N}", f.Customers.Id,
            new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "city", Operator = RuleOperator.IsNotEmpty }] } }), Ct));
        await f.With<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(id, Ct));
        await f.With<SharingService, bool>(async s => { await s.ShareAsync(SharedItem.Segment, id, null, Roles.Viewer, ShareLevel.Viewer, Ct); return true; });
        var sizeTile = new TileDefinition { Id = "size", Type = TileType.SegmentSize, SegmentId = id };
        f.AsAdmin();
        var adminTile = await LoadAsync(Board(null, sizeTile), sizeTile);

        f.AsNorthViewer();
        var (segment, rule, _) = await f.With<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(id, Ct));
        var listed = (await f.With<SegmentService, IReadOnlyList<SegmentRow>>(s => s.ListAsync(Ct))).Single(r => r.Id == id);
        var history = await f.With<SegmentService, IReadOnlyList<SegmentSnapshot>>(s => s.HistoryAsync(id, Ct));
        var viewerTile = await LoadAsync(Board(null, sizeTile), sizeTile);
        var live = await f.With<SegmentService, LiveCount>(s => s.CountAsync(f.Customers.Id, rule.Root, Ct));
        var changes = await f.With<SegmentService, (IReadOnlyList<string> Entered, IReadOnlyList<string> Left)>(s => s.ChangesAsync(id, 1, Ct));
        var overlap = await Assert.ThrowsAsync<PortalException>(() => f.With<SegmentService, SegmentOverlap>(s => s.CompareAsync([id, id + 1], Ct)));

        Assert.Equal(5.0, adminTile.Rows[^1][1]);
        Assert.Null(segment.Size);
        Assert.Null(listed.Size);
        Assert.Empty(history);
        // Today's size, counted live over the Viewer's rows, not the stored whole-base history.
        Assert.Equal(2.0, viewerTile.Rows.Single()[1]);
        Assert.Equal(SegmentService.RestrictedCountsMessage, viewerTile.Notice);
        Assert.Equal(2, live.Matching);
        Assert.Empty(changes.Entered);
        Assert.Empty(changes.Left);
        Assert.Equal(SegmentService.RestrictedCountsMessage, overlap.Message);
    }
}
