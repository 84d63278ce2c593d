using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>The box plots are found by selection, not sorting; they must be the numbers read off the sorted values.</summary>
public sealed class BoxSummaryTests
{
    [Fact]
    public void Box_numbers_by_selection_equal_those_read_off_the_sorted_values()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 400; trial++)
        {
            var n = 1 + trial % 60 + (trial % 7 == 0 ? 1_000 : 0);
            // Few distinct values in some trials (ties everywhere), a long tail in others (outliers).
            var values = Enumerable.Range(0, n).Select(_ => trial % 3 == 0 ? random.Next(4) : Math.Exp(3 * random.NextDouble())).ToArray();

            var expected = FromSorted(values.Order().ToArray());
            var actual = ClusterExplainer.Box(values.ToArray());

            Assert.Equal(expected, actual);
        }
    }

    /// <summary>The earlier implementation: quartiles, whiskers and outliers read off the sorted values.</summary>
    private static BoxSummary FromSorted(double[] sorted)
    {
        static double Quantile(double[] s, double p)
        {
            var position = p * (s.Length - 1);
            var lower = (int)Math.Floor(position);
            var upper = Math.Min(lower + 1, s.Length - 1);
            return s[lower] + (position - lower) * (s[upper] - s[lower]);
        }
        var q1 = Quantile(sorted, 0.25);
        var median = Quantile(sorted, 0.5);
        var q3 = Quantile(sorted, 0.75);
        var reach = 1.5 * (q3 - q1);
        var lowerIndex = Array.FindIndex(sorted, v => v >= q1 - reach);
        var upperIndex = Array.FindLastIndex(sorted, v => v <= q3 + reach);
        return new BoxSummary(sorted.Length, sorted[0], q1, median, q3, sorted[^1], sorted[lowerIndex], sorted[upperIndex],
            lowerIndex + (sorted.Length - 1 - upperIndex));
    }
}
