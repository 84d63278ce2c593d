namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>
/// One group's share of the customers and the revenue. Shares are fractions (0.25 is 25%); averages are null for a
/// group without customers.
/// </summary>
/// <param name="Revenue">The sum of the group's Monetary values.</param>
/// <param name="RevenueShare">Revenue over the total revenue; 0 for every group when the total is not positive, where a share means nothing.</param>
public sealed record RfmGroupSummary(
    RfmGroup Group,
    int Customers,
    double CustomerShare,
    double Revenue,
    double RevenueShare,
    double? AverageRecencyDays,
    double? AverageFrequency,
    double? AverageMonetary);

/// <summary>
/// The R×F grid as numbers for a heatmap. Every matrix is indexed <c>[R − 1][F − 1]</c>: with <see cref="Scores"/> as
/// both axes (y = R, x = F) that is exactly Plotly's <c>z[y][x]</c>, R 1 at the bottom and R 5 on top.
/// </summary>
/// <param name="Counts">Customers per cell.</param>
/// <param name="AverageMonetary">Average Monetary per cell; null for an empty cell, which Plotly leaves blank.</param>
/// <param name="Groups">The group name of each cell, for hover text and labels.</param>
public sealed record RfmHeatmap(
    IReadOnlyList<IReadOnlyList<int>> Counts,
    IReadOnlyList<IReadOnlyList<double?>> AverageMonetary,
    IReadOnlyList<IReadOnlyList<string>> Groups)
{
    /// <summary>The axis values, 1 to 5.</summary>
    public static IReadOnlyList<int> Scores { get; } = [1, 2, 3, 4, 5];

    public int Count(int r, int f) => Counts[r - 1][f - 1];

    public double? Average(int r, int f) => AverageMonetary[r - 1][f - 1];
}

/// <summary>The outcome of an RFM analysis.</summary>
/// <param name="Customers">Every customer scored, in the order given.</param>
/// <param name="Groups">One row per group of the grid, in the grid's order, including groups without customers.</param>
/// <param name="Dimensions">The bins of Recency, Frequency and Monetary, in that order.</param>
/// <param name="TotalRevenue">The sum of all Monetary values.</param>
public sealed record RfmResult(
    IReadOnlyList<RfmScoredCustomer> Customers,
    IReadOnlyList<RfmGroupSummary> Groups,
    RfmHeatmap Heatmap,
    IReadOnlyList<RfmDimensionPreview> Dimensions,
    double TotalRevenue)
{
    public RfmDimensionPreview Dimension(RfmDimension dimension) => Dimensions[(int)dimension];
}

/// <summary>
/// Scores and groups customers whose R, F and M values the warehouse has computed. Pure and in memory: one sort per
/// quintile-scored dimension and a few linear passes, so a million customers take well under a second and the caller
/// only needs to keep it off the UI thread.
/// </summary>
public static class RfmAnalysis
{
    /// <summary>Scores every customer, puts each in a group, and sums up groups and grid cells.</summary>
    /// <exception cref="PortalException">The settings are not valid, or a customer's Monetary is not a finite number.</exception>
    public static RfmResult Analyze(IReadOnlyList<RfmCustomer> customers, RfmSettings settings)
    {
        settings.Validate();
        var groupOfCell = settings.Grid.GroupIndexByCell();
        var groups = settings.Grid.Groups;
        var n = customers.Count;

        var (recency, frequency, monetary) = Values(customers);
        var rScores = settings.Recency.Score(recency, RfmDimension.Recency);
        var fScores = settings.Frequency.Score(frequency, RfmDimension.Frequency);
        var mScores = settings.Monetary.Score(monetary, RfmDimension.Monetary);

        var rows = new RfmScoredCustomer[n];
        var groupCounts = new int[groups.Count];
        var groupRevenue = new double[groups.Count];
        var groupDays = new double[groups.Count];
        var groupOrders = new double[groups.Count];
        var cellCounts = new int[25];
        var cellRevenue = new double[25];
        var total = 0.0;
        for (var i = 0; i < n; i++)
        {
            var c = customers[i];
            int r = rScores[i], f = fScores[i];
            var cell = ((r - 1) * 5) + (f - 1);
            var g = groupOfCell[cell];
            rows[i] = new RfmScoredCustomer(c.Key, c.RecencyDays, c.Frequency, c.Monetary, r, f, mScores[i], groups[g].Name);
            groupCounts[g]++;
            groupRevenue[g] += c.Monetary;
            groupDays[g] += c.RecencyDays;
            groupOrders[g] += c.Frequency;
            cellCounts[cell]++;
            cellRevenue[cell] += c.Monetary;
            total += c.Monetary;
        }

        var summaries = new RfmGroupSummary[groups.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            var count = groupCounts[g];
            summaries[g] = new RfmGroupSummary(
                groups[g],
                count,
                n == 0 ? 0 : (double)count / n,
                groupRevenue[g],
                total > 0 ? groupRevenue[g] / total : 0,
                count == 0 ? null : groupDays[g] / count,
                count == 0 ? null : groupOrders[g] / count,
                count == 0 ? null : groupRevenue[g] / count);
        }

        var dimensions = new[]
        {
            RfmScorer.Preview(RfmDimension.Recency, settings.Recency.Method, recency, rScores),
            RfmScorer.Preview(RfmDimension.Frequency, settings.Frequency.Method, frequency, fScores),
            RfmScorer.Preview(RfmDimension.Monetary, settings.Monetary.Method, monetary, mScores),
        };
        return new RfmResult(rows, summaries, Heatmap(cellCounts, cellRevenue, groupOfCell, groups), dimensions, total);
    }

    /// <summary>
    /// The bins one dimension would have with the given scoring, without grouping anyone, so the settings page can
    /// show "Score 5: 0–14 days, 871 customers" while the user edits cut points.
    /// </summary>
    /// <exception cref="PortalException">The cut points are not valid, or a value is not a number.</exception>
    public static RfmDimensionPreview Preview(IReadOnlyList<RfmCustomer> customers, RfmDimension dimension, RfmDimensionScoring scoring)
    {
        var values = new double[customers.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = customers[i].ValueOf(dimension);
        }
        if (dimension == RfmDimension.Monetary)
        {
            CheckMonetary(customers);
        }
        return RfmScorer.Preview(dimension, scoring.Method, values, scoring.Score(values, dimension));
    }

    private static (double[] Recency, double[] Frequency, double[] Monetary) Values(IReadOnlyList<RfmCustomer> customers)
    {
        CheckMonetary(customers);
        var n = customers.Count;
        var recency = new double[n];
        var frequency = new double[n];
        var monetary = new double[n];
        for (var i = 0; i < n; i++)
        {
            var c = customers[i];
            recency[i] = c.RecencyDays;
            frequency[i] = c.Frequency;
            monetary[i] = c.Monetary;
        }
        return (recency, frequency, monetary);
    }

    /// <summary>An infinite or missing amount would make every total and share meaningless, so it is refused by name.</summary>
    private static void CheckMonetary(IReadOnlyList<RfmCustomer> customers)
    {
        for (var i = 0; i < customers.Count; i++)
        {
            if (!double.IsFinite(customers[i].Monetary))
            {
                throw new PortalException($"Customer {customers[i].Key} has a Monetary value that is not a finite number.");
            }
        }
    }

    private static RfmHeatmap Heatmap(int[] cellCounts, double[] cellRevenue, int[] groupOfCell, IReadOnlyList<RfmGroup> groups)
    {
        var counts = new IReadOnlyList<int>[5];
        var averages = new IReadOnlyList<double?>[5];
        var names = new IReadOnlyList<string>[5];
        for (var r = 0; r < 5; r++)
        {
            var countRow = new int[5];
            var averageRow = new double?[5];
            var nameRow = new string[5];
            for (var f = 0; f < 5; f++)
            {
                var cell = (r * 5) + f;
                countRow[f] = cellCounts[cell];
                averageRow[f] = cellCounts[cell] == 0 ? null : cellRevenue[cell] / cellCounts[cell];
                nameRow[f] = groups[groupOfCell[cell]].Name;
            }
            counts[r] = countRow;
            averages[r] = averageRow;
            names[r] = nameRow;
        }
        return new RfmHeatmap(counts, averages, names);
    }
}
