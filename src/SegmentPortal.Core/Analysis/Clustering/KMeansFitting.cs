using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>ML.NET k-means, made reproducible: one thread and a context seeded per start, k-means++ initialisation.</summary>
internal static class KMeansFitting
{
    /// <summary>
    /// Trains <see cref="KMeansOptions.StartsFor"/> seeded starts and keeps the one with the smallest within-cluster sum
    /// of squares. The starts are independent (each its own seeded context on one thread), so they run side by side on
    /// up to <see cref="Environment.ProcessorCount"/> cores; the winner is chosen in start order afterwards, so the
    /// model is the same whatever order they finish in and however many cores there are.
    /// </summary>
    public static ClusteringModel FitBest(
        PreparationParameters preparation, IReadOnlyList<float[]> rows, int k, int seed, KMeansOptions options,
        Action<double>? progress, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var starts = options.StartsFor(rows.Count);
        var models = new ClusteringModel[starts];
        var inertias = new double[starts];
        var finished = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(starts, Environment.ProcessorCount)) };
        try
        {
            Parallel.For(0, starts, parallel, start =>
            {
                ct.ThrowIfCancellationRequested();
                var startSeed = start == 0 ? seed : Statistics.DeriveSeed(seed, 1000 + start);
                models[start] = Fit(preparation, rows, k, startSeed, options, ct);
                inertias[start] = ClusterQuality.Inertia(rows, models[start].Centroids);
                // Under a lock, so the reports arrive in order whichever start finishes first.
                lock (models)
                {
                    progress?.Invoke(++finished / (double)starts);
                }
            });
        }
        catch (AggregateException e)
        {
            if (ct.IsCancellationRequested || e.InnerExceptions.Any(inner => inner is OperationCanceledException))
            {
                throw new OperationCanceledException("Clustering was cancelled.", e, ct);
            }
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }

        var best = 0;
        for (var start = 1; start < starts; start++)
        {
            // Strictly smaller, so ties keep the earlier start and the choice does not depend on rounding order.
            if (inertias[start] < inertias[best])
            {
                best = start;
            }
        }
        return models[best];
    }

    private static ClusteringModel Fit(
        PreparationParameters preparation, IReadOnlyList<float[]> rows, int k, int seed, KMeansOptions options, CancellationToken ct)
    {
        var ml = new MLContext(seed);
        var view = new FeatureMatrixDataView(rows, preparation.FeatureCount, ct);
        var trainer = ml.Clustering.Trainers.KMeans(new KMeansTrainer.Options
        {
            FeatureColumnName = FeatureMatrixDataView.FeaturesColumn,
            NumberOfClusters = k,
            NumberOfThreads = 1,
            InitializationAlgorithm = KMeansTrainer.InitializationAlgorithm.KMeansPlusPlus,
            MaximumNumberOfIterations = options.MaxIterations,
            // The Yinyang speed-up keeps per-customer bounds up to this budget (ML.NET's default is 4 GB); a million
            // customers need a small part of it, and the warehouse shares the server.
            AccelerationMemoryBudgetMb = 1024,
        });
        try
        {
            var transformer = trainer.Fit(view);
            return new ClusteringModel(ml, preparation, transformer, transformer.Model, view.Schema);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is not OperationCanceledException)
        {
            // ML.NET may wrap the cursor's exception (Parallel.Invoke inside its passes).
            throw new OperationCanceledException("Clustering was cancelled.", e, ct);
        }
    }
}
