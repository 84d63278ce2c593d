using System.Diagnostics;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;
using static SegmentPortal.Core.Analysis.Rfm.RfmGroups;

namespace SegmentPortal.Tests.Analysis.Rfm;

public sealed class RfmAnalysisTests
{
    /// <summary>
    /// A deterministic, RFM-shaped population: recency skewed to recent days, about 60% one-time buyers, amounts
    /// roughly log-normal per order.
    /// </summary>
    private static RfmCustomer[] Generate(int count, int seed = 7)
    {
        var random = new Random(seed);
        var customers = new RfmCustomer[count];
        for (var i = 0; i < count; i++)
        {
            var days = Math.Min(730, (int)(-Math.Log(1 - random.NextDouble()) * 120));
            var orders = random.NextDouble() < 0.6 ? 1 : 2 + (int)(-Math.Log(1 - random.NextDouble()) * 3);
            var amount = 0.0;
            for (var o = 0; o < orders; o++)
            {
                amount += Math.Round(Math.Exp(3.5 + (random.NextDouble() * 1.5)), 2);
            }
            customers[i] = new RfmCustomer($"C{i:D7}", days, orders, amount);
        }
        return customers;
    }

    [Fact]
    public void Scored_rows_carry_the_three_scores_the_code_and_the_group()
    {
        RfmCustomer[] customers =
        [
            new("a", 10, 4, 400), new("b", 20, 5, 500), new("c", 30, 3, 300), new("d", 40, 2, 200), new("e", 50, 1, 100),
        ];

        var rows = RfmAnalysis.Analyze(customers, RfmSettings.Default).Customers;

        Assert.Equal(
        [
            ("a", 5, 4, 4, "544", Champions), ("b", 4, 5, 5, "455", Loyal), ("c", 3, 3, 3, "333", NeedAttention),
            ("d", 2, 2, 2, "222", Hibernating), ("e", 1, 1, 1, "111", Lost),
        ], rows.Select(r => (r.Key, r.R, r.F, r.M, r.Score, r.Group)));
        Assert.Equal(new RfmScoredCustomer("a", 10, 4, 400, 5, 4, 4, Champions), rows[0]);
    }

    [Fact]
    public void The_score_code_is_r_then_f_then_m()
    {
        Assert.Equal("545", RfmScores.Code(5, 4, 5));
        Assert.Equal("123", new RfmScoredCustomer("x", 0, 0, 0, 1, 2, 3, Lost).Score);
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmScores.Code(0, 4, 5));
    }

    [Fact]
    public void Customer_shares_and_revenue_shares_each_sum_to_100_percent()
    {
        var customers = Generate(10_000);

        var result = RfmAnalysis.Analyze(customers, RfmSettings.Default);

        Assert.Equal(1.0, result.Groups.Sum(g => g.CustomerShare), 12);
        Assert.Equal(1.0, result.Groups.Sum(g => g.RevenueShare), 12);
        Assert.Equal(customers.Length, result.Groups.Sum(g => g.Customers));
        Assert.Equal(customers.Sum(c => c.Monetary), result.TotalRevenue, 6);
        Assert.Equal(result.TotalRevenue, result.Groups.Sum(g => g.Revenue), 6);
    }

    [Fact]
    public void Group_figures_match_the_scored_rows()
    {
        var result = RfmAnalysis.Analyze(Generate(5_000), RfmSettings.Default);

        foreach (var group in result.Groups)
        {
            var members = result.Customers.Where(c => c.Group == group.Group.Name).ToList();
            Assert.Equal(members.Count, group.Customers);
            Assert.Equal(members.Sum(c => c.Monetary), group.Revenue, 6);
            Assert.Equal((double)members.Count / 5_000, group.CustomerShare, 12);
            Assert.Equal(members.Sum(c => c.Monetary) / result.TotalRevenue, group.RevenueShare, 12);
            if (members.Count > 0)
            {
                Assert.Equal(members.Average(c => c.RecencyDays), group.AverageRecencyDays!.Value, 9);
                Assert.Equal(members.Average(c => c.Frequency), group.AverageFrequency!.Value, 9);
                Assert.Equal(members.Average(c => c.Monetary), group.AverageMonetary!.Value, 6);
            }
        }
    }

    [Fact]
    public void Groups_are_listed_in_the_grid_order_including_empty_ones()
    {
        RfmCustomer[] customers = [new("a", 1, 9, 900), new("b", 2, 8, 800)];

        var groups = RfmAnalysis.Analyze(customers, RfmSettings.Default).Groups;

        Assert.Equal(RfmGroups.Standard, groups.Select(g => g.Group));
        var empty = groups.Single(g => g.Group.Name == Lost);
        Assert.Equal(new RfmGroupSummary(empty.Group, 0, 0, 0, 0, null, null, null), empty);
    }

    [Fact]
    public void Heatmap_counts_sum_to_the_number_of_customers_and_averages_match_each_cell()
    {
        var result = RfmAnalysis.Analyze(Generate(10_000), RfmSettings.Default);
        var heatmap = result.Heatmap;

        Assert.Equal(10_000, heatmap.Counts.Sum(row => row.Sum()));
        Assert.Equal(5, heatmap.Counts.Count);
        Assert.All(heatmap.Counts, row => Assert.Equal(5, row.Count));
        for (var r = 1; r <= 5; r++)
        {
            for (var f = 1; f <= 5; f++)
            {
                var cell = result.Customers.Where(c => c.R == r && c.F == f).ToList();
                Assert.Equal(cell.Count, heatmap.Count(r, f));
                Assert.Equal(cell.Count == 0 ? null : cell.Average(c => c.Monetary), heatmap.Average(r, f));
                Assert.Equal(RfmGrid.Default.GroupAt(r, f), heatmap.Groups[r - 1][f - 1]);
            }
        }
    }

    [Fact]
    public void Heatmap_leaves_empty_cells_without_an_average()
    {
        RfmCustomer[] customers = [new("a", 1, 9, 900), new("b", 3, 9, 100)];
        var settings = RfmSettings.Default
            .With(RfmDimension.Recency, RfmDimensionScoring.Thresholds(RfmCutPoints.DefaultRecency))
            .With(RfmDimension.Frequency, RfmDimensionScoring.Thresholds(RfmCutPoints.DefaultFrequency));

        var heatmap = RfmAnalysis.Analyze(customers, settings).Heatmap;

        Assert.Equal(2, heatmap.Count(5, 4));
        Assert.Equal(500, heatmap.Average(5, 4));
        Assert.Null(heatmap.Average(1, 1));
        Assert.Equal([1, 2, 3, 4, 5], RfmHeatmap.Scores);
    }

    [Fact]
    public void Zero_customers_give_empty_groups_without_dividing_by_zero()
    {
        var result = RfmAnalysis.Analyze([], RfmSettings.Default);

        Assert.Empty(result.Customers);
        Assert.Equal(0, result.TotalRevenue);
        Assert.All(result.Groups, g => Assert.Equal(new RfmGroupSummary(g.Group, 0, 0, 0, 0, null, null, null), g));
        Assert.All(result.Heatmap.Counts, row => Assert.All(row, count => Assert.Equal(0, count)));
        Assert.All(result.Heatmap.AverageMonetary, row => Assert.All(row, Assert.Null));
        Assert.All(result.Dimensions, d => Assert.All(d.Bins, b => Assert.Equal(0, b.Customers)));
    }

    [Fact]
    public void Revenue_shares_are_zero_when_there_is_no_revenue_to_share()
    {
        RfmCustomer[] customers = [new("a", 1, 1, 50), new("b", 300, 2, -50)];

        var result = RfmAnalysis.Analyze(customers, RfmSettings.Default);

        Assert.Equal(0, result.TotalRevenue);
        Assert.All(result.Groups, g => Assert.Equal(0, g.RevenueShare));
        Assert.Equal(1.0, result.Groups.Sum(g => g.CustomerShare), 12);
    }

    [Fact]
    public void A_customer_without_a_finite_amount_is_named()
    {
        RfmCustomer[] customers = [new("a", 1, 1, 50), new("C-17", 3, 2, double.NaN)];

        var ex = Assert.Throws<PortalException>(() => RfmAnalysis.Analyze(customers, RfmSettings.Default));

        Assert.Equal("Customer C-17 has a Monetary value that is not a finite number.", ex.Message);
    }

    [Fact]
    public void Each_dimension_uses_its_own_method()
    {
        var customers = Generate(2_000);
        var settings = RfmSettings.Default.With(RfmDimension.Frequency, RfmDimensionScoring.Thresholds(RfmCutPoints.DefaultFrequency));

        var result = RfmAnalysis.Analyze(customers, settings);

        Assert.Equal(
            customers.Select(c => RfmScorer.ScoreThreshold(c.Frequency, RfmDimension.Frequency, RfmCutPoints.DefaultFrequency)),
            result.Customers.Select(c => c.F));
        Assert.Equal(RfmScoringMethod.Thresholds, result.Dimension(RfmDimension.Frequency).Method);
        Assert.Equal(RfmScoringMethod.Quintiles, result.Dimension(RfmDimension.Recency).Method);
        Assert.Equal(RfmScorer.ScoreQuintiles([.. customers.Select(c => (double)c.RecencyDays)], RfmDimension.Recency),
            result.Customers.Select(c => c.R));
    }

    [Fact]
    public void The_dimension_preview_matches_the_analysis()
    {
        var customers = Generate(3_000);
        var scoring = RfmDimensionScoring.Thresholds(RfmCutPoints.DefaultMonetary);

        var preview = RfmAnalysis.Preview(customers, RfmDimension.Monetary, scoring);
        var analysis = RfmAnalysis.Analyze(customers, RfmSettings.Default.With(RfmDimension.Monetary, scoring));

        Assert.Equal(analysis.Dimension(RfmDimension.Monetary).Bins, preview.Bins);
        Assert.Equal(3_000, preview.Bins.Sum(b => b.Customers));
        Assert.Equal(customers.Min(c => c.Monetary), preview.Bins.First(b => b.Customers > 0).Min);
    }

    [Fact]
    public void Settings_survive_a_json_round_trip()
    {
        var settings = RfmSettings.Default
            .With(RfmDimension.Frequency, RfmDimensionScoring.Thresholds(2, 4, 8, 16))
            .With(RfmDimension.Monetary, new RfmDimensionScoring(RfmScoringMethod.Quintiles, [50, 150.5, 400, 2000])) with
        {
            Grid = RfmGrid.Default.With(5, 1, Promising),
        };

        var json = settings.ToJson();
        var read = RfmSettings.FromJson(json);

        Assert.Contains("\"method\":\"thresholds\"", json);
        Assert.Equal(RfmScoringMethod.Thresholds, read.Frequency.Method);
        Assert.Equal([2.0, 4, 8, 16], read.Frequency.CutPoints);
        Assert.Equal([50, 150.5, 400, 2000], read.Monetary.CutPoints);
        Assert.Equal(settings.Grid.Cells, read.Grid.Cells);
        Assert.Equal(json, read.ToJson());
        Assert.Equal(settings, read);
        Assert.NotEqual(RfmSettings.Default, read);
        Assert.Same(RfmSettings.Default, RfmSettings.FromJson(null));
    }

    [Fact]
    public void Settings_with_invalid_cut_points_in_use_are_refused()
    {
        var settings = RfmSettings.Default.With(RfmDimension.Recency, RfmDimensionScoring.Thresholds(60, 30, 120, 240));

        Assert.Equal(["Recency cut points must go up: cut point 2 (30) is not larger than cut point 1 (60)."], settings.Problems());
        Assert.Throws<PortalException>(() => RfmSettings.FromJson(settings.ToJson()));
        Assert.Throws<PortalException>(() => RfmAnalysis.Analyze([], settings));
        Assert.Empty(RfmSettings.Default.With(RfmDimension.Recency, settings.Recency with { Method = RfmScoringMethod.Quintiles }).Problems());
    }

    [Fact]
    public void One_million_customers_add_up()
    {
        const int count = 1_000_000;
        var customers = Generate(count, seed: 2024);

        var watch = Stopwatch.StartNew();
        var result = RfmAnalysis.Analyze(customers, RfmSettings.Default);
        watch.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"RFM analysis of {count:N0} customers: {watch.ElapsedMilliseconds:N0} ms");

        Assert.Equal(count, result.Customers.Count);
        Assert.Equal(count, result.Groups.Sum(g => g.Customers));
        Assert.Equal(count, result.Heatmap.Counts.Sum(row => row.Sum()));
        Assert.All(result.Dimensions, d => Assert.Equal(count, d.Bins.Sum(b => b.Customers)));
        Assert.Equal(1.0, result.Groups.Sum(g => g.CustomerShare), 9);
        Assert.Equal(1.0, result.Groups.Sum(g => g.RevenueShare), 9);
    }
}
