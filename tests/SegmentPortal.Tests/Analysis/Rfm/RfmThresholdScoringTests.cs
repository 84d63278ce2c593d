using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;

namespace SegmentPortal.Tests.Analysis.Rfm;

public sealed class RfmThresholdScoringTests
{
    [Theory]
    [InlineData(0, 5)]
    [InlineData(30, 5)]
    [InlineData(31, 4)]
    [InlineData(60, 4)]
    [InlineData(61, 3)]
    [InlineData(120, 3)]
    [InlineData(121, 2)]
    [InlineData(240, 2)]
    [InlineData(241, 1)]
    [InlineData(5000, 1)]
    public void Recency_up_to_and_including_a_cut_point_gets_the_better_score(double days, int expected) =>
        Assert.Equal(expected, RfmScorer.ScoreThreshold(days, RfmDimension.Recency, [30, 60, 120, 240]));

    [Theory]
    [InlineData(0, 1)]
    [InlineData(99.99, 1)]
    [InlineData(100, 2)]
    [InlineData(249.99, 2)]
    [InlineData(250, 3)]
    [InlineData(499.99, 3)]
    [InlineData(500, 4)]
    [InlineData(999.99, 4)]
    [InlineData(1000, 5)]
    [InlineData(-20, 1)]
    public void Monetary_from_a_cut_point_up_gets_the_better_score(double amount, int expected) =>
        Assert.Equal(expected, RfmScorer.ScoreThreshold(amount, RfmDimension.Monetary, [100, 250, 500, 1000]));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(4, 3)]
    [InlineData(5, 4)]
    [InlineData(9, 4)]
    [InlineData(10, 5)]
    [InlineData(250, 5)]
    public void Frequency_defaults_keep_one_time_buyers_apart(double orders, int expected) =>
        Assert.Equal(expected, RfmScorer.ScoreThreshold(orders, RfmDimension.Frequency, RfmCutPoints.DefaultFrequency));

    [Fact]
    public void Bulk_scoring_keeps_the_input_order() =>
        Assert.Equal([1, 5, 3, 2], RfmScorer.ScoreThresholds([400, 0, 90, 200], RfmDimension.Recency, RfmCutPoints.DefaultRecency));

    [Fact]
    public void The_defaults_are_valid_and_as_documented()
    {
        Assert.Equal([30.0, 60, 120, 240], RfmCutPoints.Default(RfmDimension.Recency));
        Assert.Equal([2.0, 3, 5, 10], RfmCutPoints.Default(RfmDimension.Frequency));
        Assert.Equal([100.0, 250, 500, 1000], RfmCutPoints.Default(RfmDimension.Monetary));
        Assert.All(Enum.GetValues<RfmDimension>(), d => Assert.Null(RfmCutPoints.Problem(d, RfmCutPoints.Default(d))));
    }

    public static TheoryData<RfmDimension, double[]?, string> InvalidCutPoints => new()
    {
        { RfmDimension.Recency, null, "Recency needs exactly 4 cut points to make 5 scores; it has 0." },
        { RfmDimension.Recency, [30, 60, 120], "Recency needs exactly 4 cut points to make 5 scores; it has 3." },
        { RfmDimension.Monetary, [1, 2, 3, 4, 5], "Monetary needs exactly 4 cut points to make 5 scores; it has 5." },
        { RfmDimension.Recency, [30, 60, 60, 240], "Recency cut points must go up: cut point 3 (60) is not larger than cut point 2 (60)." },
        { RfmDimension.Monetary, [1000, 500, 250, 100], "Monetary cut points must go up: cut point 2 (500) is not larger than cut point 1 (1,000)." },
        { RfmDimension.Monetary, [100, double.NaN, 500, 1000], "Monetary cut point 2 is not a number." },
        { RfmDimension.Monetary, [100, 250, 500, double.PositiveInfinity], "Monetary cut point 4 is not a number." },
        { RfmDimension.Recency, [-1, 60, 120, 240], "Recency cut point 1 is -1; days are never below 0." },
        { RfmDimension.Frequency, [-2, 3, 5, 10], "Frequency cut point 1 is -2; orders are never below 0." },
    };

    [Theory]
    [MemberData(nameof(InvalidCutPoints))]
    public void Invalid_cut_points_are_refused_with_a_clear_message(RfmDimension dimension, double[]? cutPoints, string message)
    {
        Assert.Equal(message, RfmCutPoints.Problem(dimension, cutPoints));
        var ex = Assert.Throws<PortalException>(() => RfmScorer.ScoreThresholds([1], dimension, cutPoints!));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Negative_monetary_cut_points_are_allowed_for_refunds() =>
        Assert.Null(RfmCutPoints.Problem(RfmDimension.Monetary, [-100, 0, 100, 1000]));

    [Fact]
    public void Fractional_cut_points_work() =>
        Assert.Equal([1, 2, 5], RfmScorer.ScoreThresholds([0.49, 0.5, 9.75], RfmDimension.Monetary, [0.5, 1.5, 2.5, 9.75]));

    [Fact]
    public void Cut_points_are_not_checked_while_the_dimension_uses_quintiles()
    {
        var scoring = new RfmDimensionScoring(RfmScoringMethod.Quintiles, [5, 1]);

        Assert.Null(scoring.Problem(RfmDimension.Monetary));
        Assert.NotNull((scoring with { Method = RfmScoringMethod.Thresholds }).Problem(RfmDimension.Monetary));
    }

    [Fact]
    public void The_preview_shows_the_values_and_customers_each_score_actually_holds()
    {
        double[] days = [0, 14, 3, 45, 31, 200, 365, 400, 90];
        var scores = RfmScorer.ScoreThresholds(days, RfmDimension.Recency, RfmCutPoints.DefaultRecency);

        var preview = RfmScorer.Preview(RfmDimension.Recency, RfmScoringMethod.Thresholds, days, scores);

        Assert.Equal(
        [
            "Score 5: 0–14 days, 3 customers",
            "Score 4: 31–45 days, 2 customers",
            "Score 3: 90 days, 1 customer",
            "Score 2: 200 days, 1 customer",
            "Score 1: 365–400 days, 2 customers",
        ], preview.Describe());
        Assert.Equal(new RfmScoreBin(5, 3, 0, 14), preview.Bin(5));
    }

    [Fact]
    public void The_preview_names_empty_scores_and_formats_amounts_with_cents()
    {
        double[] amounts = [99.5, 1250, 30000.25];
        var scores = RfmScorer.ScoreThresholds(amounts, RfmDimension.Monetary, RfmCutPoints.DefaultMonetary);

        var preview = RfmScorer.Preview(RfmDimension.Monetary, RfmScoringMethod.Thresholds, amounts, scores);

        Assert.Equal(
        [
            "Score 5: 1,250.00–30,000.25, 2 customers",
            "Score 4: no customers",
            "Score 3: no customers",
            "Score 2: no customers",
            "Score 1: 99.50, 1 customer",
        ], preview.Describe());
    }

    [Fact]
    public void One_day_and_one_order_are_singular()
    {
        Assert.Equal("1 day", new RfmScoreBin(5, 4, 1, 1).Range(RfmDimension.Recency));
        Assert.Equal("1 order", new RfmScoreBin(1, 4, 1, 1).Range(RfmDimension.Frequency));
        Assert.Equal("none", new RfmScoreBin(1, 0, null, null).Range(RfmDimension.Frequency));
    }

    [Fact]
    public void Frequency_counted_in_purchase_days_is_called_purchase_days()
    {
        Assert.Equal("1 purchase day", new RfmScoreBin(1, 4, 1, 1).Range(RfmDimension.Frequency, RfmFrequencyUnit.PurchaseDays));
        Assert.Equal("2–4 purchase days", new RfmScoreBin(3, 4, 2, 4).Range(RfmDimension.Frequency, RfmFrequencyUnit.PurchaseDays));
        Assert.Equal("2–4 orders", new RfmScoreBin(3, 4, 2, 4).Range(RfmDimension.Frequency, RfmFrequencyUnit.Orders));
        // Only Frequency has the unit: days of recency stay days.
        Assert.Equal("1 day", new RfmScoreBin(5, 4, 1, 1).Range(RfmDimension.Recency, RfmFrequencyUnit.PurchaseDays));
    }
}
