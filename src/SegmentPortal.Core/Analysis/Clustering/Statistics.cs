namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>Small numeric helpers shared by the clustering steps.</summary>
internal static class Statistics
{
    /// <summary>
    /// The median, the same number <see cref="QuantileOfSorted"/> gives at 0.5 on the sorted values, found by selection
    /// in linear time instead of a sort. Reorders <paramref name="values"/> in place; they must not hold NaN.
    /// </summary>
    public static double Median(Span<double> values)
    {
        var position = 0.5 * (values.Length - 1);
        var lower = (int)Math.Floor(position);
        var low = Select(values, lower);
        if (lower + 1 >= values.Length)
        {
            return low;
        }
        // After the selection everything right of lower is at least as large, so the next order statistic is their minimum.
        var high = double.PositiveInfinity;
        foreach (var v in values[(lower + 1)..])
        {
            high = Math.Min(high, v);
        }
        return low + (position - lower) * (high - low);
    }

    /// <summary>
    /// Puts the <paramref name="k"/>-th smallest value (0-based) at index <paramref name="k"/>, smaller or equal values
    /// before it and larger or equal ones after it, and returns it (quickselect with a median-of-three pivot; a range
    /// that keeps splitting badly is sorted instead, bounding the worst case).
    /// </summary>
    public static double Select(Span<double> values, int k)
    {
        var lo = 0;
        var hi = values.Length - 1;
        var budget = 2 * System.Numerics.BitOperations.Log2((uint)Math.Max(1, values.Length)) + 8;
        while (hi > lo)
        {
            if (hi - lo < 16 || budget-- == 0)
            {
                values[lo..(hi + 1)].Sort();
                return values[k];
            }
            var mid = lo + ((hi - lo) >> 1);
            if (values[mid] < values[lo])
            {
                (values[mid], values[lo]) = (values[lo], values[mid]);
            }
            if (values[hi] < values[lo])
            {
                (values[hi], values[lo]) = (values[lo], values[hi]);
            }
            if (values[hi] < values[mid])
            {
                (values[hi], values[mid]) = (values[mid], values[hi]);
            }
            var pivot = values[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }
                while (values[j] > pivot)
                {
                    j--;
                }
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            // Now lo..j hold values <= pivot, i..hi values >= pivot, and anything between equals the pivot.
            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return values[k];
            }
        }
        return values[k];
    }

    /// <summary>Linear interpolation between closest ranks (Excel's QUARTILE.INC, numpy's default).</summary>
    public static double QuantileOfSorted(ReadOnlySpan<double> sorted, double p)
    {
        var position = p * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    /// <summary>
    /// A deterministic uniform sample of <paramref name="size"/> distinct indices from 0..<paramref name="count"/>-1, in
    /// ascending order (all of them when the population is no larger). Uses <see cref="Random"/> with a seed, whose
    /// sequence .NET keeps stable for seeded instances.
    /// </summary>
    public static int[] SampleIndices(int count, int size, int seed)
    {
        if (size >= count)
        {
            return Enumerable.Range(0, count).ToArray();
        }
        var random = new Random(seed);
        var sample = new int[size];
        if ((long)size * 4 < count)
        {
            // Sparse sample: draw with rejection; cheaper than a permutation of a million indices.
            var seen = new HashSet<int>(size);
            var taken = 0;
            while (taken < size)
            {
                var candidate = random.Next(count);
                if (seen.Add(candidate))
                {
                    sample[taken++] = candidate;
                }
            }
        }
        else
        {
            var all = Enumerable.Range(0, count).ToArray();
            for (var i = 0; i < size; i++)
            {
                var j = random.Next(i, count);
                (all[i], all[j]) = (all[j], all[i]);
            }
            Array.Copy(all, sample, size);
        }
        Array.Sort(sample);
        return sample;
    }

    /// <summary>Separate, reproducible seeds for the separate random steps of one run.</summary>
    public static int DeriveSeed(int seed, int purpose) => unchecked(seed * 7919 + purpose * 104729 + 17);

    public static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var delta = a[i] - b[i];
            sum += delta * delta;
        }
        return sum;
    }

    public static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            double delta = a[i] - b[i];
            sum += delta * delta;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>How many distinct rows there are, counting no further than <paramref name="enough"/>.</summary>
    public static int CountDistinct(FeatureMatrix rows, int enough)
    {
        var seen = new HashSet<float[]>(RowComparer.Instance);
        var row = new float[rows.Columns];
        for (var i = 0; i < rows.Rows; i++)
        {
            rows.CopyRow(i, row);
            if (!seen.Contains(row))
            {
                seen.Add(row);
                row = new float[rows.Columns];
                if (seen.Count >= enough)
                {
                    break;
                }
            }
        }
        return seen.Count;
    }

    private sealed class RowComparer : IEqualityComparer<float[]>
    {
        public static readonly RowComparer Instance = new();

        public bool Equals(float[]? x, float[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(float[] row)
        {
            var hash = new HashCode();
            foreach (var v in row)
            {
                hash.Add(v);
            }
            return hash.ToHashCode();
        }
    }
}
