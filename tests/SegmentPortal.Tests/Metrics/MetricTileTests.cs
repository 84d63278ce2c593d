using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Metrics;

/// <summary>
/// Dashboard tiles showing a metric, over a real SQLite metadata file and a real DuckDB warehouse: the orders of
/// <see cref="MetricServiceTests"/> (today is 2024-06-15; one order is dated after it), shared with Viewers, who see only
/// the North region's rows. June to date is 342 (10 + 7 + 300 + 25), of which North 35 (10 + 25).
/// </summary>
public sealed class MetricTileTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness _harness = null!;
    private Dataset _orders = null!;
    private AppUser _analyst = null!;
    private AppUser _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        var orders = await MetricOrders.CreateAsync(Ct);
        (_harness, _orders, _analyst, _viewer) = orders;
        await orders.ViewersSeeTheirRegionAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private void AsAnalyst() => ActAs(_analyst, Roles.Analyst);

    private void ActAs(AppUser user, params string[] roles) => _harness.CurrentUser.Principal = CoreHarness.Principal(user.Id, user.Email!, roles);

    private static string Rule(params RuleNode[] conditions) => new RuleTree { Root = new RuleGroup { Children = [.. conditions] } }.ToJson();

    private static FieldCondition RegionIs(string region) => new() { Field = "region", Operator = RuleOperator.Equals, Value = region };

    private MetricDefinition Revenue() => new()
    {
        Name = "Revenue",
        DatasetId = _orders.Id,
        Measure = new MetricMeasure(MetricMeasureKind.Sum, "amount"),
        TimeColumn = "order_date",
        Grain = DateBucket.Month,
        Format = MetricFormat.Currency,
        Unit = "€",
        Direction = MetricDirection.HigherIsBetter,
        Target = 300,
    };

    private Task<int> CreateMetricAsync(MetricDefinition definition) => _harness.WithAsync<MetricService, int>(m => m.CreateAsync(definition, Ct));

    /// <summary>A board holding <paramref name="tiles"/>, shared with Viewers when <paramref name="shareWithViewers"/>.</summary>
    private async Task<int> BoardAsync(string name, bool shareWithViewers, params TileDefinition[] tiles)
    {
        var id = await _harness.WithAsync<DashboardService, int>(s => s.CreateAsync(name, cancellationToken: Ct));
        foreach (var tile in tiles)
        {
            await _harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(id, tile, cancellationToken: Ct));
        }
        if (shareWithViewers)
        {
            await _harness.WithAsync<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, id, null, Roles.Viewer, ShareLevel.Viewer, Ct));
        }
        return id;
    }

    private async Task<TileData> LoadAsync(int board, string tileId)
    {
        var view = await _harness.WithAsync<DashboardService, DashboardView>(s => s.GetAsync(board, Ct));
        return await _harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(view, view.Tile(tileId), DashboardState.Empty, Ct));
    }

    private static TileDefinition Kpi(int metric, string id = "kpi") => new() { Id = id, Type = TileType.Kpi, Title = "Revenue this month", MetricId = metric };

    [Fact]
    public async Task A_KPI_tile_of_a_metric_reads_it_as_the_metric_does_and_saves_only_the_reference()
    {
        var metric = await CreateMetricAsync(Revenue());
        var board = await BoardAsync("Sales", false, Kpi(metric) with
        {
            // What the metric decides is not kept with the tile, whatever the editor sent.
            DatasetId = 999, Measures = [new TileMeasure(TileMeasureKind.Count)], FilterJson = Rule(RegionIs("South")), DateColumn = "order_date",
        });

        var saved = (await _harness.WithAsync<DashboardService, DashboardView>(s => s.GetAsync(board, Ct))).Tile("kpi");
        var data = await LoadAsync(board, "kpi");
        var values = await _harness.WithAsync<MetricService, MetricValues>(m => m.ValuesAsync(metric, cancellationToken: Ct));

        Assert.Equal((metric, (int?)null, 0, (string?)null, (string?)null), (saved.MetricId!.Value, saved.DatasetId, saved.Measures.Count, saved.FilterJson, saved.DateColumn));
        // June to date (the order of June 20 is after today, as on the metric's page), against May (no orders).
        Assert.Equal(342, data.Kpi!.Value);
        Assert.Equal(values.Current!.Value, data.Kpi.Value);
        Assert.Equal(0, data.Kpi.Previous);
        Assert.Equal("June 2024", data.Kpi.Period);
        // June's data runs through the 14th: compared, as on the metric's page, with 1–14 May (nothing either).
        Assert.Equal((0.0, "Month to date vs same days of May"), (data.Kpi.SameDays!.Value, data.Kpi.SameDaysLabel));
        Assert.Equal(values.SameDays!.Value, data.Kpi.SameDays);
        Assert.Equal(["Revenue"], data.Measures);
        Assert.Equal(100, data.Kpi.SparkValues[^4]); // March
        Assert.Equal(1049, data.Kpi.SparkValues[^3]); // April: 50 + 999
        // Written the metric's way, with its status against the target.
        Assert.Equal(new TileMetric(metric, "Revenue", MetricFormat.Currency, "€", 0, DateBucket.Month, MetricDirection.HigherIsBetter, 300, null, null), data.Metric);
        Assert.Equal("€342", data.Metric!.Write(data.Kpi.Value).Replace("\u00a0", " ", StringComparison.Ordinal));
        Assert.Equal(MetricStatus.OnTarget, data.Metric.StatusOf(data.Kpi.Value));
    }

    [Fact]
    public async Task A_change_to_the_metric_changes_every_tile_showing_it()
    {
        var metric = await CreateMetricAsync(Revenue());
        var board = await BoardAsync("Sales", false, Kpi(metric), new TileDefinition { Id = "trend", Type = TileType.Line, Title = "By month", MetricId = metric });
        Assert.Equal(342, (await LoadAsync(board, "kpi")).Kpi!.Value);

        await _harness.WithAsync<MetricService>(m => m.UpdateAsync(metric, Revenue() with
        {
            RuleJson = Rule(new FieldCondition { Field = "channel", Operator = RuleOperator.Equals, Value = "web" }),
        }, Ct));
        var kpi = await LoadAsync(board, "kpi");
        var trend = await LoadAsync(board, "trend");

        Assert.Equal(310, kpi.Kpi!.Value); // web orders of June to date: 10 + 300
        // The line runs over the metric's months: March 100, April 999 (web only), June 310.
        Assert.Equal(["2024-03-01|100", "2024-04-01|999", "2024-06-01|310"], trend.Rows.Select(r => $"{MarkValue.Text(r[0])}|{r[1]}"));
        Assert.Equal([new TileDimension("order_date", DateBucket.Month)], trend.Grouping);

        // A new grain changes the KPI's period too.
        await _harness.WithAsync<MetricService>(m => m.UpdateAsync(metric, Revenue() with { Grain = DateBucket.Quarter, Measure = new MetricMeasure(MetricMeasureKind.Count) }, Ct));
        var quarterly = await LoadAsync(board, "kpi");
        Assert.Equal((6.0, 1.0, "Q2 2024"), (quarterly.Kpi!.Value!.Value, quarterly.Kpi.Previous!.Value, quarterly.Kpi.Period)); // orders 102–107; 101
        // Q2 runs through 14 June, day 75 of the quarter: Q1 up to 15 March holds order 101.
        Assert.Equal((1.0, "Quarter to date vs same days of Q1 2024", 5.0), (quarterly.Kpi.SameDays!.Value, quarterly.Kpi.SameDaysLabel, quarterly.Kpi.Change!.Value));
    }

    [Fact]
    public async Task Two_users_see_different_values_of_the_same_metric_tile_under_their_row_rules()
    {
        var metric = await CreateMetricAsync(Revenue());
        var board = await BoardAsync("Sales", true, Kpi(metric),
            new TileDefinition { Id = "regions", Type = TileType.Bar, Title = "By region", MetricId = metric, Dimensions = [new TileDimension("region")] });

        var analystKpi = await LoadAsync(board, "kpi");
        var analystRegions = await LoadAsync(board, "regions");
        ActAs(_viewer, Roles.Viewer);
        var viewerKpi = await LoadAsync(board, "kpi");
        var viewerRegions = await LoadAsync(board, "regions");

        Assert.Equal(342, analystKpi.Kpi!.Value);
        Assert.Equal(35, viewerKpi.Kpi!.Value); // North: 10 + 25
        Assert.Equal(["North|185", "South|1306"], analystRegions.Rows.Select(r => $"{r[0]}|{r[1]}").Order());
        Assert.Equal(["North|185"], viewerRegions.Rows.Select(r => $"{r[0]}|{r[1]}"));
    }

    [Fact]
    public async Task A_tile_whose_metric_was_deleted_or_is_not_visible_says_so()
    {
        var metric = await CreateMetricAsync(Revenue());
        var board = await BoardAsync("Sales", false, Kpi(metric));
        // An Analyst the board is shared with, who may not read the orders (they are shared with Viewers only).
        var other = await _harness.CreateUserAsync("other@example.com", "Correct-horse-9", Roles.Analyst);
        await _harness.WithAsync<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, board, other.Id, null, ShareLevel.Viewer, Ct));

        ActAs(other, Roles.Analyst);
        var hidden = await LoadAsync(board, "kpi");
        AsAnalyst();
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.Metrics.Remove(await db.Metrics.FindAsync([metric], Ct) ?? throw new InvalidOperationException());
            await db.SaveChangesAsync(Ct);
        }
        var deleted = await LoadAsync(board, "kpi");

        foreach (var data in new[] { hidden, deleted })
        {
            Assert.Equal("The metric this tile shows was deleted, or you may not see it.", data.Notice);
            Assert.Empty(data.Rows);
            Assert.Null(data.Kpi);
            Assert.Null(data.Metric);
        }
        // Saving a tile needs a metric the saver may read.
        var refused = await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(board, Kpi(metric, "again"), cancellationToken: Ct)));
        Assert.Contains("does not exist or you do not have access", refused.Message);
    }

    [Fact]
    public async Task The_metric_lists_the_tiles_using_it_and_cannot_be_deleted_while_it_is_used()
    {
        var metric = await CreateMetricAsync(Revenue());
        var unused = await CreateMetricAsync(Revenue() with { Name = "Unused" });
        var shared = await BoardAsync("Sales", true, Kpi(metric));
        var privateBoard = await BoardAsync("Private", false, new TileDefinition { Id = "line", Type = TileType.Area, Title = "Trend", MetricId = metric });

        var uses = await _harness.WithAsync<MetricService, MetricUses>(m => m.UsesAsync(metric, Ct));
        var refused = await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<MetricService>(m => m.DeleteAsync(metric, Ct)));
        ActAs(_viewer, Roles.Viewer);
        var viewerUses = await _harness.WithAsync<MetricService, MetricUses>(m => m.UsesAsync(metric, Ct));
        AsAnalyst();
        await _harness.WithAsync<DashboardService, DashboardView>(s => s.RemoveTileAsync(shared, "kpi", Ct));
        await _harness.WithAsync<DashboardService, DashboardView>(s => s.RemoveTileAsync(privateBoard, "line", Ct));
        await _harness.WithAsync<MetricService>(m => m.DeleteAsync(metric, Ct));
        await _harness.WithAsync<MetricService>(m => m.DeleteAsync(unused, Ct));

        Assert.Equal(
            [new MetricUse(MetricUseKind.Tile, privateBoard, "Private", "line", "Trend", true), new MetricUse(MetricUseKind.Tile, shared, "Sales", "kpi", "Revenue this month", true)],
            uses.Visible);
        Assert.Equal(0, uses.Hidden);
        Assert.Equal("Revenue is used by “Private › Trend”, “Sales › Revenue this month”; take it off them first.", refused.Message);
        // The Viewer may open only the shared board: the other use is counted, not named.
        Assert.Equal([new MetricUse(MetricUseKind.Tile, shared, "Sales", "kpi", "Revenue this month", true)], viewerUses.Visible);
        Assert.Equal(1, viewerUses.Hidden);
        Assert.Empty(await _harness.WithAsync<MetricService, IReadOnlyList<MetricSummary>>(m => m.ListAsync(Ct)));
    }

    [Fact]
    public async Task Only_KPI_bar_line_and_area_tiles_show_a_metric_and_a_chart_of_one_groups_by_one_column_at_most()
    {
        var metric = await CreateMetricAsync(Revenue());
        var board = await BoardAsync("Sales", false);

        var pie = await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(board,
            new TileDefinition { Id = "pie", Type = TileType.Pie, MetricId = metric, Dimensions = [new TileDimension("region")] }, cancellationToken: Ct)));
        var twoGroupings = await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(board,
            new TileDefinition { Id = "bar", Type = TileType.Bar, MetricId = metric, Dimensions = [new TileDimension("region"), new TileDimension("channel")] }, cancellationToken: Ct)));
        var missingColumn = await Assert.ThrowsAsync<PortalException>(() => _harness.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(board,
            new TileDefinition { Id = "bar", Type = TileType.Bar, MetricId = metric, Dimensions = [new TileDimension("country")] }, cancellationToken: Ct)));

        Assert.Contains("cannot show a metric", pie.Message);
        Assert.Contains("grouped by one column", twoGroupings.Message);
        Assert.Contains("no field \"country\"", missingColumn.Message);
        Assert.True(TileKinds.Of(TileType.Kpi).Has(TileTraits.Metric));
        Assert.Equal([TileType.Kpi, TileType.Bar, TileType.Line, TileType.Area], TileKinds.All.Where(k => k.Has(TileTraits.Metric)).Select(k => k.Type));
    }

    [Fact]
    public async Task A_board_reads_the_datasets_of_its_metrics_for_sharing_and_public_links()
    {
        var other = await _harness.ImportTextAsync("other.csv", "order_id,order_date,amount\n1,2024-06-01,5\n");
        var metric = await CreateMetricAsync(Revenue() with { DatasetId = other.Id });
        var board = await BoardAsync("Sales", false, Kpi(metric));

        var datasets = await _harness.WithAsync<IDashboardDatasets, IReadOnlyList<int>>(d => d.DatasetsOfAsync(board, Ct));

        Assert.Equal([other.Id], datasets);
    }

    [Fact]
    public void A_ratio_metric_becomes_a_tile_ratio_whose_parts_keep_their_own_rules()
    {
        var north = Rule(RegionIs("North"));
        var measure = new MetricMeasure(MetricMeasureKind.Ratio,
            Numerator: new MetricMeasure(MetricMeasureKind.Sum, "amount", FilterJson: north),
            Denominator: new MetricMeasure(MetricMeasureKind.Customers, "ignored"));

        var tile = MetricTiles.Measure(measure, "North share");
        var query = TileMeasures.ToQuery(tile, "m0");

        Assert.Equal((TileMeasureKind.Ratio, "North share"), (tile.Kind, tile.Label));
        Assert.Equal((TileMeasureKind.Sum, "amount", north), (tile.Numerator!.Kind, tile.Numerator.Column, tile.Numerator.FilterJson));
        Assert.Equal((TileMeasureKind.Customers, (string?)null, (string?)null), (tile.Denominator!.Kind, tile.Denominator.Column, tile.Denominator.FilterJson));
        Assert.Equal(MetricMeasures.ToQuery(measure, "m0").Select(m => (m.Kind, m.Alias, m.Column, m.Where is null)), query.Select(m => (m.Kind, m.Alias, m.Column, m.Where is null)));
        Assert.Equal(RuleTree.FromJson(north).ToJson(), new RuleTree { Root = (RuleGroup)query[0].Where! }.ToJson());
    }
}
