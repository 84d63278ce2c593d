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
/// Customers in the clustering space. <see cref="Rows"/>[i] is the scaled row of the original row
/// <see cref="KeptRows"/>[i]; the arrays are shared, not copied, so treat them as read-only.
/// </summary>
public sealed class PreparedData
{
    internal PreparedData(PreparationParameters parameters, float[][] rows, int[] keptRows, int totalRows, IReadOnlyList<int> imputed)
    {
        Parameters = parameters;
        Rows = rows;
        KeptRows = keptRows;
        TotalRows = totalRows;
        ImputedPerFeature = imputed;
    }

    public PreparationParameters Parameters { get; }

    public float[][] Rows { get; }

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

    private static bool HasMissing(double?[] row)
    {
        foreach (var value in row)
        {
            if (IsMissing(value))
            {
                return true;
            }
        }
        return false;
    }

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
        ArgumentNullException.ThrowIfNull(data.Rows);
        if (data.Features.Count == 0)
        {
            throw new PortalException("Choose at least one feature to cluster on.");
        }
        var duplicate = data.Features.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new PortalException($"The feature “{duplicate.Key}” is chosen twice.");
        }
        if (data.Rows.Length == 0)
        {
            throw new PortalException("There are no customers to cluster.");
        }
        for (var i = 0; i < data.Rows.Length; i++)
        {
            if (data.Rows[i] is null || data.Rows[i].Length != data.Features.Count)
            {
                throw new ArgumentException($"Row {i} does not have one value per feature ({data.Features.Count}).", nameof(data));
            }
        }
    }

    public static PreparedData Prepare(ClusteringData data, FeatureScaling scaling, MissingValues missing, CancellationToken ct)
    {
        Validate(data);
        var features = data.Features;
        var d = features.Count;
        var n = data.Rows.Length;

        // Medians in original units over every customer with a value; also the point where bad values are refused, so the
        // message names the feature before any work is done.
        var medians = new double[d];
        var missingCount = new int[d];
        var observed = new double[n];
        for (var f = 0; f < d; f++)
        {
            ct.ThrowIfCancellationRequested();
            var count = 0;
            foreach (var row in data.Rows)
            {
                var v = row[f];
                if (IsMissing(v))
                {
                    continue;
                }
                var value = v!.Value;
                if (double.IsInfinity(value) || (features[f].Transform == FeatureTransform.Log1p && value < 0))
                {
                    // Throws the message naming the feature.
                    Transform(features[f], value);
                }
                observed[count++] = value;
            }
            missingCount[f] = n - count;
            if (count == 0)
            {
                throw new PortalException($"“{features[f].Name}” has no values for any customer, so it cannot be used for clustering.");
            }
            medians[f] = Statistics.Median(observed.AsSpan(0, count));
        }

        var kept = new List<int>(n);
        for (var i = 0; i < n; i++)
        {
            if (missing == MissingValues.ImputeMedian || !HasMissing(data.Rows[i]))
            {
                kept.Add(i);
            }
        }
        if (kept.Count == 0)
        {
            throw new PortalException("Every customer is missing at least one of the chosen features, so none is left to cluster. Fill missing values with the median instead, or choose other features.");
        }

        // Transformed values of the kept rows, feature by feature, then the scaling parameters over them.
        var transformed = new double[kept.Count * d];
        for (var r = 0; r < kept.Count; r++)
        {
            var row = data.Rows[kept[r]];
            for (var f = 0; f < d; f++)
            {
                transformed[r * d + f] = Transform(features[f], IsMissing(row[f]) ? medians[f] : row[f]!.Value);
            }
        }
        var parameters = new FeatureParameters[d];
        for (var f = 0; f < d; f++)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
            for (var r = 0; r < kept.Count; r++)
            {
                var v = transformed[r * d + f];
                min = Math.Min(min, v);
                max = Math.Max(max, v);
                sum += v;
            }
            var mean = sum / kept.Count;
            double squares = 0;
            for (var r = 0; r < kept.Count; r++)
            {
                var delta = transformed[r * d + f] - mean;
                squares += delta * delta;
            }
            // Rounding can leave a tiny spread on a constant column; treat it as constant so it scales to exactly 0.
            var sd = max > min ? Math.Sqrt(squares / kept.Count) : 0;
            parameters[f] = new FeatureParameters(features[f].Name, features[f].Transform, medians[f], min, max, mean, sd);
        }
        var prepared = new PreparationParameters(features.ToList(), scaling, missing, parameters);

        // Scaled exactly as PreparationParameters.TryScale scales a customer assigned later (the same transformed double,
        // the same offset and divisor, one division, one cast), so a training row and the same row assigned again land
        // on identical floats; here from the transformed values already at hand, in one pass without per-value lookups.
        var offsets = new double[d];
        var divisors = new double[d];
        for (var f = 0; f < d; f++)
        {
            var p = parameters[f];
            (offsets[f], divisors[f]) = scaling == FeatureScaling.MinMax ? (p.Min, p.Max - p.Min) : (p.Mean, p.StandardDeviation);
        }
        var rows = new float[kept.Count][];
        for (var r = 0; r < kept.Count; r++)
        {
            if ((r & 0xFFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
            var scaled = new float[d];
            for (var f = 0; f < d; f++)
            {
                scaled[f] = (float)(divisors[f] > 0 ? (transformed[r * d + f] - offsets[f]) / divisors[f] : 0);
            }
            rows[r] = scaled;
        }
        var imputed = missing == MissingValues.ImputeMedian ? missingCount : new int[d];
        return new PreparedData(prepared, rows, kept.ToArray(), n, imputed);
    }
}
