namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// Tuning for training and evaluation. The defaults keep a full automatic run (K = 2..10, then the chosen K) on a
/// million customers around a minute on a two-core server.
/// </summary>
public sealed record KMeansOptions
{
    public static KMeansOptions Default { get; } = new();

    /// <summary>
    /// Independent k-means++ starts (seeds derived from the run's seed); the one with the smallest within-cluster sum of
    /// squares wins. One start now and then settles on a poor local optimum, merging two groups and splitting another.
    /// </summary>
    public int Restarts { get; init; } = 3;

    /// <summary>
    /// A cap on Lloyd iterations per start, bounding the worst case; ML.NET stops earlier once the mean squared distance
    /// changes by less than its tolerance, which on customer-like data takes far fewer.
    /// </summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Customers the silhouette is computed on (its cost grows with the square of this).</summary>
    public int SilhouetteSampleSize { get; init; } = 3_000;

    /// <summary>Customers each K is trained and measured on in <see cref="ClusteringEngine.EvaluateRange"/>.</summary>
    public int EvaluationSampleSize { get; init; } = 50_000;

    internal void Validate()
    {
        if (Restarts < 1 || MaxIterations < 1 || SilhouetteSampleSize < 2 || EvaluationSampleSize < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(KMeansOptions), "Restarts and iterations must be positive; sample sizes at least 2.");
        }
    }
}
