using SegmentPortal.Core.Access;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

public sealed partial class TileDataService
{
    public const string NotOfferedMessage = "That value is not offered on this dashboard.";

    /// <summary>
    /// Refuses what a viewer's session sends that the dashboard could never have offered them: category filter values,
    /// cross-filter values and drill steps on category columns must be values of that column in the rows the user may
    /// see (of a dataset on the dashboard), on a column they may see; a cross-filter must come from a tile of the
    /// dashboard. Values the dashboard itself saved count as offered. Date periods, number bins and numeric or date
    /// ranges are not lists of offered values: they are accepted as sent (the row rules still decide which rows match).
    /// The look-ups run through the query layer, so they are cached like any other query.
    /// </summary>
    private async Task RequireOfferedAsync(DashboardView dashboard, DashboardState state, CancellationToken cancellationToken)
    {
        if (state.Filters is not null || state.CrossFilter is not null || state.Drill.Count > 0)
        {
            dashboard = await WithMetricsAsync(dashboard, cancellationToken);
        }
        var datasets = new Dictionary<int, QueryDataset?>();
        async Task<QueryDataset?> Dataset(int id)
        {
            if (!datasets.TryGetValue(id, out var dataset))
            {
                datasets[id] = dataset = await TryDescribeAsync(id, cancellationToken);
            }
            return dataset;
        }
        async Task<IReadOnlyList<QueryDataset>> WithField(string column)
        {
            var found = new List<QueryDataset>();
            foreach (var id in dashboard.Tiles.Where(t => TileKinds.Of(t.Type).ReadsDataset).Select(t => t.DatasetId).OfType<int>().Distinct())
            {
                if (await Dataset(id) is { } dataset && dataset.Field(column) is not null)
                {
                    found.Add(dataset);
                }
            }
            return found;
        }

        if (state.Filters is { } filters)
        {
            foreach (var filter in filters.OfType<CategoryFilter>().Where(f => f.IsActive))
            {
                var saved = dashboard.Filters.OfType<CategoryFilter>().Where(f => f.Column == filter.Column).SelectMany(f => f.Values).ToHashSet(StringComparer.Ordinal);
                var sent = filter.Values.Where(v => !string.IsNullOrEmpty(v) && !saved.Contains(v)).Distinct(StringComparer.Ordinal).ToList();
                await RequireValuesAsync(await WithField(filter.Column), filter.Column, sent, cancellationToken);
            }
        }

        if (state.CrossFilter is { } cross)
        {
            var source = dashboard.Tiles.FirstOrDefault(t => t.Id == cross.SourceTileId) ?? throw new PortalException(NotOfferedMessage);
            var candidates = await WithField(cross.Column);
            if (source.DatasetId is not { } sourceId || await Dataset(sourceId) is not { } sourceData || sourceData.Field(cross.Column) is null)
            {
                throw new PortalException(NotOfferedMessage);
            }
            if (cross.Bucket is null && cross.BinWidth is null && cross.Value is { } value)
            {
                await RequireValuesAsync(candidates, cross.Column, [value], cancellationToken);
            }
        }

        foreach (var (tileId, path) in state.Drill)
        {
            var tile = dashboard.Tiles.FirstOrDefault(t => t.Id == tileId);
            if (path.Count == 0)
            {
                continue;
            }
            if (tile?.DatasetId is not { } id || await Dataset(id) is not { } dataset)
            {
                throw new PortalException(NotOfferedMessage);
            }
            foreach (var step in path)
            {
                if (dataset.Field(step.Column) is null)
                {
                    throw new PortalException(NotOfferedMessage);
                }
                if (step.Bucket is null && step.Value is { } value)
                {
                    await RequireValuesAsync([dataset], step.Column, [value], cancellationToken);
                }
            }
        }
    }

    /// <summary>Every value must be a value of the column in at least one of the datasets, in the rows the user may see.</summary>
    private async Task RequireValuesAsync(IReadOnlyList<QueryDataset> datasets, string column, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        if (values.Count == 0)
        {
            return;
        }
        if (datasets.Count == 0)
        {
            throw new PortalException(NotOfferedMessage);
        }
        var missing = values.ToHashSet(StringComparer.Ordinal);
        foreach (var dataset in datasets)
        {
            var field = dataset.Field(column)!;
            if (field.Kind is not (FieldKind.Category or FieldKind.Text))
            {
                // Numbers, dates and booleans are not offered as lists; the row rules decide what matches.
                return;
            }
            var result = await RunAsync(new QuerySpec
            {
                DatasetId = dataset.Id,
                Filter = new RuleGroup { Children = [new FieldCondition { Field = column, Operator = RuleOperator.In, Values = [.. missing] }] },
                GroupBy = [new GroupBy(column, Alias: "value")],
                Measures = [new Measure(MeasureKind.Count, "n")],
            }, cancellationToken);
            missing.ExceptWith(result.Rows.Select(r => MarkValue.Text(r[0])).OfType<string>());
            if (missing.Count == 0)
            {
                return;
            }
        }
        throw new PortalException(NotOfferedMessage);
    }
}
