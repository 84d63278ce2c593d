using SegmentPortal.Core.Access;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>The specs a tile becomes under filters, cross-filters and drilling, without a warehouse (today is 2024-06-15).</summary>
public sealed class TileQueryBuilderTests
{
    private static readonly DateOnly Today = new(2024, 6, 15);

    public static readonly QueryDataset Customers = new(1, "Customers", "customers_t",
    [
        new QueryField("id", ColumnType.Integer, FieldRole.CustomerId),
        new QueryField("region", ColumnType.Text, FieldRole.Dimension),
        new QueryField("city", ColumnType.Text, FieldRole.None),
        new QueryField("signup", ColumnType.Date, FieldRole.None),
        new QueryField("birth_year", ColumnType.Integer, FieldRole.None),
    ], DateTimeOffset.UnixEpoch);

    public static readonly QueryDataset Orders = new(2, "Orders", "orders_t",
    [
        new QueryField("order_id", ColumnType.Integer, FieldRole.OrderId),
        new QueryField("customer_id", ColumnType.Integer, FieldRole.CustomerId),
        new QueryField("order_date", ColumnType.Date, FieldRole.EventDate),
        new QueryField("amount", ColumnType.Decimal, FieldRole.Amount),
        new QueryField("category", ColumnType.Text, FieldRole.Dimension),
    ], DateTimeOffset.UnixEpoch);

    private static TileDefinition Bar(string id, string column, int? topN = null) => new()
    {
        Id = id,
        Type = TileType.Bar,
        DatasetId = 1,
        Dimensions = [new TileDimension(column)],
        Measures = [new TileMeasure(TileMeasureKind.Customers)],
        TopN = topN,
    };

    private static TileQueryBuilder Builder(TileDefinition tile, QueryDataset dataset, IReadOnlyList<DashboardFilter>? filters = null,
        CrossFilter? cross = null, IReadOnlyList<DrillStep>? drill = null) =>
        new(tile, dataset, new TileContext { Today = Today, Filters = filters ?? [], CrossFilter = cross, Drill = drill ?? [] });

    private static List<FieldCondition> Conditions(RuleGroup filter) => filter.Descendants().OfType<FieldCondition>().ToList();

    private static string Describe(FieldCondition c) =>
        $"{c.Field} {c.Operator} {c.Value}{(c.Value2 is null ? "" : "…" + c.Value2)}{(c.Values.Count == 0 ? "" : string.Join(",", c.Values))}";

    [Fact]
    public void A_filter_narrows_only_tiles_whose_dataset_has_a_fitting_field()
    {
        DashboardFilter[] filters =
        [
            new CategoryFilter("region", ["North"]),
            new DateRangeFilter("order_date", new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31)),
            new NumericRangeFilter("region", Min: 3),
        ];

        var customers = Builder(Bar("c", "region"), Customers, filters);
        var orders = Builder(Bar("o", "category") with { DatasetId = 2 }, Orders, filters);

        Assert.Equal(["region In North"], Conditions(customers.Filter()).Select(Describe));
        Assert.Equal([1, 2], customers.FiltersNotApplied);
        Assert.Equal(["order_date Between 2024-01-01…2024-03-31"], Conditions(orders.Filter()).Select(Describe));
        Assert.Equal([0, 2], orders.FiltersNotApplied);
    }

    [Fact]
    public void Inactive_filters_narrow_nothing_and_open_ended_ranges_keep_one_bound()
    {
        DashboardFilter[] filters =
        [
            new CategoryFilter("region", []),
            new DateRangeFilter("signup", From: new DateOnly(2024, 1, 1)),
            new NumericRangeFilter("birth_year", Max: 1990),
        ];

        var conditions = Conditions(Builder(Bar("c", "region"), Customers, filters).Filter()).Select(Describe);

        Assert.Equal(["signup Between 2024-01-01…9999-12-31", "birth_year LessOrEqual 1990"], conditions);
    }

    [Theory]
    [InlineData(DatePreset.Last7Days, "2024-06-08", "2024-06-15")]
    [InlineData(DatePreset.Last30Days, "2024-05-16", "2024-06-15")]
    [InlineData(DatePreset.Last90Days, "2024-03-17", "2024-06-15")]
    [InlineData(DatePreset.ThisMonth, "2024-06-01", "2024-06-30")]
    [InlineData(DatePreset.LastMonth, "2024-05-01", "2024-05-31")]
    [InlineData(DatePreset.ThisQuarter, "2024-04-01", "2024-06-30")]
    [InlineData(DatePreset.ThisYear, "2024-01-01", "2024-12-31")]
    [InlineData(DatePreset.Last12Months, "2023-06-15", "2024-06-15")]
    public void Date_presets_resolve_against_today(DatePreset preset, string from, string to)
    {
        var filter = new DateRangeFilter("signup", Preset: preset);

        var (start, end) = filter.Resolve(Today);
        var condition = Assert.Single(Conditions(Builder(Bar("c", "region"), Customers, [filter]).Filter()));

        Assert.Equal((DateOnly.Parse(from), DateOnly.Parse(to)), (start!.Value, end!.Value));
        Assert.Equal($"signup Between {from}…{to}", Describe(condition));
    }

    [Fact]
    public void A_preset_wins_over_fixed_dates_and_last_month_crosses_a_year()
    {
        var filter = new DateRangeFilter("signup", new DateOnly(2000, 1, 1), new DateOnly(2000, 1, 2), DatePreset.LastMonth);

        Assert.Equal((new DateOnly(2023, 12, 1), new DateOnly(2023, 12, 31)), filter.Resolve(new DateOnly(2024, 1, 10)));
    }

    [Fact]
    public void A_cross_filter_narrows_every_other_tile_with_the_field_but_not_its_source()
    {
        var cross = new CrossFilter("source", "region", "North");

        var source = Builder(Bar("source", "region"), Customers, cross: cross);
        var other = Builder(Bar("other", "city"), Customers, cross: cross);
        var orders = Builder(Bar("orders", "category") with { DatasetId = 2 }, Orders, cross: cross);

        Assert.Empty(Conditions(source.Filter()));
        Assert.Equal(["region In North"], Conditions(other.Filter()).Select(Describe));
        Assert.Empty(Conditions(orders.Filter()));
    }

    [Fact]
    public void A_cross_filter_on_a_period_or_a_bin_narrows_to_that_range()
    {
        var month = CrossFilter.From("source", new TileDimension("signup", DateBucket.Month), new DateOnly(2024, 2, 1));
        var bin = CrossFilter.From("source", new TileDimension("birth_year", BinWidth: 10), 1980.0);

        Assert.Equal(["signup Between 2024-02-01…2024-02-29"], Conditions(Builder(Bar("t", "region"), Customers, cross: month).Filter()).Select(Describe));
        Assert.Equal(["birth_year GreaterOrEqual 1980", "birth_year Less 1990"], Conditions(Builder(Bar("t", "region"), Customers, cross: bin).Filter()).Select(Describe));
    }

    [Fact]
    public void A_date_drills_from_year_to_quarter_to_month_to_week_to_day_within_the_clicked_period()
    {
        var tile = Bar("t", "signup") with { Dimensions = [new TileDimension("signup", DateBucket.Year)] };
        var state = DashboardState.Empty;
        var expected = new (DateBucket Level, string? Restriction)[]
        {
            (DateBucket.Year, null),
            (DateBucket.Quarter, "signup Between 2024-01-01…2024-12-31"),
            (DateBucket.Month, "signup Between 2024-04-01…2024-06-30"),
            (DateBucket.Week, "signup Between 2024-05-01…2024-05-31"),
            (DateBucket.Day, "signup Between 2024-05-13…2024-05-19"),
        };
        var clicks = new object[] { new DateOnly(2024, 1, 1), new DateOnly(2024, 4, 1), new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 13) };

        for (var level = 0; level < expected.Length; level++)
        {
            var builder = Builder(tile, Customers, drill: state.DrillOf("t"));
            Assert.Equal(expected[level].Level, builder.Grouping[0].Bucket);
            Assert.Equal(level < 4, builder.CanDrill);
            if (expected[level].Restriction is { } restriction)
            {
                Assert.Equal(restriction, Describe(Conditions(builder.Filter()).Last()));
            }
            Assert.Equal(DateBucket.Year - level, builder.Grouped().GroupBy[0].Bucket);
            if (level < clicks.Length)
            {
                state = state.DrillDown("t", DrillStep.From(builder.Grouping[0], clicks[level]));
            }
        }
        var tooFar = state.DrillDown("t", new DrillStep("signup", "2024-05-13", DateBucket.Day));
        Assert.Throws<PortalException>(() => Builder(tile, Customers, drill: tooFar.DrillOf("t")));
        Assert.Equal(DateBucket.Week, Builder(tile, Customers, drill: state.DrillUp("t").DrillOf("t")).Grouping[0].Bucket);
    }

    [Fact]
    public void A_hierarchy_drills_to_the_next_column_within_the_clicked_value()
    {
        var tile = Bar("t", "region") with { Dimensions = [new TileDimension("region", Hierarchy: ["region", "city"])] };

        var top = Builder(tile, Customers);
        var north = Builder(tile, Customers, drill: [DrillStep.From(top.Grouping[0], "North")]);

        Assert.True(top.CanDrill);
        Assert.Equal("city", north.Grouping[0].Column);
        Assert.False(north.CanDrill);
        Assert.Equal(["region In North"], Conditions(north.Filter()).Select(Describe));
        Assert.Equal("city", north.Grouped().GroupBy[0].Column);
        Assert.Throws<PortalException>(() => Builder(tile, Customers, drill: [new DrillStep("city", "Oslo")]));
    }

    [Fact]
    public void A_hierarchy_without_the_top_column_starts_with_it()
    {
        var tile = Bar("t", "region") with { Dimensions = [new TileDimension("region", Hierarchy: ["city"])] };

        Assert.Equal("city", Builder(tile, Customers, drill: [new DrillStep("region", "North")]).Grouping[0].Column);
    }

    [Fact]
    public void Top_n_ranks_in_the_warehouse_and_other_reads_the_rest_again()
    {
        var tile = Bar("t", "category", topN: 2) with { DatasetId = 2, Measures = [new TileMeasure(TileMeasureKind.Average, "amount")] };
        var builder = Builder(tile, Orders);

        var top = builder.Top();
        var other = builder.Other(["Toys", "Books"]);

        Assert.True(builder.HasTopN);
        Assert.Equal(2, top.Limit);
        Assert.Equal([new SortBy("m0", true), new SortBy("d0")], top.Sort);
        Assert.Empty(other.GroupBy);
        Assert.Contains(other.Measures, m => m.Kind == MeasureKind.Average && m.Alias == "m0");
        Assert.Contains(other.Measures, m => m.Kind == MeasureKind.Count && m.Alias == "rows");
        var rest = Assert.Single(other.Filter!.Children.OfType<RuleGroup>());
        Assert.True(rest.Not);
        Assert.Equal(Combinator.Or, rest.Combinator);
        Assert.Equal(["category In Toys,Books"], rest.Children.OfType<FieldCondition>().Select(Describe));
    }

    [Fact]
    public void Top_n_by_a_ratio_reads_every_category_to_rank_them_after()
    {
        var ratio = new TileMeasure(TileMeasureKind.Ratio, Numerator: new TileMeasure(TileMeasureKind.Sum, "amount"), Denominator: new TileMeasure(TileMeasureKind.Customers));
        var builder = Builder(Bar("t", "category", topN: 3) with { DatasetId = 2, Measures = [ratio] }, Orders);

        var top = builder.Top();

        Assert.Equal(TileQueryBuilder.MaxCategories + 1, top.Limit);
        Assert.Equal(["m0_n", "m0_d"], top.Measures.Select(m => m.Alias));
        Assert.True(builder.SortsInMemory);
    }

    [Fact]
    public void A_ratio_is_two_measures_divided_after_and_empty_on_a_zero_denominator()
    {
        var ratio = new TileMeasure(TileMeasureKind.Ratio, Numerator: new TileMeasure(TileMeasureKind.Sum, "amount"), Denominator: new TileMeasure(TileMeasureKind.Count));

        var measures = TileMeasures.ToQuery([new TileMeasure(TileMeasureKind.Count), ratio]);

        Assert.Equal(["m0", "m1_n", "m1_d"], measures.Select(m => m.Alias));
        Assert.Equal([MeasureKind.Count, MeasureKind.Sum, MeasureKind.Count], measures.Select(m => m.Kind));
        Assert.Equal(2.5, TileMeasures.Ratio(5, 2));
        Assert.Null(TileMeasures.Ratio(5, 0));
        Assert.Null(TileMeasures.Ratio(null, 2));
        Assert.Null(TileMeasures.Ratio(5, null));
        Assert.Equal("Sum of amount / Rows", TileMeasures.Label(ratio));
    }

    [Fact]
    public void A_kpi_reads_twelve_periods_ending_with_the_current_one()
    {
        var tile = new TileDefinition
        {
            Id = "k", Type = TileType.Kpi, DatasetId = 2, DateColumn = "order_date", Period = DateBucket.Quarter,
            Measures = [new TileMeasure(TileMeasureKind.Sum, "amount")],
        };

        var (spec, periods) = Builder(tile, Orders).Kpi();

        Assert.Equal(12, periods.Count);
        Assert.Equal(new DateOnly(2021, 7, 1), periods[0]);
        Assert.Equal(new DateOnly(2024, 1, 1), periods[^2]);
        Assert.Equal(new DateOnly(2024, 4, 1), periods[^1]);
        Assert.Equal(["order_date Between 2021-07-01…2024-06-30"], Conditions(spec.Filter!).Select(Describe));
        Assert.Equal(new GroupBy("order_date", DateBucket.Quarter, "d0"), spec.GroupBy.Single());
    }

    [Fact]
    public void Filter_values_read_under_every_other_filter_most_frequent_first()
    {
        DashboardFilter[] filters =
        [
            new CategoryFilter("region", ["North"]),
            new NumericRangeFilter("birth_year", Min: 1985),
            new CategoryFilter("category", ["Toys"]),
        ];

        var spec = TileQueryBuilder.FilterValues(Customers, filters, 0, Today)!;

        Assert.Equal(["birth_year GreaterOrEqual 1985", "region IsNotEmpty "], Conditions(spec.Filter!).Select(Describe));
        Assert.Equal("region", spec.GroupBy.Single().Column);
        Assert.Equal(new SortBy("rows", true), spec.Sort[0]);
        Assert.Equal(TileQueryBuilder.MaxFilterValues, spec.Limit);
        Assert.Null(TileQueryBuilder.FilterValues(Orders, filters, 0, Today));
    }

    [Fact]
    public void Compare_segments_is_one_scan_with_a_measure_per_segment()
    {
        var tile = new TileDefinition
        {
            Id = "s", Type = TileType.CompareSegments, DatasetId = 1, SegmentIds = [7, 9], Measures = [new TileMeasure(TileMeasureKind.Customers)],
        };

        var spec = Builder(tile, Customers).CompareSegments();

        Assert.Equal(["s0", "s1"], spec.Measures.Select(m => m.Alias));
        Assert.Equal([7, 9], spec.Measures.Select(m => Assert.IsType<SegmentCondition>(m.Where).SegmentId));
    }

    [Theory]
    [InlineData(1975.0, 2001.0, 2.0)]
    [InlineData(0.0, 1000.0, 50.0)]
    [InlineData(0.0, 0.3, 0.02)]
    [InlineData(5.0, 5.0, 1.0)]
    public void A_default_bin_width_is_round_and_gives_about_twenty_bins(double min, double max, double width) =>
        Assert.Equal(width, TileQueryBuilder.NiceBinWidth(min, max), 10);

    [Fact]
    public void Categories_sort_by_their_measure_and_periods_by_time()
    {
        var byCategory = Builder(Bar("t", "region"), Customers).DisplaySort();
        var byPeriod = Builder(Bar("t", "signup") with { Dimensions = [new TileDimension("signup", DateBucket.Month)] }, Customers).DisplaySort();
        var byName = Builder(Bar("t", "region") with { Sort = new TileSort(ByMeasure: false, Descending: true) }, Customers).DisplaySort();

        Assert.Equal([new SortBy("m0", true), new SortBy("d0")], byCategory);
        Assert.Equal([new SortBy("d0")], byPeriod);
        Assert.Equal([new SortBy("d0", true)], byName);
    }
    [Fact]
    public void The_customers_behind_a_mark_are_each_listed_once_with_the_tiles_columns_first()
    {
        var tile = Bar("t", "city") with { Measures = [new TileMeasure(TileMeasureKind.Average, "birth_year")] };
        var builder = Builder(tile, Customers, [new CategoryFilter("region", ["North"])]);

        var spec = builder.Underlying([builder.MarkCondition(0, "Oslo")]);

        Assert.True(spec.DistinctCustomers);
        Assert.Equal(TileQueryBuilder.MaxUnderlying + 1, spec.Limit);
        Assert.Equal(["id", "city", "birth_year", "region", "signup"], spec.Columns);
        Assert.Equal(["region In North", "city In Oslo"], Conditions(spec.Filter!).Select(Describe));
    }

    [Fact]
    public void A_cohort_groups_orders_by_the_customers_first_order_month_and_the_order_month()
    {
        var tile = new TileDefinition { Id = "c", Type = TileType.Cohort, DatasetId = 2 };

        var spec = Builder(tile, Orders).Cohort();

        Assert.Equal(CustomerMeasure.FirstOrderDate, spec.GroupBy[0].Fact!.Measure);
        Assert.Equal(DateBucket.Month, spec.GroupBy[0].Bucket);
        Assert.Equal(new GroupBy("order_date", DateBucket.Month, "month"), spec.GroupBy[1]);
        Assert.Equal(MeasureKind.Customers, spec.Measures.Single().Kind);
    }

    [Fact]
    public void A_cohort_keeps_its_own_time_axis_under_date_filters_and_date_cross_filters()
    {
        var tile = new TileDefinition { Id = "c", Type = TileType.Cohort, DatasetId = 2 };
        var filters = new DashboardFilter[] { new DateRangeFilter("order_date", Preset: DatePreset.Last30Days), new CategoryFilter("category", ["Toys"]) };
        var cross = new CrossFilter("line", "order_date", "2024-05-01", DateBucket.Month);

        var builder = Builder(tile, Orders, filters, cross);

        Assert.Equal(["category In Toys"], Conditions(builder.Cohort().Filter!).Select(Describe));
        Assert.Equal([0], builder.FiltersNotApplied);
    }

    [Fact]
    public void Sorts_map_to_row_positions_measures_after_groupings()
    {
        var tile = Bar("t", "region") with
        {
            Dimensions = [new TileDimension("region"), new TileDimension("city")],
            Measures = [new TileMeasure(TileMeasureKind.Count), new TileMeasure(TileMeasureKind.Customers)],
            Sort = new TileSort(ByMeasure: true, Index: 1, Descending: true),
        };

        Assert.Equal([(3, true), (0, false), (1, false)], Builder(tile, Customers).DisplayPositions());
    }
}
