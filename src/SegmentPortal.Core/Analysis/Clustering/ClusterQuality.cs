namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// How good one clustering is, all in the clustering (scaled) space and measured on <paramref name="RowsMeasured"/>
/// customers (every customer after <see cref="ClusteringEngine.Train"/>, the training sample in
/// <see cref="ClusteringEngine.EvaluateRange"/>).
/// </summary>
/// <param name="WithinClusterSumOfSquares">Sum of squared distances of customers to their cluster's mean; falls as K grows, the elbow is where it stops falling fast.</param>
/// <param name="Silhouette">Mean silhouette (−1..1, higher is better) over a deterministic sample of <paramref name="SilhouetteSampleSize"/> customers.</param>
/// <param name="DaviesBouldin">Davies-Bouldin index (0 and up, lower is better): average of each cluster's worst ratio of spread to separation.</param>
public sealed record ClusterMetrics(
    int K,
    double WithinClusterSumOfSquares,
    double Silhouette,
    int SilhouetteSampleSize,
    double DaviesBouldin,
    int RowsMeasured)
{
    /// <summary>The k-means++ starts the model was the best of (0 in runs saved before the number was recorded).</summary>
    public int Starts { get; init; }
}

internal static class ClusterQuality
{
    public static ClusterMetrics Measure(FeatureMatrix x, int[] labels, int k, int silhouetteSampleSize, int seed, CancellationToken ct)
    {
        var d = x.Columns;
        var n = x.Rows;
        var means = MemberMeans(x, labels, k, out var sizes);
        ct.ThrowIfCancellationRequested();

        double wcss = 0;
        var spread = new double[k];
        var values = x.Values;
        for (var i = 0; i < n; i++)
        {
            var mean = means[labels[i]];
            double squared = 0;
            for (var f = 0; f < d; f++)
            {
                var delta = values[f * n + i] - mean[f];
                squared += delta * delta;
            }
            wcss += squared;
            spread[labels[i]] += Math.Sqrt(squared);
        }
        ct.ThrowIfCancellationRequested();

        var daviesBouldin = DaviesBouldin(means, sizes, spread, d);
        var sample = Statistics.SampleIndices(n, silhouetteSampleSize, seed);
        var silhouette = Silhouette(x, labels, k, sample, ct);
        return new ClusterMetrics(k, wcss, silhouette, sample.Length, daviesBouldin, n);
    }

    /// <summary>Each cluster's mean per feature (each sum in row order), and its size.</summary>
    public static double[][] MemberMeans(FeatureMatrix x, int[] labels, int k, out int[] sizes)
    {
        var d = x.Columns;
        var n = x.Rows;
        var means = new double[k][];
        for (var c = 0; c < k; c++)
        {
            means[c] = new double[d];
        }
        sizes = new int[k];
        foreach (var label in labels)
        {
            sizes[label]++;
        }
        var sums = new double[k];
        for (var f = 0; f < d; f++)
        {
            Array.Clear(sums);
            var column = x.Values.AsSpan(f * n, n);
            for (var i = 0; i < n; i++)
            {
                sums[labels[i]] += column[i];
            }
            for (var c = 0; c < k; c++)
            {
                means[c][f] = sizes[c] > 0 ? sums[c] / sizes[c] : 0;
            }
        }
        return means;
    }

    /// <summary>
    /// Empty clusters take no part, nor do pairs of clusters with the same centre (which k-means cannot leave both
    /// non-empty): the index stays finite, so metrics serialise to JSON.
    /// </summary>
    private static double DaviesBouldin(double[][] means, int[] sizes, double[] spread, int d)
    {
        var present = Enumerable.Range(0, means.Length).Where(c => sizes[c] > 0).ToArray();
        if (present.Length < 2)
        {
            return 0;
        }
        double total = 0;
        foreach (var i in present)
        {
            var si = spread[i] / sizes[i];
            var worst = 0.0;
            foreach (var j in present)
            {
                if (i == j)
                {
                    continue;
                }
                double separation = 0;
                for (var f = 0; f < d; f++)
                {
                    var delta = means[i][f] - means[j][f];
                    separation += delta * delta;
                }
                separation = Math.Sqrt(separation);
                if (separation > 0)
                {
                    worst = Math.Max(worst, (si + spread[j] / sizes[j]) / separation);
                }
            }
            total += worst;
        }
        return total / present.Length;
    }

    /// <summary>
    /// Mean silhouette over the sampled customers, distances among the sample only (a customer alone in its cluster
    /// within the sample scores 0, as in scikit-learn). Quadratic in the sample size, hence the sample.
    /// </summary>
    private static double Silhouette(FeatureMatrix x, int[] labels, int k, int[] sample, CancellationToken ct)
    {
        var s = sample.Length;
        var d = x.Columns;
        var counts = new int[k];
        var sampleLabels = new int[s];
        var points = new double[s * d];
        for (var a = 0; a < s; a++)
        {
            sampleLabels[a] = labels[sample[a]];
            counts[sampleLabels[a]]++;
            for (var f = 0; f < d; f++)
            {
                points[a * d + f] = x[sample[a], f];
            }
        }
        if (counts.Count(c => c > 0) < 2)
        {
            return 0;
        }

        // sums[a * k + c]: total distance from sampled customer a to the sampled members of cluster c. Each pair is
        // measured once and counted for both ends.
        var sums = new double[s * k];
        for (var a = 0; a < s; a++)
        {
            if ((a & 127) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
            var la = sampleLabels[a];
            var pa = a * d;
            for (var b = a + 1; b < s; b++)
            {
                var pb = b * d;
                double squared = 0;
                for (var f = 0; f < d; f++)
                {
                    var delta = points[pa + f] - points[pb + f];
                    squared += delta * delta;
                }
                var distance = Math.Sqrt(squared);
                sums[a * k + sampleLabels[b]] += distance;
                sums[b * k + la] += distance;
            }
        }

        double total = 0;
        for (var a = 0; a < s; a++)
        {
            var own = sampleLabels[a];
            if (counts[own] <= 1)
            {
                continue;
            }
            var within = sums[a * k + own] / (counts[own] - 1);
            var nearest = double.PositiveInfinity;
            for (var c = 0; c < k; c++)
            {
                if (c != own && counts[c] > 0)
                {
                    nearest = Math.Min(nearest, sums[a * k + c] / counts[c]);
                }
            }
            var larger = Math.Max(within, nearest);
            total += larger > 0 ? (nearest - within) / larger : 0;
        }
        return total / s;
    }

    /// <summary>
    /// Adjusted Rand index of two labelings of the same items: 1 for the same partition whatever the label numbers,
    /// about 0 for unrelated ones. Two trivial identical partitions (one group, or all singletons) score 1.
    /// </summary>
    public static double AdjustedRandIndex(int[] a, int[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length)
        {
            throw new ArgumentException("The two labelings must cover the same items.", nameof(b));
        }
        var pairs = new Dictionary<(int, int), long>();
        var rowsA = new Dictionary<int, long>();
        var rowsB = new Dictionary<int, long>();
        for (var i = 0; i < a.Length; i++)
        {
            pairs[(a[i], b[i])] = pairs.GetValueOrDefault((a[i], b[i])) + 1;
            rowsA[a[i]] = rowsA.GetValueOrDefault(a[i]) + 1;
            rowsB[b[i]] = rowsB.GetValueOrDefault(b[i]) + 1;
        }
        static double Pairs(long n) => n * (n - 1) / 2.0;
        var index = pairs.Values.Sum(Pairs);
        var sumA = rowsA.Values.Sum(Pairs);
        var sumB = rowsB.Values.Sum(Pairs);
        var total = Pairs(a.Length);
        if (total == 0)
        {
            return 1;
        }
        var expected = sumA * sumB / total;
        var max = (sumA + sumB) / 2;
        return max == expected ? 1 : (index - expected) / (max - expected);
    }
}
