using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

public sealed class ExplanationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Four groups, trained once for the class: group g sits at 10 on feature g-1, group 0 at the origin.</summary>
    private static readonly Lazy<(ClusteringData Data, int[] Truth, PreparedData Prepared, ClusteringResult Result, ClusterExplanation Explanation)> FourGroups = new(() =>
    {
        var (data, truth) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, 500, 1.0, 21, SyntheticCustomers.ThreeFeatures);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian);
        var result = ClusteringEngine.Train(prepared, 4, 1);
        return (data, truth, prepared, result, ClusteringEngine.Explain(data, prepared, result));
    });

    /// <summary>The cluster holding most of the customers of a true group.</summary>
    private static int ClusterOf(int group)
    {
        var (_, truth, _, result, _) = FourGroups.Value;
        return Enumerable.Range(0, truth.Length).Where(i => truth[i] == group)
            .GroupBy(i => result.Assignments[i]).MaxBy(g => g.Count())!.Key;
    }

    [Fact]
    public void The_rule_for_a_group_apart_on_one_feature_is_a_threshold_on_that_feature_between_the_groups()
    {
        var explanation = FourGroups.Value.Explanation;

        // Group 1 is the only one with Spend around 10; everyone else has Spend around 0.
        var rule = explanation.Clusters[ClusterOf(1)].Rules[0];

        var condition = Assert.Single(rule.Conditions);
        Assert.Equal(0, condition.FeatureIndex);
        Assert.Equal(ThresholdComparison.Greater, condition.Comparison);
        Assert.InRange(condition.Threshold, 3, 7);
        Assert.True(rule.Precision >= 0.9, $"Precision {rule.Precision}");
        Assert.True(rule.Coverage >= 0.9, $"Coverage {rule.Coverage}");
        Assert.StartsWith("Spend > ", rule.Describe(FourGroups.Value.Data.Features));
    }

    [Fact]
    public void Rule_precision_and_coverage_are_measured_on_every_customer()
    {
        var (data, _, prepared, result, explanation) = FourGroups.Value;
        foreach (var cluster in explanation.Clusters)
        {
            foreach (var rule in cluster.Rules)
            {
                var matched = Enumerable.Range(0, result.Assignments.Length)
                    .Where(r => rule.Conditions.All(c => c.Matches(data.Rows[prepared.KeptRows[r]][c.FeatureIndex]))).ToList();
                var inCluster = matched.Count(r => result.Assignments[r] == cluster.Cluster);
                Assert.Equal((matched.Count, inCluster), (rule.Matched, rule.MatchedInCluster));
                Assert.Equal((double)inCluster / matched.Count, rule.Precision, 12);
                Assert.Equal((double)inCluster / cluster.Size, rule.Coverage, 12);
            }
        }
    }

    [Fact]
    public void Names_are_unique_and_use_the_high_and_low_words()
    {
        var clusters = FourGroups.Value.Explanation.Clusters;

        Assert.Equal(4, clusters.Select(c => c.Name).Distinct().Count());
        Assert.StartsWith("Big spenders", clusters[ClusterOf(1)].Name);
        Assert.StartsWith("Lapsed", clusters[ClusterOf(2)].Name);
        Assert.StartsWith("High Frequency", clusters[ClusterOf(3)].Name);
        // The group at the origin is below average on everything.
        Assert.Contains("small spenders", clusters[ClusterOf(0)].Name, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("recent", clusters[ClusterOf(0)].Name);
    }

    [Fact]
    public void Clusters_with_the_same_profile_still_get_different_names()
    {
        FeatureSpec[] features = [new("Spend", HighWord: "big spenders"), new("Orders", HighWord: "frequent")];
        double[][] differences = [[2, 0.1], [2, -0.1], [2, 0.1], [0, 0]];

        var names = ClusterExplainer.Names(features, differences, [40, 30, 20, 10], ExplanationOptions.Default);

        Assert.Equal(["Big spenders", "Big spenders, low Orders", "Big spenders, frequent", "Average customers"], names);
        names = ClusterExplainer.Names(features, [[2, 0], [2, 0]], [2, 1], ExplanationOptions.Default);
        Assert.Equal(["Big spenders", "Big spenders (2)"], names);
    }

    [Fact]
    public void Profiles_are_in_original_units_next_to_the_overall_mean()
    {
        var (data, _, _, result, explanation) = FourGroups.Value;
        var spender = explanation.Clusters[ClusterOf(1)];

        Assert.InRange(spender.Means[0]!.Value, 9.5, 10.5);
        Assert.InRange(spender.Means[1]!.Value, -0.5, 0.5);
        Assert.Equal(data.Rows.Average(r => r[0]!.Value), explanation.OverallMeans[0]!.Value, 9);
        Assert.True(spender.StandardisedDifferences[0] > 1);
        Assert.Equal(result.Sizes[spender.Cluster], spender.Size);
        Assert.Equal(1, explanation.Clusters.Sum(c => c.Share), 12);
        var box = spender.Distributions[0]!;
        Assert.Equal(spender.Size, box.Count);
        Assert.True(box.Min <= box.LowerWhisker && box.LowerWhisker <= box.LowerQuartile && box.LowerQuartile <= box.Median
            && box.Median <= box.UpperQuartile && box.UpperQuartile <= box.UpperWhisker && box.UpperWhisker <= box.Max);
        Assert.Equal(data.Rows.Length, explanation.OverallDistributions[0]!.Count);
    }

    [Fact]
    public void Box_plots_use_interpolated_quartiles_and_tukey_whiskers_over_values_present()
    {
        // One cluster: 1..9 and an outlier at 100, plus a customer whose value is missing (filled in, but not plotted).
        var rows = Enumerable.Range(1, 9).Select(v => new double?[] { v, v % 2 }).Append([100, 0]).Append([null, 1]).ToArray();
        var data = new ClusteringData([new("Spend"), new("Flag")], rows);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.MinMax, MissingValues.ImputeMedian, Ct);
        var result = ClusteringEngine.Train(prepared, 2, 1, cancellationToken: Ct);

        var box = ClusteringEngine.Explain(data, prepared, result, cancellationToken: Ct).OverallDistributions[0]!;

        // Sorted 1..9, 100: Q1 at rank 2.25 → 3.25, median 5.5, Q3 at rank 6.75 → 7.75; IQR 4.5, fences -3.5 and 14.5.
        Assert.Equal(new BoxSummary(10, 1, 3.25, 5.5, 7.75, 100, 1, 9, 1), box);
    }

    [Fact]
    public void The_projection_is_a_capped_deterministic_sample_with_explained_variance()
    {
        var (data, _, prepared, result, explanation) = FourGroups.Value;
        var options = new ExplanationOptions { ProjectionSampleSize = 300 };

        var projection = ClusteringEngine.Explain(data, prepared, result, options, Ct).Projection;
        var again = ClusteringEngine.Explain(data, prepared, result, options, Ct).Projection;

        Assert.Equal(300, projection.Points.Count);
        Assert.Equal(projection.Points, again.Points);
        Assert.All(projection.Points, p => Assert.Equal(result.Assignments[p.Row], p.Cluster));
        Assert.Equal(projection.Points.Count, projection.Points.Select(p => p.Row).Distinct().Count());
        Assert.True(projection.FirstExplainedVariance >= projection.SecondExplainedVariance);
        Assert.InRange(projection.FirstExplainedVariance + projection.SecondExplainedVariance, 0.6, 1);
        Assert.Equal(3, projection.FirstLoadings.Count);
        Assert.Equal(2_000, explanation.Projection.Points.Count);
    }

    [Fact]
    public void Eigen_decomposition_matches_a_hand_computed_matrix()
    {
        var (values, vectors) = SymmetricEigen.Decompose(new double[,] { { 2, 1 }, { 1, 2 } });

        Assert.Equal(3, values[0], 12);
        Assert.Equal(1, values[1], 12);
        Assert.Equal(Math.Sqrt(0.5), vectors[0][0], 12);
        Assert.Equal(Math.Sqrt(0.5), vectors[0][1], 12);
        Assert.Equal(0, vectors[1][0] + vectors[1][1], 12);
    }

    [Theory]
    [InlineData(54.65, 60.1, 60)]
    [InlineData(-5.5, -2, -5)]
    [InlineData(0.123, 0.1245, 0.123)]
    [InlineData(0.1231, 0.1245, 0.124)]
    [InlineData(4.2, 4.3, 4.2)]
    [InlineData(1234, 1240, 1234)]
    [InlineData(0, 0.5, 0)]
    public void Thresholds_are_the_roundest_number_between_neighbouring_values(double below, double above, double expected) =>
        Assert.Equal(expected, ClusterRules.RoundThreshold(below, above), 12);
}
