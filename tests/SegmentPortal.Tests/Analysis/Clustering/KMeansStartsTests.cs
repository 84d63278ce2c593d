using System.Globalization;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.TestData;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>
/// Several k-means++ starts per K, the best kept: on overlapping groups one start often settles on a worse local optimum.
/// Before: three starts gave 165.8 (K = 5), 109.9 (K = 8), 96.5 (K = 9), 91.9 (K = 10) against scikit-learn's 163.8, 102.6,
/// 91.9, 84.3; ten gave 117.3 (K = 7), 93.6 (K = 9), 87.3 (K = 10); thirty reach scikit-learn at every K.
/// Compared with scikit-learn on tests/data/kmeans-mall-like.csv (200 customers shaped like the Mall customers file: age,
/// annual income, spending score in five overlapping groups).
/// </summary>
public sealed class KMeansStartsTests
{
    /// <summary>
    /// Within-cluster sum of squares of scikit-learn 1.2 <c>KMeans(n_clusters=k, n_init=10, random_state=0)</c> on the
    /// three columns scaled with <c>StandardScaler</c> (population standard deviation, as the portal's z-score), computed
    /// once offline. K = 2..10. Single scikit-learn starts land above these in 1/50 (K = 2) to 50/50 (K = 9, 10) seeds.
    /// </summary>
    private static readonly double[] ScikitLearn = [393.4034, 291.9091, 199.7460, 163.8164, 130.3022, 115.7411, 102.6009, 91.9292, 84.2519];

    /// <summary>Float features and ML.NET's stopping tolerance leave a hair's difference at the same optimum; a worse optimum is percents away.</summary>
    private const double Tolerance = 0.002;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PreparedData MallLike()
    {
        var lines = File.ReadAllLines(TestDatasets.Path(TestDatasets.KMeansMallLike)).Skip(1);
        var rows = lines.Select(l => l.Split(',').Skip(1).Select(v => (double?)double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var data = new ClusteringData([new FeatureSpec("Age"), new FeatureSpec("Annual income"), new FeatureSpec("Spending score")], rows);
        return ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);
    }

    [Fact]
    public void The_automatic_K_range_reaches_scikit_learns_optimum_at_every_K()
    {
        var prepared = MallLike();
        Assert.Equal(200, prepared.Rows.Length);

        var evaluation = ClusteringEngine.EvaluateRange(prepared, 2, 10, seed: 42, cancellationToken: Ct);

        Assert.All(evaluation.PerK, m =>
        {
            Assert.Equal(30, m.Starts);
            var reference = ScikitLearn[m.K - 2];
            Assert.True(m.WithinClusterSumOfSquares <= reference * (1 + Tolerance),
                $"K = {m.K}: within-cluster sum of squares {m.WithinClusterSumOfSquares:F4}, scikit-learn {reference:F4}");
        });
    }

    [Theory]
    [InlineData(200, 30)]
    [InlineData(10_000, 30)]
    [InlineData(50_000, 10)]
    [InlineData(1_000_000, 3)]
    public void Big_inputs_get_fewer_starts_so_a_run_takes_as_long_as_before(int rows, int starts) =>
        Assert.Equal(starts, KMeansOptions.Default.StartsFor(rows));

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void Training_one_K_keeps_the_best_of_thirty_seeded_starts(int k)
    {
        var prepared = MallLike();

        var first = ClusteringEngine.Train(prepared, k, seed: 42, cancellationToken: Ct);
        var again = ClusteringEngine.Train(prepared, k, seed: 42, cancellationToken: Ct);

        Assert.Equal(30, first.Metrics.Starts);
        Assert.True(first.Metrics.WithinClusterSumOfSquares <= ScikitLearn[k - 2] * (1 + Tolerance),
            $"K = {k}: {first.Metrics.WithinClusterSumOfSquares:F4}, scikit-learn {ScikitLearn[k - 2]:F4}");
        Assert.Equal(first.Assignments, again.Assignments);
        Assert.Equal(first.Metrics, again.Metrics);
    }
}
