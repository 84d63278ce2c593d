using System.Globalization;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>Sizes of the samples and trees behind an explanation.</summary>
public sealed record ExplanationOptions
{
    public static ExplanationOptions Default { get; } = new();

    /// <summary>Customers shown in the 2-D projection (a scatter plot beyond a few thousand points is a blur anyway).</summary>
    public int ProjectionSampleSize { get; init; } = 3_000;

    /// <summary>Customers the rule trees are learnt from; precision and coverage are then measured on everyone.</summary>
    public int RuleSampleSize { get; init; } = 20_000;

    /// <summary>Depth of each rule tree, so the longest rule has this many conditions.</summary>
    public int RuleDepth { get; init; } = 3;

    public int RulesPerCluster { get; init; } = 2;

    /// <summary>How far (in standard deviations of all customers) a cluster's mean must sit from the overall mean for the feature to appear in its name.</summary>
    public double NameThreshold { get; init; } = 0.5;

    public int MaxNameWords { get; init; } = 3;

    internal void Validate()
    {
        if (ProjectionSampleSize < 1 || RuleSampleSize < 2 || RuleDepth < 1 || RulesPerCluster < 1 || MaxNameWords < 1 || NameThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ExplanationOptions), "Sample sizes, depth and counts must be positive.");
        }
    }
}

/// <summary>
/// A box plot's numbers, over the values actually present (filled-in medians are left out). Quartiles interpolate
/// linearly between ranks (Excel's QUARTILE.INC); whiskers are the most extreme values within 1.5 × IQR of the
/// quartiles (Tukey), and <see cref="Outliers"/> counts the values beyond them.
/// </summary>
public sealed record BoxSummary(
    int Count,
    double Min,
    double LowerQuartile,
    double Median,
    double UpperQuartile,
    double Max,
    double LowerWhisker,
    double UpperWhisker,
    int Outliers);

/// <summary>
/// One cluster described for people. <see cref="Means"/> and <see cref="Distributions"/> are in original units over the
/// values present (null where none of its customers has a value); <see cref="StandardisedDifferences"/> is, per feature,
/// how many standard deviations of all customers the cluster's mean sits from the overall mean, in the clustering space
/// (after transform), which is what the name is built from.
/// </summary>
public sealed record ClusterProfile(
    int Cluster,
    string Name,
    int Size,
    double Share,
    IReadOnlyList<double?> Means,
    IReadOnlyList<double> StandardisedDifferences,
    IReadOnlyList<BoxSummary?> Distributions,
    IReadOnlyList<ClusterRule> Rules);

/// <summary>One sampled customer in the 2-D map. <see cref="Row"/> indexes <see cref="ClusteringData.Rows"/>.</summary>
public sealed record ProjectedPoint(int Row, int Cluster, double X, double Y);

/// <summary>
/// The first two principal components of the clustering space (covariance of every clustered customer), with a
/// deterministic sample of customers projected onto them. Explained variance is each component's share of the total
/// (0..1); the loadings are the components' weights per feature, for labelling the axes.
/// </summary>
public sealed record Projection(
    IReadOnlyList<ProjectedPoint> Points,
    double FirstExplainedVariance,
    double SecondExplainedVariance,
    IReadOnlyList<double> FirstLoadings,
    IReadOnlyList<double> SecondLoadings);

public sealed record ClusterExplanation(
    IReadOnlyList<ClusterProfile> Clusters,
    IReadOnlyList<double?> OverallMeans,
    IReadOnlyList<BoxSummary?> OverallDistributions,
    Projection Projection);

/// <summary>
/// Turns a clustering into what the results page shows: per cluster its size, profile against everyone, box plots,
/// a suggested name and rules, plus a 2-D map of customers.
/// </summary>
internal static class ClusterExplainer
{
    public static ClusterExplanation Explain(ClusteringData data, PreparedData prepared, ClusteringResult result, ExplanationOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(prepared);
        ArgumentNullException.ThrowIfNull(result);
        options.Validate();
        if (data.RowCount != prepared.TotalRows || result.Assignments.Length != prepared.KeptRows.Length || data.Features.Count != prepared.FeatureCount)
        {
            throw new ArgumentException("The data, its preparation and the clustering result do not belong together.");
        }

        var k = result.K;
        var d = prepared.FeatureCount;
        var labels = result.Assignments;
        var features = prepared.Parameters.Features;

        // The four parts read the same inputs and write nothing shared, so they run side by side; each is computed
        // exactly as it would be alone.
        (double?[][] Means, double?[] Overall, BoxSummary?[][] Boxes, BoxSummary?[] OverallBoxes) profiles = ([], [], [], []);
        double[][] differences = [];
        IReadOnlyList<ClusterRule>[] rules = [];
        Projection projection = null!;
        try
        {
            Parallel.Invoke(
                () => profiles = OriginalUnitProfiles(data, prepared, labels, k, ct),
                () => differences = StandardisedDifferences(prepared, labels, k),
                () => rules = Rules(data, prepared, result, options, ct),
                () => projection = Project(prepared, labels, options.ProjectionSampleSize, Statistics.DeriveSeed(result.Seed, 3)));
        }
        catch (AggregateException e) when (e.InnerExceptions.Any(inner => inner is OperationCanceledException))
        {
            throw new OperationCanceledException("Clustering was cancelled.", e, ct);
        }
        catch (AggregateException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        ct.ThrowIfCancellationRequested();
        var (means, overallMeans, boxes, overallBoxes) = profiles;
        var names = Names(features, differences, result.Sizes, options);

        var clusters = Enumerable.Range(0, k).Select(c => new ClusterProfile(
            c,
            names[c],
            result.Sizes[c],
            (double)result.Sizes[c] / labels.Length,
            means[c],
            differences[c],
            boxes[c],
            rules[c])).ToList();
        return new ClusterExplanation(clusters, overallMeans, overallBoxes, projection);
    }

    private static (double?[][] Means, double?[] Overall, BoxSummary?[][] Boxes, BoxSummary?[] OverallBoxes) OriginalUnitProfiles(
        ClusteringData data, PreparedData prepared, int[] labels, int k, CancellationToken ct)
    {
        var d = prepared.FeatureCount;
        var means = new double?[k][];
        var boxes = new BoxSummary?[k][];
        for (var c = 0; c < k; c++)
        {
            means[c] = new double?[d];
            boxes[c] = new BoxSummary?[d];
        }
        var overall = new double?[d];
        var overallBoxes = new BoxSummary?[d];
        // Each feature alone (its own arrays, its own slots in the results), so the features run side by side.
        Parallel.For(0, d, new ParallelOptions { CancellationToken = ct }, f =>
        {
            var column = data.Column(f);
            var kept = prepared.KeptRows;
            var counts = new int[k];
            for (var r = 0; r < labels.Length; r++)
            {
                if (!double.IsNaN(column[kept[r]]))
                {
                    counts[labels[r]]++;
                }
            }
            var values = new double[k][];
            for (var c = 0; c < k; c++)
            {
                values[c] = new double[counts[c]];
            }
            Array.Clear(counts);
            for (var r = 0; r < labels.Length; r++)
            {
                var v = column[kept[r]];
                if (!double.IsNaN(v))
                {
                    values[labels[r]][counts[labels[r]]++] = v;
                }
            }
            var all = new double[counts.Sum()];
            var offset = 0;
            for (var c = 0; c < k; c++)
            {
                values[c].CopyTo(all, offset);
                offset += values[c].Length;
                means[c][f] = values[c].Length == 0 ? null : values[c].Average();
                boxes[c][f] = Box(values[c]);
            }
            overall[f] = all.Length == 0 ? null : all.Average();
            overallBoxes[f] = Box(all);
        });
        return (means, overall, boxes, overallBoxes);
    }

    /// <summary>
    /// The box plot of <paramref name="values"/> (reordered in place): the same numbers as reading them off the sorted
    /// values, found by selection in linear time (each quartile selected within the part above the previous one).
    /// </summary>
    internal static BoxSummary? Box(double[] values)
    {
        var n = values.Length;
        if (n == 0)
        {
            return null;
        }
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        var from = 0;
        var q1 = Quantile(values, 0.25, ref from);
        var median = Quantile(values, 0.5, ref from);
        var q3 = Quantile(values, 0.75, ref from);
        var reach = 1.5 * (q3 - q1);
        double lowerWhisker = double.PositiveInfinity, upperWhisker = double.NegativeInfinity;
        var outliers = 0;
        foreach (var v in values)
        {
            if (v < q1 - reach)
            {
                outliers++;
            }
            else
            {
                lowerWhisker = Math.Min(lowerWhisker, v);
            }
            if (v > q3 + reach)
            {
                outliers++;
            }
            else
            {
                upperWhisker = Math.Max(upperWhisker, v);
            }
        }
        return new BoxSummary(n, min, q1, median, q3, max, lowerWhisker, upperWhisker, outliers);
    }

    /// <summary>
    /// <see cref="Statistics.QuantileOfSorted"/> without sorting. Values before <paramref name="from"/> are already at
    /// most everything after it (a previous, lower quantile was selected there); afterwards the same holds for the
    /// new position.
    /// </summary>
    private static double Quantile(double[] values, double p, ref int from)
    {
        var position = p * (values.Length - 1);
        var lower = (int)Math.Floor(position);
        var low = Statistics.Select(values.AsSpan(from), lower - from);
        var high = low;
        if (lower + 1 < values.Length)
        {
            high = double.PositiveInfinity;
            foreach (var v in values.AsSpan(lower + 1))
            {
                high = Math.Min(high, v);
            }
        }
        from = lower;
        return low + (position - lower) * (high - low);
    }

    private static double[][] StandardisedDifferences(PreparedData prepared, int[] labels, int k)
    {
        var x = prepared.Matrix;
        var d = x.Columns;
        var n = x.Rows;
        var clusterMeans = ClusterQuality.MemberMeans(x, labels, k, out _);
        var mean = new double[d];
        var sd = new double[d];
        for (var f = 0; f < d; f++)
        {
            var column = x.Values.AsSpan(f * n, n);
            double sum = 0;
            foreach (var v in column)
            {
                sum += v;
            }
            mean[f] = sum / n;
            double squares = 0;
            foreach (var v in column)
            {
                var delta = v - mean[f];
                squares += delta * delta;
            }
            sd[f] = Math.Sqrt(squares / n);
        }
        return clusterMeans.Select(m => Enumerable.Range(0, d).Select(f => sd[f] > 1e-12 ? (m[f] - mean[f]) / sd[f] : 0).ToArray()).ToArray();
    }

    /// <summary>The names <see cref="Explain"/> gives the clusters, without the rest of the explanation (cheap: means only).</summary>
    public static string[] Names(PreparedData prepared, ClusteringResult result, ExplanationOptions options) =>
        Names(prepared.Parameters.Features, StandardisedDifferences(prepared, result.Assignments, result.K), result.Sizes, options);

    /// <summary>
    /// "High spend, recent, frequent": the features whose cluster mean sits furthest from everyone's, strongest first,
    /// with their high or low word. Larger clusters are named first and keep the shorter names; a later cluster whose
    /// name is taken adds its next strongest feature, and as a last resort a number.
    /// </summary>
    internal static string[] Names(IReadOnlyList<FeatureSpec> features, double[][] differences, IReadOnlyList<int> sizes, ExplanationOptions options)
    {
        var k = differences.Length;
        var names = new string[k];
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in Enumerable.Range(0, k).OrderByDescending(c => sizes[c]).ThenBy(c => c))
        {
            var ranked = Enumerable.Range(0, features.Count)
                .Where(f => differences[c][f] != 0)
                .OrderByDescending(f => Math.Abs(differences[c][f])).ThenBy(f => f)
                .ToList();
            string Word(int f) => differences[c][f] > 0 ? features[f].HighLabel : features[f].LowLabel;
            var strong = ranked.TakeWhile(f => Math.Abs(differences[c][f]) >= options.NameThreshold).Take(options.MaxNameWords).Count();

            string? name = null;
            for (var words = strong; words <= ranked.Count && name is null; words++)
            {
                var candidate = words == 0 ? "Average customers" : Capitalise(string.Join(", ", ranked.Take(words).Select(Word)));
                if (!taken.Contains(candidate))
                {
                    name = candidate;
                }
            }
            if (name is null)
            {
                var stem = strong == 0 ? "Average customers" : Capitalise(string.Join(", ", ranked.Take(strong).Select(Word)));
                for (var number = 2; name is null; number++)
                {
                    var candidate = $"{stem} ({number.ToString(CultureInfo.InvariantCulture)})";
                    name = taken.Contains(candidate) ? null : candidate;
                }
            }
            taken.Add(name);
            names[c] = name;
        }
        return names;
    }

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static IReadOnlyList<ClusterRule>[] Rules(ClusteringData data, PreparedData prepared, ClusteringResult result, ExplanationOptions options, CancellationToken ct)
    {
        var d = prepared.FeatureCount;
        var medians = prepared.Parameters.Parameters.Select(p => p.Median).ToArray();
        var sampleIndices = Statistics.SampleIndices(prepared.KeptRows.Length, options.RuleSampleSize, Statistics.DeriveSeed(result.Seed, 4));
        // The trees need a value everywhere; missing ones take the median the clustering filled in. The rules are then
        // measured with missing values failing every condition, as the rule builder's SQL will treat them.
        var sample = sampleIndices.Select(r =>
        {
            var row = prepared.KeptRows[r];
            return Enumerable.Range(0, d).Select(f => double.IsNaN(data.Value(row, f)) ? medians[f] : data.Value(row, f)).ToArray();
        }).ToArray();
        var sampleLabels = sampleIndices.Select(r => result.Assignments[r]).ToArray();
        var kept = prepared.KeptRows;
        var labels = result.Assignments;
        var chunks = (labels.Length + FeatureMatrix.ChunkRows - 1) / FeatureMatrix.ChunkRows;

        // Counted over everyone, chunks side by side (whole numbers, so the totals do not depend on the order).
        (int, int, int) Measure(IReadOnlyList<RuleCondition> conditions, int cluster)
        {
            var rule = conditions.ToArray();
            int matched = 0, inCluster = 0;
            Parallel.For(0, chunks, new ParallelOptions { CancellationToken = ct }, () => (0, 0), (chunk, _, counts) =>
            {
                var end = Math.Min(labels.Length, (chunk + 1) * FeatureMatrix.ChunkRows);
                for (var r = chunk * FeatureMatrix.ChunkRows; r < end; r++)
                {
                    var row = kept[r];
                    var all = true;
                    foreach (var condition in rule)
                    {
                        // RuleCondition.Matches on the raw value: a missing value (NaN) fails both comparisons.
                        var value = data.Value(row, condition.FeatureIndex);
                        if (condition.Comparison == ThresholdComparison.Greater ? !(value > condition.Threshold) : !(value <= condition.Threshold))
                        {
                            all = false;
                            break;
                        }
                    }
                    if (all)
                    {
                        counts.Item1++;
                        if (labels[r] == cluster)
                        {
                            counts.Item2++;
                        }
                    }
                }
                return counts;
            }, counts =>
            {
                Interlocked.Add(ref matched, counts.Item1);
                Interlocked.Add(ref inCluster, counts.Item2);
            });
            return (matched, inCluster, result.Sizes[cluster]);
        }

        return ClusterRules.Learn(sample, sampleLabels, result.K, options.RuleDepth, options.RulesPerCluster, Measure, ct);
    }

    private static Projection Project(PreparedData prepared, int[] labels, int sampleSize, int seed)
    {
        var x = prepared.Matrix;
        var d = x.Columns;
        var n = x.Rows;
        var v = x.Values;
        var mean = new double[d];
        for (var f = 0; f < d; f++)
        {
            double sum = 0;
            foreach (var value in v.AsSpan(f * n, n))
            {
                sum += value;
            }
            mean[f] = sum / n;
        }
        // The covariance's entries one at a time, each a sum over the customers in row order.
        var covariance = new double[d, d];
        for (var a = 0; a < d; a++)
        {
            var columnA = v.AsSpan(a * n, n);
            for (var b = a; b < d; b++)
            {
                var columnB = v.AsSpan(b * n, n);
                double sum = 0;
                for (var i = 0; i < n; i++)
                {
                    sum += (columnA[i] - mean[a]) * (columnB[i] - mean[b]);
                }
                covariance[a, b] = sum / n;
                covariance[b, a] = covariance[a, b];
            }
        }

        var (values, vectors) = SymmetricEigen.Decompose(covariance);
        var total = values.Sum(v => Math.Max(v, 0));
        var first = vectors[0];
        var second = d > 1 ? vectors[1] : new double[d];
        double Share(int i) => total > 0 && i < d ? Math.Max(values[i], 0) / total : 0;

        var points = Statistics.SampleIndices(n, sampleSize, seed).Select(r =>
        {
            double px = 0, py = 0;
            for (var f = 0; f < d; f++)
            {
                px += (x[r, f] - mean[f]) * first[f];
                py += (x[r, f] - mean[f]) * second[f];
            }
            return new ProjectedPoint(prepared.KeptRows[r], labels[r], px, py);
        }).ToList();
        return new Projection(points, Share(0), Share(1), first, second);
    }
}

/// <summary>
/// Eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi rotations: exact to rounding, no
/// starting vector to choose, so the same covariance always gives the same axes. Features number in the tens at most.
/// </summary>
internal static class SymmetricEigen
{
    /// <summary>Eigenvalues descending, with their unit eigenvectors; each vector's largest component is made positive so the signs are stable.</summary>
    public static (double[] Values, double[][] Vectors) Decompose(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var v = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            v[i, i] = 1;
        }
        for (var sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, diagonal = 0;
            for (var p = 0; p < n; p++)
            {
                diagonal += a[p, p] * a[p, p];
                for (var q = p + 1; q < n; q++)
                {
                    off += a[p, q] * a[p, q];
                }
            }
            if (off <= 1e-30 * Math.Max(diagonal, double.Epsilon))
            {
                break;
            }
            for (var p = 0; p < n - 1; p++)
            {
                for (var q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0)
                    {
                        continue;
                    }
                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    var c = 1 / Math.Sqrt(t * t + 1);
                    var s = t * c;
                    for (var i = 0; i < n; i++)
                    {
                        var (ip, iq) = (a[i, p], a[i, q]);
                        a[i, p] = c * ip - s * iq;
                        a[i, q] = s * ip + c * iq;
                    }
                    for (var i = 0; i < n; i++)
                    {
                        var (pi, qi) = (a[p, i], a[q, i]);
                        a[p, i] = c * pi - s * qi;
                        a[q, i] = s * pi + c * qi;
                    }
                    for (var i = 0; i < n; i++)
                    {
                        var (ip, iq) = (v[i, p], v[i, q]);
                        v[i, p] = c * ip - s * iq;
                        v[i, q] = s * ip + c * iq;
                    }
                }
            }
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => a[i, i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => a[i, i]).ToArray();
        var vectors = order.Select(i =>
        {
            var vector = Enumerable.Range(0, n).Select(r => v[r, i]).ToArray();
            var largest = vector.MaxBy(Math.Abs);
            return largest < 0 ? vector.Select(x => -x).ToArray() : vector;
        }).ToArray();
        return (values, vectors);
    }
}
