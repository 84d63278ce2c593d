namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>Small numeric helpers shared by the clustering steps.</summary>
internal static class Statistics
{
    /// <summary>The median; sorts <paramref name="values"/> in place.</summary>
    public static double Median(Span<double> values)
    {
        values.Sort();
        return QuantileOfSorted(values, 0.5);
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
    public static int CountDistinct(IReadOnlyList<float[]> rows, int enough)
    {
        var seen = new HashSet<float[]>(RowComparer.Instance);
        foreach (var row in rows)
        {
            if (seen.Add(row) && seen.Count >= enough)
            {
                break;
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
