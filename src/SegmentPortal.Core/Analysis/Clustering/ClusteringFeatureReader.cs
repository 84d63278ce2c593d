using SegmentPortal.Core.Access;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// A run's input read through the query layer (so the runner's data rules apply): one row per customer of the dataset
/// (or of the segment), the chosen fields and order measures, into one array per feature.
/// </summary>
public sealed class ClusteringFeatureReader(Authorizer access, QueryService queries)
{
    /// <summary>One row per customer of the input (the segment's members when there is one), with the features in order.</summary>
    internal async Task<(IReadOnlyList<object> Keys, ClusteringData Data, ColumnType KeyType)> LoadAsync(ClusteringRequest request, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(request.DatasetId, cancellationToken);
        var key = dataset.CustomerKey
            ?? throw new PortalException($"{dataset.Name} has no Customer ID column.");
        var fields = request.Features.Where(f => f.Source == FeatureSource.Field).Select(f => f.Field!).Distinct().ToList();
        var measures = request.Features.Select((f, i) => (f, i)).Where(x => x.f.Source == FeatureSource.Orders)
            .Select(x => new FactColumn($"m{x.i}", x.f.Measure!.Value, Column: x.f.Column, Values: x.f.Value is null ? null : [x.f.Value])).ToList();
        // Read row by row into one array per feature (typed reads, no boxed feature values, no array per customer), still
        // compiled by the query layer with the runner's data rules.
        var keys = new List<object>();
        var d = request.Features.Count;
        var columns = new double[d][];
        for (var f = 0; f < d; f++)
        {
            columns[f] = new double[1024];
        }
        var count = 0;
        int[]? featureIndex = null;
        Func<DuckDB.NET.Data.DuckDBDataReader, int, double>[]? readers = null;
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = dataset.Id,
            Filter = new RuleGroup
            {
                Children = [new FieldCondition { Field = key.Name, Operator = RuleOperator.IsNotEmpty },
                    .. request.SegmentId is { } segmentId ? new RuleNode[] { new SegmentCondition { SegmentId = segmentId } } : []],
            },
            Columns = [key.Name, .. fields],
            Facts = measures,
            DistinctCustomers = true,
            Limit = ClusteringService.MaxCustomers + 1,
        }, (names, reader) =>
        {
            if (featureIndex is null || readers is null)
            {
                var columnIndex = names.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
                featureIndex = request.Features.Select((f, i) => f.Source == FeatureSource.Field ? columnIndex[f.Field!] : columnIndex[$"m{i}"]).ToArray();
                readers = featureIndex.Select(i => NumberReader(reader.GetFieldType(i))).ToArray();
            }
            if (d > 0 && count == columns[0].Length)
            {
                for (var f = 0; f < d; f++)
                {
                    Array.Resize(ref columns[f], count * 2);
                }
            }
            keys.Add(reader.GetValue(0));
            for (var f = 0; f < d; f++)
            {
                var column = featureIndex[f];
                columns[f][count] = reader.IsDBNull(column) ? double.NaN : readers[f](reader, column);
            }
            count++;
        }, cancellationToken);
        if (count > ClusteringService.MaxCustomers)
        {
            throw new PortalException($"Clustering takes up to {ClusteringService.MaxCustomers:N0} customers; choose a segment to narrow it down.");
        }
        return (keys, new ClusteringData(request.Features.Select(ClusteringService.SpecOf).ToList(), columns, count), key.Type);
    }

    /// <summary>A typed read of a number column (the value <see cref="QueryValue.ToDouble"/> gives, without boxing it).</summary>
    private static Func<DuckDB.NET.Data.DuckDBDataReader, int, double> NumberReader(Type type) =>
        type == typeof(double) ? (r, i) => r.GetDouble(i)
        : type == typeof(long) ? (r, i) => r.GetInt64(i)
        : type == typeof(int) ? (r, i) => r.GetInt32(i)
        : type == typeof(float) ? (r, i) => r.GetFloat(i)
        : (r, i) => QueryValue.ToDouble(r.GetValue(i)) ?? double.NaN;
}
