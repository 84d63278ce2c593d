using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>The median found by selection (no sort) is exactly the sorted median, on shapes that trouble quickselect.</summary>
public sealed class MedianSelectionTests
{
    public static TheoryData<string> Shapes => ["random", "few distinct", "all equal", "ascending", "descending", "organ pipe", "two values"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Median_by_selection_equals_the_median_of_the_sorted_values(string shape)
    {
        var random = new Random(7);
        foreach (var n in new[] { 1, 2, 3, 4, 5, 16, 17, 33, 100, 101, 1_000, 10_001, 100_000 })
        {
            var values = new double[n];
            for (var i = 0; i < n; i++)
            {
                values[i] = shape switch
                {
                    "random" => random.NextDouble() * 1000 - 500,
                    "few distinct" => random.Next(4),
                    "all equal" => 3.5,
                    "ascending" => i,
                    "descending" => n - i,
                    "organ pipe" => Math.Min(i, n - i),
                    _ => i % 2 == 0 ? -1 : 1,
                };
            }
            var sorted = values.Order().ToArray();
            var expected = Statistics.QuantileOfSorted(sorted, 0.5);

            var median = Statistics.Median(values.ToArray());

            Assert.Equal(expected, median);
        }
    }

    [Fact]
    public void Selection_puts_the_kth_value_in_place_with_smaller_before_and_larger_after()
    {
        var random = new Random(11);
        var values = Enumerable.Range(0, 5_000).Select(_ => (double)random.Next(300)).ToArray();
        var sorted = values.Order().ToArray();
        foreach (var k in new[] { 0, 1, 1_234, 2_499, 2_500, 4_998, 4_999 })
        {
            var copy = values.ToArray();

            var value = Statistics.Select(copy, k);

            Assert.Equal(sorted[k], value);
            Assert.Equal(sorted[k], copy[k]);
            Assert.All(copy[..k], v => Assert.True(v <= value));
            Assert.All(copy[(k + 1)..], v => Assert.True(v >= value));
            Assert.Equal(sorted, copy.Order().ToArray());
        }
    }
}
