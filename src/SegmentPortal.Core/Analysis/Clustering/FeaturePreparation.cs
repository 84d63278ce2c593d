namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// What was learnt about one feature on the training data. <see cref="Median"/> is in original units (it fills missing
/// values before the transform); <see cref="Min"/>, <see cref="Max"/>, <see cref="Mean"/> and
/// <see cref="StandardDeviation"/> (population) are after the transform, over the clustered customers including filled-in
/// values, which is where the scaling applies.
/// </summary>
public sealed record FeatureParameters(
    string Name,
    FeatureTransform Transform,
    double Median,
    double Min,
    double Max,
    double Mean,
    double StandardDeviation);

/// <summary>
/// Everything needed to put a customer into the clustering space exactly as the training customers were: serialisable
/// (System.Text.Json), and saved inside a <see cref="ClusteringModel"/>.
/// </summary>
public sealed record PreparationParameters(
    IReadOnlyList<FeatureSpec> Features,
    FeatureScaling Scaling,
    MissingValues Missing,
    IReadOnlyList<FeatureParameters> Parameters)
{
    public int FeatureCount => Features.Count;

    /// <summary>
    /// Scales one customer's values into <paramref name="destination"/>. Returns false when a value is missing and the
    /// missing rule is <see cref="MissingValues.DropRow"/>; throws a <see cref="PortalException"/> naming the feature for a
    /// value the transform cannot take (negative under log1p, infinite).
    /// </summary>
    public bool TryScale(double?[] row, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.Length != Features.Count)
        {
            throw new ArgumentException($"A row has {row.Length} values; the clustering has {Features.Count} features.", nameof(row));
        }
        for (var f = 0; f < row.Length; f++)
        {
            var raw = row[f];
            double value;
            if (FeaturePreparation.IsMissing(raw))
            {
                if (Missing == MissingValues.DropRow)
                {
                    return false;
                }
                value = Parameters[f].Median;
            }
            else
            {
                value = raw!.Value;
            }
            destination[f] = (float)Scale(f, FeaturePreparation.Transform(Features[f], value));
        }
        return true;
    }

    /// <summary>A transformed value on the clustering scale. A feature with no spread scales to 0, never NaN.</summary>
    public double Scale(int feature, double transformed)
    {
        var p = Parameters[feature];
        var (offset, divisor) = Scaling == FeatureScaling.MinMax ? (p.Min, p.Max - p.Min) : (p.Mean, p.StandardDeviation);
        return divisor > 0 ? (transformed - offset) / divisor : 0;
    }
}

/// <summary>
/// Customers in the clustering space. <see cref="Matrix"/> holds them feature by feature; row i is the scaled row of
/// the original row <see cref="KeptRows"/>[i]. The arrays are shared, not copied, so treat them as read-only.
/// </summary>
public sealed class PreparedData
{
    private float[][]? _rows;

    internal PreparedData(PreparationParameters parameters, FeatureMatrix matrix, int[] keptRows, int totalRows, IReadOnlyList<int> imputed)
    {
        Parameters = parameters;
        Matrix = matrix;
        KeptRows = keptRows;
        TotalRows = totalRows;
        ImputedPerFeature = imputed;
    }

    public PreparationParameters Parameters { get; }

    /// <summary>The scaled customers as one contiguous array, feature by feature: what training, assignment and explanation read.</summary>
    internal FeatureMatrix Matrix { get; }

    /// <summary>The scaled customers row by row (an array per customer, built on first use from <see cref="Matrix"/>).</summary>
    public float[][] Rows => _rows ??= Matrix.ToRows();

    public int RowCount => Matrix.Rows;

    /// <summary>For each prepared row, the index of its row in <see cref="ClusteringData.Rows"/>.</summary>
    public int[] KeptRows { get; }

    public int TotalRows { get; }

    public int RowsDropped => TotalRows - KeptRows.Length;

    /// <summary>How many values were filled with the median, per feature (all zero under <see cref="MissingValues.DropRow"/>).</summary>
    public IReadOnlyList<int> ImputedPerFeature { get; }

    public int FeatureCount => Parameters.FeatureCount;

    /// <summary>Features with the same value for every clustered customer: they scale to 0 and play no part in the distance.</summary>
    public IReadOnlyList<int> ConstantFeatures =>
        Enumerable.Range(0, FeatureCount).Where(f => Parameters.Parameters[f].Max <= Parameters.Parameters[f].Min).ToList();
}

internal static class FeaturePreparation
{
    public static bool IsMissing(double? value) => value is null || double.IsNaN(value.Value);

    public static double Transform(FeatureSpec feature, double value)
    {
        if (double.IsInfinity(value))
        {
            throw new PortalException($"“{feature.Name}” has an infinite value; clustering needs finite numbers.");
        }
        return feature.Transform switch
        {
            FeatureTransform.None => value,
            FeatureTransform.Log1p when value < 0 =>
                throw new PortalException($"“{feature.Name}” has a negative value ({value.ToString(System.Globalization.CultureInfo.InvariantCulture)}), so log1p cannot be applied. Choose no transform for this feature, or clean the negative values first."),
            FeatureTransform.Log1p => Math.Log(1 + value),
            _ => throw new ArgumentOutOfRangeException(nameof(feature), feature.Transform, null),
        };
    }

    public static void Validate(ClusteringData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(data.Features);
        if (data.Features.Count == 0)
        {
            throw new PortalException("Choose at least one feature to cluster on.");
        }
        var duplicate = data.Features.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new PortalException($"The feature “{duplicate.Key}” is chosen twice.");
        }
        if (data.RowCount == 0)
        {
            throw new PortalException("There are no customers to cluster.");
        }
    }

    /// <summary>
    /// Medians, kept rows, transform and scaling, feature by feature (each feature on its own core where there are
    /// several; every number is computed in the same order whatever the number of cores).
    /// </summary>
    public static PreparedData Prepare(ClusteringData data, FeatureScaling scaling, MissingValues missing, CancellationToken ct)
    {
        Validate(data);
        var features = data.Features;
        var d = features.Count;
        var n = data.RowCount;
        var parallel = new ParallelOptions { CancellationToken = ct };

        // Medians in original units over every customer with a value; also the point where bad values are refused, so the
        // message names the feature before any work is done.
        var medians = new double[d];
        var missingCount = new int[d];
        var refused = new PortalException?[d];
        Run(() => Parallel.For(0, d, parallel, f =>
        {
            var column = data.Column(f);
            var observed = new double[n];
            var count = 0;
            foreach (var value in column)
            {
                if (double.IsNaN(value))
                {
                    continue;
                }
                if (double.IsInfinity(value) || (features[f].Transform == FeatureTransform.Log1p && value < 0))
                {
                    try
                    {
                        // Throws the message naming the feature.
                        Transform(features[f], value);
                    }
                    catch (PortalException e)
                    {
                        refused[f] = e;
                        return;
                    }
                }
                observed[count++] = value;
            }
            missingCount[f] = n - count;
            if (count > 0)
            {
                medians[f] = Statistics.Median(observed.AsSpan(0, count));
            }
        }), ct);
        for (var f = 0; f < d; f++)
        {
            // The first feature in order that is refused, whichever core reached it first.
            if (refused[f] is { } e)
            {
                throw e;
            }
            if (missingCount[f] == n)
            {
                throw new PortalException($"“{features[f].Name}” has no values for any customer, so it cannot be used for clustering.");
            }
        }

        int[] kept;
        if (missing == MissingValues.ImputeMedian || missingCount.All(c => c == 0))
        {
            kept = new int[n];
            for (var i = 0; i < n; i++)
            {
                kept[i] = i;
            }
        }
        else
        {
            var complete = new List<int>(n);
            for (var i = 0; i < n; i++)
            {
                var whole = true;
                for (var f = 0; f < d && whole; f++)
                {
                    whole = !double.IsNaN(data.Value(i, f));
                }
                if (whole)
                {
                    complete.Add(i);
                }
            }
            kept = complete.ToArray();
        }
        if (kept.Length == 0)
        {
            throw new PortalException("Every customer is missing at least one of the chosen features, so none is left to cluster. Fill missing values with the median instead, or choose other features.");
        }

        // Per feature: the transformed values of the kept rows, the scaling parameters over them, then the scaled floats.
        // Scaled exactly as PreparationParameters.TryScale scales a customer assigned later (the same transformed double,
        // the same offset and divisor, one division, one cast), so a training row and the same row assigned again land
        // on identical floats.
        var m = kept.Length;
        var matrix = new FeatureMatrix(m, d);
        var parameters = new FeatureParameters[d];
        Run(() => Parallel.For(0, d, parallel, f =>
        {
            var column = data.Column(f);
            var feature = features[f];
            var transformed = new double[m];
            double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
            for (var r = 0; r < m; r++)
            {
                var raw = column[kept[r]];
                var v = Transform(feature, double.IsNaN(raw) ? medians[f] : raw);
                transformed[r] = v;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
                sum += v;
            }
            var mean = sum / m;
            double squares = 0;
            for (var r = 0; r < m; r++)
            {
                var delta = transformed[r] - mean;
                squares += delta * delta;
            }
            // Rounding can leave a tiny spread on a constant column; treat it as constant so it scales to exactly 0.
            var sd = max > min ? Math.Sqrt(squares / m) : 0;
            var p = new FeatureParameters(feature.Name, feature.Transform, medians[f], min, max, mean, sd);
            parameters[f] = p;
            var (offset, divisor) = scaling == FeatureScaling.MinMax ? (p.Min, p.Max - p.Min) : (p.Mean, p.StandardDeviation);
            var scaled = matrix.Values.AsSpan(f * m, m);
            for (var r = 0; r < m; r++)
            {
                scaled[r] = (float)(divisor > 0 ? (transformed[r] - offset) / divisor : 0);
            }
        }), ct);
        var prepared = new PreparationParameters(features.ToList(), scaling, missing, parameters);
        var imputed = missing == MissingValues.ImputeMedian ? missingCount : new int[d];
        return new PreparedData(prepared, matrix, kept, n, imputed);
    }

    /// <summary>Runs a parallel loop, letting a <see cref="PortalException"/> or a cancellation out as itself rather than wrapped.</summary>
    private static void Run(Action loop, CancellationToken ct)
    {
        try
        {
            loop();
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
    }
}
