using System.Text.Json;
using SegmentPortal.Core.Analysis.Survival;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Tests.Analysis.Survival;

/// <summary>
/// The Kaplan–Meier curve, Greenwood's standard error, the 95% band and the log-rank test against values computed
/// elsewhere: the published Freireich 6-MP / placebo leukaemia trial (by hand, as in the textbooks), and a seeded data
/// set whose reference was computed with Python (statsmodels' SurvfuncRight and survdiff, SciPy's chi-square and normal
/// quantile) by survival_reference.py in this folder; the tests read its committed output.
/// </summary>
public sealed class SurvivalEngineTests
{
    /// <summary>Weeks in remission (Freireich et al., 1963; Gehan 1965); a "+" (here: false) is a censored time.</summary>
    private static readonly SurvivalObservation[] SixMp =
    [
        E(6), E(6), E(6), C(6), E(7), C(9), E(10), C(10), C(11), E(13), E(16), C(17), C(19), C(20), E(22), E(23), C(25), C(32), C(32), C(34), C(35),
    ];

    private static readonly SurvivalObservation[] Placebo =
    [
        E(1), E(1), E(2), E(2), E(3), E(4), E(4), E(5), E(5), E(8), E(8), E(8), E(8), E(11), E(11), E(12), E(12), E(15), E(17), E(22), E(23),
    ];

    private static SurvivalObservation E(double t) => new(t, true);

    private static SurvivalObservation C(double t) => new(t, false);

    [Fact]
    public void The_6_mp_curve_matches_the_published_kaplan_meier_table()
    {
        var curve = SurvivalEngine.KaplanMeier(SixMp);

        // time, at risk, events, S(t), Greenwood SE — the classic table (e.g. Kleinbaum & Klein, R's survfit).
        (double T, int N, int D, double S, double Se)[] table =
        [
            (6, 21, 3, 0.8571, 0.0764), (7, 17, 1, 0.8067, 0.0869), (10, 15, 1, 0.7529, 0.0963), (13, 12, 1, 0.6902, 0.1068),
            (16, 11, 1, 0.6275, 0.1141), (22, 7, 1, 0.5378, 0.1282), (23, 6, 1, 0.4482, 0.1346),
        ];
        Assert.Equal(table.Length, curve.Steps.Count);
        for (var i = 0; i < table.Length; i++)
        {
            var step = curve.Steps[i];
            Assert.Equal(table[i].T, step.Time);
            Assert.Equal(table[i].N, step.AtRisk);
            Assert.Equal(table[i].D, step.Events);
            Assert.Equal(table[i].S, step.Survival, 4);
            Assert.Equal(table[i].Se, step.StandardError, 4);
            // The linear band: S ± 1.96 SE, within [0, 1].
            Assert.Equal(Math.Clamp(table[i].S - 1.96 * table[i].Se, 0, 1), step.Lower, 2);
            Assert.Equal(Math.Min(1, table[i].S + 1.96 * table[i].Se), step.Upper, 2);
        }
        Assert.Equal(23, curve.Median);
        Assert.Equal(21, curve.Subjects);
        Assert.Equal(9, curve.Events);
        Assert.Equal([6.0, 9, 10, 11, 17, 19, 20, 25, 32, 34, 35], curve.Censored.Select(c => c.Time));
        Assert.Equal(2, curve.Censored.Single(c => c.Time == 32).Count);
        Assert.Equal(0.6275, curve.Censored.Single(c => c.Time == 17).Survival, 4);
    }

    [Fact]
    public void The_placebo_curve_reaches_zero_and_its_median_is_eight_weeks()
    {
        var curve = SurvivalEngine.KaplanMeier(Placebo);

        Assert.Equal(8, curve.Median);
        Assert.Equal(0.3810, curve.SurvivalAt(8), 4);
        Assert.Equal(0, curve.Steps[^1].Survival);
        Assert.Equal(0, curve.Steps[^1].Lower);
        Assert.Empty(curve.Censored);
    }

    [Fact]
    public void The_log_rank_test_of_6_mp_against_placebo_is_the_published_16_79()
    {
        var test = SurvivalEngine.LogRank([SixMp, Placebo])!;

        Assert.Equal(16.79, test.ChiSquare, 2);
        Assert.Equal(1, test.DegreesOfFreedom);
        Assert.InRange(test.PValue, 4.1e-5, 4.3e-5);
        Assert.Equal(9, test.Groups[0].Observed);
        Assert.Equal(19.25, test.Groups[0].Expected, 2);
        Assert.Equal(21, test.Groups[1].Observed);
        Assert.Equal(10.75, test.Groups[1].Expected, 2);
    }

    [Fact]
    public void A_median_is_not_reached_while_the_curve_stays_above_one_half()
    {
        var curve = SurvivalEngine.KaplanMeier([E(1), C(2), C(3), C(4)]);

        Assert.Null(curve.Median);
        Assert.Null(SurvivalEngine.LogRank([[E(1), C(2)], []]));
    }

    [Fact]
    public void Curves_bands_and_medians_match_the_python_reference()
    {
        var reference = Reference();
        var groups = Groups(reference);
        var curves = reference.GetProperty("curves").EnumerateArray().ToList();
        Assert.Equal(groups.Count, curves.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            var curve = SurvivalEngine.KaplanMeier(groups[g]);
            var expected = curves[g];
            var times = Numbers(expected, "times");
            Assert.Equal(times, curve.Steps.Select(s => s.Time));
            Assert.Equal(Numbers(expected, "atRisk"), curve.Steps.Select(s => (double)s.AtRisk));
            Assert.Equal(Numbers(expected, "events"), curve.Steps.Select(s => (double)s.Events));
            var survival = Numbers(expected, "survival");
            var se = Numbers(expected, "standardError");
            var lower = Numbers(expected, "lower");
            var upper = Numbers(expected, "upper");
            for (var i = 0; i < times.Count; i++)
            {
                var step = curve.Steps[i];
                Assert.Equal(survival[i], step.Survival, 12);
                if (double.IsNaN(se[i]))
                {
                    // Greenwood's variance is undefined once the curve is at 0 (Python gives NaN); the band is then [0, 0].
                    Assert.Equal(0, step.Survival);
                    Assert.Equal((0.0, 0.0), (step.Lower, step.Upper));
                    continue;
                }
                Assert.Equal(se[i], step.StandardError, 12);
                Assert.Equal(lower[i], step.Lower, 12);
                Assert.Equal(upper[i], step.Upper, 12);
            }
            var median = expected.GetProperty("median");
            Assert.Equal(median.ValueKind == JsonValueKind.Null ? null : median.GetDouble(), curve.Median);
        }
    }

    [Fact]
    public void Log_rank_statistics_and_p_values_match_the_python_reference()
    {
        var reference = Reference();
        var groups = Groups(reference);

        foreach (var (name, used) in new[] { ("logRankAll", groups), ("logRankFirstTwo", groups.Take(2).ToList()) })
        {
            var expected = reference.GetProperty(name);
            var test = SurvivalEngine.LogRank(used)!;
            Assert.Equal(expected.GetProperty("chiSquare").GetDouble(), test.ChiSquare, 9);
            Assert.Equal(expected.GetProperty("df").GetInt32(), test.DegreesOfFreedom);
            Assert.Equal(expected.GetProperty("pValue").GetDouble(), test.PValue, 12);
        }
        foreach (var value in reference.GetProperty("chiSquareSurvival").EnumerateArray())
        {
            var p = value.GetProperty("p").GetDouble();
            var actual = SurvivalEngine.ChiSquareSurvival(value.GetProperty("x").GetDouble(), value.GetProperty("df").GetInt32());
            Assert.True(Math.Abs(actual - p) <= 1e-10 * Math.Max(p, 1e-300) + 1e-15, $"chi-square sf {value}: {actual} vs {p}");
        }
        Assert.Equal(SurvivalEngine.Z95, reference.GetProperty("z").GetDouble(), 12);
    }

    private static JsonElement Reference()
    {
        var path = Path.Combine(StoragePaths.FindRepositoryRoot(AppContext.BaseDirectory)!, "tests", "SegmentPortal.Tests", "Analysis", "Survival", "survival_reference.json");
        // Python writes NaN as a bare literal; read it as a string token so JsonDocument accepts it.
        var text = File.ReadAllText(path).Replace("NaN", "\"NaN\"", StringComparison.Ordinal);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static List<IReadOnlyList<SurvivalObservation>> Groups(JsonElement reference) =>
        reference.GetProperty("groups").EnumerateArray().Select(g =>
        {
            var times = Numbers(g, "time");
            var events = Numbers(g, "event");
            return (IReadOnlyList<SurvivalObservation>)times.Select((t, i) => new SurvivalObservation(t, events[i] == 1)).ToList();
        }).ToList();

    private static List<double> Numbers(JsonElement element, string name) =>
        element.GetProperty(name).EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : v.GetDouble()).ToList();
}

/// <summary>A customer's follow-up from their purchase days, the default D, and the log-rank result in words.</summary>
public sealed class SurvivalFollowUpTests
{
    [Fact]
    public void Churn_is_dated_d_days_after_the_purchase_before_the_first_long_gap()
    {
        // Purchases on days 100, 110, 170 (a 60-day gap), 175; end 400; D = 30: lost on day 140, 40 days after the first.
        Assert.Equal(new SurvivalObservation(40, true), SurvivalFollowUp.Churn([100, 110, 170, 175], 400, 30));
        // No long gap, and the last purchase is more than D days before the end: lost D days after it (day 195).
        Assert.Equal(new SurvivalObservation(95, true), SurvivalFollowUp.Churn([100, 110, 140, 165], 400, 30));
        // Bought within the last D days with no long gap before: still followed, censored at end − first.
        Assert.Equal(new SurvivalObservation(60, false), SurvivalFollowUp.Churn([340, 360, 385], 400, 30));
        // Exactly D days without a purchase at the end is not yet churn (a gap must be longer than D).
        Assert.Equal(new SurvivalObservation(40, false), SurvivalFollowUp.Churn([360, 370], 400, 30));
        Assert.Equal(new SurvivalObservation(40, true), SurvivalFollowUp.Churn([360, 370], 401, 30));
    }

    [Fact]
    public void Second_purchase_and_the_default_d()
    {
        Assert.Equal(new SurvivalObservation(7, true), SurvivalFollowUp.SecondPurchase([10, 17, 40], 100));
        Assert.Equal(new SurvivalObservation(90, false), SurvivalFollowUp.SecondPurchase([10], 100));

        // Gaps 1..10 and 100: the 90th percentile (nearest rank 10 of 11) is 10.
        int[] many = [0, .. Enumerable.Range(1, 10).Select(i => Enumerable.Range(1, i).Sum())];
        Assert.Equal(10, SurvivalFollowUp.DefaultChurnDays([many, [0, 100]]));
        Assert.Null(SurvivalFollowUp.DefaultChurnDays([[5], [9]]));
        Assert.Equal("2024-03", SurvivalFollowUp.CohortOf(new DateOnly(2024, 3, 31).DayNumber));
    }

    [Fact]
    public void P_values_and_the_sentence_in_words()
    {
        Assert.Equal("p < 0.001", SurvivalWords.P(0.0004));
        Assert.Equal("p = 0.004", SurvivalWords.P(0.0042));
        Assert.Equal("p = 0.03", SurvivalWords.P(0.031));
        Assert.Equal("p = 0.41", SurvivalWords.P(0.41));

        SurvivalGroupResult Group(string name, int observed, double expected) =>
            new(name, $"{name} customers", 10, observed, 10 - observed, null, SurvivalEngine.KaplanMeier([]), new LogRankGroup(observed, expected));
        var two = new[] { Group("South", 3, 8), Group("North", 9, 4) };
        Assert.Equal("North customers churn faster than South customers; p = 0.03.",
            SurvivalWords.Sentence(SurvivalEvent.Churn, two, new LogRankTest(4.7, 1, 0.03, [two[0].LogRank!, two[1].LogRank!])));
        Assert.Equal("North customers come back for a second purchase sooner than South customers; p < 0.001.",
            SurvivalWords.Sentence(SurvivalEvent.SecondPurchase, two, new LogRankTest(14, 1, 0.0002, [two[0].LogRank!, two[1].LogRank!])));
        Assert.Equal("No clear difference between the groups (p = 0.41).",
            SurvivalWords.Sentence(SurvivalEvent.Churn, two, new LogRankTest(0.7, 1, 0.41, [two[0].LogRank!, two[1].LogRank!])));
        var three = new[] { Group("East", 5, 5), Group("North", 9, 4), Group("South", 2, 7) };
        Assert.Equal("North customers churn fastest and South customers slowest; p = 0.004.",
            SurvivalWords.Sentence(SurvivalEvent.Churn, three, new LogRankTest(11, 2, 0.004, three.Select(g => g.LogRank!).ToList())));
    }
}
