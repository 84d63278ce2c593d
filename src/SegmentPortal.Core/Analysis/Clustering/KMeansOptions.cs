namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// Tuning for training and evaluation. The defaults keep a full automatic run (K = 2..10, then the chosen K) on a
/// million customers around a minute on a two-core server.
/// </summary>
public sealed record KMeansOptions
{
    public static KMeansOptions Default { get; } = new();

    /// <summary>
    /// At most this many independent k-means++ starts per K (seeds derived from the run's seed, so a run is repeatable);
    /// the one with the smallest within-cluster sum of squares wins. One start often settles on a poor local optimum,
    /// merging two groups and splitting another. With three starts the automatic K range stayed well above scikit-learn's
    /// <c>KMeans(n_init=10)</c> on overlapping data shaped like the Mall customers file; ML.NET's k-means++ seeding is
    /// plainer than scikit-learn's greedy one (which the portal's own k-means now uses), and thirty starts reached
    /// scikit-learn's optimum at every K from 2 to 10.
    /// <see cref="RestartRowBudget"/> bounds the cost on big inputs.
    /// </summary>
    public int Restarts { get; init; } = 30;

    /// <summary>
    /// Starts × customers one K may spend: a big input gets fewer starts than <see cref="Restarts"/>, never fewer than
    /// three (or <see cref="Restarts"/> if smaller). 10,000 customers get 30 starts, the 50,000 sampled to choose K get
    /// 10 (scikit-learn's classic <c>n_init</c>), a million get 3, so big runs take as long as before.
    /// </summary>
    public int RestartRowBudget { get; init; } = 500_000;

    /// <summary>The starts a K gets on <paramref name="rows"/> customers.</summary>
    public int StartsFor(int rows) => Math.Min(Restarts, Math.Max(Math.Min(3, Restarts), RestartRowBudget / Math.Max(1, rows)));

    /// <summary>
    /// A cap on Lloyd iterations per start, bounding the worst case; a start stops earlier once no customer changes
    /// cluster or the centres move less than scikit-learn's tolerance, which on customer-like data takes far fewer.
    /// </summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>
    /// Cores one k-means start may use (-1: all). The rows are split into fixed chunks whose partial sums are added in
    /// chunk order, so the model for a seed is the same whatever this is.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Customers the silhouette is computed on (its cost grows with the square of this).</summary>
    public int SilhouetteSampleSize { get; init; } = 3_000;

    /// <summary>Customers each K is trained and measured on in <see cref="ClusteringEngine.EvaluateRange"/>.</summary>
    public int EvaluationSampleSize { get; init; } = 50_000;

    internal void Validate()
    {
        if (Restarts < 1 || RestartRowBudget < 1 || MaxIterations < 1 || SilhouetteSampleSize < 2 || EvaluationSampleSize < 2
            || MaxDegreeOfParallelism is 0 or < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(KMeansOptions), "Restarts and iterations must be positive; sample sizes at least 2; cores -1 (all) or positive.");
        }
    }
}
