using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;

namespace SegmentPortal.Tests.Analysis.Rfm;

public sealed class RfmQuintileScoringTests
{
    // Shuffled so the scores must follow the values, not the input order.
    private static readonly double[] TenValues = [40, 10, 100, 70, 20, 90, 30, 60, 50, 80];

    private static int[] Counts(int[] scores) => [.. Enumerable.Range(1, 5).Select(s => scores.Count(x => x == s))];

    [Fact]
    public void Ten_distinct_values_give_two_customers_per_score()
    {
        // Sorted 10..100; the value at sorted position p has p smaller values, score 1 + ⌊5p/10⌋:
        // 10, 20 → 1; 30, 40 → 2; 50, 60 → 3; 70, 80 → 4; 90, 100 → 5.
        var scores = RfmScorer.ScoreQuintiles(TenValues, RfmDimension.Monetary);

        Assert.Equal([2, 1, 5, 4, 1, 5, 2, 3, 3, 4], scores);
    }

    [Fact]
    public void Frequency_scores_the_same_way_as_monetary() =>
        Assert.Equal([2, 1, 5, 4, 1, 5, 2, 3, 3, 4], RfmScorer.ScoreQuintiles(TenValues, RfmDimension.Frequency));

    [Fact]
    public void Recency_is_reversed_so_the_fewest_days_score_5()
    {
        var scores = RfmScorer.ScoreQuintiles(TenValues, RfmDimension.Recency);

        Assert.Equal([4, 5, 1, 2, 5, 1, 4, 3, 3, 2], scores);
    }

    [Fact]
    public void The_edges_are_the_values_at_20_40_60_80_percent_and_a_score_counts_the_edges_strictly_below()
    {
        // Edges at sorted positions ⌈k·10/5⌉ = 2, 4, 6, 8 (1-based): 20, 40, 60, 80. 20 is on an edge, not above it.
        var preview = RfmScorer.Preview(RfmDimension.Monetary, RfmScoringMethod.Quintiles, TenValues,
            RfmScorer.ScoreQuintiles(TenValues, RfmDimension.Monetary));

        Assert.Equal([(10.0, 20.0), (30.0, 40.0), (50.0, 60.0), (70.0, 80.0), (90.0, 100.0)],
            preview.Bins.Select(b => (b.Min!.Value, b.Max!.Value)));
        Assert.All(preview.Bins, b => Assert.Equal(2, b.Customers));
        Assert.Equal([20.0, 40, 60, 80], RfmScorer.QuintileEdges(TenValues, RfmDimension.Monetary));
    }

    [Fact]
    public void Heavy_ties_make_several_edges_the_same_value()
    {
        double[] values = [1, 1, 1, 1, 1, 1, 2, 2, 3, 7];

        Assert.Equal([1.0, 1, 1, 2], RfmScorer.QuintileEdges(values, RfmDimension.Frequency));
        Assert.Equal([1, 1, 1, 1, 1, 1, 4, 4, 5, 5], RfmScorer.ScoreQuintiles(values, RfmDimension.Frequency));
        Assert.Empty(RfmScorer.QuintileEdges([], RfmDimension.Frequency));
    }

    [Fact]
    public void Scores_do_not_depend_on_the_order_of_the_customers()
    {
        var sorted = TenValues.Order().ToArray();

        var scores = RfmScorer.ScoreQuintiles(sorted, RfmDimension.Monetary);

        Assert.Equal([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], scores);
    }

    [Fact]
    public void Tied_values_share_one_score_even_when_the_bins_become_uneven()
    {
        // 3 is at sorted positions 2..5: it starts in score 2's slice, so all four are 2 and score 3 stays empty.
        double[] values = [1, 2, 3, 3, 3, 3, 4, 5, 6, 7];

        var scores = RfmScorer.ScoreQuintiles(values, RfmDimension.Frequency);

        Assert.Equal([1, 1, 2, 2, 2, 2, 4, 4, 5, 5], scores);
        Assert.Equal([2, 4, 0, 2, 2], Counts(scores));
    }

    [Fact]
    public void Sixty_percent_one_time_buyers_all_score_1_and_repeat_buyers_share_the_top_scores()
    {
        // 600 customers with 1 order, 200 with 2, 100 with 3, 100 with 4 to 13.
        var values = Enumerable.Repeat(1.0, 600).Concat(Enumerable.Repeat(2.0, 200)).Concat(Enumerable.Repeat(3.0, 100))
            .Concat(Enumerable.Range(0, 100).Select(i => 4.0 + (i % 10))).Reverse().ToArray();

        var scores = RfmScorer.ScoreQuintiles(values, RfmDimension.Frequency);
        var preview = RfmScorer.Preview(RfmDimension.Frequency, RfmScoringMethod.Quintiles, values, scores);

        Assert.Equal([600, 0, 0, 200, 200], Counts(scores));
        Assert.Equal(["Score 5: 3–13 orders, 200 customers", "Score 4: 2 orders, 200 customers", "Score 3: no customers",
            "Score 2: no customers", "Score 1: 1 order, 600 customers"], preview.Describe());
    }

    [Fact]
    public void A_crowd_that_bought_on_the_reference_date_all_score_recency_5()
    {
        // 30% at 0 days: more than a fifth, yet no one bought more recently, so none of them drops to 4.
        var values = Enumerable.Repeat(0.0, 30).Concat(Enumerable.Range(1, 70).Select(d => (double)d)).ToArray();

        var scores = RfmScorer.ScoreQuintiles(values, RfmDimension.Recency);

        Assert.All(scores.Take(30), s => Assert.Equal(5, s));
        Assert.Equal([20, 20, 20, 10, 30], Counts(scores));
    }

    [Theory]
    [InlineData(RfmDimension.Recency, 5)]
    [InlineData(RfmDimension.Frequency, 1)]
    [InlineData(RfmDimension.Monetary, 1)]
    public void When_all_values_are_equal_everyone_gets_the_score_of_the_smallest_values(RfmDimension dimension, int expected)
    {
        var values = Enumerable.Repeat(7.0, 50).ToArray();

        var scores = RfmScorer.ScoreQuintiles(values, dimension);

        Assert.All(scores, s => Assert.Equal(expected, s));
    }

    [Theory]
    [InlineData(new double[] { 5 }, new[] { 1 })]
    [InlineData(new double[] { 9, 5 }, new[] { 3, 1 })]
    [InlineData(new double[] { 5, 5 }, new[] { 1, 1 })]
    [InlineData(new double[] { 40, 10, 30, 20 }, new[] { 4, 1, 3, 2 })]
    [InlineData(new double[] { 10, 20, 20, 30 }, new[] { 1, 2, 2, 4 })]
    public void Fewer_than_five_customers_keep_the_same_rule_and_leave_some_scores_empty(double[] values, int[] expected) =>
        Assert.Equal(expected, RfmScorer.ScoreQuintiles(values, RfmDimension.Monetary));

    [Fact]
    public void Fewer_than_five_customers_on_recency_are_reversed_too() =>
        Assert.Equal([2, 5, 3, 4], RfmScorer.ScoreQuintiles([40, 10, 30, 20], RfmDimension.Recency));

    [Fact]
    public void Zero_customers_give_no_scores_and_five_empty_bins()
    {
        var scores = RfmScorer.ScoreQuintiles([], RfmDimension.Frequency);
        var preview = RfmScorer.Preview(RfmDimension.Frequency, RfmScoringMethod.Quintiles, [], scores);

        Assert.Empty(scores);
        Assert.Equal([1, 2, 3, 4, 5], preview.Bins.Select(b => b.Score));
        Assert.All(preview.Bins, b => Assert.Equal(new RfmScoreBin(b.Score, 0, null, null), b));
    }

    [Fact]
    public void A_value_that_is_not_a_number_is_refused()
    {
        var ex = Assert.Throws<PortalException>(() => RfmScorer.ScoreQuintiles([1, double.NaN, 3], RfmDimension.Monetary));

        Assert.Contains("Monetary value is not a number", ex.Message);
    }

    [Fact]
    public void Negative_amounts_sort_below_zero() =>
        Assert.Equal([1, 2, 3, 4, 5], RfmScorer.ScoreQuintiles([-50, -0.01, 0, 0.01, 50], RfmDimension.Monetary));
}
