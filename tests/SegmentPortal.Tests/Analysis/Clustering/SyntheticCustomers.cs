using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>Seeded synthetic customer bases whose true groups are known.</summary>
internal static class SyntheticCustomers
{
    /// <summary>Four round, well-separated groups in three features; group g's centre is 10 on feature g-1 (group 0 sits at the origin).</summary>
    public static readonly double[][] FourCentres = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]];

    public static readonly FeatureSpec[] ThreeFeatures =
    [
        new("Spend", HighWord: "big spenders", LowWord: "small spenders"),
        new("Recency", HighWord: "lapsed", LowWord: "recent"),
        new("Frequency"),
    ];

    public static (ClusteringData Data, int[] Truth) Blobs(
        double[][] centres, int perBlob, double spread, int seed, IReadOnlyList<FeatureSpec>? features = null)
    {
        var random = new Random(seed);
        var d = centres[0].Length;
        features ??= Enumerable.Range(0, d).Select(f => new FeatureSpec($"F{f}")).ToArray();
        var rows = new double?[centres.Length * perBlob][];
        var truth = new int[rows.Length];
        // Interleaved, so the groups are not in blocks of consecutive rows.
        for (var i = 0; i < rows.Length; i++)
        {
            var group = i % centres.Length;
            truth[i] = group;
            rows[i] = centres[group].Select(c => (double?)(c + spread * Gaussian(random))).ToArray();
        }
        return (new ClusteringData(features, rows), truth);
    }

    public static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
