using System.Diagnostics;
using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>
/// A million customers × four features, timed step by step, for tuning the sample sizes and restarts in
/// <see cref="KMeansOptions"/>. Explicit, and it asserts nothing about time. Run it in Release, as the portal runs:
/// <c>dotnet build -c Release tests/SegmentPortal.Tests</c>, then
/// <c>dotnet tests/SegmentPortal.Tests/bin/Release/net10.0/SegmentPortal.Tests.dll -class SegmentPortal.Tests.Analysis.Clustering.ClusteringScaleBenchmark -explicit only -showLiveOutput</c>.
/// </summary>
public sealed class ClusteringScaleBenchmark
{
    [Fact(Explicit = true)]
    public void A_million_customers_in_five_groups()
    {
        double[][] centres = [[0, 0, 0, 0], [6, 0, 0, 2], [0, 6, 0, 2], [0, 0, 6, 2], [3, 3, 3, 6]];
        var (data, truth) = SyntheticCustomers.Blobs(centres, 200_000, 1.5, 11);
        Run(data, truth);
    }

    /// <summary>The harder case: no groups at all and skewed money, so the centres take longer to settle.</summary>
    [Fact(Explicit = true)]
    public void A_million_customers_without_structure()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 1_000_000).Select(_ => new double?[]
        {
            Math.Exp(3 + 1.2 * SyntheticCustomers.Gaussian(random)), random.Next(1, 400), random.Next(1, 60), random.NextDouble() * 100,
        }).ToArray();
        var data = new ClusteringData([new("Spend", FeatureTransform.Log1p), new("Recency"), new("Orders", FeatureTransform.Log1p), new("Score")], rows);
        Run(data, new int[rows.Length]);
    }

    private static void Run(ClusteringData data, int[] truth)
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;

        var total = Stopwatch.StartNew();
        var watch = Stopwatch.StartNew();
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, ct);
        output.WriteLine($"Prepare: {watch.Elapsed.TotalSeconds:0.0} s");

        watch.Restart();
        var range = ClusteringEngine.EvaluateRange(prepared, 2, 10, 1, cancellationToken: ct);
        output.WriteLine($"EvaluateRange 2..10 (sample {range.SampleSize}): {watch.Elapsed.TotalSeconds:0.0} s; {range.Suggestion.Reason}");
        foreach (var m in range.PerK)
        {
            output.WriteLine($"  K={m.K} WCSS={m.WithinClusterSumOfSquares:0} silhouette={m.Silhouette:0.000} DB={m.DaviesBouldin:0.000}");
        }

        watch.Restart();
        var result = ClusteringEngine.Train(prepared, 5, 1, cancellationToken: ct);
        output.WriteLine($"Train K=5: {watch.Elapsed.TotalSeconds:0.0} s; ARI {ClusteringEngine.AdjustedRandIndex(truth, result.Assignments):0.000}");

        watch.Restart();
        var explanation = ClusteringEngine.Explain(data, prepared, result, cancellationToken: ct);
        output.WriteLine($"Explain: {watch.Elapsed.TotalSeconds:0.0} s; {string.Join(" | ", explanation.Clusters.Select(c => c.Name))}");

        watch.Restart();
        using var saved = new MemoryStream();
        result.Model.Save(saved);
        saved.Position = 0;
        var assigned = ClusteringEngine.Assign(saved, data.Rows, ct);
        output.WriteLine($"Save + load + assign 1M: {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(result.Assignments, assigned);
        output.WriteLine($"Total: {total.Elapsed.TotalSeconds:0.0} s");
    }
}
