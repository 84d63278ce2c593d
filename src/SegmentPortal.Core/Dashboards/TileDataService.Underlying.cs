using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

/// <summary>The customers behind a mark, each once; <see cref="More"/> when there were more than shown.</summary>
public sealed record UnderlyingRows(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, bool More);

/// <summary>A value a category filter offers, with how many rows have it under the other filters.</summary>
public sealed record FilterValue(string Value, long Rows);

public sealed partial class TileDataService
{
    /// <summary>
    /// The customers behind a mark of a tile, under the same filters, cross-filter and drill path as the tile (and the
    /// same permission layer). <paramref name="mark"/> holds the mark's dimension values in row order: for RFM grids
    /// (R, F), cluster profiles (cluster name), cohorts (cohort, months since), compare-segments (segment name, or
    /// category then segment name); a KPI's are its current period.
    /// </summary>
    /// <remarks>
    /// Public-link visitors get them only when their link allows it (off by default), and then with every column that
    /// has a column rule on the dataset masked.
    /// </remarks>
    public Task<UnderlyingRows> UnderlyingAsync(
        DashboardView dashboard, TileDefinition tile, DashboardState state, IReadOnlyList<object?> mark, CancellationToken cancellationToken = default) =>
        ServeAsync(dashboard, board => board.CanViewRows
            ? UnderlyingCheckedAsync(dashboard, tile, state, mark, cancellationToken)
            : throw new PermissionDeniedException(RowsNotOnPublicLinkMessage), cancellationToken);

    private async Task<UnderlyingRows> UnderlyingCheckedAsync(
        DashboardView dashboard, TileDefinition tile, DashboardState state, IReadOnlyList<object?> mark, CancellationToken cancellationToken)
    {
        await RequireOfferedAsync(dashboard, state, cancellationToken);
        var kind = TileKinds.Of(tile.Type);
        var (builder, conditions) = kind.Source switch
        {
            _ when kind.Has(TileTraits.NoCustomers) => throw new PortalException("This tile has no customers behind its marks; open the segment to see its members."),
            TileSource.RfmAnalysis => await RfmMarkAsync(tile, mark, cancellationToken),
            TileSource.ClusteringRun => await ClusterMarkAsync(tile, mark, cancellationToken),
            _ => await DatasetMarkAsync(dashboard, tile, state, mark, cancellationToken),
        };
        var result = await MaskForVisitorAsync(builder.Dataset, await RunAsync(builder.Underlying(conditions), cancellationToken), cancellationToken);
        return new UnderlyingRows(result.Columns, result.Rows.Take(TileQueryBuilder.MaxUnderlying).ToList(), result.Rows.Count > TileQueryBuilder.MaxUnderlying);
    }

    /// <summary>
    /// The values a category filter offers: across the datasets of the dashboard's tiles that have the column, given
    /// every other active filter, most frequent first, at most 200.
    /// </summary>
    public Task<IReadOnlyList<FilterValue>> FilterValuesAsync(
        DashboardView dashboard, int filterIndex, DashboardState? state = null, CancellationToken cancellationToken = default) =>
        ServeAsync(dashboard, _ => FilterValuesCheckedAsync(dashboard, filterIndex, state, cancellationToken), cancellationToken);

    private async Task<IReadOnlyList<FilterValue>> FilterValuesCheckedAsync(
        DashboardView dashboard, int filterIndex, DashboardState? state, CancellationToken cancellationToken)
    {
        dashboard = await WithMetricsAsync(dashboard, cancellationToken);
        var filters = state?.Filters ?? dashboard.Filters;
        if (filterIndex < 0 || filterIndex >= filters.Count || filters[filterIndex] is not CategoryFilter)
        {
            throw new PortalException("Only a category filter offers a list of values.");
        }
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var datasetIds = dashboard.Tiles.Where(t => TileKinds.Of(t.Type).ReadsDataset).Select(t => t.DatasetId).OfType<int>().Distinct();
        foreach (var id in datasetIds)
        {
            if (await TryDescribeAsync(id, cancellationToken) is not { } dataset
                || TileQueryBuilder.FilterValues(dataset, filters, filterIndex, Today) is not { } spec)
            {
                continue;
            }
            var result = await RunAsync(spec, cancellationToken);
            foreach (var row in result.Rows)
            {
                if (MarkValue.Text(row[0]) is { Length: > 0 } value)
                {
                    counts[value] = counts.GetValueOrDefault(value) + Convert.ToInt64(row[1] ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        return counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.OrdinalIgnoreCase)
            .Take(TileQueryBuilder.MaxFilterValues).Select(c => new FilterValue(c.Key, c.Value)).ToList();
    }

    /// <summary>The fields a dashboard filter can use: dates, numbers and categories of the tiles' datasets the user may read.</summary>
    public Task<IReadOnlyList<QueryField>> FilterFieldsAsync(DashboardView dashboard, CancellationToken cancellationToken = default) =>
        ServeAsync(dashboard, _ => FilterFieldsCheckedAsync(dashboard, cancellationToken), cancellationToken);

    private async Task<IReadOnlyList<QueryField>> FilterFieldsCheckedAsync(DashboardView dashboard, CancellationToken cancellationToken)
    {
        dashboard = await WithMetricsAsync(dashboard, cancellationToken);
        var fields = new List<QueryField>();
        foreach (var id in dashboard.Tiles.Where(t => TileKinds.Of(t.Type).ReadsDataset).Select(t => t.DatasetId).OfType<int>().Distinct())
        {
            if (await TryDescribeAsync(id, cancellationToken) is { } dataset)
            {
                fields.AddRange(dataset.Fields.Where(f => f.Kind is not FieldKind.Boolean));
            }
        }
        return fields.DistinctBy(f => f.Name).OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>The dataset as the user may read it, or null when they no longer may.</summary>
    private async Task<QueryDataset?> TryDescribeAsync(int datasetId, CancellationToken cancellationToken)
    {
        _ = Checked;
        return await access.FindReadableAsync(datasetId, cancellationToken) is { } dataset ? await policy.DescribeAsync(dataset, cancellationToken) : null;
    }

    private async Task<(TileQueryBuilder, IReadOnlyList<RuleNode?>)> DatasetMarkAsync(
        DashboardView dashboard, TileDefinition tile, DashboardState state, IReadOnlyList<object?> mark, CancellationToken cancellationToken)
    {
        var builder = await BuilderAsync(dashboard, tile, state, cancellationToken);
        // A tile showing a metric: its date column and period are the metric's.
        tile = builder.Tile;
        switch (tile.Type)
        {
            case TileType.Kpi:
                return (builder, tile.DateColumn is { Length: > 0 } column ? [CurrentPeriod(column, tile.Period)] : []);
            case TileType.Cohort:
                return (builder, Periods.AsDate(mark.ElementAtOrDefault(0)) is { } cohort && TileRows.Number(mark.ElementAtOrDefault(1)) is { } since
                    ? builder.CohortMark(cohort, (int)since)
                    : throw new PortalException("Choose a cohort and a month."));
            case TileType.CompareSegments:
                return (builder, await SegmentMarkAsync(builder, mark, cancellationToken));
            case TileType.Histogram:
                return (builder, [await BinMarkAsync(builder, mark.ElementAtOrDefault(0), cancellationToken)]);
        }
        var conditions = new List<RuleNode?>();
        for (var i = 0; i < Math.Min(mark.Count, builder.Grouping.Count); i++)
        {
            conditions.Add(i == 0 && await OtherMarkAsync(builder, mark[0], cancellationToken) is { } other ? other
                : builder.MarkCondition(i, mark[i]) ?? throw new PortalException($"“{MarkValue.Text(mark[i])}” is not a value of {builder.Grouping[i].Column}."));
        }
        return (builder, conditions);
    }

    private RuleNode CurrentPeriod(string column, DateBucket period)
    {
        var start = Periods.Start(Today, period);
        return new FieldCondition
        {
            Field = column, Operator = RuleOperator.Between, Value = DashboardFilters.Text(start), Value2 = DashboardFilters.Text(Periods.End(start, period)),
        };
    }

    /// <summary>The "Other" mark of a top-N tile: the rows outside the top values (unless a real category is called Other).</summary>
    private async Task<RuleNode?> OtherMarkAsync(TileQueryBuilder builder, object? value, CancellationToken cancellationToken)
    {
        if (!builder.HasTopN || !builder.Tile.OtherBucket || value is not TileQueryBuilder.OtherLabel)
        {
            return null;
        }
        var top = (await TopRowsAsync(builder, cancellationToken)).Rows.Select(r => MarkValue.Text(r[0])).ToList();
        return top.Count == 0 || top.Contains(TileQueryBuilder.OtherLabel) ? null
            : Marks.AnyOf(builder.Dataset.Field(builder.Grouping[0].Column)!, builder.Grouping[0], top, none: true);
    }

    private async Task<RuleNode> BinMarkAsync(TileQueryBuilder builder, object? value, CancellationToken cancellationToken)
    {
        var width = builder.Grouping[0].BinWidth;
        if (width is null)
        {
            var range = await RunAsync(builder.BinRange(), cancellationToken);
            width = TileQueryBuilder.NiceBinWidth(QueryValue.ToDouble(range.Scalar("lo")), QueryValue.ToDouble(range.Scalar("hi")));
        }
        return Marks.Condition(builder.Dataset.Field(builder.Grouping[0].Column)!, null, width, MarkValue.Text(value))
            ?? throw new PortalException("Choose a bin of the histogram.");
    }

    /// <summary>Compare-segments marks: (segment name), or (category, segment name) with a dimension.</summary>
    private async Task<IReadOnlyList<RuleNode?>> SegmentMarkAsync(TileQueryBuilder builder, IReadOnlyList<object?> mark, CancellationToken cancellationToken)
    {
        var conditions = new List<RuleNode?>();
        var segmentValue = mark.ElementAtOrDefault(builder.Grouping.Count > 0 ? 1 : 0);
        if (builder.Grouping.Count > 0 && mark.Count > 0)
        {
            conditions.Add(builder.MarkCondition(0, mark[0]) ?? throw new PortalException($"“{MarkValue.Text(mark[0])}” is not a value of {builder.Grouping[0].Column}."));
        }
        if (segmentValue is not null)
        {
            var text = MarkValue.Text(segmentValue);
            int? match = null;
            foreach (var id in builder.Tile.SegmentIds)
            {
                if ((await segments.GetAsync(id, cancellationToken)).Segment.Name == text)
                {
                    match = id;
                }
            }
            conditions.Add(new SegmentCondition { SegmentId = match ?? throw new PortalException($"“{text}” is not one of the segments compared.") });
        }
        return conditions;
    }

    private async Task<(TileQueryBuilder, IReadOnlyList<RuleNode?>)> RfmMarkAsync(TileDefinition tile, IReadOnlyList<object?> mark, CancellationToken cancellationToken)
    {
        var datasetId = tile.SourceId ?? tile.DatasetId ?? throw new PortalException("Choose the transactions dataset.");
        await rfm.GetAsync(datasetId, cancellationToken);
        if (TileRows.Number(mark.ElementAtOrDefault(0)) is not { } r || TileRows.Number(mark.ElementAtOrDefault(1)) is not { } f)
        {
            throw new PortalException("Choose a cell of the RFM grid.");
        }
        string[] fields = [RfmService.Fields[3].Field, RfmService.Fields[4].Field];
        var builder = await AnalysisBuilderAsync(tile, datasetId, [.. fields, RfmService.GroupField], cancellationToken);
        return (builder,
        [
            new FieldCondition { Field = fields[0], Operator = RuleOperator.Equals, Value = DashboardFilters.Text(r) },
            new FieldCondition { Field = fields[1], Operator = RuleOperator.Equals, Value = DashboardFilters.Text(f) },
        ]);
    }

    private async Task<(TileQueryBuilder, IReadOnlyList<RuleNode?>)> ClusterMarkAsync(TileDefinition tile, IReadOnlyList<object?> mark, CancellationToken cancellationToken)
    {
        var view = await clustering.GetAsync(tile.SourceId ?? throw new PortalException("Choose the clustering run."), cancellationToken);
        var name = MarkValue.Text(mark.ElementAtOrDefault(0));
        var cluster = view.Explanation?.Clusters.FirstOrDefault(c => ClusterName(view.Names, c.Cluster, c.Name) == name)
            ?? throw new PortalException($"“{name}” is not a cluster of this run.");
        var builder = await AnalysisBuilderAsync(tile, view.Request.DatasetId, [view.ClusterNameField], cancellationToken);
        return (builder, [new FieldCondition { Field = view.ClusterField, Operator = RuleOperator.Equals, Value = DashboardFilters.Text(cluster.Cluster + 1) }]);
    }

    /// <summary>A builder over an analysed dataset for listing customers, showing the analysis fields first.</summary>
    private async Task<TileQueryBuilder> AnalysisBuilderAsync(TileDefinition tile, int datasetId, IReadOnlyList<string> fields, CancellationToken cancellationToken)
    {
        var dataset = await DescribeAsync(datasetId, cancellationToken);
        var listing = new TileDefinition
        {
            Id = tile.Id,
            Type = TileType.Table,
            DatasetId = datasetId,
            Dimensions = fields.Where(f => dataset.Field(f) is not null).Select(f => new TileDimension(f)).ToList(),
        };
        return new TileQueryBuilder(listing, dataset, new TileContext { Today = Today });
    }
}
