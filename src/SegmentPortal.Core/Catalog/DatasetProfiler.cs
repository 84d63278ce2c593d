using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Catalog;

public sealed record DatasetPreview(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, long TotalRows);

/// <summary>
/// A dataset as the current user may see it: the columns that exist for them (masked ones as text), the rows they may
/// see, and whether they may change its columns, roles, cleaning and relationships (its owner or an Admin).
/// </summary>
public sealed record DatasetOverview(IReadOnlyList<QueryField> Columns, long Rows, bool CanChange);

public sealed record ValueCount(string Value, long Count);

/// <summary>One bar of a distribution; numeric bins also carry their start so charts can use a numeric axis.</summary>
public sealed record HistogramBin(string Label, long Count, double? Start = null);

public sealed record ColumnProfile(
    string Name,
    ColumnType Type,
    string WarehouseType,
    long Rows,
    long Nulls,
    long Distinct,
    string? Min,
    string? Max,
    IReadOnlyList<ValueCount> TopValues,
    IReadOnlyList<HistogramBin> Histogram)
{
    public double NullShare => Rows == 0 ? 0 : Nulls / (double)Rows;

    /// <summary>How much is missing as profiling tools say it: the count of the rows and the share, e.g. "24 of 2,240 (1.1%)".</summary>
    public string MissingText
    {
        get
        {
            var culture = System.Globalization.CultureInfo.InvariantCulture;
            var share = Nulls == 0 ? "0%" : NullShare < 0.001 ? "<0.1%" : NullShare > 0.999 && Nulls < Rows ? ">99.9%" : (NullShare * 100).ToString("0.#", culture) + "%";
            return $"{Nulls.ToString("N0", culture)} of {Rows.ToString("N0", culture)} ({share})";
        }
    }
}

/// <summary>
/// Looks at a dataset the way an analyst does before trusting it: the first rows, and per column its type, how much is
/// missing, how many distinct values, the range, the commonest values and the shape of the distribution. Every number
/// comes through the query layer, so a user with row or column rules sees only their rows, no hidden column, and
/// masked values masked. One scan for the summary of every column (exact distinct counts: estimates can be far off on
/// IDs), one for the bins of every number column, and one small grouped query per column for its commonest values or
/// its dates.
/// </summary>
public sealed class DatasetProfiler(ICurrentUser currentUser, Authorizer access, PermissionPolicy policy, QueryService queries)
{
    public const int PreviewRows = 200;
    private const int Bins = 20;
    private const int TopCount = 10;

    public async Task<DatasetPreview> PreviewAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var view = await policy.DescribeAsync(dataset, cancellationToken);
        var rows = await queries.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Columns = view.OwnFields.Select(f => f.Name).ToList(),
            Limit = PreviewRows,
        }, cancellationToken);
        // A live dataset's stored row count is only the source's estimate at its last column read: count it there.
        var total = view.IsRestricted || dataset.Storage == DatasetStorage.Live ? await CountAsync(datasetId, cancellationToken) : dataset.RowCount;
        return new DatasetPreview(rows.Columns, rows.Rows, total);
    }

    public async Task<DatasetOverview> OverviewAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var view = await policy.DescribeAsync(dataset, cancellationToken);
        var rows = view.IsRestricted || dataset.Storage == DatasetStorage.Live ? await CountAsync(datasetId, cancellationToken) : dataset.RowCount;
        return new DatasetOverview(view.OwnFields.ToList(), rows, Authorizer.CanChange(await currentUser.GetPrincipalAsync(), dataset));
    }

    /// <summary>The rows of a dataset the current user may see (their row rules applied).</summary>
    public async Task<long> CountAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var result = await queries.RunAsync(new QuerySpec { DatasetId = datasetId, Measures = [new Measure(MeasureKind.Count, "rows")] }, cancellationToken);
        return Whole(result.Scalar("rows"));
    }

    public async Task<IReadOnlyList<ColumnProfile>> ProfileAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var view = await policy.DescribeAsync(dataset, cancellationToken);
        var fields = view.OwnFields.ToList();
        if (fields.Count == 0)
        {
            return [];
        }

        var measures = new List<Measure> { new(MeasureKind.Count, "rows") };
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            measures.Add(new Measure(MeasureKind.Count, $"p{i}", Where: NotEmpty(field.Name)));
            measures.Add(new Measure(MeasureKind.CountDistinct, $"d{i}", field.Name));
            if (field.Kind != FieldKind.Boolean)
            {
                measures.Add(new Measure(MeasureKind.Min, $"lo{i}", field.Name));
                measures.Add(new Measure(MeasureKind.Max, $"hi{i}", field.Name));
            }
        }
        var summary = await queries.RunAsync(new QuerySpec { DatasetId = datasetId, Measures = measures }, cancellationToken);
        var rows = Whole(summary.Scalar("rows"));
        var stats = fields.Select((field, i) =>
        {
            var present = Whole(summary.Scalar($"p{i}"));
            var bounded = field.Kind != FieldKind.Boolean;
            return new Summary(field, present, Math.Min(present, Whole(summary.Scalar($"d{i}"))),
                bounded ? summary.Scalar($"lo{i}") : null, bounded ? summary.Scalar($"hi{i}") : null);
        }).ToList();

        var binned = stats.Where(s => s.Present > 0 && s.Field.Kind == FieldKind.Number && s.Distinct > Bins).ToList();
        var histograms = await NumericHistogramsAsync(datasetId, binned, cancellationToken);

        var storedTypes = dataset.Columns.ToDictionary(c => c.Name, c => c.WarehouseType, StringComparer.Ordinal);
        var profiles = new List<ColumnProfile>(fields.Count);
        foreach (var s in stats)
        {
            var field = s.Field;
            var top = s.Present == 0 ? [] : await TopValuesAsync(datasetId, field, cancellationToken);
            var histogram = s.Present == 0 ? [] : histograms.TryGetValue(field.Name, out var bins) ? bins
                : field.Kind == FieldKind.Date ? await DateHistogramAsync(datasetId, field, s, cancellationToken)
                : top.Select(t => new HistogramBin(t.Value, t.Count)).ToList();
            var warehouseType = field.Treatment == ColumnTreatment.Visible ? storedTypes.GetValueOrDefault(field.Name, "VARCHAR") : "VARCHAR";
            profiles.Add(new ColumnProfile(field.Name, field.Type, warehouseType, rows, rows - s.Present, s.Distinct,
                Text(s.Min, field.Type), Text(s.Max, field.Type), top.Take(5).ToList(), histogram));
        }
        return profiles;
    }

    private sealed record Summary(QueryField Field, long Present, long Distinct, object? Min, object? Max);

    private static RuleGroup NotEmpty(string column) =>
        new() { Children = [new FieldCondition { Field = column, Operator = RuleOperator.IsNotEmpty }] };

    private async Task<List<ValueCount>> TopValuesAsync(int datasetId, QueryField field, CancellationToken cancellationToken)
    {
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = NotEmpty(field.Name),
            GroupBy = [new GroupBy(field.Name, Alias: "value")],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("n", Descending: true), new SortBy("value")],
            Limit = TopCount,
        }, cancellationToken);
        return result.Rows.Select(r => new ValueCount(Text(r[0], field.Type) ?? "", Whole(r[1]))).ToList();
    }

    /// <summary>
    /// Twenty equal bins from each number column's lowest to its highest value (the last bin holds the highest), all
    /// columns' bins counted in one scan as filtered counts.
    /// </summary>
    private async Task<Dictionary<string, IReadOnlyList<HistogramBin>>> NumericHistogramsAsync(
        int datasetId, IReadOnlyList<Summary> columns, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, IReadOnlyList<HistogramBin>>(StringComparer.Ordinal);
        var measures = new List<Measure>();
        var ranges = new List<(Summary Column, double Min, double Width)>();
        foreach (var column in columns)
        {
            var min = QueryValue.ToDouble(column.Min) ?? 0;
            var max = QueryValue.ToDouble(column.Max) ?? 0;
            var width = (max - min) / Bins;
            if (width <= 0 || !double.IsFinite(width))
            {
                result[column.Field.Name] = [new HistogramBin(Format(min), 0)];
                continue;
            }
            var index = ranges.Count;
            ranges.Add((column, min, width));
            for (var b = 0; b < Bins; b++)
            {
                var low = new FieldCondition { Field = column.Field.Name, Operator = RuleOperator.GreaterOrEqual, Value = Exact(min + b * width) };
                var high = b == Bins - 1
                    ? new FieldCondition { Field = column.Field.Name, Operator = RuleOperator.LessOrEqual, Value = Exact(max) }
                    : new FieldCondition { Field = column.Field.Name, Operator = RuleOperator.Less, Value = Exact(min + (b + 1) * width) };
                measures.Add(new Measure(MeasureKind.Count, $"h{index}_{b}", Where: new RuleGroup { Children = [b == 0 ? Lowest(column.Field.Name) : low, high] }));
            }
        }
        if (measures.Count == 0)
        {
            return result;
        }
        var counts = await queries.RunAsync(new QuerySpec { DatasetId = datasetId, Measures = measures }, cancellationToken);
        for (var i = 0; i < ranges.Count; i++)
        {
            var (column, min, width) = ranges[i];
            result[column.Field.Name] = Enumerable.Range(0, Bins)
                .Select(b => new HistogramBin($"{Format(min + b * width)}–{Format(min + (b + 1) * width)}", Whole(counts.Scalar($"h{i}_{b}")),
                    min + (b + 0.5) * width))
                .ToList();
        }
        return result;
    }

    /// <summary>The first bin starts at the lowest value itself (no rounding of the edge can leave it out).</summary>
    private static FieldCondition Lowest(string column) => new() { Field = column, Operator = RuleOperator.IsNotEmpty };

    private async Task<List<HistogramBin>> DateHistogramAsync(int datasetId, QueryField field, Summary summary, CancellationToken cancellationToken)
    {
        var span = AsDate(summary.Min) is { } from && AsDate(summary.Max) is { } to ? to.ToDateTime(TimeOnly.MinValue) - from.ToDateTime(TimeOnly.MinValue) : TimeSpan.Zero;
        var (bucket, format) = span.TotalDays switch
        {
            > 3650 => (DateBucket.Year, "yyyy"),
            > 60 => (DateBucket.Month, "yyyy-MM"),
            _ => (DateBucket.Day, "yyyy-MM-dd"),
        };
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = NotEmpty(field.Name),
            GroupBy = [new GroupBy(field.Name, bucket, "bucket")],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("bucket")],
        }, cancellationToken);
        return result.Rows.Where(r => AsDate(r[0]) is not null)
            .Select(r => new HistogramBin(AsDate(r[0])!.Value.ToString(format, CultureInfo.InvariantCulture), Whole(r[1]))).ToList();
    }

    private static DateOnly? AsDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.DateTime),
        _ => null,
    };

    /// <summary>A value as the profile shows it: dates as yyyy-MM-dd, timestamps with their time, numbers invariant.</summary>
    private static string? Text(object? value, ColumnType type) => value switch
    {
        null or DBNull => null,
        DateTime t when type == ColumnType.Timestamp => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateTimeOffset o when type == ColumnType.Timestamp => o.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        System.Numerics.BigInteger big => big.ToString(CultureInfo.InvariantCulture),
        _ => QueryValue.ToText(value),
    };

    private static long Whole(object? value) => (long)(QueryValue.ToDouble(value) ?? 0);

    private static string Exact(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Format(double value) =>
        Math.Abs(value) >= 1000 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.##", CultureInfo.InvariantCulture);
}
