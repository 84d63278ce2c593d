using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Dashboards;

public sealed partial class TileDataService
{
    /// <summary>
    /// The value for the current period (to date) and the previous one by the tile's date column, and a sparkline of
    /// the last 12 periods, from one grouped query. Without a date column, one value over all rows.
    /// </summary>
    private async Task<TileData> KpiAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var tile = builder.Tile;
        var measure = tile.Measures[0];
        var (spec, periods) = builder.Kpi();
        var result = await RunAsync(spec, cancellationToken);
        if (periods.Count == 0)
        {
            var value = result.Rows.Count == 0 ? null : TileRows.Number(TileMeasures.Read(measure, "m0", result, result.Rows[0]));
            return new TileData(TileType.Kpi, [], builder.MeasureNames, [[value]]) { Kpi = new KpiData(value, null, "", [], []) };
        }
        var byPeriod = result.Rows.Where(r => Periods.AsDate(r[result.Index("d0")]) is not null)
            .ToDictionary(r => Periods.AsDate(r[result.Index("d0")])!.Value, r => TileRows.Number(TileMeasures.Read(measure, "m0", result, r)));
        var values = periods.Select(p => byPeriod.TryGetValue(p, out var v) ? v : TileMeasures.OverNoRows(measure)).ToList();
        var labels = periods.Select(p => Periods.Label(p, tile.Period)).ToList();
        var kpi = new KpiData(values[^1], values[^2], labels[^1], labels, values);
        if (tile.MetricId is not null
            && result.Rows.FirstOrDefault(r => Periods.AsDate(r[result.Index("d0")]) == periods[^1]) is { } currentRow
            && Periods.AsDate(currentRow[result.Index("last")]) is { } through && through < Periods.End(periods[^1], tile.Period))
        {
            // A metric's period not over yet: compared with the previous one up to the same day, as the metric's page does.
            var (from, to) = Periods.SameDaysBefore(periods[^1], tile.Period, through);
            var days = await RunAsync(builder.KpiDays(from, to), cancellationToken);
            kpi = kpi with
            {
                SameDays = days.Rows.Count == 0 ? TileMeasures.OverNoRows(measure) : TileRows.Number(TileMeasures.Read(measure, "m0", days, days.Rows[0])),
                SameDaysLabel = Periods.SameDaysLabel(from, tile.Period),
            };
        }
        return new TileData(TileType.Kpi, [tile.DateColumn!], builder.MeasureNames, periods.Select((p, i) => new object?[] { p, values[i] }).ToList())
        {
            Kpi = kpi,
            Grouping = [new TileDimension(tile.DateColumn!, tile.Period)],
        };
    }

    /// <summary>Rows per bin of a number column: the tile's width, or a round one for about 20 bins over the values shown.</summary>
    private async Task<TileData> HistogramAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var width = builder.Grouping[0].BinWidth;
        if (width is null)
        {
            var range = await RunAsync(builder.BinRange(), cancellationToken);
            width = TileQueryBuilder.NiceBinWidth(QueryValue.ToDouble(range.Scalar("lo")), QueryValue.ToDouble(range.Scalar("hi")));
        }
        var measures = builder.Tile.Measures.Count == 0 ? [new TileMeasure(TileMeasureKind.Count)] : builder.Tile.Measures;
        var result = await RunAsync(builder.Histogram(width.Value), cancellationToken);
        // The bin of rows without a value (sorted last) is not shown.
        result = result with { Rows = result.Rows.Where(r => r[0] is not null).ToList() };
        var rows = TileRows.Read(result, 1, measures, TileQueryBuilder.MaxCategories, out var truncated);
        return new TileData(TileType.Histogram, builder.DimensionNames, measures.Select(TileMeasures.Label).ToList(), rows)
        {
            BinWidth = width,
            Truncated = truncated,
            Grouping = [builder.Grouping[0] with { BinWidth = width }],
        };
    }

    private static readonly string[] BoxNames = ["Lowest", "Lower quartile", "Median", "Upper quartile", "Highest"];

    /// <summary>Per category the five numbers of a box plot; rows are the category then the five, <see cref="TileData.Boxes"/> the five.</summary>
    private async Task<TileData> BoxAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var result = await RunAsync(builder.Box(), cancellationToken);
        var groupings = builder.Grouping.Count;
        var aliases = new[] { "min", "q1", "median", "q3", "max" }.Select(result.Index).ToList();
        var rows = result.Rows.Take(TileQueryBuilder.MaxCategories).Select(r =>
            (object?[])[.. Enumerable.Range(0, groupings).Select(i => TileRows.Dimension(r[result.Index($"d{i}")])), .. aliases.Select(a => (object?)TileRows.Number(r[a]))]).ToList();
        return new TileData(TileType.Box, builder.DimensionNames, BoxNames, rows)
        {
            Boxes = rows.Select(r => r.Skip(groupings).Select(TileRows.Number).ToArray()).ToList(),
            Truncated = result.Rows.Count > TileQueryBuilder.MaxCategories,
        };
    }

    /// <summary>
    /// One page of a table (rows of dimensions and measures, or the rows themselves without measures), totals over
    /// every row, and <see cref="TileData.Truncated"/> when more pages follow.
    /// </summary>
    private async Task<TileData> TableAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var tile = builder.Tile;
        // The page and the totals are asked together, so they can be fused (one scan of the rows).
        var asked = await RunManyAsync(tile.Measures.Count == 0 ? [builder.TableRows()] : [builder.TableRows(), builder.TableTotals()], cancellationToken);
        var result = asked[0];
        var size = builder.PageSize;
        if (tile.Measures.Count == 0)
        {
            var columns = builder.Grouping.Select(d => d.Column).Distinct().ToList();
            var raw = result.Rows.Take(size).Select(r => r.Select(TileRows.Dimension).ToArray()).ToList();
            return new TileData(TileType.Table, columns, [], raw) { Truncated = result.Rows.Count > size };
        }
        var rows = TileRows.Read(result, builder.Grouping.Count, tile.Measures, TileQueryBuilder.MaxTableRows, out var capped);
        bool more;
        if (builder.TableSortsInMemory)
        {
            // Sorted by a ratio: every row was read (up to the cap); sort and cut the page here.
            var measure = builder.MeasureNames.ToList().IndexOf(builder.Page.SortBy ?? "");
            var (index, descending) = measure >= 0 ? (measure, builder.Page.Descending) : builder.RankMeasure;
            var sorted = TileRows.Sort(rows, [(builder.Grouping.Count + index, descending), .. builder.Grouping.Select((_, i) => (i, false))]);
            var skip = Math.Max(0, builder.Page.Page) * size;
            rows = sorted.Skip(skip).Take(size).ToList();
            more = capped || sorted.Count > skip + size;
        }
        else
        {
            more = result.Rows.Count > size;
            rows = rows.Take(size).ToList();
        }
        var totals = asked[1];
        var totalRow = totals.Rows.Count == 0 ? null : totals.Rows[0];
        return Data(builder, rows) with
        {
            Totals = tile.Measures.Select((m, i) => totalRow is null ? null : TileRows.Number(TileMeasures.Read(m, $"m{i}", totals, totalRow))).ToList(),
            Truncated = more,
        };
    }

    /// <summary>Rows of (row value, column value, measure); the page lays them out as a grid.</summary>
    private async Task<TileData> PivotAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var result = await RunAsync(builder.Pivot(), cancellationToken);
        var rows = TileRows.Read(result, 2, builder.Tile.Measures, TileQueryBuilder.MaxCells, out var truncated);
        return Data(builder, rows) with { Truncated = truncated };
    }

    /// <summary>
    /// The measure once per segment in one scan. Without a dimension: a row per segment (name, value); with one: a row
    /// per category and a column per segment (measures named after the segments).
    /// </summary>
    private async Task<TileData> CompareSegmentsAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var tile = builder.Tile;
        var names = new List<string>();
        foreach (var id in tile.SegmentIds)
        {
            names.Add((await segments.GetAsync(id, cancellationToken)).Segment.Name);
        }
        var result = await RunAsync(builder.CompareSegments(), cancellationToken);
        var perSegment = Enumerable.Repeat(tile.Measures[0], names.Count).ToList();
        var rows = TileRows.Read(result, builder.Grouping.Count, perSegment, TileQueryBuilder.MaxCategories, out var truncated, prefix: "s");
        if (builder.Grouping.Count > 0)
        {
            return new TileData(TileType.CompareSegments, builder.DimensionNames, names, rows) { Truncated = truncated };
        }
        var single = rows.Count == 0 ? new object?[names.Count] : rows[0];
        return new TileData(TileType.CompareSegments, ["Segment"], builder.MeasureNames, names.Select((n, i) => new object?[] { n, single[i] }).ToList());
    }

    /// <summary>
    /// Cohort retention: rows of (cohort month, months since the first order, customers ordering that month, share of
    /// the cohort). A cohort's size is its customers in month 0, which every customer has (their first order), so
    /// under a date filter that leaves out a cohort's first month that cohort has no size and empty shares.
    /// </summary>
    private async Task<TileData> CohortAsync(TileQueryBuilder builder, CancellationToken cancellationToken)
    {
        var result = await RunAsync(builder.Cohort(), cancellationToken);
        var (c, m, n) = (result.Index("cohort"), result.Index("month"), result.Index("customers"));
        var cells = result.Rows.Take(TileQueryBuilder.MaxCells)
            .Select(r => (Cohort: Periods.AsDate(r[c]), Month: Periods.AsDate(r[m]), Customers: QueryValue.ToDouble(r[n]) ?? 0))
            .Where(x => x.Cohort is not null && x.Month is not null)
            .Select(x => (Cohort: x.Cohort!.Value, Since: Periods.MonthsBetween(x.Cohort!.Value, x.Month!.Value), x.Customers))
            .Where(x => x.Since >= 0)
            .ToList();
        var sizes = cells.Where(x => x.Since == 0).ToDictionary(x => x.Cohort, x => x.Customers);
        var rows = cells.OrderBy(x => x.Cohort).ThenBy(x => x.Since)
            .Select(x => new object?[] { x.Cohort, (long)x.Since, x.Customers, sizes.TryGetValue(x.Cohort, out var size) && size > 0 ? x.Customers / size : null })
            .ToList();
        return new TileData(TileType.Cohort, ["Cohort", "Months since first order"], ["Customers", "Share still ordering"], rows)
        {
            Truncated = result.Rows.Count > TileQueryBuilder.MaxCells,
            Grouping = [new TileDimension("Cohort", Queries.DateBucket.Month), new TileDimension("Months since first order")],
        };
    }
}
