using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>Saving and changing dashboards over the real metadata store, with tiles checked against their datasets.</summary>
public sealed class DashboardServiceTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<T> Dashboards<T>(Func<DashboardService, Task<T>> action) => fixture.Shop.Harness.WithAsync(action);

    private Task Dashboards(Func<DashboardService, Task> action) => fixture.Shop.Harness.WithAsync(action);

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];

    private TileDefinition ByRegion(string id = "") => new()
    {
        Id = id,
        Type = TileType.Bar,
        Title = "Customers by region",
        DatasetId = fixture.Shop.CustomerData.Id,
        Dimensions = [new TileDimension("region", Hierarchy: ["region", "city"])],
        Measures = [new TileMeasure(TileMeasureKind.Customers)],
    };

    private TileDefinition Revenue() => new()
    {
        Id = "revenue",
        Type = TileType.Kpi,
        Title = "Revenue",
        DatasetId = fixture.Shop.OrderData.Id,
        DateColumn = "order_date",
        Measures = [new TileMeasure(TileMeasureKind.Ratio, Label: "Revenue per customer", Numerator: new TileMeasure(TileMeasureKind.Sum, "amount"), Denominator: new TileMeasure(TileMeasureKind.Customers))],
    };

    [Fact]
    public async Task A_dashboard_is_created_listed_renamed_and_deleted_by_its_owner()
    {
        var name = Unique("Sales");
        var id = await Dashboards(s => s.CreateAsync(name, "Weekly numbers", Ct));

        var row = Assert.Single(await Dashboards(s => s.ListAsync(Ct)), r => r.Id == id);
        Assert.Equal("Weekly numbers", row.Description);
        Assert.True(row.CanEdit);
        var renamed = Unique("Renamed");
        var view = await Dashboards(s => s.DescribeAsync(id, $"  {renamed} ", null, Ct));
        Assert.Equal(renamed, view.Name);
        Assert.Null(view.Description);
        Assert.Contains("You already have a dashboard called", (await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.CreateAsync(renamed, null, Ct)))).Message);

        await Dashboards(s => s.DeleteAsync(id, Ct));
        Assert.DoesNotContain(await Dashboards(s => s.ListAsync(Ct)), r => r.Id == id);
        await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.GetAsync(id, Ct)));
    }

    [Fact]
    public async Task Tiles_are_saved_whole_and_placed_in_the_first_free_spot()
    {
        var id = await Dashboards(s => s.CreateAsync(Unique("Tiles"), null, Ct));

        await Dashboards(s => s.AddTileAsync(id, Revenue(), cancellationToken: Ct));
        var view = await Dashboards(s => s.AddTileAsync(id, ByRegion(), cancellationToken: Ct));

        var reopened = await Dashboards(s => s.GetAsync(id, Ct));
        Assert.Equal(2, reopened.Tiles.Count);
        Assert.False(string.IsNullOrEmpty(reopened.Tiles[1].Id));
        Assert.Equal(DashboardJson.Write(view.Tiles), DashboardJson.Write(reopened.Tiles));
        Assert.Equal("Revenue per customer", reopened.Tiles[0].Measures[0].Label);
        Assert.Equal(["region", "city"], reopened.Tiles[1].Dimensions[0].Hierarchy);
        Assert.Equal([new TileLayout("revenue", 0, 0, 3, 2), new TileLayout(reopened.Tiles[1].Id, 3, 0, 6, 4)], reopened.Layout);

        var changed = await Dashboards(s => s.UpdateTileAsync(id, reopened.Tiles[1] with { Title = "By region and city" }, Ct));
        Assert.Equal("By region and city", changed.Tiles[1].Title);
        Assert.Equal(reopened.Layout, changed.Layout);
        var removed = await Dashboards(s => s.RemoveTileAsync(id, "revenue", Ct));
        Assert.Equal([reopened.Tiles[1].Id], removed.Tiles.Select(t => t.Id));
        Assert.Equal([reopened.Tiles[1].Id], removed.Layout.Select(l => l.TileId));
    }

    public static TheoryData<string, string> InvalidTiles => new()
    {
        { "unknown field", "has no field \"nope\"" },
        { "sum of text", "is not a number" },
        { "top 0", "Top N must be between 1 and 100" },
        { "top 101", "Top N must be between 1 and 100" },
        { "one segment", "Compare two to five different segments" },
        { "six segments", "Compare two to five different segments" },
        { "histogram of text", "needs a number column" },
        { "period of text", "is not a date" },
        { "pie of two measures", "one dimension and one measure" },
        { "ratio without denominator", "needs a numerator and a denominator" },
        { "kpi date not a date", "is not a date" },
        { "unreadable dataset", "does not exist or you do not have access" },
        { "incomplete filter", "The tile's filter is not complete" },
        { "cohort on customers", "transactions dataset" },
        { "text without text", "A text tile needs text" },
    };

    [Theory]
    [MemberData(nameof(InvalidTiles))]
    public async Task Invalid_tiles_are_refused_with_a_clear_message(string problem, string message)
    {
        var id = await Dashboards(s => s.CreateAsync(Unique("Invalid"), null, Ct));
        var tile = ByRegion("t") with { Dimensions = [new TileDimension("region")] };
        tile = problem switch
        {
            "unknown field" => tile with { Dimensions = [new TileDimension("nope")] },
            "sum of text" => tile with { Measures = [new TileMeasure(TileMeasureKind.Sum, "city")] },
            "top 0" => tile with { TopN = 0 },
            "top 101" => tile with { TopN = 101 },
            "one segment" => tile with { Type = TileType.CompareSegments, SegmentIds = [1] },
            "six segments" => tile with { Type = TileType.CompareSegments, SegmentIds = [1, 2, 3, 4, 5, 6] },
            "histogram of text" => tile with { Type = TileType.Histogram, Measures = [] },
            "period of text" => tile with { Dimensions = [new TileDimension("region", DateBucket.Month)] },
            "pie of two measures" => tile with { Type = TileType.Pie, Measures = [.. tile.Measures, new TileMeasure(TileMeasureKind.Count)] },
            "ratio without denominator" => tile with { Measures = [new TileMeasure(TileMeasureKind.Ratio, Numerator: new TileMeasure(TileMeasureKind.Count))] },
            "kpi date not a date" => tile with { Type = TileType.Kpi, Dimensions = [], DateColumn = "region" },
            "unreadable dataset" => tile with { DatasetId = 99_999 },
            "incomplete filter" => tile with { FilterJson = new RuleTree { Root = All(Field("birth_year", RuleOperator.Greater)) }.ToJson() },
            "cohort on customers" => tile with { Type = TileType.Cohort, Dimensions = [], Measures = [] },
            "text without text" => new TileDefinition { Id = "t", Type = TileType.Text, Markdown = " " },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var error = await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.AddTileAsync(id, tile, cancellationToken: Ct)));

        Assert.Contains(message, error.Message);
        Assert.Empty((await Dashboards(s => s.GetAsync(id, Ct))).Tiles);
    }

    [Fact]
    public async Task A_layout_is_checked_and_the_last_change_can_be_undone_once()
    {
        var id = await Dashboards(s => s.CreateAsync(Unique("Layout"), null, Ct));
        await Dashboards(s => s.AddTileAsync(id, Revenue(), cancellationToken: Ct));
        var view = await Dashboards(s => s.AddTileAsync(id, ByRegion("regions"), cancellationToken: Ct));
        var original = view.Layout;
        TileLayout[] moved = [new TileLayout("revenue", 0, 4, 12, 2), new TileLayout("regions", 0, 0, 12, 4)];

        Assert.Contains("overlap", (await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.SaveLayoutAsync(id,
            [new TileLayout("revenue", 0, 0, 6, 2), new TileLayout("regions", 4, 1, 6, 4)], Ct)))).Message);
        Assert.Contains("grid", (await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.SaveLayoutAsync(id,
            [new TileLayout("revenue", 8, 0, 6, 2), new TileLayout("regions", 0, 4, 6, 4)], Ct)))).Message);
        Assert.False((await Dashboards(s => s.GetAsync(id, Ct))).CanUndoLayout);

        var saved = await Dashboards(s => s.SaveLayoutAsync(id, moved, Ct));
        Assert.Equal(moved, saved.Layout);
        Assert.True(saved.CanUndoLayout);
        var undone = await Dashboards(s => s.UndoLayoutAsync(id, Ct));
        Assert.Equal(original, undone.Layout);
        Assert.False(undone.CanUndoLayout);
        await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.UndoLayoutAsync(id, Ct)));
    }

    [Fact]
    public async Task Filters_and_auto_refresh_are_saved()
    {
        var id = await Dashboards(s => s.CreateAsync(Unique("Filters"), null, Ct));
        DashboardFilter[] filters =
        [
            new DateRangeFilter("order_date", Preset: DatePreset.Last30Days) { Label = "Ordered" },
            new CategoryFilter("region", ["North", "South"]),
            new NumericRangeFilter("amount", 10, 1000),
        ];

        await Dashboards(s => s.SetFiltersAsync(id, filters, Ct));
        await Dashboards(s => s.SetAutoRefreshAsync(id, 15, Ct));

        var view = await Dashboards(s => s.GetAsync(id, Ct));
        Assert.Equal(DashboardJson.Write(filters), DashboardJson.Write(view.Filters));
        Assert.IsType<DateRangeFilter>(view.Filters[0]);
        Assert.Equal("Ordered", view.Filters[0].Label);
        Assert.Equal(15, view.AutoRefreshMinutes);
        await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.SetAutoRefreshAsync(id, 7, Ct)));
        await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.SetFiltersAsync(id, [new NumericRangeFilter("amount", 5, 1)], Ct)));
        await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.SetFiltersAsync(id,
            [new DateRangeFilter("order_date", new DateOnly(2024, 2, 1), new DateOnly(2024, 1, 1))], Ct)));
    }

    [Fact]
    public async Task A_viewer_cannot_change_a_dashboard_and_another_analyst_cannot_see_it()
    {
        var id = await Dashboards(s => s.CreateAsync(Unique("Private"), null, Ct));
        var harness = fixture.Shop.Harness;
        var analyst = harness.CurrentUser.Principal;
        try
        {
            await harness.SignInAsNewUserAsync($"viewer-{Guid.NewGuid():N}@example.com", Roles.Viewer);
            await Assert.ThrowsAsync<PermissionDeniedException>(() => Dashboards(s => s.CreateAsync(Unique("Mine"), null, Ct)));
            await Assert.ThrowsAsync<PermissionDeniedException>(() => Dashboards(s => s.DescribeAsync(id, "Taken over", null, Ct)));
            await Assert.ThrowsAsync<PermissionDeniedException>(() => Dashboards(s => s.SaveLayoutAsync(id, [], Ct)));
            await Assert.ThrowsAsync<PermissionDeniedException>(() => Dashboards(s => s.AddTileAsync(id, ByRegion(), cancellationToken: Ct)));
            await Assert.ThrowsAsync<PermissionDeniedException>(() => Dashboards(s => s.DeleteAsync(id, Ct)));
            Assert.DoesNotContain(await Dashboards(s => s.ListAsync(Ct)), r => r.Id == id);

            await harness.SignInAsNewUserAsync($"other-{Guid.NewGuid():N}@example.com", Roles.Analyst);
            Assert.DoesNotContain(await Dashboards(s => s.ListAsync(Ct)), r => r.Id == id);
            await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.GetAsync(id, Ct)));
            await Assert.ThrowsAsync<PortalException>(() => Dashboards(s => s.DeleteAsync(id, Ct)));

            await harness.SignInAsNewUserAsync($"admin-{Guid.NewGuid():N}@example.com", Roles.Admin);
            Assert.True((await Dashboards(s => s.GetAsync(id, Ct))).CanEdit);
        }
        finally
        {
            harness.CurrentUser.Principal = analyst;
        }
        Assert.NotNull(await Dashboards(s => s.GetAsync(id, Ct)));
    }
}
