using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

public sealed class AutomaticKTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PreparedData FourGroups(int perGroup)
    {
        var (data, _) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, perGroup, 1.0, 42, SyntheticCustomers.ThreeFeatures);
        return ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);
    }

    [Fact]
    public void Four_separated_groups_suggest_K_4_over_2_to_8()
    {
        var evaluation = ClusteringEngine.EvaluateRange(FourGroups(750), 2, 8, seed: 1, cancellationToken: Ct);

        Assert.Equal(4, evaluation.Suggestion.K);
        Assert.StartsWith("K = 4: highest silhouette", evaluation.Suggestion.Reason);
        Assert.Contains("elbow", evaluation.Suggestion.Reason);
        Assert.Equal([2, 3, 4, 5, 6, 7, 8], evaluation.PerK.Select(m => m.K));
        Assert.Equal(3_000, evaluation.SampleSize);
        var four = evaluation.PerK.Single(m => m.K == 4);
        Assert.Equal(evaluation.PerK.Max(m => m.Silhouette), four.Silhouette);
        Assert.Equal(evaluation.PerK.Min(m => m.DaviesBouldin), four.DaviesBouldin);
    }

    [Fact]
    public void Each_K_is_trained_and_measured_on_a_capped_sample()
    {
        var options = new KMeansOptions { EvaluationSampleSize = 800, SilhouetteSampleSize = 300, Restarts = 1 };

        var evaluation = ClusteringEngine.EvaluateRange(FourGroups(500), 3, 5, 1, options, cancellationToken: Ct);

        Assert.Equal(800, evaluation.SampleSize);
        Assert.All(evaluation.PerK, m => Assert.Equal((800, 300), (m.RowsMeasured, m.SilhouetteSampleSize)));
        var again = ClusteringEngine.EvaluateRange(FourGroups(500), 3, 5, 1, options, cancellationToken: Ct);
        Assert.Equal(evaluation.PerK, again.PerK);
        Assert.Equal(evaluation.Suggestion, again.Suggestion);
    }

    [Fact]
    public void The_reason_names_silhouette_Davies_Bouldin_and_the_elbow()
    {
        var suggestion = KSuggestions.Suggest(
        [
            new(3, 1000, 0.52, 3000, 0.80, 50_000),
            new(4, 400, 0.71, 3000, 0.42, 50_000),
            new(5, 376, 0.60, 3000, 0.55, 50_000),
        ]);

        Assert.Equal(new KSuggestion(4,
            "K = 4: highest silhouette (0.71), Davies-Bouldin lowest (0.42), and the elbow: going to 5 reduces the within-cluster sum of squares by only 6%."),
            suggestion);
    }

    [Fact]
    public void A_near_tie_on_silhouette_goes_to_the_lower_Davies_Bouldin()
    {
        var suggestion = KSuggestions.Suggest(
        [
            new(3, 1000, 0.70, 3000, 0.40, 50_000),
            new(4, 700, 0.71, 3000, 0.45, 50_000),
            new(5, 500, 0.50, 3000, 0.90, 50_000),
        ]);

        Assert.Equal(3, suggestion.K);
        Assert.StartsWith("K = 3: silhouette 0.70, within 0.02 of the highest (0.71 at K = 4), with a lower Davies-Bouldin (0.40 against 0.45)", suggestion.Reason);
        Assert.Contains("no clear elbow", suggestion.Reason);
    }

    [Fact]
    public void The_largest_K_tried_says_a_wider_range_may_show_more()
    {
        var suggestion = KSuggestions.Suggest([new(2, 1000, 0.30, 3000, 1.2, 100), new(3, 500, 0.50, 3000, 0.9, 100)]);

        Assert.Equal(3, suggestion.K);
        Assert.EndsWith("it is the largest K tried, so a wider range may show more groups.", suggestion.Reason);
    }

    [Theory]
    [InlineData(1, 5, "between 2 and 20")]
    [InlineData(2, 21, "between 2 and 20")]
    [InlineData(6, 5, "larger than the largest")]
    public void A_bad_range_is_refused(int minK, int maxK, string message)
    {
        var error = Assert.Throws<PortalException>(() => ClusteringEngine.EvaluateRange(FourGroups(20), minK, maxK, 1, cancellationToken: Ct));
        Assert.Contains(message, error.Message);
    }
}
