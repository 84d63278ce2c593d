using System.Globalization;

namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>The 4 cut points of threshold scoring: defaults and validation.</summary>
internal static class RfmCutPoints
{
    /// <summary>How many cut points a dimension has: 4 cut points make 5 scores.</summary>
    public const int Count = 4;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Recency default: up to 30 days 5, 31–60 4, 61–120 3, 121–240 2, more than 240 days 1.</summary>
    public static IReadOnlyList<double> DefaultRecency { get; } = [30, 60, 120, 240];

    /// <summary>
    /// Frequency default: 1 order 1, 2 orders 2, 3–4 3, 5–9 4, 10 or more 5. Starts at 2 so one-time buyers, usually
    /// the largest crowd, are on their own.
    /// </summary>
    public static IReadOnlyList<double> DefaultFrequency { get; } = [2, 3, 5, 10];

    /// <summary>
    /// Monetary default, in the data's currency: below 100 1, 100–249.99 2, 250–499.99 3, 500–999.99 4, 1,000 or
    /// more 5. A retail starting point only; amounts depend on the business, so the preview is there to adjust it.
    /// </summary>
    public static IReadOnlyList<double> DefaultMonetary { get; } = [100, 250, 500, 1000];

    /// <summary>The default cut points of a dimension.</summary>
    public static IReadOnlyList<double> Default(RfmDimension dimension) => dimension switch
    {
        RfmDimension.Recency => DefaultRecency,
        RfmDimension.Frequency => DefaultFrequency,
        RfmDimension.Monetary => DefaultMonetary,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };

    /// <summary>
    /// What is wrong with the cut points, as a message for the user, or null when they are usable: exactly 4 finite
    /// numbers, each larger than the one before (equal cut points would leave a score that no value can get), and
    /// none negative for Recency and Frequency, where values never are (Monetary may be, with refunds).
    /// </summary>
    public static string? Problem(RfmDimension dimension, IReadOnlyList<double>? cutPoints)
    {
        var name = RfmScores.Name(dimension);
        if (cutPoints is null || cutPoints.Count != Count)
        {
            return $"{name} needs exactly {Count} cut points to make 5 scores; it has {cutPoints?.Count ?? 0}.";
        }
        for (var i = 0; i < Count; i++)
        {
            if (!double.IsFinite(cutPoints[i]))
            {
                return $"{name} cut point {i + 1} is not a number.";
            }
            if (dimension != RfmDimension.Monetary && cutPoints[i] < 0)
            {
                return $"{name} cut point {i + 1} is {Format(cutPoints[i])}; {Unit(dimension)} are never below 0.";
            }
            if (i > 0 && cutPoints[i] <= cutPoints[i - 1])
            {
                return $"{name} cut points must go up: cut point {i + 1} ({Format(cutPoints[i])}) is not larger " +
                    $"than cut point {i} ({Format(cutPoints[i - 1])}).";
            }
        }
        return null;
    }

    /// <summary>Throws the <see cref="Problem"/> as a <see cref="PortalException"/>, if there is one.</summary>
    public static void Validate(RfmDimension dimension, IReadOnlyList<double>? cutPoints)
    {
        if (Problem(dimension, cutPoints) is { } problem)
        {
            throw new PortalException(problem);
        }
    }

    internal static string Unit(RfmDimension dimension) => dimension switch
    {
        RfmDimension.Recency => "days",
        RfmDimension.Frequency => "orders",
        _ => "amounts",
    };

    private static string Format(double value) => value.ToString("#,0.##########", Invariant);
}

/// <summary>
/// How one dimension is scored: the method, and the cut points used when it is <see cref="RfmScoringMethod.Thresholds"/>.
/// The cut points are kept while quintiles are chosen, so switching back does not lose the user's numbers.
/// </summary>
public sealed record RfmDimensionScoring(RfmScoringMethod Method, IReadOnlyList<double> CutPoints)
{
    /// <summary>Quintiles, with the dimension's default cut points ready for a switch to thresholds.</summary>
    public static RfmDimensionScoring Default(RfmDimension dimension) =>
        new(RfmScoringMethod.Quintiles, RfmCutPoints.Default(dimension));

    /// <summary>Thresholds with the given cut points.</summary>
    public static RfmDimensionScoring Thresholds(params IReadOnlyList<double> cutPoints) =>
        new(RfmScoringMethod.Thresholds, cutPoints);

    /// <summary>Equal when the method and the cut points are equal, so the editor can tell whether anything changed.</summary>
    public bool Equals(RfmDimensionScoring? other) =>
        other is not null && Method == other.Method && CutPoints.SequenceEqual(other.CutPoints);

    public override int GetHashCode() => HashCode.Combine(Method, CutPoints.Count);

    /// <summary>Scores the values by this method (see <see cref="RfmScorer"/>).</summary>
    /// <exception cref="PortalException">The cut points are not valid (thresholds only), or a value is not a number.</exception>
    public int[] Score(ReadOnlySpan<double> values, RfmDimension dimension) => Method switch
    {
        RfmScoringMethod.Quintiles => RfmScorer.ScoreQuintiles(values, dimension),
        RfmScoringMethod.Thresholds => RfmScorer.ScoreThresholds(values, dimension, CutPoints),
        _ => throw new PortalException($"Unknown scoring method {Method} for {RfmScores.Name(dimension)}."),
    };

    /// <summary>
    /// What is wrong, for the user, or null. Cut points only count when they are used: a half-edited list does not
    /// block quintile scoring.
    /// </summary>
    public string? Problem(RfmDimension dimension) => Method switch
    {
        RfmScoringMethod.Quintiles => null,
        RfmScoringMethod.Thresholds => RfmCutPoints.Problem(dimension, CutPoints),
        _ => $"{RfmScores.Name(dimension)} has an unknown scoring method ({Method}).",
    };
}
