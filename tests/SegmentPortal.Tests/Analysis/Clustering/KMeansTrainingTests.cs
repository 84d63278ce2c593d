using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

public sealed class KMeansTrainingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (ClusteringData Data, int[] Truth, PreparedData Prepared) FourGroups(int perGroup = 750, FeatureScaling scaling = FeatureScaling.ZScore)
    {
        var (data, truth) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, perGroup, 1.0, 42, SyntheticCustomers.ThreeFeatures);
        return (data, truth, ClusteringEngine.Prepare(data, scaling, MissingValues.ImputeMedian, Ct));
    }

    [Fact]
    public void Four_separated_groups_are_recovered()
    {
        var (_, truth, prepared) = FourGroups();

        var result = ClusteringEngine.Train(prepared, 4, seed: 1, cancellationToken: Ct);

        Assert.True(ClusteringEngine.AdjustedRandIndex(truth, result.Assignments) >= 0.95);
        Assert.Equal(4, result.Centroids.Count);
        Assert.All(result.Centroids, c => Assert.Equal(3, c.Length));
        Assert.Equal(truth.Length, result.Sizes.Sum());
        Assert.All(result.Sizes, size => Assert.InRange(size, 700, 800));
        Assert.Equal(truth.Length, result.Metrics.RowsMeasured);
        Assert.Equal(3_000, result.Metrics.SilhouetteSampleSize);
        Assert.True(result.Metrics.Silhouette > 0.6);
    }

    [Fact]
    public void The_same_seed_gives_identical_assignments_centroids_and_metrics()
    {
        var (_, _, prepared) = FourGroups(300);

        var first = ClusteringEngine.Train(prepared, 5, seed: 7, cancellationToken: Ct);
        var second = ClusteringEngine.Train(prepared, 5, seed: 7, cancellationToken: Ct);

        Assert.Equal(first.Assignments, second.Assignments);
        Assert.Equal(first.Centroids.Count, second.Centroids.Count);
        for (var c = 0; c < first.Centroids.Count; c++)
        {
            Assert.Equal(first.Centroids[c], second.Centroids[c]);
        }
        Assert.Equal(first.Metrics, second.Metrics);
    }

    [Fact]
    public async Task A_cancelled_token_stops_training_within_the_start_it_is_in()
    {
        // The token is cancelled as the first start reports it is done (a state, not a time): no later start may complete.
        // That a cancel also lands inside a start, between two iterations, is KMeansEngineTests' cancellation test.
        var (data, _) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, 50_000, 2.5, 5);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);
        var options = new KMeansOptions { Restarts = 10 };
        var starts = options.StartsFor(prepared.Rows.Length);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var startsDone = 0;
        var startsDoneWhenCancelled = -1;
        using var registration = cancellation.Token.Register(() => startsDoneWhenCancelled = Volatile.Read(ref startsDone));
        var progress = new SynchronousProgress(p =>
        {
            if (p > 0 && p <= 0.8)
            {
                // Training reports 0.8 × (starts done / starts) after each start.
                Interlocked.Increment(ref startsDone);
                cancellation.Cancel();
            }
        });

        var training = Task.Run(() => ClusteringEngine.Train(prepared, 12, 3, options, progress, cancellation.Token), Ct);

        // The wait is only a guard against a hang: what shows the stop is the state below, not how long it took.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => training.WaitAsync(TimeSpan.FromMinutes(5), Ct));
        Assert.True(startsDoneWhenCancelled >= 0, "The token was never cancelled.");
        // At most the start under way when the token was cancelled completes; none of the others begins.
        Assert.InRange(startsDone - startsDoneWhenCancelled, 0, 1);
        Assert.True(startsDone < starts, $"All {starts} starts ran although the token was cancelled after {startsDoneWhenCancelled}.");
    }

    [Fact]
    public void An_already_cancelled_token_stops_before_any_work()
    {
        var (_, _, prepared) = FourGroups(100);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ClusteringEngine.Train(prepared, 4, 1, cancellationToken: cancellation.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => ClusteringEngine.EvaluateRange(prepared, 2, 4, 1, cancellationToken: cancellation.Token));
    }

    [Fact]
    public void Progress_runs_from_zero_to_one()
    {
        var (_, _, prepared) = FourGroups(100);
        var reports = new List<double>();

        ClusteringEngine.Train(prepared, 4, 1, progress: new SynchronousProgress(reports.Add), cancellationToken: Ct);

        Assert.Equal(0, reports[0]);
        Assert.Equal(1, reports[^1]);
        Assert.Equal(reports.Order(), reports);
    }

    [Theory]
    [InlineData(MissingValues.ImputeMedian)]
    [InlineData(MissingValues.DropRow)]
    public void A_saved_and_loaded_model_assigns_the_training_customers_to_their_training_clusters(MissingValues missing)
    {
        var (data, _) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, 200, 1.0, 9,
            [new("Spend", FeatureTransform.Log1p), new("Recency"), new("Frequency")]);
        // Log1p needs non-negative values, and some customers miss a value.
        var rows = data.Rows.Select((row, i) => row.Select((v, f) => i % 37 == f ? null : (double?)Math.Abs(v!.Value)).ToArray()).ToArray();
        data = new ClusteringData(data.Features, rows);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.MinMax, missing, Ct);
        var result = ClusteringEngine.Train(prepared, 4, 3, cancellationToken: Ct);

        using var saved = new MemoryStream();
        result.Model.Save(saved);
        saved.Position = 0;
        var assigned = ClusteringEngine.Assign(saved, rows, Ct);

        Assert.Equal(result.Assignments, prepared.KeptRows.Select(i => assigned[i]));
        var dropped = Enumerable.Range(0, rows.Length).Except(prepared.KeptRows).ToList();
        Assert.Equal(missing == MissingValues.DropRow ? prepared.RowsDropped : 0, dropped.Count);
        Assert.All(dropped, i => Assert.Equal(ClusteringModel.Unassigned, assigned[i]));
        saved.Position = 0;
        var loaded = ClusteringModel.Load(saved);
        Assert.Equal(prepared.Parameters.Parameters, loaded.Preparation.Parameters);
        Assert.Equal(result.Centroids, loaded.Centroids);
    }

    [Fact]
    public void Assigning_a_negative_value_to_a_log1p_feature_is_refused()
    {
        var data = new ClusteringData([new("Spend", FeatureTransform.Log1p), new("Orders")],
            Enumerable.Range(0, 40).Select(i => new double?[] { i % 2 * 100 + i, i % 2 * 10 }).ToArray());
        var result = ClusteringEngine.Train(ClusteringEngine.Prepare(data, FeatureScaling.MinMax, MissingValues.ImputeMedian, Ct), 2, 1, cancellationToken: Ct);

        var error = Assert.Throws<PortalException>(() => result.Model.Assign([[-3, 1]], Ct));
        Assert.Contains("Spend", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_refused()
    {
        using var garbage = new MemoryStream([1, 2, 3, 4, 5]);
        Assert.Throws<PortalException>(() => ClusteringModel.Load(garbage));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(21)]
    public void K_outside_2_to_20_is_refused(int k)
    {
        var (_, _, prepared) = FourGroups(10);
        var error = Assert.Throws<PortalException>(() => ClusteringEngine.Train(prepared, k, 1, cancellationToken: Ct));
        Assert.Contains("between 2 and 20", error.Message);
    }

    [Fact]
    public void More_clusters_than_customers_is_refused()
    {
        var data = new ClusteringData([new("Spend")], [[1], [2], [3]]);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.MinMax, MissingValues.ImputeMedian, Ct);

        var error = Assert.Throws<PortalException>(() => ClusteringEngine.Train(prepared, 4, 1, cancellationToken: Ct));
        Assert.Contains("Only 3 customers", error.Message);
    }

    [Fact]
    public void More_clusters_than_distinct_customers_is_refused()
    {
        var data = new ClusteringData([new("Spend"), new("Orders")], Enumerable.Range(0, 50).Select(i => new double?[] { i % 3, 1 }).ToArray());
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.MinMax, MissingValues.ImputeMedian, Ct);

        var error = Assert.Throws<PortalException>(() => ClusteringEngine.Train(prepared, 4, 1, cancellationToken: Ct));
        Assert.Contains("only 3 different", error.Message);
        Assert.Equal(3, ClusteringEngine.Train(prepared, 3, 1, cancellationToken: Ct).Sizes.Count(s => s > 0));
    }

    /// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so a test sees every report at once.</summary>
    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
