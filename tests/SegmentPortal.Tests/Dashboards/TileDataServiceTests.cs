using System.Globalization;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using static SegmentPortal.Tests.Dashboards.DashboardFixture;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>
/// Every tile type through the query layer on real warehouse data: the shop's customers (North 1 and 4, South 2,
/// East 3, West 5, none 6; VIPs 1, 3, 6) and orders (Toys 500, 50, 0; Books 700, 100; Garden 30; Electronics 2000),
/// today 2024-06-15, and the visit log's hand-worked cohorts.
/// </summary>
public sealed class TileDataServiceTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private int Customers => fixture.Shop.CustomerData.Id;

    private int Orders => fixture.Shop.OrderData.Id;

    private Task<TileData> LoadAsync(TileDefinition tile, DashboardState? state = null, IReadOnlyList<DashboardFilter>? filters = null) =>
        fixture.Shop.Harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(Board(filters, tile), tile, state ?? DashboardState.Empty, Ct));

    private Task<UnderlyingRows> UnderlyingAsync(TileDefinition tile, params object?[] mark) =>
        fixture.Shop.Harness.WithAsync<TileDataService, UnderlyingRows>(s => s.UnderlyingAsync(Board(null, tile), tile, DashboardState.Empty, mark, Ct));

    /// <summary>Rows as text: values joined by |, empty as ∅, numbers rounded to 4 places.</summary>
    private static List<string> Show(IEnumerable<object?[]> rows) =>
        rows.Select(r => string.Join("|", r.Select(v => v switch
        {
            null => "∅",
            double d => Math.Round(d, 4).ToString(CultureInfo.InvariantCulture),
            _ => MarkValue.Text(v),
        }))).ToList();

    private TileDefinition Chart(TileType type, int dataset, string[] dimensions, params TileMeasure[] measures) => new()
    {
        Id = Guid.NewGuid().ToString("N")[..8],
        Type = type,
        DatasetId = dataset,
        Dimensions = dimensions.Select(d => new TileDimension(d)).ToList(),
        Measures = measures,
    };

    private static readonly TileMeasure CustomerCount = new(TileMeasureKind.Customers);
    private static readonly TileMeasure OrderCount = new(TileMeasureKind.Count);
    private static readonly TileMeasure Revenue = new(TileMeasureKind.Sum, "amount");
    private static readonly TileMeasure AverageOrder = new(TileMeasureKind.Average, "amount");

    [Fact]
    public async Task A_bar_chart_groups_categories_largest_first_with_empty_last()
    {
        var data = await LoadAsync(Chart(TileType.Bar, Customers, ["region"], CustomerCount));

        Assert.Equal(["North|2", "East|1", "South|1", "West|1", "∅|1"], Show(data.Rows));
        Assert.Equal(["region"], data.Dimensions);
        Assert.Equal(["Customers"], data.Measures);
        Assert.False(data.Truncated);
        Assert.False(data.CanDrill);
    }

    [Theory]
    [InlineData(TileType.Line)]
    [InlineData(TileType.Area)]
    public async Task Lines_and_areas_follow_periods_in_order(TileType type)
    {
        var tile = Chart(type, Orders, [], Revenue) with { Dimensions = [new TileDimension("order_date", DateBucket.Quarter)] };

        var data = await LoadAsync(tile);

        Assert.Equal(["2023-01-01|100", "2023-10-01|30", "2024-01-01|50", "2024-04-01|3200"], Show(data.Rows));
        Assert.True(data.CanDrill);
    }

    [Theory]
    [InlineData(TileType.Pie)]
    [InlineData(TileType.Funnel)]
    [InlineData(TileType.Treemap)]
    public async Task Pies_funnels_and_treemaps_take_one_measure_per_category(TileType type)
    {
        var data = await LoadAsync(Chart(type, Orders, ["category"], Revenue));

        Assert.Equal(["Electronics|2000", "Books|800", "Toys|550", "Garden|30"], Show(data.Rows));
    }

    [Fact]
    public async Task A_heatmap_crosses_two_dimensions()
    {
        var data = await LoadAsync(Chart(TileType.Heatmap, Customers, ["region", "vip"], CustomerCount) with { Sort = new TileSort(ByMeasure: false, Descending: false) });

        Assert.Equal(["East|true|1", "North|true|1", "North|∅|1", "South|false|1", "West|false|1", "∅|true|1"], Show(data.Rows));
    }

    [Fact]
    public async Task A_scatter_has_two_measures_per_category()
    {
        var data = await LoadAsync(Chart(TileType.Scatter, Orders, ["category"], OrderCount, AverageOrder));

        Assert.Equal(["Toys|3|183.3333", "Books|2|400", "Electronics|1|2000", "Garden|1|30"], Show(data.Rows));
        Assert.Equal(["Rows", "Average amount"], data.Measures);
    }

    [Fact]
    public async Task Top_n_keeps_the_largest_and_sums_the_rest_into_other()
    {
        var data = await LoadAsync(Chart(TileType.Bar, Orders, ["category"], OrderCount, Revenue) with { TopN = 2 });

        Assert.Equal(["Toys|3|550", "Books|2|800", "Other|2|2030"], Show(data.Rows));
        Assert.True(data.HasOther);
    }

    [Fact]
    public async Task Other_is_exact_for_an_average_it_is_not_the_total_minus_the_top()
    {
        var data = await LoadAsync(Chart(TileType.Bar, Orders, ["category"], AverageOrder) with { TopN = 2 });

        // Electronics 2000 and Books 400 are the top; the rest is Toys and Garden: (500 + 50 + 0 + 30) / 4.
        Assert.Equal(["Electronics|2000", "Books|400", "Other|145"], Show(data.Rows));
    }

    [Fact]
    public async Task Top_n_without_other_and_with_fewer_categories_adds_nothing()
    {
        Assert.Equal(["Toys|3", "Books|2"], Show((await LoadAsync(Chart(TileType.Bar, Orders, ["category"], OrderCount) with { TopN = 2, OtherBucket = false })).Rows));
        var all = await LoadAsync(Chart(TileType.Bar, Orders, ["category"], OrderCount) with { TopN = 10 });
        Assert.Equal(4, all.Rows.Count);
        Assert.False(all.HasOther);
    }

    [Fact]
    public async Task Top_n_over_two_dimensions_splits_other_by_the_second()
    {
        var data = await LoadAsync(Chart(TileType.Bar, Customers, ["region", "vip"], CustomerCount) with { TopN = 1 });

        Assert.Equal(["North|true|1", "North|∅|1", "Other|false|2", "Other|true|2"], Show(data.Rows));
    }

    [Fact]
    public async Task Top_n_by_a_ratio_ranks_after_dividing()
    {
        var perOrder = new TileMeasure(TileMeasureKind.Ratio, Numerator: Revenue, Denominator: OrderCount);

        var data = await LoadAsync(Chart(TileType.Bar, Orders, ["category"], perOrder) with { TopN = 2 });

        Assert.Equal(["Electronics|2000", "Books|400", "Other|145"], Show(data.Rows));
    }

    [Fact]
    public async Task A_ratio_with_a_zero_denominator_is_empty()
    {
        var perRevenue = new TileMeasure(TileMeasureKind.Ratio, Numerator: OrderCount, Denominator: Revenue);
        var onlyFree = new RuleTree { Root = All(Field("order_id", RuleOperator.Equals, "107")) }.ToJson();

        var data = await LoadAsync(Chart(TileType.Bar, Orders, ["category"], OrderCount, perRevenue) with { FilterJson = onlyFree });

        Assert.Equal(["Toys|1|∅"], Show(data.Rows));
    }

    [Fact]
    public async Task A_kpi_compares_the_current_period_with_the_previous_one_and_draws_twelve()
    {
        var tile = Chart(TileType.Kpi, Orders, [], Revenue) with { DateColumn = "order_date", Period = DateBucket.Month };

        var kpi = (await LoadAsync(tile)).Kpi!;

        Assert.Equal(2500, kpi.Value);
        Assert.Equal(700, kpi.Previous);
        Assert.Equal((2500 - 700) / 700.0, kpi.Change!.Value, 10);
        Assert.Equal("June 2024", kpi.Period);
        Assert.Equal("July 2023", kpi.SparkLabels[0]);
        Assert.Equal([0, 0, 0, 0, 30, 0, 0, 50, 0, 0, 700, 2500], kpi.SparkValues.Select(v => v!.Value));
    }

    [Fact]
    public async Task A_kpi_without_a_date_is_one_value_and_its_average_is_empty_where_no_orders_were()
    {
        Assert.Equal(3380, (await LoadAsync(Chart(TileType.Kpi, Orders, [], Revenue))).Kpi!.Value);
        var average = (await LoadAsync(Chart(TileType.Kpi, Orders, [], AverageOrder) with { DateColumn = "order_date" })).Kpi!;
        Assert.Null(average.SparkValues[0]);
        Assert.Equal(2500 / 3.0, average.Value!.Value, 10);
    }

    [Fact]
    public async Task A_histogram_bins_a_number_column_by_a_round_width_or_the_tiles()
    {
        var tile = Chart(TileType.Histogram, Customers, ["birth_year"]);

        var chosen = await LoadAsync(tile);
        var tens = await LoadAsync(tile with { Dimensions = [new TileDimension("birth_year", BinWidth: 10)] });

        Assert.Equal(2, chosen.BinWidth);
        Assert.Equal(["1974|1", "1980|1", "1988|1", "1992|1", "2000|1"], Show(chosen.Rows));
        Assert.Equal(2, chosen.Grouping[0].BinWidth);
        Assert.Equal(10, tens.BinWidth);
        Assert.Equal(["1970|1", "1980|2", "1990|1", "2000|1"], Show(tens.Rows));
        Assert.Equal(["Rows"], tens.Measures);
    }

    [Fact]
    public async Task A_box_plot_has_five_numbers_per_category()
    {
        var data = await LoadAsync(Chart(TileType.Box, Orders, ["category"], new TileMeasure(TileMeasureKind.Median, "amount")));

        Assert.Equal(["Books|100|250|400|550|700", "Electronics|2000|2000|2000|2000|2000", "Garden|30|30|30|30|30", "Toys|0|25|50|275|500"], Show(data.Rows));
        Assert.Equal([0, 25, 50, 275, 500], data.Boxes![3].Select(v => v!.Value));
    }

    [Fact]
    public async Task A_table_pages_sorts_and_totals_over_every_row()
    {
        var tile = Chart(TileType.Table, Orders, ["category"], Revenue, OrderCount);
        DashboardState Page(int page, string sort) => DashboardState.Empty with
        {
            Pages = new Dictionary<string, TablePage> { [tile.Id] = new TablePage(page, 2, sort, Descending: true) },
        };

        var first = await LoadAsync(tile, Page(0, "Sum of amount"));
        var second = await LoadAsync(tile, Page(1, "Sum of amount"));
        var byName = await LoadAsync(tile, Page(0, "category"));

        Assert.Equal(["Electronics|2000|1", "Books|800|2"], Show(first.Rows));
        Assert.True(first.Truncated);
        Assert.Equal(["Toys|550|3", "Garden|30|1"], Show(second.Rows));
        Assert.False(second.Truncated);
        Assert.Equal([3380, 7], first.Totals!.Select(t => t!.Value));
        Assert.Equal(["Toys|550|3", "Garden|30|1"], Show(byName.Rows));
    }

    [Fact]
    public async Task A_table_sorted_by_a_ratio_is_sorted_before_paging()
    {
        var perOrder = new TileMeasure(TileMeasureKind.Ratio, Label: "Per order", Numerator: Revenue, Denominator: OrderCount);
        var tile = Chart(TileType.Table, Orders, ["category"], perOrder);
        var state = DashboardState.Empty with { Pages = new Dictionary<string, TablePage> { [tile.Id] = new TablePage(1, 2, "Per order", Descending: true) } };

        var data = await LoadAsync(tile, state);

        Assert.Equal(["Toys|183.3333", "Garden|30"], Show(data.Rows));
        Assert.False(data.Truncated);
        Assert.Equal(3380 / 7.0, data.Totals![0]!.Value, 10);
    }

    [Fact]
    public async Task A_table_without_measures_lists_rows()
    {
        var tile = Chart(TileType.Table, Customers, ["name", "region"]);
        var state = DashboardState.Empty with { Pages = new Dictionary<string, TablePage> { [tile.Id] = new TablePage(0, 4, "name") } };

        var data = await LoadAsync(tile, state);

        Assert.Equal(["Ann|North", "Bo|South", "Cy|East", "Di|North"], Show(data.Rows));
        Assert.True(data.Truncated);
        Assert.Null(data.Totals);
    }

    [Fact]
    public async Task A_pivot_is_rows_of_both_dimensions_and_the_measure()
    {
        var data = await LoadAsync(Chart(TileType.Pivot, Customers, ["region", "vip"], CustomerCount));

        Assert.Equal(["East|true|1", "North|true|1", "North|∅|1", "South|false|1", "West|false|1", "∅|true|1"], Show(data.Rows));
    }

    [Fact]
    public async Task A_text_tile_passes_its_markdown_through()
    {
        var data = await LoadAsync(new TileDefinition { Id = "text", Type = TileType.Text, Markdown = "# Notes\n*Weekly*" });

        Assert.Equal("# Notes\n*Weekly*", data.Markdown);
        Assert.Empty(data.Rows);
    }

    [Fact]
    public async Task Compare_segments_measures_each_segment_in_one_scan()
    {
        var north = await fixture.Shop.SaveSegmentAsync($"North {Guid.NewGuid():N}", All(FieldIn("region", RuleOperator.In, "North")));
        var vip = await fixture.Shop.SaveSegmentAsync($"VIP {Guid.NewGuid():N}", All(Field("vip", RuleOperator.IsTrue)));
        var tile = Chart(TileType.CompareSegments, Customers, [], CustomerCount) with { SegmentIds = [north, vip] };

        var totals = await LoadAsync(tile);
        var byRegion = await LoadAsync(tile with { Dimensions = [new TileDimension("region")] });
        var members = await UnderlyingAsync(tile, totals.Rows[1][0]);

        Assert.Equal(["2", "3"], totals.Rows.Select(r => MarkValue.Text(r[1])));
        Assert.StartsWith("North", (string)totals.Rows[0][0]!);
        Assert.Equal(["East|0|1", "North|2|1", "South|0|0", "West|0|0", "∅|0|1"], Show(byRegion.Rows));
        Assert.Equal([1L, 3L, 6L], members.Rows.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Segment_size_shows_each_refresh()
    {
        var id = await fixture.Shop.Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(
            new SegmentDraft($"Grows {Guid.NewGuid():N}", Customers, new RuleTree { Root = All(FieldIn("region", RuleOperator.In, "North")) }), Ct));
        await fixture.Shop.Harness.WithAsync<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(id, Ct));

        var data = await LoadAsync(new TileDefinition { Id = "size", Type = TileType.SegmentSize, SegmentIds = [id] }, filters: [new CategoryFilter("region", ["South"])]);

        Assert.Equal(["2|2|0", "2|0|0"], Show(data.Rows.Select(r => r[1..])));
        Assert.Equal([0], data.FiltersNotApplied);
    }

    [Fact]
    public async Task Cohorts_show_the_share_of_each_first_order_month_still_ordering()
    {
        var tile = new TileDefinition { Id = "cohort", Type = TileType.Cohort, DatasetId = fixture.VisitData.Id };

        var data = await LoadAsync(tile);
        var backInFebruary = await UnderlyingAsync(tile, new DateOnly(2024, 1, 1), 1L);

        Assert.Equal(
        [
            "2024-01-01|1|4|1",
            "2024-01-01|2|2|0.5",
            "2024-01-01|3|1|0.25",
            "2024-02-01|1|2|1",
            "2024-02-01|2|1|0.5",
        ], Show(data.Rows.Select(r => (object?[])[r[0], (long)r[1]! + 1, r[2], r[3]])));
        Assert.Equal(["A", "B"], backInFebruary.Rows.Select(r => (string?)r[0]));
    }

    [Fact]
    public async Task The_rfm_grid_shows_the_saved_analysis()
    {
        var tile = new TileDefinition { Id = "rfm", Type = TileType.RfmGrid, SourceId = fixture.VisitData.Id };
        Assert.Contains("not been run", (await LoadAsync(tile)).Notice);

        await fixture.Shop.Harness.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(fixture.VisitData.Id, new RfmInput(), RfmSettings.Default, Ct));
        var data = await LoadAsync(tile);

        Assert.Equal(25, data.Rows.Count);
        Assert.Equal(6, data.Rows.Sum(r => (double)r[3]!));
        var cell = data.Rows.First(r => (double)r[3]! > 0);
        var customers = await UnderlyingAsync(tile, cell[0], cell[1]);
        Assert.Equal((int)(double)cell[3]!, customers.Rows.Count);
    }

    [Fact]
    public async Task Drilling_narrows_to_the_clicked_period_and_groups_by_the_next()
    {
        var tile = Chart(TileType.Bar, Orders, [], Revenue) with { Dimensions = [new TileDimension("order_date", DateBucket.Year)] };

        var years = await LoadAsync(tile);
        var quarters = await LoadAsync(tile, DashboardState.Empty.DrillDown(tile.Id, DrillStep.From(years.Grouping[0], years.Rows[1][0])));

        Assert.Equal(["2023-01-01|130", "2024-01-01|3250"], Show(years.Rows));
        Assert.Equal(["2024-01-01|50", "2024-04-01|3200"], Show(quarters.Rows));
        Assert.Equal(DateBucket.Quarter, quarters.Grouping[0].Bucket);
    }

    [Fact]
    public async Task Drilling_a_hierarchy_goes_to_the_next_column()
    {
        var tile = Chart(TileType.Bar, Customers, [], CustomerCount) with { Dimensions = [new TileDimension("region", Hierarchy: ["city"])] };

        var cities = await LoadAsync(tile, DashboardState.Empty.DrillDown(tile.Id, new DrillStep("region", "North")));

        Assert.Equal(["Bergen|1", "Oslo|1"], Show(cities.Rows));
        Assert.False(cities.CanDrill);
    }

    [Fact]
    public async Task A_cross_filter_narrows_the_other_tiles_that_have_its_field()
    {
        var regions = Chart(TileType.Bar, Customers, ["region"], CustomerCount);
        var vips = Chart(TileType.Bar, Customers, ["vip"], CustomerCount);
        var categories = Chart(TileType.Bar, Orders, ["category"], OrderCount);
        var state = DashboardState.Empty with { CrossFilter = CrossFilter.From(regions.Id, new TileDimension("region"), "North") };
        // The clicked tile is on the same board: a cross-filter from a tile elsewhere is refused.
        var board = Board(null, regions, vips, categories);
        Task<TileData> Load(TileDefinition tile) => fixture.Shop.Harness.WithAsync<TileDataService, TileData>(s => s.LoadAsync(board, tile, state, Ct));

        Assert.Equal(5, (await Load(regions)).Rows.Count);
        Assert.Equal(["true|1", "∅|1"], Show((await Load(vips)).Rows));
        Assert.Equal(4, (await Load(categories)).Rows.Count);
    }

    [Fact]
    public async Task Dashboard_filters_narrow_tiles_with_the_field_and_say_which_they_skip()
    {
        DashboardFilter[] filters = [new CategoryFilter("region", ["North", "South"]), new DateRangeFilter("order_date", Preset: DatePreset.Last30Days)];
        var regions = Chart(TileType.Bar, Customers, ["region"], CustomerCount);
        var categories = Chart(TileType.Bar, Orders, ["category"], OrderCount);
        var text = new TileDefinition { Id = "text", Type = TileType.Text, Markdown = "Hello" };

        var regionData = await LoadAsync(regions, filters: filters);
        var categoryData = await LoadAsync(categories, filters: filters);
        var coverage = await fixture.Shop.Harness.WithAsync<TileDataService, IReadOnlyList<FilterCoverage>>(s =>
            s.CoverageAsync(Board(filters, regions, categories, text), cancellationToken: Ct));

        Assert.Equal(["North|2", "South|1"], Show(regionData.Rows));
        Assert.Equal([1], regionData.FiltersNotApplied);
        Assert.Equal(["Toys|2", "Books|1", "Electronics|1"], Show(categoryData.Rows));
        Assert.Equal([categories.Id, "text"], coverage[0].NotAppliedTo);
        Assert.Equal([regions.Id, "text"], coverage[1].NotAppliedTo);
    }

    [Fact]
    public async Task A_category_filter_offers_the_values_left_by_the_other_filters()
    {
        DashboardFilter[] filters =
        [
            new CategoryFilter("region", ["North"]),
            new NumericRangeFilter("birth_year", Min: 1985),
            new CategoryFilter("category", []),
            new DateRangeFilter("order_date", Preset: DatePreset.Last30Days),
        ];
        var board = Board(filters, Chart(TileType.Bar, Customers, ["region"], CustomerCount), Chart(TileType.Bar, Orders, ["category"], OrderCount));

        var regions = await fixture.Shop.Harness.WithAsync<TileDataService, IReadOnlyList<FilterValue>>(s => s.FilterValuesAsync(board, 0, cancellationToken: Ct));
        var categories = await fixture.Shop.Harness.WithAsync<TileDataService, IReadOnlyList<FilterValue>>(s => s.FilterValuesAsync(board, 2, cancellationToken: Ct));

        // Born 1985 or later: 2 (South), 5 (West), 6 (no region); the region filter's own choice does not hide the others.
        Assert.Equal(["South", "West"], regions.Select(v => v.Value));
        Assert.Equal(["Toys 2", "Books 1", "Electronics 1"], categories.Select(v => $"{v.Value} {v.Rows}"));
        await Assert.ThrowsAsync<PortalException>(() => fixture.Shop.Harness.WithAsync<TileDataService, IReadOnlyList<FilterValue>>(s => s.FilterValuesAsync(board, 1, cancellationToken: Ct)));
    }

    [Fact]
    public async Task The_customers_behind_a_mark_are_listed_once_each_under_the_same_filters()
    {
        var regions = Chart(TileType.Bar, Customers, ["region"], CustomerCount);
        var categories = Chart(TileType.Bar, Orders, ["category"], OrderCount) with { TopN = 2 };

        var north = await UnderlyingAsync(regions, "North");
        var other = await UnderlyingAsync(categories, TileQueryBuilder.OtherLabel);
        var toys = await UnderlyingAsync(categories, "Toys");

        Assert.Equal("id", north.Columns[0]);
        Assert.Contains("region", north.Columns);
        Assert.Equal([1L, 4L], north.Rows.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)));
        Assert.False(north.More);
        Assert.Equal([2L, 3L], other.Rows.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)));
        Assert.Equal([1L, 2L], toys.Rows.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)));
        await Assert.ThrowsAsync<PortalException>(() => UnderlyingAsync(new TileDefinition { Id = "t", Type = TileType.Text, Markdown = "x" }));
    }

    [Fact]
    public async Task A_user_who_may_not_read_the_dataset_gets_no_tile_data()
    {
        var harness = fixture.Shop.Harness;
        var analyst = harness.CurrentUser.Principal;
        try
        {
            await harness.SignInAsNewUserAsync($"viewer-{Guid.NewGuid():N}@example.com", Roles.Viewer);
            var error = await Assert.ThrowsAsync<PortalException>(() => LoadAsync(Chart(TileType.Bar, Customers, ["region"], CustomerCount)));
            Assert.Contains("do not have access", error.Message);
        }
        finally
        {
            harness.CurrentUser.Principal = analyst;
        }
    }
}
