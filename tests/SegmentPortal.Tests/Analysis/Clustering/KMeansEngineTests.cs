using System.Globalization;
using DuckDB.NET.Data;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.TestData;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>
/// The portal's own k-means (<see cref="KMeansFitting"/>) against scikit-learn 1.2.1 (Debian python3-sklearn): the same
/// optimum on real customers, the same steps from the same starting centres, one model per seed on any number of cores,
/// empty clusters refilled as scikit-learn does, and a cancel honoured between iterations.
/// </summary>
public sealed class KMeansEngineTests
{
    /// <summary>
    /// scikit-learn's <c>KMeans(n_clusters=k, n_init=10, random_state=0, algorithm="lloyd").inertia_</c> for K = 2..8 on
    /// the UCI Online Retail customers of <see cref="RetailCustomers"/> (4,338), the five features z-scored as the portal
    /// does and rounded to float32, computed once offline. Other random states land within 0.05% of these (K = 8: 0.07%).
    /// </summary>
    private static readonly double[] ScikitLearnRetail = [12683.4073, 8823.5128, 6953.6020, 6140.2565, 5483.0392, 5072.3717, 4707.7812];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Customers of the UCI Online Retail file (lines with a customer, positive quantity and price): log1p of invoices,
    /// of spend and of lines; days since the last and since the first purchase before 2011-12-10.
    /// </summary>
    private static PreparedData RetailCustomers()
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(DISTINCT InvoiceNo), sum(Quantity * UnitPrice), count(*),
                   date_diff('day', max(CAST(InvoiceDate AS DATE)), DATE '2011-12-10'),
                   date_diff('day', min(CAST(InvoiceDate AS DATE)), DATE '2011-12-10')
            FROM read_csv($path)
            WHERE CustomerID IS NOT NULL AND Quantity > 0 AND UnitPrice > 0
            GROUP BY CustomerID ORDER BY CustomerID
            """;
        command.Parameters.Add(new DuckDBParameter("path", TestDatasets.Path(TestDatasets.OnlineRetail)));
        var rows = new List<double?[]>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add(Enumerable.Range(0, 5).Select(i => (double?)Convert.ToDouble(reader.GetValue(i), CultureInfo.InvariantCulture)).ToArray());
            }
        }
        var data = new ClusteringData(
        [
            new FeatureSpec("Invoices", FeatureTransform.Log1p), new FeatureSpec("Spend", FeatureTransform.Log1p),
            new FeatureSpec("Lines", FeatureTransform.Log1p), new FeatureSpec("Recency"), new FeatureSpec("Tenure"),
        ], rows.ToArray());
        return ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);
    }

    private static FeatureMatrix MallLike()
    {
        var lines = File.ReadAllLines(TestDatasets.Path(TestDatasets.KMeansMallLike)).Skip(1);
        var rows = lines.Select(l => l.Split(',').Skip(1).Select(v => (double?)double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var data = new ClusteringData([new FeatureSpec("Age"), new FeatureSpec("Annual income"), new FeatureSpec("Spending score")], rows);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);
        return FeatureMatrix.From(prepared.Rows, 3);
    }

    [Fact]
    public void On_the_online_retail_customers_every_K_reaches_scikit_learns_sum_of_squares()
    {
        var prepared = RetailCustomers();
        Assert.Equal(4_338, prepared.Rows.Length);

        for (var k = 2; k <= 8; k++)
        {
            var result = ClusteringEngine.Train(prepared, k, seed: 42, cancellationToken: Ct);

            var reference = ScikitLearnRetail[k - 2];
            Assert.True(Math.Abs(result.Metrics.WithinClusterSumOfSquares - reference) <= reference * 0.002,
                $"K = {k}: within-cluster sum of squares {result.Metrics.WithinClusterSumOfSquares:F4}, scikit-learn {reference:F4}");
        }
    }

    /// <summary>
    /// From the same starting centres scikit-learn's Lloyd (<c>KMeans(init=…, n_init=1, algorithm="lloyd")</c>, tolerance
    /// 1e-4) takes 23 iterations to these centres, sizes 51/23/35/52/39 and sum of squares 163.81637573242188.
    /// </summary>
    [Fact]
    public void From_the_same_starting_centres_the_iterations_follow_scikit_learns()
    {
        var x = MallLike();
        var init = new[] { 10, 60, 110, 160, 190 }.SelectMany(row => Enumerable.Range(0, 3).Select(f => (double)x[row, f])).ToArray();

        var solution = KMeansFitting.Fit(x, 5, 0, KMeansFitting.RelativeTolerance * KMeansFitting.MeanVariance(x), KMeansOptions.Default, Ct,
            initialCentres: init);

        double[][] expected =
        [
            [-0.505689442, -0.314480841, -0.112158068],
            [-1.033795834, -1.298469067, 1.045928597],
            [-0.019692035, 0.993609488, -1.325275660],
            [1.310798407, -0.590988278, -0.415755659],
            [-0.459097564, 1.073291659, 1.273529530],
        ];
        AssertCentres(expected, solution.Centroids);
        Assert.Equal([51, 23, 35, 52, 39], Sizes(solution.Labels, 5));
        Assert.Equal(23, solution.Iterations);
        Assert.Equal(163.81637573242188, solution.Inertia, 1e-4);
    }

    /// <summary>
    /// A starting centre far from every customer gets nobody in the first iteration; scikit-learn then moves it onto the
    /// customer farthest from its own centre and ends (17 iterations) at these centres, sizes 51/39/23/52/35, sum of
    /// squares 163.81637573242188.
    /// </summary>
    [Fact]
    public void An_empty_cluster_takes_the_customer_farthest_from_its_centre_as_scikit_learn_does()
    {
        var x = MallLike();
        var init = Enumerable.Range(0, 4).SelectMany(row => Enumerable.Range(0, 3).Select(f => (double)x[row, f])).Concat([50, 50, 50]).ToArray();

        var solution = KMeansFitting.Fit(x, 5, 0, KMeansFitting.RelativeTolerance * KMeansFitting.MeanVariance(x), KMeansOptions.Default, Ct,
            initialCentres: init);

        double[][] expected =
        [
            [-0.505689442, -0.314480841, -0.112158068],
            [-0.459097564, 1.073291659, 1.273529530],
            [-1.033795834, -1.298469067, 1.045928597],
            [1.310798407, -0.590988278, -0.415755659],
            [-0.019692035, 0.993609488, -1.325275660],
        ];
        AssertCentres(expected, solution.Centroids);
        Assert.Equal([51, 39, 23, 52, 35], Sizes(solution.Labels, 5));
        Assert.Equal(17, solution.Iterations);
    }

    [Fact]
    public void Relocation_moves_the_farthest_customer_out_of_its_cluster_into_the_empty_one()
    {
        // One feature: rows 0, 1, 2, 10 all in cluster 0 (centre 0); cluster 1 is empty.
        var x = FeatureMatrix.From([[0f], [1f], [2f], [10f]], 1);
        var labels = new[] { 0, 0, 0, 0 };
        var sums = new[] { 13.0, 0.0 };
        var counts = new long[] { 4, 0 };

        KMeansFitting.RelocateEmptyClusters(x, [0.0, 5.0], labels, sums, counts, 2);

        Assert.Equal([3.0, 10.0], sums);
        Assert.Equal([3L, 1L], counts);
    }

    [Fact]
    public void A_seed_gives_the_same_model_on_one_core_and_on_four()
    {
        // Several chunks of rows, so the partial sums really are combined from different threads.
        var (data, _) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, 30_000, 2.5, 11);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);
        var x = FeatureMatrix.From(prepared.Rows, 3);
        Assert.True(x.Chunks >= 4);

        var one = KMeansFitting.FitBest(x, 6, 5, new KMeansOptions { MaxDegreeOfParallelism = 1 }, null, Ct);
        var four = KMeansFitting.FitBest(x, 6, 5, new KMeansOptions { MaxDegreeOfParallelism = 4 }, null, Ct);
        var again = KMeansFitting.FitBest(x, 6, 5, new KMeansOptions { MaxDegreeOfParallelism = 4 }, null, Ct);

        Assert.Equal(one.Centroids, four.Centroids);
        Assert.Equal(one.Labels, four.Labels);
        Assert.Equal(one.Inertia, four.Inertia);
        Assert.Equal(four.Centroids, again.Centroids);
        Assert.Equal(four.Labels, again.Labels);
    }

    [Fact]
    public void A_cancel_during_a_start_stops_it_before_the_next_iteration()
    {
        var x = MallLike();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var lastIteration = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => KMeansFitting.Fit(x, 8, 3, 0, KMeansOptions.Default, cancellation.Token,
            iteration =>
            {
                lastIteration = iteration;
                if (iteration == 2)
                {
                    cancellation.Cancel();
                }
            }));

        // Tolerance 0 would let it run on; it stopped right after the iteration in which it was cancelled.
        Assert.Equal(2, lastIteration);
    }

    [Fact]
    public void The_model_assigns_a_customer_to_the_nearest_centre_and_a_tie_to_the_lower_cluster()
    {
        var preparation = new PreparationParameters([new FeatureSpec("A")], FeatureScaling.MinMax, MissingValues.ImputeMedian,
            [new FeatureParameters("A", FeatureTransform.None, 5, 0, 10, 5, 1)]);
        var model = new ClusteringModel(preparation, [[0.75], [0.25]]);

        // Scaled: 0.1 → cluster 1, 0.9 → cluster 0, 0.5 is exactly between them → the lower cluster number, 0.
        Assert.Equal([1, 0, 0], model.Assign([[1.0], [9.0], [5.0]], Ct));
    }

    private static void AssertCentres(double[][] expected, double[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var c = 0; c < expected.Length; c++)
        {
            for (var f = 0; f < expected[c].Length; f++)
            {
                Assert.True(Math.Abs(expected[c][f] - actual[c][f]) < 1e-5, $"Centre {c}, feature {f}: {actual[c][f]}, scikit-learn {expected[c][f]}");
            }
        }
    }

    private static int[] Sizes(int[] labels, int k)
    {
        var sizes = new int[k];
        foreach (var label in labels)
        {
            sizes[label]++;
        }
        return sizes;
    }
}
