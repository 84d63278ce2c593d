using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// Turns a tile, the dataset it reads and what narrows it (<see cref="TileContext"/>) into the query specs to run. Pure:
/// no store, no warehouse, no clock. Groupings are named d0, d1…, measures m0, m1… (a ratio's parts m0_n and m0_d).
/// </summary>
internal sealed class TileQueryBuilder
{
    public const int MaxCategories = 1_000;
    public const int MaxCells = 10_000;
    public const int MaxTableRows = 10_000;
    public const int MaxUnderlying = 500;
    public const int MaxFilterValues = 200;
    public const int SparkPeriods = 12;
    public const int DefaultBins = 20;
    public const string OtherLabel = "Other";

    private readonly TileContext _context;
    private readonly IReadOnlyList<RuleNode> _drillConditions;

    public TileQueryBuilder(TileDefinition tile, QueryDataset dataset, TileContext context)
    {
        Tile = tile;
        Dataset = dataset;
        _context = context;
        (Grouping, _drillConditions, CanDrill) = ResolveDrill();
    }

    public TileDefinition Tile { get; }

    public QueryDataset Dataset { get; }

    /// <summary>What the tile groups by now: its dimensions, the first at its drill level, dates without a period by day.</summary>
    public IReadOnlyList<TileDimension> Grouping { get; }

    /// <summary>A click on the first grouping can go one level further down.</summary>
    public bool CanDrill { get; }

    public IReadOnlyList<string> DimensionNames => Grouping.Select(d => d.Column).ToList();

    public IReadOnlyList<string> MeasureNames => Tile.Measures.Select(TileMeasures.Label).ToList();

    /// <summary>Indexes of the filters in force that do not narrow this tile.</summary>
    public IReadOnlyList<int> FiltersNotApplied =>
        _context.Filters.Select((f, i) => (f, i)).Where(x => !DashboardFilters.Applies(x.f, Dataset) || Keeps(x.f.Column)).Select(x => x.i).ToList();

    /// <summary>
    /// A cohort tile keeps its own time axis: filters on its order date would cut cohorts off from their first month
    /// (and make shares meaningless), so they do not narrow it.
    /// </summary>
    private bool Keeps(string column) => Tile.Type == TileType.Cohort && string.Equals(column, CohortDate, StringComparison.Ordinal);

    /// <summary>The rows the tile reads: its own rule and segment, the dashboard filters, a cross-filter, its drill path, and more.</summary>
    public RuleGroup Filter(params RuleNode?[] extra)
    {
        var root = new RuleGroup();
        if (!string.IsNullOrWhiteSpace(Tile.FilterJson))
        {
            root.Children.Add(RuleTree.FromJson(Tile.FilterJson).Root);
        }
        if (Tile.SegmentId is { } segment && TileKinds.Of(Tile.Type).ReadsDataset)
        {
            root.Children.Add(new SegmentCondition { SegmentId = segment });
        }
        root.Children.AddRange(_context.Filters.Where(f => !Keeps(f.Column)).Select(f => DashboardFilters.Condition(f, Dataset, _context.Today)).OfType<RuleNode>());
        if (_context.CrossFilter is { } cross && cross.SourceTileId != Tile.Id && !Keeps(cross.Column) && Dataset.Field(cross.Column) is { } field
            && Marks.Condition(field, cross.Bucket, cross.BinWidth, cross.Value) is { } condition)
        {
            root.Children.Add(condition);
        }
        root.Children.AddRange(_drillConditions);
        root.Children.AddRange(extra.OfType<RuleNode>());
        return root;
    }

    public static GroupBy GroupOf(TileDimension dimension, int index) => new(dimension.Column, dimension.Bucket, $"d{index}") { BinWidth = dimension.BinWidth };

    private IReadOnlyList<GroupBy> Groups => Grouping.Select(GroupOf).ToList();

    private IReadOnlyList<SortBy> ByGroups => Grouping.Select((_, i) => new SortBy($"d{i}")).ToList();

    private QueryField FieldOf(TileDimension dimension) =>
        Dataset.Field(dimension.Column) ?? throw new PortalException(Dataset.HiddenColumns.Contains(dimension.Column, StringComparer.Ordinal)
            ? $"You do not have access to the column \"{dimension.Column}\" of {Dataset.Name}."
            : $"{Dataset.Name} has no field \"{dimension.Column}\".");

    /// <summary>The condition for a clicked value of grouping <paramref name="index"/> (null when it cannot apply).</summary>
    public RuleNode? MarkCondition(int index, object? value) =>
        index < Grouping.Count ? Marks.Condition(FieldOf(Grouping[index]), Grouping[index], MarkValue.Text(value)) : null;

    // ----- sorting and top N -----

    private int RankIndex => Tile.Sort is { ByMeasure: true } s && s.Index >= 0 && s.Index < Tile.Measures.Count ? s.Index : 0;

    private bool RankDescending => Tile.Sort is not { ByMeasure: true } s || s.Descending;

    /// <summary>The sort is by a ratio, which the warehouse does not compute: rows are sorted after reading.</summary>
    public bool SortsInMemory => DisplaySort().Count == 0 && Grouping.Count > 0 && Tile.Measures.Count > 0;

    /// <summary>The measure top N ranks by and an in-memory sort reads, and which way.</summary>
    public (int Index, bool Descending) RankMeasure => (RankIndex, RankDescending);

    private bool IsOrdered(TileDimension dimension) =>
        dimension.Bucket is not null || dimension.BinWidth is not null || FieldOf(dimension).Kind is FieldKind.Date or FieldKind.Number;

    /// <summary>
    /// The order rows are shown in: the tile's sort; else periods and numbers in order, categories by the first measure
    /// (largest first). Empty when the sort is by a ratio.
    /// </summary>
    public IReadOnlyList<SortBy> DisplaySort()
    {
        if (Tile.Sort is { ByMeasure: false } byDimension && byDimension.Index >= 0 && byDimension.Index < Grouping.Count)
        {
            var name = $"d{byDimension.Index}";
            return [new SortBy(name, byDimension.Descending), .. ByGroups.Where(g => g.Name != name)];
        }
        if ((Tile.Sort is null && Grouping.Count > 0 && IsOrdered(Grouping[0])) || Tile.Measures.Count == 0)
        {
            return ByGroups;
        }
        return Tile.Measures[RankIndex].Kind == TileMeasureKind.Ratio ? [] : [new SortBy($"m{RankIndex}", RankDescending), .. ByGroups];
    }

    /// <summary>The display sort as positions in tile rows (groupings first, then measures), for sorting rows already read.</summary>
    public IReadOnlyList<(int Position, bool Descending)> DisplayPositions() => DisplaySort()
        .Select(s => (Position: int.Parse(s.Name[1..], System.Globalization.CultureInfo.InvariantCulture) + (s.Name[0] == 'm' ? Grouping.Count : 0), s.Descending))
        .ToList();

    /// <summary>Top N applies to charts of categories (not tables, pivots or distributions).</summary>
    public bool HasTopN => Tile.TopN is not null && Grouping.Count > 0 && Tile.Measures.Count > 0
        && TileKinds.Of(Tile.Type).Has(TileTraits.TopN);

    private int CategoryLimit => Grouping.Count > 1 ? MaxCells : MaxCategories;

    /// <summary>Grouped by every grouping with every measure, in display order, capped one past the limit (to see a cut).</summary>
    public QuerySpec Grouped(RuleNode? extra = null) => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(extra),
        GroupBy = Groups,
        Measures = TileMeasures.ToQuery(Tile.Measures),
        Sort = DisplaySort(),
        Limit = CategoryLimit + 1,
    };

    /// <summary>
    /// The top N values of the first grouping by the ranking measure. With one grouping it carries every measure (it is
    /// the tile's rows); with two only the ranking measure. A ratio cannot be ranked by the warehouse: then every
    /// category is read (up to the cap) and ranked after.
    /// </summary>
    public QuerySpec Top()
    {
        var single = Grouping.Count == 1;
        var rank = Tile.Measures[RankIndex];
        var byRatio = rank.Kind == TileMeasureKind.Ratio;
        // With two dimensions the ranking measure is the only one, so it is m0.
        var alias = single ? $"m{RankIndex}" : "m0";
        return new QuerySpec
        {
            DatasetId = Dataset.Id,
            Filter = Filter(),
            GroupBy = [GroupOf(Grouping[0], 0)],
            Measures = single ? TileMeasures.ToQuery(Tile.Measures) : TileMeasures.ToQuery(rank, alias),
            Sort = byRatio ? [new SortBy("d0")] : [new SortBy(alias, RankDescending), new SortBy("d0")],
            Limit = byRatio ? MaxCategories + 1 : Tile.TopN,
        };
    }

    /// <summary>Two groupings: the rows for the top values of the first.</summary>
    public QuerySpec WithinTop(IReadOnlyList<string?> topValues) => Grouped(Marks.AnyOf(FieldOf(Grouping[0]), Grouping[0], topValues));

    /// <summary>
    /// Everything outside the top values, measured again over those rows (exact for averages, medians and distinct
    /// counts too), grouped by the other groupings (named from d0); <c>rows</c> says whether there is anything left.
    /// </summary>
    public QuerySpec Other(IReadOnlyList<string?> topValues) => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(Marks.AnyOf(FieldOf(Grouping[0]), Grouping[0], topValues, none: true)),
        GroupBy = Grouping.Skip(1).Select(GroupOf).ToList(),
        Measures = [.. TileMeasures.ToQuery(Tile.Measures), new Measure(MeasureKind.Count, "rows")],
        Sort = Grouping.Skip(1).Select((_, i) => new SortBy($"d{i}")).ToList(),
        Limit = MaxCategories + 1,
    };

    // ----- KPI -----

    /// <summary>A KPI's query and the period starts of its sparkline (the last is the current period), or none without a date column.</summary>
    public (QuerySpec Spec, IReadOnlyList<DateOnly> Periods) Kpi()
    {
        if (Tile.DateColumn is not { Length: > 0 } column)
        {
            return (new QuerySpec { DatasetId = Dataset.Id, Filter = Filter(), Measures = TileMeasures.ToQuery(Tile.Measures) }, []);
        }
        var current = Periods.Start(_context.Today, Tile.Period);
        var periods = Enumerable.Range(0, SparkPeriods).Select(i => Periods.Add(current, Tile.Period, i - SparkPeriods + 1)).ToList();
        var window = new FieldCondition
        {
            Field = column,
            Operator = RuleOperator.Between,
            Value = DashboardFilters.Text(periods[0]),
            Value2 = DashboardFilters.Text(Periods.End(current, Tile.Period)),
        };
        return (new QuerySpec
        {
            DatasetId = Dataset.Id,
            Filter = Filter(window),
            GroupBy = [new GroupBy(column, Tile.Period, "d0")],
            // A metric's KPI also reads each period's last day with data, to compare a period not over like for like.
            Measures = Tile.MetricId is null ? TileMeasures.ToQuery(Tile.Measures) : [.. TileMeasures.ToQuery(Tile.Measures), new Measure(MeasureKind.Max, "last", column)],
            Sort = [new SortBy("d0")],
        }, periods);
    }

    /// <summary>The KPI's measure over the days from <paramref name="from"/> to <paramref name="to"/> (the same days of the previous period).</summary>
    public QuerySpec KpiDays(DateOnly from, DateOnly to) => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(new FieldCondition
        {
            Field = Tile.DateColumn!,
            Operator = RuleOperator.Between,
            Value = DashboardFilters.Text(from),
            Value2 = DashboardFilters.Text(to),
        }),
        Measures = TileMeasures.ToQuery(Tile.Measures),
    };

    // ----- distributions -----

    /// <summary>The lowest and highest value of the histogram's column (lo, hi), to choose a bin width when none is set.</summary>
    public QuerySpec BinRange() => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(),
        Measures = [new Measure(MeasureKind.Min, "lo", Grouping[0].Column), new Measure(MeasureKind.Max, "hi", Grouping[0].Column)],
    };

    /// <summary>A round bin width (1, 2 or 5 times a power of ten) giving about <paramref name="bins"/> bins over the range.</summary>
    public static double NiceBinWidth(double? min, double? max, int bins = DefaultBins)
    {
        var span = (max ?? 0) - (min ?? 0);
        if (!double.IsFinite(span) || span <= 0)
        {
            return 1;
        }
        var raw = span / bins;
        var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = raw / power;
        return power * (step <= 1 ? 1 : step <= 2 ? 2 : step <= 5 ? 5 : 10);
    }

    /// <summary>Rows per bin of the first grouping's column; rows without a value fall in no bin.</summary>
    /// <remarks>
    /// Rows without a value form one bin of their own (sorted last, hence one more row in the limit) that the tile drops:
    /// leaving them in the query costs less than an "is not empty" condition, which keeps DuckDB from its faster plan.
    /// </remarks>
    public QuerySpec Histogram(double width) => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(),
        GroupBy = [new GroupBy(Grouping[0].Column, null, "d0") { BinWidth = width }],
        Measures = Tile.Measures.Count == 0 ? [new Measure(MeasureKind.Count, "m0")] : TileMeasures.ToQuery(Tile.Measures),
        Sort = [new SortBy("d0")],
        Limit = MaxCategories + 2,
    };

    /// <summary>The five numbers of a box per category: min, q1, median, q3, max of the measure's column.</summary>
    public QuerySpec Box()
    {
        var column = Tile.Measures[0].Column;
        return new QuerySpec
        {
            DatasetId = Dataset.Id,
            Filter = Filter(),
            GroupBy = Groups,
            Measures =
            [
                new Measure(MeasureKind.Min, "min", column),
                new Measure(MeasureKind.LowerQuartile, "q1", column),
                new Measure(MeasureKind.Median, "median", column),
                new Measure(MeasureKind.UpperQuartile, "q3", column),
                new Measure(MeasureKind.Max, "max", column),
            ],
            Sort = Tile.Sort is { ByMeasure: false, Descending: true } ? [.. ByGroups.Select(g => g with { Descending = true })] : ByGroups,
            Limit = MaxCategories + 1,
        };
    }

    // ----- tables and pivots -----

    public TablePage Page => _context.Page ?? new TablePage();

    public int PageSize => Math.Clamp(Page.PageSize, 1, MaxTableRows);

    /// <summary>The table is sorted by a ratio column: every row is read (up to the cap), sorted and paged after.</summary>
    public bool TableSortsInMemory => TableSort() is null;

    /// <summary>The sort a table page asks for, by the name of a column of its data; null when that is a ratio.</summary>
    private IReadOnlyList<SortBy>? TableSort()
    {
        if (Page.SortBy is not { } name)
        {
            return Tile.Measures.Count == 0 ? [] : DisplaySort().Count == 0 ? null : DisplaySort();
        }
        var dimension = DimensionNames.ToList().IndexOf(name);
        if (dimension >= 0)
        {
            return Tile.Measures.Count == 0 ? [new SortBy(name, Page.Descending)] : [new SortBy($"d{dimension}", Page.Descending)];
        }
        var measure = MeasureNames.ToList().IndexOf(name);
        if (measure < 0)
        {
            throw new PortalException($"The table has no column “{name}” to sort by.");
        }
        return Tile.Measures[measure].Kind == TileMeasureKind.Ratio ? null : [new SortBy($"m{measure}", Page.Descending)];
    }

    /// <summary>
    /// One page of a table, one row past the page to tell whether more follow: grouped rows with measures, or the
    /// rows themselves (the dimension columns) when there are no measures. When sorting by a ratio, every row up to the cap.
    /// </summary>
    public QuerySpec TableRows()
    {
        var sort = TableSort();
        var offset = sort is null ? 0 : Math.Max(0, Page.Page) * PageSize;
        if (Tile.Measures.Count == 0)
        {
            return new QuerySpec
            {
                DatasetId = Dataset.Id,
                Filter = Filter(),
                Columns = Grouping.Select(d => d.Column).Distinct().ToList(),
                Sort = sort ?? [],
                Limit = PageSize + 1,
                Offset = offset,
            };
        }
        return Grouped() with
        {
            Sort = sort ?? [],
            Limit = sort is null ? MaxTableRows + 1 : PageSize + 1,
            Offset = offset,
        };
    }

    /// <summary>The table's measures over all its rows, not only the page.</summary>
    public QuerySpec TableTotals() => new() { DatasetId = Dataset.Id, Filter = Filter(), Measures = TileMeasures.ToQuery(Tile.Measures) };

    /// <summary>Rows × columns × one measure, as rows of (row value, column value, measure); the page pivots them.</summary>
    public QuerySpec Pivot() => Grouped() with { Sort = ByGroups, Limit = MaxCells + 1 };

    // ----- segments and cohorts -----

    /// <summary>One scan: the tile's measure once per segment (s0, s1…), each limited to that segment's customers.</summary>
    public QuerySpec CompareSegments() => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(),
        GroupBy = Groups,
        Measures = Tile.SegmentIds.SelectMany((id, i) => TileMeasures.ToQuery(Tile.Measures[0], $"s{i}", new SegmentCondition { SegmentId = id })).ToList(),
        Sort = ByGroups,
        Limit = MaxCategories + 1,
    };

    /// <summary>The date column a cohort tile reads orders by: its own, or the dataset's event date.</summary>
    public string CohortDate => Tile.DateColumn is { Length: > 0 } column ? column
        : Dataset.WithRole(FieldRole.EventDate)?.Name ?? throw new PortalException($"{Dataset.Name} has no date column for the orders.");

    /// <summary>
    /// Customers by the month of their first order (the cohort) and the month of each order: how many of a cohort
    /// ordered in each month. Months since the first order, and shares, are worked out from these.
    /// </summary>
    public QuerySpec Cohort() => new()
    {
        DatasetId = Dataset.Id,
        Filter = Filter(),
        GroupBy =
        [
            new GroupBy("cohort", DateBucket.Month, "cohort") { Fact = new FactColumn("cohort", CustomerMeasure.FirstOrderDate) },
            new GroupBy(CohortDate, DateBucket.Month, "month"),
        ],
        Measures = [new Measure(MeasureKind.Customers, "customers")],
        Sort = [new SortBy("cohort"), new SortBy("month")],
        Limit = MaxCells + 1,
    };

    /// <summary>The customers of one cohort who ordered in a given month since their first.</summary>
    public IReadOnlyList<RuleNode> CohortMark(DateOnly cohort, int monthsSince)
    {
        var month = Periods.Start(cohort, DateBucket.Month);
        var active = Periods.Add(month, DateBucket.Month, monthsSince);
        return
        [
            new FactCondition
            {
                Fact = CustomerFact.FirstOrderDate, Operator = RuleOperator.Between,
                Value = DashboardFilters.Text(month), Value2 = DashboardFilters.Text(Periods.End(month, DateBucket.Month)),
            },
            new FieldCondition
            {
                Field = CohortDate, Operator = RuleOperator.Between,
                Value = DashboardFilters.Text(active), Value2 = DashboardFilters.Text(Periods.End(active, DateBucket.Month)),
            },
        ];
    }

    // ----- underlying customers and filter values -----

    /// <summary>
    /// The customers behind a mark: each once, with their key, the tile's columns and the dataset's first columns
    /// (eight at most), one past the cap to tell whether there are more.
    /// </summary>
    public QuerySpec Underlying(IEnumerable<RuleNode?> marks)
    {
        var key = Dataset.WithRole(FieldRole.CustomerId)
            ?? throw new PortalException($"{Dataset.Name} has no Customer ID column, so its customers cannot be listed.");
        var tileColumns = Grouping.Select(d => d.Column)
            .Concat(Tile.Measures.SelectMany(m => new[] { m.Column, m.Numerator?.Column, m.Denominator?.Column }).OfType<string>())
            .Append(Tile.DateColumn ?? "");
        var columns = new[] { key.Name }.Concat(tileColumns).Concat(Dataset.OwnFields.Select(f => f.Name))
            .Where(c => Dataset.Field(c) is not null).Distinct().Take(8).ToList();
        return new QuerySpec
        {
            DatasetId = Dataset.Id,
            Filter = Filter([.. marks]),
            Columns = columns,
            DistinctCustomers = true,
            Sort = [new SortBy(key.Name)],
            Limit = MaxUnderlying + 1,
        };
    }

    /// <summary>
    /// The values a category filter offers on one dataset, most frequent first, given every other active filter (the
    /// values that would still show rows). Null when the filter does not apply to the dataset.
    /// </summary>
    public static QuerySpec? FilterValues(QueryDataset dataset, IReadOnlyList<DashboardFilter> filters, int index, DateOnly today)
    {
        var filter = filters[index];
        if (!DashboardFilters.Applies(filter, dataset))
        {
            return null;
        }
        var others = filters.Where((_, i) => i != index).Select(f => DashboardFilters.Condition(f, dataset, today)).OfType<RuleNode>().ToList();
        others.Add(new FieldCondition { Field = filter.Column, Operator = RuleOperator.IsNotEmpty });
        return new QuerySpec
        {
            DatasetId = dataset.Id,
            Filter = new RuleGroup { Children = others },
            GroupBy = [new GroupBy(filter.Column, null, "value")],
            Measures = [new Measure(MeasureKind.Count, "rows")],
            Sort = [new SortBy("rows", Descending: true), new SortBy("value")],
            Limit = MaxFilterValues,
        };
    }

    // ----- drilling -----

    private (IReadOnlyList<TileDimension> Grouping, IReadOnlyList<RuleNode> Conditions, bool CanDrill) ResolveDrill()
    {
        var grouping = Tile.Dimensions.Select(Normalize).ToList();
        var drillable = grouping.Count > 0 && TileKinds.Of(Tile.Type).Has(TileTraits.Drills);
        if (!drillable)
        {
            return _context.Drill.Count == 0 ? (grouping, [], false) : throw new PortalException("This tile cannot drill down.");
        }
        var levels = Levels(grouping[0]);
        var conditions = new List<RuleNode>();
        var depth = 0;
        foreach (var step in _context.Drill)
        {
            var level = levels[depth];
            if (depth + 1 >= levels.Count || step.Column != level.Column || step.Bucket != level.Bucket)
            {
                throw new PortalException("The drill path no longer matches this tile. Go back to the top and drill again.");
            }
            conditions.Add(Marks.Condition(FieldOf(level), level, step.Value)
                ?? throw new PortalException($"“{step.Value}” is not a value of {level.Column} to drill into."));
            depth++;
        }
        grouping[0] = levels[depth];
        return (grouping, conditions, depth + 1 < levels.Count);
    }

    /// <summary>A date without a period is grouped by day, so every level of a date is a period.</summary>
    private TileDimension Normalize(TileDimension dimension) =>
        dimension.Bucket is null && dimension.BinWidth is null && Dataset.Field(dimension.Column)?.Kind == FieldKind.Date
            ? dimension with { Bucket = DateBucket.Day }
            : dimension;

    /// <summary>The levels a dimension drills through: a date's periods from its own down to days, or its hierarchy's columns.</summary>
    private IReadOnlyList<TileDimension> Levels(TileDimension top)
    {
        if (top.Bucket is { } bucket)
        {
            var levels = new List<TileDimension> { top with { Hierarchy = null } };
            for (var finer = Periods.Finer(bucket); finer is { } b; finer = Periods.Finer(b))
            {
                levels.Add(new TileDimension(top.Column, b));
            }
            return levels;
        }
        if (top.BinWidth is not null || top.Hierarchy is not { Count: > 0 } hierarchy)
        {
            return [top];
        }
        var columns = hierarchy[0] == top.Column ? hierarchy : [top.Column, .. hierarchy];
        return columns.Distinct().Select(c => Normalize(new TileDimension(c))).ToList();
    }
}
