using System.Globalization;
using DuckDB.NET.Data;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Datasets;

public sealed record DatasetPreview(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, long TotalRows);

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
}

/// <summary>
/// Looks at a dataset the way an analyst does before trusting it: the first rows, and per column its type, how much is
/// missing, how many distinct values, the range, the commonest values and the shape of the distribution. All computed
/// in the warehouse; one scan for the summary (exact distinct counts: estimates can be far off on IDs), one small query per column for its chart.
/// </summary>
public sealed class DatasetProfiler(DatasetAccess access, DuckDbWarehouse warehouse)
{
    public const int PreviewRows = 200;
    private const int Bins = 20;

    public async Task<DatasetPreview> PreviewAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        await using var db = await warehouse.OpenAsync(cancellationToken);
        var columns = await DuckDbWarehouse.DescribeAsync(db, dataset.TableName, cancellationToken);
        var rows = await WarehouseCommand.QueryAsync(db,
            $"SELECT * FROM {WarehouseNames.Quote(dataset.TableName)} LIMIT {PreviewRows}", null, ReadRow, cancellationToken);
        return new DatasetPreview(columns.Select(c => c.Name).ToList(), rows, dataset.RowCount);
    }

    public async Task<IReadOnlyList<ColumnProfile>> ProfileAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        await using var db = await warehouse.OpenAsync(cancellationToken);
        var table = WarehouseNames.Quote(dataset.TableName);
        var columns = await DuckDbWarehouse.DescribeAsync(db, dataset.TableName, cancellationToken);
        if (columns.Count == 0)
        {
            return [];
        }

        var parts = columns.SelectMany(c =>
        {
            var q = WarehouseNames.Quote(c.Name);
            var orderable = c.Type != ColumnType.Boolean;
            return new[]
            {
                $"count({q})",
                $"count(DISTINCT {q})",
                orderable ? $"CAST(min({q}) AS VARCHAR)" : "NULL",
                orderable ? $"CAST(max({q}) AS VARCHAR)" : "NULL",
            };
        });
        var summary = (await WarehouseCommand.QueryAsync(db, $"SELECT count(*), {string.Join(", ", parts)} FROM {table}", null, ReadRow, cancellationToken))[0];
        var rows = Convert.ToInt64(summary[0], CultureInfo.InvariantCulture);

        var profiles = new List<ColumnProfile>(columns.Count);
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            var present = Convert.ToInt64(summary[1 + 4 * i], CultureInfo.InvariantCulture);
            var distinct = Math.Min(present, Convert.ToInt64(summary[2 + 4 * i], CultureInfo.InvariantCulture));
            var min = summary[3 + 4 * i] as string;
            var max = summary[4 + 4 * i] as string;
            var top = await TopValuesAsync(db, table, column, 10, cancellationToken);
            var histogram = present == 0 ? [] : column.Type switch
            {
                ColumnType.Integer or ColumnType.Decimal when distinct > Bins => await NumericHistogramAsync(db, table, column, cancellationToken),
                ColumnType.Date or ColumnType.Timestamp => await DateHistogramAsync(db, table, column, min, max, cancellationToken),
                _ => top.Select(t => new HistogramBin(t.Value, t.Count)).ToList(),
            };
            profiles.Add(new ColumnProfile(column.Name, column.Type, column.WarehouseType, rows, rows - present, distinct, min, max,
                top.Take(5).ToList(), histogram));
        }
        return profiles;
    }

    private static Task<List<ValueCount>> TopValuesAsync(DuckDBConnection db, string table, WarehouseColumn column, int limit, CancellationToken ct)
    {
        var q = WarehouseNames.Quote(column.Name);
        return WarehouseCommand.QueryAsync(db,
            $"SELECT CAST({q} AS VARCHAR) AS v, count(*) AS n FROM {table} WHERE {q} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT {limit}",
            null, r => new ValueCount(r.GetString(0), r.GetInt64(1)), ct);
    }

    private static async Task<List<HistogramBin>> NumericHistogramAsync(DuckDBConnection db, string table, WarehouseColumn column, CancellationToken ct)
    {
        var q = $"CAST({WarehouseNames.Quote(column.Name)} AS DOUBLE)";
        var range = (await WarehouseCommand.QueryAsync(db, $"SELECT min({q}), max({q}) FROM {table}", null,
            r => (Min: r.GetDouble(0), Max: r.GetDouble(1)), ct))[0];
        var width = (range.Max - range.Min) / Bins;
        if (width <= 0 || double.IsNaN(width) || double.IsInfinity(width))
        {
            return [new HistogramBin(Format(range.Min), 0)];
        }
        var counts = await WarehouseCommand.QueryAsync(db,
            $"SELECT least(CAST(floor(({q} - $min) / $width) AS INTEGER), {Bins - 1}) AS bin, count(*) FROM {table} WHERE {q} IS NOT NULL GROUP BY 1",
            new Dictionary<string, object?> { ["min"] = range.Min, ["width"] = width },
            r => (Bin: r.GetInt32(0), Count: r.GetInt64(1)), ct);
        var byBin = counts.ToDictionary(c => c.Bin, c => c.Count);
        return Enumerable.Range(0, Bins)
            .Select(b => new HistogramBin($"{Format(range.Min + b * width)}–{Format(range.Min + (b + 1) * width)}", byBin.GetValueOrDefault(b),
                range.Min + (b + 0.5) * width))
            .ToList();
    }

    private static async Task<List<HistogramBin>> DateHistogramAsync(
        DuckDBConnection db, string table, WarehouseColumn column, string? min, string? max, CancellationToken ct)
    {
        var span = DateTime.TryParse(min, CultureInfo.InvariantCulture, out var from) && DateTime.TryParse(max, CultureInfo.InvariantCulture, out var to)
            ? to - from
            : TimeSpan.Zero;
        var (unit, format) = span.TotalDays switch
        {
            > 3650 => ("year", "yyyy"),
            > 60 => ("month", "yyyy-MM"),
            _ => ("day", "yyyy-MM-dd"),
        };
        var q = WarehouseNames.Quote(column.Name);
        return await WarehouseCommand.QueryAsync(db,
            $"SELECT CAST(date_trunc('{unit}', {q}) AS DATE) AS bucket, count(*) FROM {table} WHERE {q} IS NOT NULL GROUP BY 1 ORDER BY 1",
            null, r => new HistogramBin(r.GetFieldValue<DateOnly>(0).ToString(format, CultureInfo.InvariantCulture), r.GetInt64(1)), ct);
    }

    private static string Format(double value) =>
        Math.Abs(value) >= 1000 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.##", CultureInfo.InvariantCulture);

    private static object?[] ReadRow(DuckDBDataReader reader)
    {
        var values = new object?[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }
        return values;
    }
}
