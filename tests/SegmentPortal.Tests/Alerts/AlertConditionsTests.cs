using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Metrics;

namespace SegmentPortal.Tests.Alerts;

/// <summary>
/// Alert conditions as pure functions. The usual-range figures were computed independently with SciPy 1.10.1
/// (Debian python3-scipy): <c>numpy.median(x)</c> ± 3 × <c>scipy.stats.median_abs_deviation(x, scale="normal")</c>,
/// and, where the MAD is 0, ± 3 × √(π/2) × the mean absolute deviation from the median.
/// </summary>
public sealed class AlertConditionsTests
{
    private static readonly double[] Weekly = [100, 104, 98, 101, 97, 103, 99, 250, 102, 100, 96, 105];

    private static IReadOnlyList<AlertHistoryPoint> History(params double?[] values) =>
        values.Select((v, i) => new AlertHistoryPoint(new DateOnly(2024, 1, 1).AddDays(7 * i), v)).ToList();

    [Fact]
    public void The_usual_range_is_the_median_plus_or_minus_three_robust_deviations_as_scipy_computes_it()
    {
        var band = AlertConditions.UsualRange(Weekly, 3)!;

        Assert.Equal(89.38048336120798, band.Low!.Value, 9);
        Assert.Equal(111.61951663879202, band.High!.Value, 9);
    }

    [Fact]
    public void Where_most_of_the_history_is_equal_the_range_comes_from_the_mean_absolute_deviation()
    {
        var band = AlertConditions.UsualRange([10, 10, 10, 10, 10, 14], 3)!;

        Assert.Equal(7.493371725369, band.Low!.Value, 9);
        Assert.Equal(12.506628274631, band.High!.Value, 9);
    }

    [Fact]
    public void An_unusual_value_fires_and_one_spike_in_the_history_does_not_widen_the_range()
    {
        var condition = new AlertCondition { Kind = AlertConditionKind.Unusual };

        var high = AlertConditions.Evaluate(condition, new AlertInput(115, History: History(Weekly.Select(v => (double?)v).ToArray())));
        var usual = AlertConditions.Evaluate(condition, new AlertInput(110, History: History(Weekly.Select(v => (double?)v).ToArray())));

        Assert.Equal(AlertOutcome.Firing, high.Outcome);
        Assert.Contains("outside the usual range 89.38 to 111.62", high.Reason);
        Assert.Contains("of the last 12 periods", high.Reason);
        Assert.Equal(AlertOutcome.Clear, usual.Outcome);
        Assert.Equal(111.61951663879202, usual.Band!.High!.Value, 9);
    }

    [Fact]
    public void The_range_uses_only_the_last_periods_asked_for_and_skips_periods_without_a_value()
    {
        var condition = new AlertCondition { Kind = AlertConditionKind.Unusual, HistoryPeriods = 4 };

        // The last four values with a figure: 10, 10, 10, 14 (the 1,000 and the empty period are not used).
        var reading = AlertConditions.Evaluate(condition, new AlertInput(13, History: History(1000, 10, 10, null, 10, 14)));

        var expected = AlertConditions.UsualRange([10, 10, 10, 14], 3)!;
        Assert.Equal(expected, reading.Band);
        Assert.Contains("of the last 4 periods", reading.Reason);
    }

    [Fact]
    public void Too_little_history_cannot_decide_and_says_how_much_is_needed()
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = AlertConditionKind.Unusual }, new AlertInput(5, History: History(1, 2, null)));

        Assert.Equal(AlertOutcome.NotEvaluable, reading.Outcome);
        Assert.Equal("Too little history to know the usual range: 2 past periods with a value, 4 needed.", reading.Reason);
    }

    [Fact]
    public void The_same_weekday_range_learns_only_from_that_weekday()
    {
        // Daily figures over four weeks: Mondays near 200, other days near 50.
        var start = new DateOnly(2024, 1, 1); // a Monday
        var days = Enumerable.Range(0, 28).Select(i => new AlertHistoryPoint(start.AddDays(i), start.AddDays(i).DayOfWeek == DayOfWeek.Monday ? 200 + i % 3 : 50 + i % 5)).ToList();
        var monday = start.AddDays(28);
        var condition = new AlertCondition { Kind = AlertConditionKind.Unusual, Method = UnusualMethod.SameWeekday };

        var mondayValue = AlertConditions.Evaluate(condition, new AlertInput(201, History: days, CurrentStart: monday));
        var anyDay = AlertConditions.Evaluate(condition with { Method = UnusualMethod.MedianMad }, new AlertInput(201, History: days, CurrentStart: monday));

        Assert.Equal(AlertOutcome.Clear, mondayValue.Outcome);
        Assert.Contains("of the last 4 Mondays", mondayValue.Reason);
        Assert.Equal(AlertOutcome.Firing, anyDay.Outcome);
    }

    [Theory]
    [InlineData(AlertConditionKind.Above, 120.0, AlertOutcome.Firing, "120 is above 100.")]
    [InlineData(AlertConditionKind.Above, 100.0, AlertOutcome.Clear, "100 is not above 100.")]
    [InlineData(AlertConditionKind.Below, 99.5, AlertOutcome.Firing, "99.5 is below 100.")]
    [InlineData(AlertConditionKind.Below, 100.0, AlertOutcome.Clear, "100 is not below 100.")]
    public void Above_and_below_compare_with_the_threshold(AlertConditionKind kind, double value, AlertOutcome outcome, string reason)
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = kind, Threshold = 100 }, new AlertInput(value));

        Assert.Equal(outcome, reading.Outcome);
        Assert.Equal(reason, reading.Reason);
    }

    [Theory]
    [InlineData(0.29, AlertOutcome.Firing, "0.29 is below 0.3.")]
    [InlineData(0.3, AlertOutcome.Clear, "0.3 is between 0.3 and 0.5.")]
    [InlineData(0.51, AlertOutcome.Firing, "0.51 is above 0.5.")]
    public void Outside_band_fires_on_either_side(double value, AlertOutcome outcome, string reason)
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = AlertConditionKind.OutsideBand, Low = 0.3, High = 0.5 }, new AlertInput(value));

        Assert.Equal(outcome, reading.Outcome);
        Assert.Equal(reason, reading.Reason);
        Assert.Equal(new AlertBand(0.3, 0.5), reading.Band);
    }

    [Theory]
    [InlineData(ChangeDirection.Either, 89.0, AlertOutcome.Firing)]
    [InlineData(ChangeDirection.Either, 111.0, AlertOutcome.Firing)]
    [InlineData(ChangeDirection.Either, 110.0, AlertOutcome.Clear)]
    [InlineData(ChangeDirection.Up, 89.0, AlertOutcome.Clear)]
    [InlineData(ChangeDirection.Up, 111.0, AlertOutcome.Firing)]
    [InlineData(ChangeDirection.Down, 89.0, AlertOutcome.Firing)]
    [InlineData(ChangeDirection.Down, 111.0, AlertOutcome.Clear)]
    public void A_change_counts_only_past_the_percentage_and_in_the_direction_chosen(ChangeDirection direction, double value, AlertOutcome outcome)
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = AlertConditionKind.Change, ChangePercent = 10, Direction = direction }, new AlertInput(value, Comparison: 100));

        Assert.Equal(outcome, reading.Outcome);
    }

    [Fact]
    public void A_change_says_both_values_and_the_change_in_per_cent()
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = AlertConditionKind.Change, ChangePercent = 20 }, new AlertInput(70, Comparison: 100), v => "¥" + v);

        Assert.Equal("¥70 against ¥100 before: -30%, more than the 20% allowed.", reading.Reason);
        Assert.Equal(new AlertBand(80, 120), reading.Band);
    }

    [Fact]
    public void A_change_from_a_negative_or_zero_value_is_measured_from_its_size_or_not_at_all()
    {
        var condition = new AlertCondition { Kind = AlertConditionKind.Change, ChangePercent = 50 };

        Assert.Equal(AlertOutcome.Firing, AlertConditions.Evaluate(condition, new AlertInput(-40, Comparison: -100)).Outcome); // +60%
        Assert.Equal(AlertOutcome.NotEvaluable, AlertConditions.Evaluate(condition, new AlertInput(5, Comparison: 0)).Outcome);
        Assert.Equal(AlertOutcome.NotEvaluable, AlertConditions.Evaluate(condition, new AlertInput(5)).Outcome);
    }

    [Theory]
    [InlineData(MetricDirection.HigherIsBetter, 0.31, AlertOutcome.Firing, "0.31 is below the target 0.35 (higher is better).")]
    [InlineData(MetricDirection.HigherIsBetter, 0.35, AlertOutcome.Clear, "0.35 is on the target 0.35.")]
    [InlineData(MetricDirection.LowerIsBetter, 0.4, AlertOutcome.Firing, "0.4 is above the target 0.35 (lower is better).")]
    [InlineData(MetricDirection.None, 0.4, AlertOutcome.NotEvaluable, "The metric has no target with a good direction.")]
    public void Missing_the_target_follows_the_metrics_direction(MetricDirection direction, double value, AlertOutcome outcome, string reason)
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = AlertConditionKind.MissesTarget }, new AlertInput(value, Target: 0.35, Direction: direction));

        Assert.Equal(outcome, reading.Outcome);
        Assert.Equal(reason, reading.Reason);
    }

    [Fact]
    public void No_current_value_cannot_decide()
    {
        var reading = AlertConditions.Evaluate(new AlertCondition { Kind = AlertConditionKind.Above, Threshold = 1 }, new AlertInput(null));

        Assert.Equal(AlertOutcome.NotEvaluable, reading.Outcome);
        Assert.Equal("There is no current value to check.", reading.Reason);
    }

    [Theory]
    [InlineData(AlertConditionKind.Above, null, null, null, null, "Enter the threshold the value is compared with.")]
    [InlineData(AlertConditionKind.OutsideBand, null, null, null, null, "Enter the lowest or the highest value that is still fine (or both).")]
    [InlineData(AlertConditionKind.OutsideBand, null, 5.0, 1.0, null, "The lowest fine value must not be above the highest.")]
    [InlineData(AlertConditionKind.Change, null, null, null, 0.0, "Enter by how many per cent the value must change (more than 0).")]
    [InlineData(AlertConditionKind.Below, double.NaN, null, null, null, "Enter the threshold the value is compared with.")]
    public void A_condition_missing_its_figures_is_refused_in_words(AlertConditionKind kind, double? threshold, double? low, double? high, double? percent, string message)
    {
        var condition = new AlertCondition { Kind = kind, Threshold = threshold, Low = low, High = high, ChangePercent = percent };

        Assert.Equal(message, AlertConditions.Validate(condition));
        Assert.Equal(AlertOutcome.NotEvaluable, AlertConditions.Evaluate(condition, new AlertInput(1)).Outcome);
    }

    [Fact]
    public void An_unusual_condition_needs_a_sensible_history_and_sensitivity()
    {
        Assert.Equal("Learn the usual range from 4 to 120 past periods.", AlertConditions.Validate(new AlertCondition { Kind = AlertConditionKind.Unusual, HistoryPeriods = 3 }));
        Assert.Equal("The sensitivity must be a number above 0 (3 is usual).", AlertConditions.Validate(new AlertCondition { Kind = AlertConditionKind.Unusual, Sensitivity = 0 }));
        Assert.Null(AlertConditions.Validate(new AlertCondition { Kind = AlertConditionKind.Unusual }));
    }

    [Fact]
    public void An_alert_fires_once_when_its_condition_starts_and_once_when_it_clears()
    {
        var outcomes = new[] { AlertOutcome.Clear, AlertOutcome.Firing, AlertOutcome.Firing, AlertOutcome.NotEvaluable, AlertOutcome.Firing, AlertOutcome.Clear, AlertOutcome.Clear, AlertOutcome.Firing };
        var firing = false;
        var transitions = new List<AlertTransition>();
        foreach (var outcome in outcomes)
        {
            var next = AlertConditions.Next(firing, outcome);
            transitions.Add(next);
            firing = next switch { AlertTransition.Fired => true, AlertTransition.Cleared => false, _ => firing };
        }

        Assert.Equal(
            [AlertTransition.None, AlertTransition.Fired, AlertTransition.None, AlertTransition.None, AlertTransition.None, AlertTransition.Cleared, AlertTransition.None, AlertTransition.Fired],
            transitions);
    }

    [Fact]
    public void A_muted_or_snoozed_alert_sends_nothing_until_the_snooze_ends()
    {
        var now = new DateTimeOffset(2024, 6, 15, 9, 0, 0, TimeSpan.Zero);

        Assert.True(AlertConditions.Sends(AlertTransition.Fired, muted: false, snoozedUntil: null, now));
        Assert.False(AlertConditions.Sends(AlertTransition.None, muted: false, snoozedUntil: null, now));
        Assert.False(AlertConditions.Sends(AlertTransition.Fired, muted: true, snoozedUntil: null, now));
        Assert.False(AlertConditions.Sends(AlertTransition.Cleared, muted: false, snoozedUntil: now.AddHours(1), now));
        Assert.True(AlertConditions.Sends(AlertTransition.Cleared, muted: false, snoozedUntil: now, now));
    }
}
