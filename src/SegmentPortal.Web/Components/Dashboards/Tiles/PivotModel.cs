using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>How a pivot's totals come from its cells.</summary>
public enum PivotTotal
{
    /// <summary>Counts and sums add up.</summary>
    Sum,
    Min,
    Max,

    /// <summary>Averages, medians, ratios and distinct counts cannot be rebuilt from the cells.</summary>
    None,
}

/// <summary>
/// A pivot of measure 0: a row per value of dimension 0, a column per value of dimension 1, and the row, column and
/// grand totals, computed from the cells as far as the measure allows (see <see cref="PivotTotal"/>).
/// </summary>
public sealed class PivotModel
{
    private PivotModel(IReadOnlyList<object?> rows, IReadOnlyList<object?> columns, PivotTotal total)
    {
        Rows = rows;
        Columns = columns;
        Total = total;
        Cells = new double?[rows.Count, columns.Count];
        RowTotals = new double?[rows.Count];
        ColumnTotals = new double?[columns.Count];
    }

    public IReadOnlyList<object?> Rows { get; }

    public IReadOnlyList<object?> Columns { get; }

    public PivotTotal Total { get; }

    public double?[,] Cells { get; }

    public double?[] RowTotals { get; }

    public double?[] ColumnTotals { get; }

    public double? GrandTotal { get; private set; }

    /// <summary>How totals combine cells for a measure of <paramref name="kind"/> (sums when unknown).</summary>
    public static PivotTotal TotalFor(TileMeasureKind? kind) => kind switch
    {
        null or TileMeasureKind.Count or TileMeasureKind.Sum => PivotTotal.Sum,
        TileMeasureKind.Min => PivotTotal.Min,
        TileMeasureKind.Max => PivotTotal.Max,
        _ => PivotTotal.None,
    };

    public static PivotModel From(TileData data, TileMeasureKind? kind)
    {
        var rows = TileRows.Distinct(data, 0);
        var columns = data.Dimensions.Count >= 2 ? TileRows.Distinct(data, 1) : [null];
        var pivot = new PivotModel(rows, columns, TotalFor(kind));
        var rowAt = rows.Select((r, i) => (r, i)).ToDictionary(x => TileRows.Key(x.r), x => x.i);
        var columnAt = columns.Select((c, i) => (c, i)).ToDictionary(x => TileRows.Key(x.c), x => x.i);
        foreach (var row in data.Rows)
        {
            var r = rowAt[TileRows.Key(TileRows.Dimension(row, 0))];
            var c = columnAt[TileRows.Key(data.Dimensions.Count >= 2 ? TileRows.Dimension(row, 1) : null)];
            var value = TileRows.Measure(data, row, 0);
            // Rows should be one per cell; should one repeat, it adds up where the measure does, else the last counts.
            pivot.Cells[r, c] = pivot.Total == PivotTotal.None ? value ?? pivot.Cells[r, c] : pivot.Combine(pivot.Cells[r, c], value);
        }
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < columns.Count; c++)
            {
                pivot.RowTotals[r] = pivot.Combine(pivot.RowTotals[r], pivot.Cells[r, c]);
                pivot.ColumnTotals[c] = pivot.Combine(pivot.ColumnTotals[c], pivot.Cells[r, c]);
                pivot.GrandTotal = pivot.Combine(pivot.GrandTotal, pivot.Cells[r, c]);
            }
        }
        return pivot;
    }

    /// <summary>Adds a value to a running total (empty cells are skipped; no total for measures that have none).</summary>
    private double? Combine(double? sofar, double? value) => (Total, sofar, value) switch
    {
        (PivotTotal.None, _, _) => null,
        (_, _, null) => sofar,
        (_, null, { } v) => v,
        (PivotTotal.Min, { } s, { } v) => Math.Min(s, v),
        (PivotTotal.Max, { } s, { } v) => Math.Max(s, v),
        (_, { } s, { } v) => s + v,
    };
}
