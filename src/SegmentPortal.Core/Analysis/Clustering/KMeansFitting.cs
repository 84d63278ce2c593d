using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>ML.NET k-means, made reproducible: one thread, a context seeded per start, k-means++ initialisation.</summary>
internal static class KMeansFitting
{
    public static ClusteringModel FitBest(
        PreparationParameters preparation, IReadOnlyList<float[]> rows, int k, int seed, KMeansOptions options,
        Action<double>? progress, CancellationToken ct)
    {
        ClusteringModel? best = null;
        var bestInertia = double.PositiveInfinity;
        var starts = options.StartsFor(rows.Count);
        for (var start = 0; start < starts; start++)
        {
            ct.ThrowIfCancellationRequested();
            var startSeed = start == 0 ? seed : Statistics.DeriveSeed(seed, 1000 + start);
            var model = Fit(preparation, rows, k, startSeed, options, ct);
            // Strictly smaller, so ties keep the earlier start and the choice does not depend on rounding order.
            var inertia = ClusterQuality.Inertia(rows, model.Centroids);
            if (inertia < bestInertia)
            {
                best = model;
                bestInertia = inertia;
            }
            progress?.Invoke((start + 1.0) / starts);
        }
        return best!;
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
