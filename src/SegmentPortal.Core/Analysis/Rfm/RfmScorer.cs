namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>
/// Turns one dimension's values into scores 1–5, by quintiles or by cut points. Pure and deterministic: the same
/// values give the same scores whatever order the customers come in.
/// </summary>
internal static class RfmScorer
{
    /// <summary>The quintile rule in one sentence, for the UI.</summary>
    public const string QuintileRule =
        "Customers are sorted by value, smallest first, and each gets 1 plus the number of whole 20% slices of " +
        "customers with a strictly smaller value, so equal values always share a score (Recency is then turned " +
        "around, so the fewest days score 5).";

    /// <summary>What happens when every customer has the same value, in one sentence, for the UI.</summary>
    public const string AllEqualRule =
        "If every customer has the same value, no one has a smaller one, so everyone gets the score of the smallest " +
        "values: 1 for Frequency and Monetary, 5 for Recency.";

    /// <summary>The threshold rule in one sentence, for the UI.</summary>
    public const string ThresholdRule =
        "A value exactly on a cut point gets the better score: for Recency, up to and including the first cut point " +
        "scores 5; for Frequency and Monetary, from the last cut point up scores 5.";

    /// <summary>
    /// Quintile scores, in the order of <paramref name="values"/>. A value's score is <c>1 + ⌊5 × b / n⌋</c>, where
    /// <c>b</c> is the number of customers with a strictly smaller value. Computed as: sort a copy once, take the
    /// edges at the 20/40/60/80% positions of the sorted list (see <see cref="QuintileEdges"/>), and score each value
    /// 1 plus the number of edges strictly below it, which is the same number and needs no per-customer search.
    /// <para>
    /// Ties: a group of equal values has one <c>b</c>, so it always lands in one score, the one where the group
    /// starts in the sorted list; a large group leaves the scores it spans empty instead of being split. That end is
    /// where RFM data piles up: when 60% of customers ordered once they all score F 1 and the repeat buyers share 4
    /// and 5, and a crowd of customers who bought on the reference date all score R 5.
    /// </para>
    /// <para>
    /// All values equal: b is 0 for everyone, so everyone scores 1 (Recency 5), with no special case. That is also
    /// what the data usually means: all Frequencies equal is everyone having ordered once (F 1, not a middling 3 that
    /// would call them regulars), and with equal Recency too everyone lands in "New". With fewer than 5 customers the
    /// formula is unchanged, so some scores stay empty: four distinct values score 1, 2, 3, 4 (a 5 means "larger
    /// than the values of at least 80% of customers", which the largest of four is not). No customers give no scores.
    /// </para>
    /// </summary>
    /// <exception cref="PortalException">A value is not a number.</exception>
    public static int[] ScoreQuintiles(ReadOnlySpan<double> values, RfmDimension dimension)
    {
        var scores = new int[values.Length];
        if (values.Length == 0)
        {
            return scores;
        }
        var edges = QuintileEdges(values, dimension);
        double e1 = edges[0], e2 = edges[1], e3 = edges[2], e4 = edges[3];
        var reversed = dimension == RfmDimension.Recency;
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i];
            var ascending = value > e4 ? 5 : value > e3 ? 4 : value > e2 ? 3 : value > e1 ? 2 : 1;
            scores[i] = reversed ? 6 - ascending : ascending;
        }
        return scores;
    }

    /// <summary>
    /// The 4 quintile edges, smallest first: the values at positions ⌈k·n/5⌉ (k = 1..4, counting from 1) of the values
    /// sorted smallest first; a value scores 1 plus the number of edges strictly below it (Recency: 6 minus that).
    /// Empty when there are no values.
    /// </summary>
    /// <exception cref="PortalException">A value is not a number.</exception>
    public static double[] QuintileEdges(ReadOnlySpan<double> values, RfmDimension dimension)
    {
        var n = values.Length;
        if (n == 0)
        {
            return [];
        }
        var sorted = values.ToArray();
        Array.Sort(sorted);
        if (double.IsNaN(sorted[0]))
        {
            // NaN sorts first; it has no place in an order and would silently score 1.
            throw NotANumber(dimension);
        }
        var edges = new double[4];
        for (var k = 1; k <= 4; k++)
        {
            var position = (int)(((k * (long)n) + 4) / 5);
            edges[k - 1] = sorted[position - 1];
        }
        return edges;
    }

    /// <summary>
    /// Threshold scores, in the order of <paramref name="values"/>, from 4 cut points (validated first, see
    /// <see cref="RfmCutPoints.Problem"/>). Recency: up to c1 days scores 5, up to c2 4, up to c3 3, up to c4 2,
    /// more 1. Frequency and Monetary: below c1 scores 1, from c1 2, from c2 3, from c3 4, from c4 up 5. A value on
    /// a cut point gets the better score, so "30 days" with cut point 30 is a 5 and "100" with cut point 100 is a 2.
    /// </summary>
    /// <exception cref="PortalException">The cut points are not valid, or a value is not a number.</exception>
    public static int[] ScoreThresholds(ReadOnlySpan<double> values, RfmDimension dimension, IReadOnlyList<double> cutPoints)
    {
        RfmCutPoints.Validate(dimension, cutPoints);
        double c1 = cutPoints[0], c2 = cutPoints[1], c3 = cutPoints[2], c4 = cutPoints[3];
        var scores = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i];
            if (double.IsNaN(value))
            {
                throw NotANumber(dimension);
            }
            scores[i] = dimension == RfmDimension.Recency
                ? value <= c1 ? 5 : value <= c2 ? 4 : value <= c3 ? 3 : value <= c4 ? 2 : 1
                : value < c1 ? 1 : value < c2 ? 2 : value < c3 ? 3 : value < c4 ? 4 : 5;
        }
        return scores;
    }

    /// <summary>The threshold score of a single value (see <see cref="ScoreThresholds"/>).</summary>
    public static int ScoreThreshold(double value, RfmDimension dimension, IReadOnlyList<double> cutPoints) =>
        ScoreThresholds([value], dimension, cutPoints)[0];

    /// <summary>
    /// What each score holds: the smallest and largest value actually scored so, and how many customers, from
    /// values and the scores either method gave them. Works the same for both methods because it only looks at the
    /// result.
    /// </summary>
    public static RfmDimensionPreview Preview(
        RfmDimension dimension,
        RfmScoringMethod method,
        ReadOnlySpan<double> values,
        ReadOnlySpan<int> scores)
    {
        if (values.Length != scores.Length)
        {
            throw new ArgumentException("There must be one score per value.", nameof(scores));
        }
        var counts = new int[5];
        var mins = new double[5];
        var maxes = new double[5];
        for (var i = 0; i < values.Length; i++)
        {
            var s = scores[i] - 1;
            if ((uint)s > 4)
            {
                throw new ArgumentOutOfRangeException(nameof(scores), scores[i], "Scores go from 1 to 5.");
            }
            var value = values[i];
            if (counts[s]++ == 0)
            {
                mins[s] = value;
                maxes[s] = value;
            }
            else if (value < mins[s])
            {
                mins[s] = value;
            }
            else if (value > maxes[s])
            {
                maxes[s] = value;
            }
        }
        var bins = new RfmScoreBin[5];
        for (var s = 0; s < 5; s++)
        {
            bins[s] = counts[s] == 0
                ? new RfmScoreBin(s + 1, 0, null, null)
                : new RfmScoreBin(s + 1, counts[s], mins[s], maxes[s]);
        }
        return new RfmDimensionPreview(dimension, method, bins);
    }

    private static PortalException NotANumber(RfmDimension dimension) =>
        new($"A {RfmScores.Name(dimension)} value is not a number; every customer needs one to be scored.");
}
