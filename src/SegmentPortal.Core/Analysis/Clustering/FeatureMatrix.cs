using System.Numerics;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// Prepared customers as one contiguous float array stored feature by feature (column f is
/// <c>Values[f * Rows .. (f + 1) * Rows)</c>), so the distance kernel reads each feature as a straight run of floats and
/// compares several customers with one vector instruction.
/// </summary>
internal sealed class FeatureMatrix
{
    /// <summary>Rows per chunk of work. Fixed, so partial sums are combined in the same order on any number of cores.</summary>
    public const int ChunkRows = 1 << 14;

    public FeatureMatrix(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
        Values = new float[(long)rows * columns];
    }

    public int Rows { get; }

    public int Columns { get; }

    public float[] Values { get; }

    public int Chunks => (Rows + ChunkRows - 1) / ChunkRows;

    public float this[int row, int column] => Values[column * Rows + row];

    /// <summary>Copies row-by-row prepared customers into a matrix.</summary>
    public static FeatureMatrix From(IReadOnlyList<float[]> rows, int columns)
    {
        var matrix = new FeatureMatrix(rows.Count, columns);
        var n = rows.Count;
        var values = matrix.Values;
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            for (var f = 0; f < columns; f++)
            {
                values[f * n + i] = row[f];
            }
        }
        return matrix;
    }

    /// <summary>The matrix row by row: an array per row.</summary>
    public float[][] ToRows()
    {
        var rows = new float[Rows][];
        for (var i = 0; i < Rows; i++)
        {
            var row = new float[Columns];
            for (var f = 0; f < Columns; f++)
            {
                row[f] = Values[f * Rows + i];
            }
            rows[i] = row;
        }
        return rows;
    }

    /// <summary>Row <paramref name="row"/> copied into <paramref name="destination"/>.</summary>
    public void CopyRow(int row, Span<float> destination)
    {
        for (var f = 0; f < Columns; f++)
        {
            destination[f] = Values[f * Rows + row];
        }
    }

    /// <summary>A new matrix of the rows <paramref name="indices"/>, in that order (a sample).</summary>
    public FeatureMatrix Gather(IReadOnlyList<int> indices)
    {
        var sample = new FeatureMatrix(indices.Count, Columns);
        for (var f = 0; f < Columns; f++)
        {
            var from = f * Rows;
            var to = f * indices.Count;
            for (var i = 0; i < indices.Count; i++)
            {
                sample.Values[to + i] = Values[from + indices[i]];
            }
        }
        return sample;
    }

    /// <summary>
    /// The squared distance of rows <paramref name="start"/>..<paramref name="end"/> to <paramref name="point"/>, in
    /// double precision, into <paramref name="distances"/> (indexed from <paramref name="start"/>). Each row's sum adds
    /// the features in order, as a row-by-row loop would, so the results are the same to the last bit; feature by
    /// feature over the rows, several rows per vector instruction.
    /// </summary>
    public void SquaredDistances(int start, int end, ReadOnlySpan<double> point, Span<double> distances)
    {
        var count = end - start;
        distances = distances[..count];
        distances.Clear();
        var width = Vector<float>.Count;
        var vectors = Vector.IsHardwareAccelerated && Vector<double>.Count * 2 == width;
        for (var f = 0; f < Columns; f++)
        {
            var column = Values.AsSpan(f * Rows + start, count);
            var centre = point[f];
            var i = 0;
            if (vectors)
            {
                var half = Vector<double>.Count;
                var centres = new Vector<double>(centre);
                for (; i + width <= count; i += width)
                {
                    Vector.Widen(new Vector<float>(column[i..]), out var low, out var high);
                    var lowDelta = low - centres;
                    var highDelta = high - centres;
                    (new Vector<double>(distances[i..]) + lowDelta * lowDelta).CopyTo(distances[i..]);
                    (new Vector<double>(distances[(i + half)..]) + highDelta * highDelta).CopyTo(distances[(i + half)..]);
                }
            }
            for (; i < count; i++)
            {
                var delta = column[i] - centre;
                distances[i] += delta * delta;
            }
        }
    }

    /// <summary>The rows chunk <paramref name="chunk"/> covers.</summary>
    public (int Start, int End) ChunkRange(int chunk) => (chunk * ChunkRows, Math.Min(Rows, (chunk + 1) * ChunkRows));

    /// <summary>
    /// The nearest of <paramref name="centres"/> (k × <see cref="Columns"/>, row by row) for rows
    /// <paramref name="start"/>..<paramref name="end"/>, written to <paramref name="labels"/> (indexed by row), with its
    /// squared distance in <paramref name="distances"/> (indexed from <paramref name="start"/>) when given. Distances are
    /// single-precision sums of squared differences in feature order; ties go to the lower cluster number. The vector
    /// and the scalar paths do the same float operations in the same order, so a row gets the same cluster whichever
    /// path reaches it. Returns how many labels changed.
    /// </summary>
    public int AssignNearest(float[] centres, int k, int start, int end, int[] labels, Span<float> distances)
    {
        var d = Columns;
        var n = Rows;
        var values = Values;
        var changed = 0;
        var i = start;
        var width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated && Vector<int>.Count == width)
        {
            Span<int> block = stackalloc int[width];
            for (; i + width <= end; i += width)
            {
                var best = new Vector<float>(float.PositiveInfinity);
                var bestLabel = Vector<int>.Zero;
                for (var c = 0; c < k; c++)
                {
                    var sum = Vector<float>.Zero;
                    for (var f = 0; f < d; f++)
                    {
                        var delta = new Vector<float>(values, f * n + i) - new Vector<float>(centres[c * d + f]);
                        sum += delta * delta;
                    }
                    var closer = Vector.LessThan(sum, best);
                    best = Vector.ConditionalSelect(closer, sum, best);
                    bestLabel = Vector.ConditionalSelect(closer, new Vector<int>(c), bestLabel);
                }
                bestLabel.CopyTo(block);
                for (var j = 0; j < width; j++)
                {
                    if (labels[i + j] != block[j])
                    {
                        changed++;
                        labels[i + j] = block[j];
                    }
                }
                if (!distances.IsEmpty)
                {
                    best.CopyTo(distances[(i - start)..]);
                }
            }
        }
        for (; i < end; i++)
        {
            var best = float.PositiveInfinity;
            var bestLabel = 0;
            for (var c = 0; c < k; c++)
            {
                var sum = 0f;
                for (var f = 0; f < d; f++)
                {
                    var delta = values[f * n + i] - centres[c * d + f];
                    sum += delta * delta;
                }
                if (sum < best)
                {
                    best = sum;
                    bestLabel = c;
                }
            }
            if (labels[i] != bestLabel)
            {
                changed++;
                labels[i] = bestLabel;
            }
            if (!distances.IsEmpty)
            {
                distances[i - start] = best;
            }
        }
        return changed;
    }

    /// <summary>The nearest centre of every row (see <see cref="AssignNearest"/>), chunks side by side.</summary>
    public int[] AssignAll(IReadOnlyList<double[]> centroids, int maxDegreeOfParallelism, CancellationToken ct)
    {
        var k = centroids.Count;
        var centres = new float[k * Columns];
        for (var c = 0; c < k; c++)
        {
            for (var f = 0; f < Columns; f++)
            {
                centres[c * Columns + f] = (float)centroids[c][f];
            }
        }
        var labels = new int[Rows];
        Parallel.For(0, Chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = ct }, chunk =>
        {
            var (start, end) = ChunkRange(chunk);
            AssignNearest(centres, k, start, end, labels, default);
        });
        return labels;
    }
}
