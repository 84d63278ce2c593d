namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>How a feature's values are reshaped before scaling.</summary>
public enum FeatureTransform
{
    None,

    /// <summary>log(1 + value); refuses negative values.</summary>
    Log1p,
}

/// <summary>How transformed features are put on a common scale, so no feature dominates the distance by its units alone.</summary>
public enum FeatureScaling
{
    /// <summary>(value − min) / (max − min): every feature spans 0..1 on the training data.</summary>
    MinMax,

    /// <summary>(value − mean) / standard deviation (population): every feature has mean 0 and spread 1.</summary>
    ZScore,
}

/// <summary>What happens to a customer with a missing (null or NaN) value in one of the features.</summary>
public enum MissingValues
{
    /// <summary>The missing value is replaced by the feature's median (in original units, over the customers that have a value).</summary>
    ImputeMedian,

    /// <summary>The customer is left out of the clustering.</summary>
    DropRow,
}

/// <summary>
/// One column of the clustering. <paramref name="HighWord"/> and <paramref name="LowWord"/> name a cluster that sits
/// well above or below the average on this feature (Recency: low "recent", high "lapsed"), so suggested cluster names
/// read like a marketer wrote them.
/// </summary>
public sealed record FeatureSpec(string Name, FeatureTransform Transform = FeatureTransform.None, string? HighWord = null, string? LowWord = null)
{
    /// <summary>The word for a cluster above average on this feature ("high {Name}" when none was given).</summary>
    public string HighLabel => string.IsNullOrWhiteSpace(HighWord) ? $"high {Name}" : HighWord;

    /// <summary>The word for a cluster below average on this feature ("low {Name}" when none was given).</summary>
    public string LowLabel => string.IsNullOrWhiteSpace(LowWord) ? $"low {Name}" : LowWord;
}

/// <summary>
/// The customers to cluster: row i is one customer, one value per feature in the order of <see cref="Features"/>;
/// null or NaN means missing. Callers keep their customer keys in a parallel list: results refer to rows by index.
/// Held feature by feature (<see cref="Column"/>, NaN for a missing value), so a million customers are a few arrays
/// rather than an array each; <see cref="Rows"/> gives the row-by-row view on demand.
/// </summary>
public sealed class ClusteringData
{
    private readonly double[][] _columns;
    private double?[][]? _rows;

    /// <summary>From rows: <paramref name="rows"/>[i] holds customer i's values, one per feature.</summary>
    public ClusteringData(IReadOnlyList<FeatureSpec> features, double?[][] rows)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(rows);
        Features = features;
        RowCount = rows.Length;
        _rows = rows;
        _columns = new double[features.Count][];
        for (var f = 0; f < features.Count; f++)
        {
            _columns[f] = new double[rows.Length];
        }
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            if (row is null || row.Length != features.Count)
            {
                throw new ArgumentException($"Row {i} does not have one value per feature ({features.Count}).", nameof(rows));
            }
            for (var f = 0; f < row.Length; f++)
            {
                _columns[f][i] = row[f] ?? double.NaN;
            }
        }
    }

    /// <summary>From columns: <paramref name="columns"/>[f][i] is customer i's value of feature f (NaN when missing); the arrays may be longer than <paramref name="rowCount"/>.</summary>
    internal ClusteringData(IReadOnlyList<FeatureSpec> features, double[][] columns, int rowCount)
    {
        if (columns.Length != features.Count || columns.Any(c => c.Length < rowCount))
        {
            throw new ArgumentException("There must be one column per feature, each with a value per row.", nameof(columns));
        }
        Features = features;
        _columns = columns;
        RowCount = rowCount;
    }

    public IReadOnlyList<FeatureSpec> Features { get; }

    public int RowCount { get; }

    /// <summary>Every customer's value of one feature, NaN where it is missing. Shared, not copied: read only.</summary>
    internal ReadOnlySpan<double> Column(int feature) => _columns[feature].AsSpan(0, RowCount);

    /// <summary>Customer <paramref name="row"/>'s value of <paramref name="feature"/>, NaN when missing.</summary>
    internal double Value(int row, int feature) => _columns[feature][row];

    /// <summary>Row i is customer i's values (null where missing). Built on first use from the columns when the data came as columns.</summary>
    public double?[][] Rows => _rows ??= Enumerable.Range(0, RowCount)
        .Select(i => _columns.Select(c => double.IsNaN(c[i]) ? (double?)null : c[i]).ToArray()).ToArray();
}

/// <summary>One plain sentence per choice, for the tooltips next to the options in the clustering page.</summary>
public static class ClusteringGlossary
{
    public static string Describe(FeatureTransform transform) => transform switch
    {
        FeatureTransform.None => "None: the values are used as they are.",
        FeatureTransform.Log1p => "Log1p: log(1 + value) — tames a long tail of big spenders so they don't dominate the distance.",
        _ => throw new ArgumentOutOfRangeException(nameof(transform), transform, null),
    };

    public static string Describe(FeatureScaling scaling) => scaling switch
    {
        FeatureScaling.MinMax => "Min-max: each feature is stretched to run from 0 (lowest customer) to 1 (highest), so all count equally; one extreme customer squeezes everyone else together.",
        FeatureScaling.ZScore => "Z-score: each feature is centred on its average and divided by its standard deviation, so all count equally and a few extreme customers matter less than with min-max.",
        _ => throw new ArgumentOutOfRangeException(nameof(scaling), scaling, null),
    };

    public static string Describe(MissingValues missing) => missing switch
    {
        MissingValues.ImputeMedian => "Fill with the median: a missing value counts as the typical customer's value, so everyone is clustered.",
        MissingValues.DropRow => "Leave out: customers with any missing value are not clustered (and not assigned to a cluster later).",
        _ => throw new ArgumentOutOfRangeException(nameof(missing), missing, null),
    };

    public static string Silhouette =>
        "Silhouette (−1 to 1, higher is better): how much closer customers are to their own cluster than to the next one; above 0.5 the groups are clearly apart, below 0.25 they blur into each other.";

    public static string DaviesBouldin =>
        "Davies-Bouldin (0 and up, lower is better): how spread out each cluster is compared with its distance to the most similar other cluster.";

    public static string WithinClusterSumOfSquares =>
        "Within-cluster sum of squares: how far customers sit from their cluster's centre in total; it always falls as K grows, and the elbow where it stops falling fast is a natural K.";

    public static string AdjustedRandIndex =>
        "Stability (adjusted Rand index, 1 = the same grouping): how much two clusterings of the same customers agree, whatever the clusters are numbered.";

    /// <summary>Every option's sentence at once, keyed by the enum value, for pages that list all options.</summary>
    public static IReadOnlyDictionary<Enum, string> All { get; } =
        Enum.GetValues<FeatureTransform>().Select(v => KeyValuePair.Create((Enum)v, Describe(v)))
            .Concat(Enum.GetValues<FeatureScaling>().Select(v => KeyValuePair.Create((Enum)v, Describe(v))))
            .Concat(Enum.GetValues<MissingValues>().Select(v => KeyValuePair.Create((Enum)v, Describe(v))))
            .ToDictionary();
}
