using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Churn;

namespace SegmentPortal.Tests.Analysis.Churn;

/// <summary>The pure parts: the lifecycle rule, the defaults from purchase gaps, features and labels as of a cut-off, AUC and calibration.</summary>
public sealed class ChurnEngineTests
{
    private static readonly LifecycleThresholds T = new(NewDays: 20, ActiveDays: 30, AtRiskDays: 90, DormantDays: 180);

    [Theory]
    [InlineData(10, 10, null, Lifecycle.New)]
    [InlineData(400, 5, 20, Lifecycle.Active)]
    [InlineData(400, 30, 20, Lifecycle.Active)]
    [InlineData(400, 5, 120, Lifecycle.Returning)]
    [InlineData(400, 31, 20, Lifecycle.AtRisk)]
    [InlineData(400, 90, 20, Lifecycle.AtRisk)]
    [InlineData(400, 91, 20, Lifecycle.Dormant)]
    [InlineData(400, 180, null, Lifecycle.Dormant)]
    [InlineData(400, 181, null, Lifecycle.Lost)]
    public void The_lifecycle_rule_follows_its_thresholds(int sinceFirst, int sinceLast, int? gap, string stage) =>
        Assert.Equal(stage, Lifecycle.Stage(sinceFirst, sinceLast, gap, T));

    [Fact]
    public void Thresholds_must_grow_and_defaults_come_from_the_gaps()
    {
        Assert.Null(T.Problem());
        Assert.NotNull(new LifecycleThresholds(10, 90, 30, 180).Problem());
        Assert.Equal(new LifecycleThresholds(14, 14, 60, 120), LifecycleThresholds.FromGaps(14, 60));
    }

    private static CustomerHistory Buys(params int[] days) =>
        new(days, days.Select(_ => 10.0).ToArray(), days.Select(_ => Array.Empty<double>()).ToArray(), []);

    [Fact]
    public void Features_count_only_orders_on_or_before_the_cut_off_and_the_label_looks_d_days_ahead()
    {
        var set = new ChurnFeatureSet(true, null, [], [], [], HorizonDays: 30);
        var customers = new[] { Buys(100, 110, 120, 200), Buys(100, 110, 170), Buys(130) };

        var (rows, features, churned) = ChurnEngine.Build(customers, 120, set);

        Assert.Equal([0, 1], rows);
        Assert.Equal([0f, 3, 3, 20, 10, 10, 30, 10, 30], features[0]);
        Assert.Equal(10f, features[1][0]);
        Assert.Equal(2f, features[1][1]);
        // Customer 0 buys next on day 200 (80 days later): churned; customer 1 on day 170 (50 days later): churned too with D = 30.
        Assert.Equal([true, true], churned);
        Assert.Equal([true, false], ChurnEngine.Build(customers, 120, set with { HorizonDays = 60 }).Churned);
    }

    [Fact]
    public void Defaults_take_the_90th_percentile_gap_and_refuse_data_without_repeat_buyers()
    {
        var customers = Enumerable.Range(0, 10).Select(i => Buys(1000, 1000 + 10 * (i + 1))).ToList();

        var defaults = ChurnEngine.Defaults(customers);

        Assert.Equal(90, defaults.HorizonDays);
        Assert.Equal(50, defaults.MedianGap);
        Assert.Equal(DateOnly.FromDayNumber(1100), defaults.LastDay);
        Assert.Equal(DateOnly.FromDayNumber(1010), defaults.TestCutoff);
        Assert.Equal(DateOnly.FromDayNumber(920), defaults.TrainCutoff);
        Assert.Contains("bought twice", Assert.Throws<PortalException>(() => ChurnEngine.Defaults([Buys(5), Buys(7)])).Message);
    }

    [Fact]
    public void Auc_and_calibration_are_computed_from_the_ranks()
    {
        Assert.Equal(1.0, ChurnEngine.Auc([0.9f, 0.8f, 0.2f, 0.1f], [true, true, false, false]));
        Assert.Equal(0.0, ChurnEngine.Auc([0.1f, 0.2f, 0.8f, 0.9f], [true, true, false, false]));
        Assert.Equal(0.5, ChurnEngine.Auc([0.5f, 0.5f, 0.5f, 0.5f], [true, false, true, false]));

        var bins = ChurnEngine.Calibration([0.1f, 0.2f, 0.3f, 0.4f], [false, false, true, true], bins: 2);
        Assert.Equal(2, bins.Count);
        Assert.Equal(0.15, bins[0].MeanPredicted, 6);
        Assert.Equal(0.0, bins[0].ActualRate);
        Assert.Equal(1.0, bins[1].ActualRate);
    }
}
