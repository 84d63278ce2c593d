using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

public sealed class AdjustedRandIndexTests
{
    [Fact]
    public void Identical_labelings_score_1() =>
        Assert.Equal(1.0, ClusteringEngine.AdjustedRandIndex([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]), 12);

    [Fact]
    public void Renumbered_clusters_still_score_1() =>
        Assert.Equal(1.0, ClusteringEngine.AdjustedRandIndex([0, 0, 1, 1, 2, 2], [2, 2, 0, 0, 1, 1]), 12);

    [Fact]
    public void A_labeling_that_cuts_across_the_groups_scores_at_most_0()
    {
        // Every pair that is together in one labeling is apart in the other.
        Assert.True(ClusteringEngine.AdjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]) <= 0);
    }
}
