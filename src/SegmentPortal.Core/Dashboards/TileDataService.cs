using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// A tile's data, ready to draw. Every request checks the board again first (its share, or the public link: see
/// <see cref="ServeAsync"/>), then reads through <see cref="QueryService"/> (so dataset grants, row rules, the timeout
/// and the result cache apply) or through the analysis services for tiles that show their results.
/// </summary>
public sealed partial class TileDataService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    QueryFusion fusion,
    SegmentService segments,
    RfmService rfm,
    ClusteringService clustering,
    Analysis.Churn.ChurnService churn,
    Analysis.Lifetime.LifetimeService lifetime,
    Analysis.Survival.SurvivalService survival,
    Sharing.PublicLinkService links,
    Access.DataRuleStore ruleStore,
    Metrics.MetricService metrics,
    TimeProvider clock)
{
    private DateOnly Today => DateOnly.FromDateTime(clock.GetLocalNow().DateTime);

    public Task<TileData> LoadAsync(DashboardView dashboard, TileDefinition tile, DashboardState state, CancellationToken cancellationToken = default) =>
        ServeAsync(dashboard, _ => LoadCheckedAsync(dashboard, tile, state, cancellationToken), cancellationToken);

    private async Task<TileData> LoadCheckedAsync(DashboardView dashboard, TileDefinition tile, DashboardState state, CancellationToken cancellationToken)
    {
        await RequireOfferedAsync(dashboard, state, cancellationToken);
        var kind = TileKinds.Of(tile.Type);
        if (!kind.ReadsDataset)
        {
            var data = kind.Source switch
            {
                TileSource.Markdown => new TileData(tile.Type, [], [], []) { Markdown = tile.Markdown },
                TileSource.SegmentHistory => await SegmentSizeAsync(tile, cancellationToken),
                TileSource.RfmAnalysis => await RfmGridAsync(tile, cancellationToken),
                TileSource.ChurnRun => await LifecycleStagesAsync(tile, cancellationToken),
                TileSource.LifetimeAnalysis when tile.Type == TileType.AliveMatrix => await AliveMatrixAsync(tile, cancellationToken),
                TileSource.LifetimeAnalysis => await ClvDistributionAsync(tile, cancellationToken),
                TileSource.SurvivalAnalysis => await SurvivalCurvesAsync(tile, cancellationToken),
                _ => await ClusterProfileAsync(tile, cancellationToken),
            };
            // These show saved results, not rows: no dashboard filter narrows them.
            return data with { FiltersNotApplied = Enumerable.Range(0, (state.Filters ?? dashboard.Filters).Count).ToList() };
        }
        var shown = await WithMetricAsync(tile, cancellationToken);
        if (shown.MetricMissing)
        {
            return new TileData(tile.Type, [], [], []) { Notice = MetricTiles.MissingMessage };
        }
        var builder = await BuilderAsync(dashboard, tile, state, cancellationToken, shown);
        var result = tile.Type switch
        {
            TileType.Kpi => await KpiAsync(builder, cancellationToken),
            TileType.Histogram => await HistogramAsync(builder, cancellationToken),
            TileType.Box => await BoxAsync(builder, cancellationToken),
            TileType.Table => await TableAsync(builder, cancellationToken),
            TileType.Pivot => await PivotAsync(builder, cancellationToken),
            TileType.CompareSegments => await CompareSegmentsAsync(builder, cancellationToken),
            TileType.Cohort => await CohortAsync(builder, cancellationToken),
            _ => await ChartAsync(builder, cancellationToken),
        };
        return result with
        {
            Grouping = result.Grouping.Count > 0 ? result.Grouping : builder.Grouping,
            CanDrill = builder.CanDrill,
            FiltersNotApplied = builder.FiltersNotApplied,
            Metric = shown.Metric,
        };
    }

    /// <summary>A tile as it loads: one showing a metric gets the metric's current definition (see <see cref="MetricTiles"/>).</summary>
    private sealed record ShownTile(TileDefinition Tile, TileMetric? Metric, bool MetricMissing);

    private async Task<ShownTile> WithMetricAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        _ = Checked;
        if (!MetricTiles.ShowsMetric(tile))
        {
            return new ShownTile(tile, null, false);
        }
        return await metrics.FindAsync(tile.MetricId!.Value, cancellationToken) is { } metric
            ? new ShownTile(MetricTiles.Apply(tile, metric, Today), MetricTiles.Describe(metric), false)
            // Nothing to read: the tile names no dataset, so no filter, value list or customer list reaches one.
            : new ShownTile(tile with { DatasetId = null, SegmentId = null, Measures = [] }, null, true);
    }

    /// <summary>The board with its metric tiles as they load (for the filters and values offered, and which tiles a filter narrows).</summary>
    private async Task<DashboardView> WithMetricsAsync(DashboardView dashboard, CancellationToken cancellationToken)
    {
        if (!dashboard.Tiles.Any(MetricTiles.ShowsMetric))
        {
            return dashboard;
        }
        var tiles = new List<TileDefinition>();
        foreach (var tile in dashboard.Tiles)
        {
            tiles.Add((await WithMetricAsync(tile, cancellationToken)).Tile);
        }
        return dashboard with { Tiles = tiles };
    }

    /// <summary>For each filter in force, the tiles it does not narrow (their dataset has no such field, or they show saved results).</summary>
    public Task<IReadOnlyList<FilterCoverage>> CoverageAsync(DashboardView dashboard, DashboardState? state = null, CancellationToken cancellationToken = default) =>
        ServeAsync(dashboard, _ => CoverageCheckedAsync(dashboard, state, cancellationToken), cancellationToken);

    private async Task<IReadOnlyList<FilterCoverage>> CoverageCheckedAsync(DashboardView dashboard, DashboardState? state, CancellationToken cancellationToken)
    {
        dashboard = await WithMetricsAsync(dashboard, cancellationToken);
        var filters = state?.Filters ?? dashboard.Filters;
        var datasets = new Dictionary<string, QueryDataset?>();
        foreach (var tile in dashboard.Tiles)
        {
            datasets[tile.Id] = TileKinds.Of(tile.Type).ReadsDataset && tile.DatasetId is { } id ? await DescribeAsync(id, cancellationToken) : null;
        }
        return filters.Select((filter, i) => new FilterCoverage(i, filter,
            dashboard.Tiles.Where(t => datasets[t.Id] is not { } d || !DashboardFilters.Applies(filter, d)).Select(t => t.Id).ToList())).ToList();
    }

    private async Task<TileQueryBuilder> BuilderAsync(
        DashboardView dashboard, TileDefinition tile, DashboardState state, CancellationToken cancellationToken, ShownTile? shown = null)
    {
        shown ??= await WithMetricAsync(tile, cancellationToken);
        if (shown.MetricMissing)
        {
            throw new PortalException(MetricTiles.MissingMessage);
        }
        tile = shown.Tile;
        var dataset = await DescribeAsync(tile.DatasetId ?? throw new PortalException("This tile has no dataset."), cancellationToken);
        return new TileQueryBuilder(tile, dataset, TileContext.Of(dashboard.Filters, tile, state, Today));
    }

    /// <summary>The dataset as the current user may read it (its fields, with analysis fields on it).</summary>
    private async Task<QueryDataset> DescribeAsync(int datasetId, CancellationToken cancellationToken)
    {
        _ = Checked;
        return await policy.DescribeAsync(await access.RequireReadableAsync(datasetId, cancellationToken), cancellationToken);
    }

    /// <summary>One query of a tile; on a board load (<see cref="LoadBoard"/>) it waits to run fused with the other tiles' queries.</summary>
    private async Task<QueryResult> RunAsync(QuerySpec spec, CancellationToken cancellationToken)
    {
        _ = Checked;
        return CurrentBatch.Value is null ? await queries.RunAsync(spec, cancellationToken) : (await RunManyAsync([spec], cancellationToken))[0];
    }

    private static TileData Data(TileQueryBuilder builder, IReadOnlyList<object?[]> rows, IReadOnlyList<string>? measures = null) =>
        new(builder.Tile.Type, builder.DimensionNames, measures ?? builder.MeasureNames, rows);

    // ----- charts of categories -----

    /// <summary>Bar, line, area, pie, funnel, treemap, heatmap and scatter: grouped by one or two dimensions, with top N.</summary>
    private async Task<TileData> ChartAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        if (builder.HasTopN)
        {
            return await TopAsync(builder, cancellationToken);
        }
        var result = await RunAsync(builder.Grouped(), cancellationToken);
        var limit = builder.Grouping.Count > 1 ? TileQueryBuilder.MaxCells : TileQueryBuilder.MaxCategories;
        var rows = TileRows.Read(result, builder.Grouping.Count, builder.Tile.Measures, limit, out var truncated);
        return Data(builder, SortInMemory(builder, rows)) with { Truncated = truncated };
    }

    /// <summary>Rows sorted by a ratio (which the warehouse does not compute), in the tile's direction.</summary>
    private static List<object?[]> SortInMemory(TileQueryBuilder builder, List<object?[]> rows)
    {
        if (!builder.SortsInMemory)
        {
            return rows;
        }
        var (index, descending) = builder.RankMeasure;
        return TileRows.Sort(rows, [(builder.Grouping.Count + index, descending), .. builder.Grouping.Select((_, i) => (i, false))]);
    }

    /// <summary>
    /// The top N categories of the first dimension by the ranking measure, and the rest as "Other", measured again over
    /// the rest's rows (so averages, medians and distinct counts are exact, not a total minus the top).
    /// </summary>
    private async Task<TileData> TopAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var tile = builder.Tile;
        var top = await TopRowsAsync(builder, cancellationToken);
        var topValues = top.Rows.Select(r => MarkValue.Text(r[0])).ToList();
        List<object?[]> rows;
        var truncated = top.Truncated;
        // The rows within the top values (two groupings) and the "Other" rows are asked together, so they can be fused.
        var withOther = tile.OtherBucket && top.MoreExist && topValues.Count > 0;
        var asked = new List<QuerySpec>();
        if (builder.Grouping.Count > 1)
        {
            asked.Add(builder.WithinTop(topValues));
        }
        if (withOther)
        {
            asked.Add(builder.Other(topValues));
        }
        var next = await RunManyAsync(asked, cancellationToken);
        if (builder.Grouping.Count == 1)
        {
            rows = DisplayOrder(builder, top.Rows);
        }
        else
        {
            var within = next[0];
            rows = SortInMemory(builder, TileRows.Read(within, builder.Grouping.Count, tile.Measures, TileQueryBuilder.MaxCells, out var cut));
            truncated |= cut;
        }
        var hasOther = false;
        if (withOther)
        {
            var other = next[^1];
            var rest = TileRows.Read(other, builder.Grouping.Count - 1, tile.Measures, TileQueryBuilder.MaxCategories, out _)
                .Where((_, i) => Convert.ToInt64(other.Rows[i][other.Index("rows")] ?? 0L, System.Globalization.CultureInfo.InvariantCulture) > 0)
                .Select(r => (object?[])[TileQueryBuilder.OtherLabel, .. r]).ToList();
            rows.AddRange(rest);
            hasOther = rest.Count > 0;
        }
        return Data(builder, rows) with { Truncated = truncated, HasOther = hasOther };
    }

    private sealed record TopRows(List<object?[]> Rows, bool MoreExist, bool Truncated);

    /// <summary>The top categories (with every measure when there is one dimension), and whether any are left over.</summary>
    private async Task<TopRows> TopRowsAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var n = builder.Tile.TopN!.Value;
        var (rankIndex, descending) = builder.RankMeasure;
        var single = builder.Grouping.Count == 1;
        var measures = single ? builder.Tile.Measures : [builder.Tile.Measures[rankIndex]];
        var result = await RunAsync(builder.Top(), cancellationToken);
        var rows = TileRows.Read(result, 1, measures, TileQueryBuilder.MaxCategories, out var truncated);
        if (builder.Tile.Measures[rankIndex].Kind != TileMeasureKind.Ratio)
        {
            // The warehouse ranked and cut at N; N rows back means there may be more.
            return new TopRows(rows, rows.Count >= n, false);
        }
        var ranked = TileRows.Sort(rows, [(1 + (single ? rankIndex : 0), descending), (0, false)]);
        return new TopRows(ranked.Take(n).ToList(), ranked.Count > n, truncated);
    }

    /// <summary>Top rows come ranked by the measure; shown in the tile's order when that is by dimension.</summary>
    private static List<object?[]> DisplayOrder(TileQueryBuilder builder, List<object?[]> rows)
    {
        var positions = builder.DisplayPositions();
        return positions.Count == 0 || positions[0].Position >= builder.Grouping.Count ? rows : TileRows.Sort(rows, positions);
    }
}
