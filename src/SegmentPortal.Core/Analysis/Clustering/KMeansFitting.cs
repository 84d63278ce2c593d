namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// The portal's k-means, written after scikit-learn's <c>KMeans(algorithm="lloyd")</c>: greedy k-means++ seeding
/// (2 + ⌊ln k⌋ candidates per centre sampled by squared distance, the one lowering the potential most kept), Lloyd
/// iterations until the labels stop changing or the centres move less than 1e-4 × the mean feature variance (squared
/// shifts summed), a cluster left empty taking the customer farthest from its centre, and a last assignment so the
/// labels match the centres. Each start uses every core (fixed chunks of rows whose partial sums are added in chunk
/// order, so a seed gives the same model on any number of cores); the starts run one after another. It replaced
/// ML.NET's trainer, whose k-means++ seeding is single-threaded and whose starts took about four times as long on a
/// million customers.
/// </summary>
internal static class KMeansFitting
{
    /// <summary>scikit-learn's default relative tolerance.</summary>
    public const double RelativeTolerance = 1e-4;

    /// <summary>
    /// Trains <see cref="KMeansOptions.StartsFor"/> seeded starts and keeps the one with the smallest within-cluster sum
    /// of squares (ties keep the earlier start). Progress is reported after each start; the token is checked on every
    /// iteration.
    /// </summary>
    public static ClusteringModel FitBest(
        PreparationParameters preparation, IReadOnlyList<float[]> rows, int k, int seed, KMeansOptions options,
        Action<double>? progress, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return FitBest(preparation, FeatureMatrix.From(rows, preparation.FeatureCount), k, seed, options, progress, ct);
    }

    /// <summary>The same, on prepared customers already in a matrix.</summary>
    public static ClusteringModel FitBest(
        PreparationParameters preparation, FeatureMatrix matrix, int k, int seed, KMeansOptions options,
        Action<double>? progress, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var best = FitBest(matrix, k, seed, options, progress, ct);
        return new ClusteringModel(preparation, best.Centroids);
    }

    /// <summary>The best of the seeded starts on a matrix; see <see cref="FitBest(PreparationParameters, IReadOnlyList{float[]}, int, int, KMeansOptions, Action{double}?, CancellationToken)"/>.</summary>
    public static KMeansSolution FitBest(FeatureMatrix matrix, int k, int seed, KMeansOptions options, Action<double>? progress, CancellationToken ct)
    {
        var starts = options.StartsFor(matrix.Rows);
        var tolerance = RelativeTolerance * MeanVariance(matrix);
        KMeansSolution? best = null;
        for (var start = 0; start < starts; start++)
        {
            ct.ThrowIfCancellationRequested();
            var startSeed = start == 0 ? seed : Statistics.DeriveSeed(seed, 1000 + start);
            var solution = Fit(matrix, k, startSeed, tolerance, options, ct);
            // Strictly smaller, so ties keep the earlier start.
            if (best is null || solution.Inertia < best.Inertia)
            {
                best = solution;
            }
            progress?.Invoke((start + 1) / (double)starts);
        }
        return best!;
    }

    /// <summary>
    /// One seeded start: k-means++ seeding (or <paramref name="initialCentres"/>, k × features row by row, when given),
    /// then Lloyd iterations. <paramref name="iterationDone"/> (for tests) is called after each Lloyd iteration with its
    /// number (1-based).
    /// </summary>
    public static KMeansSolution Fit(
        FeatureMatrix x, int k, int seed, double tolerance, KMeansOptions options, CancellationToken ct,
        Action<int>? iterationDone = null, double[]? initialCentres = null)
    {
        var d = x.Columns;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = ct };
        var centres = initialCentres?.ToArray() ?? Seed(x, k, new Random(seed), parallel, ct);

        var n = x.Rows;
        var chunks = x.Chunks;
        var labels = new int[n];
        Array.Fill(labels, -1);
        var floatCentres = new float[k * d];
        // Each chunk keeps its clusters' sums and counts from one iteration to the next and updates them with the rows
        // whose cluster changed (the first iteration adds every row), so a late iteration where few customers move costs
        // little more than the assignment.
        var partialSums = new double[chunks][];
        var partialCounts = new long[chunks][];
        var partialChanged = new int[chunks];
        var previous = new int[chunks][];
        for (var chunk = 0; chunk < chunks; chunk++)
        {
            partialSums[chunk] = new double[k * d];
            partialCounts[chunk] = new long[k];
            var (start, end) = x.ChunkRange(chunk);
            previous[chunk] = new int[end - start];
        }
        var sums = new double[k * d];
        var counts = new long[k];
        var iterations = 0;
        var strict = false;
        for (var iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            ct.ThrowIfCancellationRequested();
            ToFloat(centres, floatCentres);
            Parallel.For(0, chunks, parallel, chunk =>
            {
                var (start, end) = x.ChunkRange(chunk);
                var before = previous[chunk];
                labels.AsSpan(start, end - start).CopyTo(before);
                partialChanged[chunk] = x.AssignNearest(floatCentres, k, start, end, labels, default);
                if (partialChanged[chunk] > 0)
                {
                    MoveChangedRows(x, start, end, before, labels, d, partialSums[chunk], partialCounts[chunk]);
                }
            });
            Array.Clear(sums);
            Array.Clear(counts);
            var changed = 0;
            for (var chunk = 0; chunk < chunks; chunk++)
            {
                changed += partialChanged[chunk];
                for (var j = 0; j < sums.Length; j++)
                {
                    sums[j] += partialSums[chunk][j];
                }
                for (var c = 0; c < k; c++)
                {
                    counts[c] += partialCounts[chunk][c];
                }
            }
            RelocateEmptyClusters(x, centres, labels, sums, counts, k);
            var shift = 0.0;
            for (var c = 0; c < k; c++)
            {
                for (var f = 0; f < d; f++)
                {
                    var updated = counts[c] > 0 ? sums[c * d + f] / counts[c] : sums[c * d + f];
                    var delta = updated - centres[c * d + f];
                    shift += delta * delta;
                    centres[c * d + f] = updated;
                }
            }
            iterations = iteration;
            iterationDone?.Invoke(iteration);
            if (changed == 0)
            {
                strict = true;
                break;
            }
            if (shift <= tolerance)
            {
                break;
            }
        }

        // One more assignment with the final centres, so the labels (and the inertia) belong to the centres returned.
        ct.ThrowIfCancellationRequested();
        ToFloat(centres, floatCentres);
        var partialInertia = new double[chunks];
        Parallel.For(0, chunks, parallel, chunk =>
        {
            var (start, end) = x.ChunkRange(chunk);
            x.AssignNearest(floatCentres, k, start, end, labels, default);
            double total = 0;
            for (var i = start; i < end; i++)
            {
                total += SquaredDistance(x, i, centres, labels[i]);
            }
            partialInertia[chunk] = total;
        });
        var inertia = Total(partialInertia);
        var centroids = new double[k][];
        for (var c = 0; c < k; c++)
        {
            centroids[c] = centres.AsSpan(c * d, d).ToArray();
        }
        return new KMeansSolution(centroids, labels, inertia, iterations, strict);
    }

    /// <summary>
    /// Updates a chunk's cluster sums and counts for the rows whose cluster changed: out of the old one (none on the
    /// first iteration, where every label was -1), into the new one; rows in order.
    /// </summary>
    private static void MoveChangedRows(FeatureMatrix x, int start, int end, int[] before, int[] labels, int d, double[] sums, long[] counts)
    {
        var n = x.Rows;
        var values = x.Values;
        for (var i = start; i < end; i++)
        {
            var from = before[i - start];
            var to = labels[i];
            if (from == to)
            {
                continue;
            }
            if (from >= 0)
            {
                counts[from]--;
                for (var f = 0; f < d; f++)
                {
                    sums[from * d + f] -= values[f * n + i];
                }
            }
            counts[to]++;
            for (var f = 0; f < d; f++)
            {
                sums[to * d + f] += values[f * n + i];
            }
        }
    }

    /// <summary>
    /// scikit-learn's greedy k-means++: the first centre a random customer; each next one the best of
    /// 2 + ⌊ln k⌋ customers drawn with probability proportional to their squared distance to the nearest centre so far,
    /// "best" meaning the one that leaves the smallest sum of those distances.
    /// </summary>
    private static double[] Seed(FeatureMatrix x, int k, Random random, ParallelOptions parallel, CancellationToken ct)
    {
        var n = x.Rows;
        var d = x.Columns;
        var chunks = x.Chunks;
        var trials = 2 + (int)Math.Log(k);
        var centres = new double[k * d];
        var closest = new double[n];
        var cumulative = new double[n];
        var partial = new double[chunks];

        CopyRow(x, random.Next(n), centres.AsSpan(0, d));
        var first = centres.AsSpan(0, d).ToArray();
        Parallel.For(0, chunks, parallel, chunk =>
        {
            var (start, end) = x.ChunkRange(chunk);
            var distances = closest.AsSpan(start, end - start);
            x.SquaredDistances(start, end, first, distances);
            double total = 0;
            foreach (var distance in distances)
            {
                total += distance;
            }
            partial[chunk] = total;
        });
        var potential = Total(partial);

        var partialTrials = new double[trials][];
        for (var t = 0; t < trials; t++)
        {
            partialTrials[t] = new double[chunks];
        }
        var candidateRows = new int[trials];
        var candidatePotentials = new double[trials];
        for (var c = 1; c < k; c++)
        {
            ct.ThrowIfCancellationRequested();
            var running = 0.0;
            for (var i = 0; i < n; i++)
            {
                running += closest[i];
                cumulative[i] = running;
            }
            for (var t = 0; t < trials; t++)
            {
                var target = random.NextDouble() * potential;
                // The first customer whose running total reaches the target (numpy's searchsorted, side "left").
                var found = Array.BinarySearch(cumulative, target);
                if (found < 0)
                {
                    found = ~found;
                }
                else
                {
                    while (found > 0 && cumulative[found - 1] == target)
                    {
                        found--;
                    }
                }
                candidateRows[t] = Math.Min(found, n - 1);
            }
            // Every candidate's potential, chunk by chunk (each chunk's sum in row order, the chunks added in order).
            var points = new double[trials][];
            for (var t = 0; t < trials; t++)
            {
                points[t] = new double[d];
                CopyRow(x, candidateRows[t], points[t]);
            }
            Parallel.For(0, chunks, parallel, chunk =>
            {
                var (start, end) = x.ChunkRange(chunk);
                var scratch = System.Buffers.ArrayPool<double>.Shared.Rent(end - start);
                try
                {
                    var distances = scratch.AsSpan(0, end - start);
                    var nearest = closest.AsSpan(start, end - start);
                    for (var t = 0; t < trials; t++)
                    {
                        x.SquaredDistances(start, end, points[t], distances);
                        double total = 0;
                        for (var i = 0; i < distances.Length; i++)
                        {
                            total += Math.Min(nearest[i], distances[i]);
                        }
                        partialTrials[t][chunk] = total;
                    }
                }
                finally
                {
                    System.Buffers.ArrayPool<double>.Shared.Return(scratch);
                }
            });
            for (var t = 0; t < trials; t++)
            {
                candidatePotentials[t] = Total(partialTrials[t]);
            }
            var best = 0;
            for (var t = 1; t < trials; t++)
            {
                if (candidatePotentials[t] < candidatePotentials[best])
                {
                    best = t;
                }
            }
            CopyRow(x, candidateRows[best], centres.AsSpan(c * d, d));
            var chosen = points[best];
            Parallel.For(0, chunks, parallel, chunk =>
            {
                var (start, end) = x.ChunkRange(chunk);
                var scratch = System.Buffers.ArrayPool<double>.Shared.Rent(end - start);
                try
                {
                    var distances = scratch.AsSpan(0, end - start);
                    x.SquaredDistances(start, end, chosen, distances);
                    var nearest = closest.AsSpan(start, end - start);
                    for (var i = 0; i < distances.Length; i++)
                    {
                        nearest[i] = Math.Min(nearest[i], distances[i]);
                    }
                }
                finally
                {
                    System.Buffers.ArrayPool<double>.Shared.Return(scratch);
                }
            });
            potential = candidatePotentials[best];
        }
        return centres;
    }

    /// <summary>
    /// As scikit-learn: each empty cluster takes the customer farthest from its own (previous) centre, that customer's
    /// values moved out of its cluster's sum into the empty one's. The labels are left as they are (the next iteration
    /// assigns again). Ties in distance go to the lower row.
    /// </summary>
    internal static void RelocateEmptyClusters(FeatureMatrix x, double[] previousCentres, int[] labels, double[] sums, long[] counts, int k)
    {
        var empty = Enumerable.Range(0, k).Where(c => counts[c] == 0).ToArray();
        if (empty.Length == 0)
        {
            return;
        }
        var d = x.Columns;
        // The farthest rows, kept in a small list sorted by distance descending (then row ascending).
        var farthest = new List<(double Distance, int Row)>(empty.Length + 1);
        for (var i = 0; i < x.Rows; i++)
        {
            var distance = SquaredDistance(x, i, previousCentres, labels[i]);
            if (farthest.Count == empty.Length && distance <= farthest[^1].Distance)
            {
                continue;
            }
            var at = farthest.FindIndex(e => distance > e.Distance);
            farthest.Insert(at < 0 ? farthest.Count : at, (distance, i));
            if (farthest.Count > empty.Length)
            {
                farthest.RemoveAt(farthest.Count - 1);
            }
        }
        for (var e = 0; e < Math.Min(empty.Length, farthest.Count); e++)
        {
            var row = farthest[e].Row;
            var to = empty[e];
            var from = labels[row];
            for (var f = 0; f < d; f++)
            {
                var value = (double)x[row, f];
                sums[from * d + f] -= value;
                sums[to * d + f] = value;
            }
            counts[to] = 1;
            counts[from]--;
        }
    }

    /// <summary>Mean over the features of their (population) variance: scikit-learn's tolerance is relative to it.</summary>
    public static double MeanVariance(FeatureMatrix x)
    {
        var n = x.Rows;
        var total = 0.0;
        for (var f = 0; f < x.Columns; f++)
        {
            var column = x.Values.AsSpan(f * n, n);
            double sum = 0;
            foreach (var v in column)
            {
                sum += v;
            }
            var mean = sum / n;
            double squares = 0;
            foreach (var v in column)
            {
                var delta = v - mean;
                squares += delta * delta;
            }
            total += squares / n;
        }
        return total / x.Columns;
    }

    private static double SquaredDistance(FeatureMatrix x, int row, double[] centres, int cluster)
    {
        var n = x.Rows;
        var d = x.Columns;
        var values = x.Values;
        double sum = 0;
        for (var f = 0; f < d; f++)
        {
            var delta = values[f * n + row] - centres[cluster * d + f];
            sum += delta * delta;
        }
        return sum;
    }

    private static void CopyRow(FeatureMatrix x, int row, Span<double> destination)
    {
        for (var f = 0; f < x.Columns; f++)
        {
            destination[f] = x[row, f];
        }
    }

    /// <summary>Partial sums added in chunk order, the same order on any number of cores.</summary>
    private static double Total(double[] parts)
    {
        double total = 0;
        foreach (var part in parts)
        {
            total += part;
        }
        return total;
    }

    private static void ToFloat(double[] source, float[] destination)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = (float)source[i];
        }
    }
}

/// <summary>One k-means start's outcome: centres (scaled space), each row's cluster, the sum of squared distances to them.</summary>
internal sealed record KMeansSolution(double[][] Centroids, int[] Labels, double Inertia, int Iterations, bool LabelsSettled);
