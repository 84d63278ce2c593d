namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>The outcome of training with one K.</summary>
/// <param name="Assignments">Cluster (0-based) of each prepared row, aligned with <see cref="PreparedData.KeptRows"/>.</param>
/// <param name="Sizes">Customers per cluster.</param>
/// <param name="Model">The trained model: centroids (scaled space), <see cref="ClusteringModel.Assign"/> for new customers, save and load.</param>
public sealed record ClusteringResult(int K, int Seed, int[] Assignments, IReadOnlyList<int> Sizes, ClusterMetrics Metrics, ClusteringModel Model)
{
    public IReadOnlyList<double[]> Centroids => Model.Centroids;
}

/// <summary>A suggested number of clusters with the reason in one plain sentence.</summary>
public sealed record KSuggestion(int K, string Reason);

/// <summary>Metrics for every K tried, in ascending K, measured on a sample of <paramref name="SampleSize"/> customers.</summary>
public sealed record KRangeEvaluation(IReadOnlyList<ClusterMetrics> PerK, KSuggestion Suggestion, int SampleSize);

/// <summary>
/// K-means segmentation of customers, without database or UI: prepare the features, try a range of K, train one K,
/// explain the clusters, and place new customers with the saved model. Everything is deterministic for a given seed
/// and data, and every long step honours its cancellation token.
/// </summary>
public static class ClusteringEngine
{
    public const int MinClusters = 2;
    public const int MaxClusters = 20;

    /// <summary>
    /// Silhouettes this close to the best count as a tie, broken by the lower Davies-Bouldin index: the silhouette is
    /// measured on a sample, and differences this small are within its noise.
    /// </summary>
    public const double SilhouetteTolerance = 0.02;

    /// <summary>Fills or drops missing values, applies each feature's transform and scales every feature; see <see cref="PreparedData"/>.</summary>
    public static PreparedData Prepare(ClusteringData data, FeatureScaling scaling, MissingValues missing, CancellationToken cancellationToken = default) =>
        FeaturePreparation.Prepare(data, scaling, missing, cancellationToken);

    /// <summary>
    /// Trains k-means with <paramref name="k"/> clusters on every prepared row. Assignments come from the model
    /// itself, so <see cref="ClusteringModel.Assign"/> on the same raw rows gives the same clusters.
    /// </summary>
    public static ClusteringResult Train(
        PreparedData prepared, int k, int seed, KMeansOptions? options = null,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        options ??= KMeansOptions.Default;
        options.Validate();
        ValidateK(k, "the number of clusters");
        RequireDistinct(prepared.Matrix, k, k);
        progress?.Report(0);

        var model = KMeansFitting.FitBest(prepared.Parameters, prepared.Matrix, k, seed, options,
            p => progress?.Report(0.8 * p), cancellationToken);
        var assignments = model.AssignPrepared(prepared.Matrix, cancellationToken);
        progress?.Report(0.9);
        var metrics = ClusterQuality.Measure(prepared.Matrix, assignments, k, options.SilhouetteSampleSize,
            Statistics.DeriveSeed(seed, 2), cancellationToken) with { Starts = options.StartsFor(prepared.RowCount) };
        var sizes = new int[k];
        foreach (var label in assignments)
        {
            sizes[label]++;
        }
        progress?.Report(1);
        return new ClusteringResult(k, seed, assignments, sizes, metrics, model);
    }

    /// <summary>
    /// Trains every K from <paramref name="minK"/> to <paramref name="maxK"/> on one deterministic sample of at most
    /// <see cref="KMeansOptions.EvaluationSampleSize"/> customers and suggests one K. The rule: the highest silhouette
    /// wins; K values within <see cref="SilhouetteTolerance"/> of it count as tied and the lowest Davies-Bouldin among
    /// them wins (then the smaller K). The reason also says what the elbow of the within-cluster sum of squares shows.
    /// </summary>
    public static KRangeEvaluation EvaluateRange(
        PreparedData prepared, int minK, int maxK, int seed, KMeansOptions? options = null,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        options ??= KMeansOptions.Default;
        options.Validate();
        ValidateK(minK, "the smallest number of clusters");
        ValidateK(maxK, "the largest number of clusters");
        if (minK > maxK)
        {
            throw new PortalException($"The smallest number of clusters ({minK}) is larger than the largest ({maxK}).");
        }

        var sample = Statistics.SampleIndices(prepared.RowCount, options.EvaluationSampleSize, Statistics.DeriveSeed(seed, 1));
        var rows = prepared.Matrix.Gather(sample);
        RequireDistinct(rows, maxK, maxK);
        progress?.Report(0);

        var perK = new List<ClusterMetrics>();
        var steps = maxK - minK + 1;
        for (var k = minK; k <= maxK; k++)
        {
            var done = k - minK;
            var model = KMeansFitting.FitBest(prepared.Parameters, rows, k, seed, options,
                p => progress?.Report((done + 0.9 * p) / steps), cancellationToken);
            var labels = model.AssignPrepared(rows, cancellationToken);
            perK.Add(ClusterQuality.Measure(rows, labels, k, options.SilhouetteSampleSize, Statistics.DeriveSeed(seed, 2), cancellationToken)
                with { Starts = options.StartsFor(rows.Rows) });
            progress?.Report((done + 1.0) / steps);
        }
        return new KRangeEvaluation(perK, KSuggestions.Suggest(perK), rows.Rows);
    }

    /// <summary>
    /// What the results page shows: per cluster its size and share, mean per feature in original units next to the
    /// overall mean, box-plot numbers, a suggested unique name and up to <see cref="ExplanationOptions.RulesPerCluster"/>
    /// rules with precision and coverage; plus a 2-D PCA map of a deterministic sample of customers.
    /// <paramref name="data"/> and <paramref name="prepared"/> must be the ones <paramref name="result"/> was trained on.
    /// </summary>
    public static ClusterExplanation Explain(
        ClusteringData data, PreparedData prepared, ClusteringResult result, ExplanationOptions? options = null,
        CancellationToken cancellationToken = default) =>
        ClusterExplainer.Explain(data, prepared, result, options ?? ExplanationOptions.Default, cancellationToken);

    /// <summary>The names <see cref="Explain"/> gives the clusters (with the default options), without the rest of the explanation.</summary>
    public static IReadOnlyList<string> Names(PreparedData prepared, ClusteringResult result) =>
        ClusterExplainer.Names(prepared, result, ExplanationOptions.Default);

    /// <summary>Reads a saved model and assigns raw rows; see <see cref="ClusteringModel.Assign"/>.</summary>
    public static int[] Assign(Stream savedModel, double?[][] newRows, CancellationToken cancellationToken = default) =>
        ClusteringModel.Load(savedModel).Assign(newRows, cancellationToken);

    /// <summary>
    /// Adjusted Rand index of two labelings of the same customers: 1 for the same grouping whatever the cluster numbers,
    /// about 0 for unrelated ones. Use it to compare two runs (seeds, samples) as a stability figure.
    /// </summary>
    public static double AdjustedRandIndex(int[] a, int[] b) => ClusterQuality.AdjustedRandIndex(a, b);

    private static void ValidateK(int k, string what)
    {
        if (k is < MinClusters or > MaxClusters)
        {
            throw new PortalException($"Choose between {MinClusters} and {MaxClusters} for {what} (got {k}).");
        }
    }

    private static void RequireDistinct(FeatureMatrix rows, int k, int needed)
    {
        if (rows.Rows < needed)
        {
            throw new PortalException(rows.Rows == 1
                ? $"Only one customer is left to cluster; {k} clusters need at least {k}."
                : $"Only {rows.Rows:N0} customers are left to cluster; {k} clusters need at least {k}.");
        }
        var distinct = Statistics.CountDistinct(rows, needed);
        if (distinct < needed)
        {
            throw new PortalException(
                $"The customers have only {distinct} different combinations of values on the chosen features, so they cannot form {k} clusters. Choose at most {distinct}, or add features.");
        }
    }
}
