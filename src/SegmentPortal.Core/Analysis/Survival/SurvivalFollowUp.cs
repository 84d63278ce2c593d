using System.Globalization;

namespace SegmentPortal.Core.Analysis.Survival;

/// <summary>
/// A customer's follow-up from their purchase days (distinct days, ascending, none after the end), counted in days
/// from the first purchase.
/// </summary>
internal static class SurvivalFollowUp
{
    /// <summary>The share of gaps between consecutive purchase days that the default D is at least as long as.</summary>
    public const double DefaultGapPercentile = 0.9;

    /// <summary>
    /// "No purchase for D days": the customer is lost at the first gap between consecutive purchase days longer than D
    /// days, dated D days after the purchase before the gap; also when the last purchase is more than D days before the
    /// end. A customer who bought within the last D days, with no such gap before, is censored at end − first purchase.
    /// </summary>
    public static SurvivalObservation Churn(ReadOnlySpan<int> days, int end, int churnDays)
    {
        var first = days[0];
        for (var i = 0; i + 1 < days.Length; i++)
        {
            if (days[i + 1] - days[i] > churnDays)
            {
                return new SurvivalObservation(days[i] + churnDays - first, true);
            }
        }
        var last = days[^1];
        return end - last > churnDays
            ? new SurvivalObservation(last + churnDays - first, true)
            : new SurvivalObservation(end - first, false);
    }

    /// <summary>Days from the first purchase to the second purchase day; censored at end − first when there is none.</summary>
    public static SurvivalObservation SecondPurchase(ReadOnlySpan<int> days, int end) =>
        days.Length > 1 ? new SurvivalObservation(days[1] - days[0], true) : new SurvivalObservation(end - days[0], false);

    /// <summary>
    /// The default D: the 90th percentile (nearest rank, rounded up to whole days) of all gaps between a customer's
    /// consecutive purchase days, so nine gaps in ten are no longer than D; null when no customer bought on two days.
    /// </summary>
    public static int? DefaultChurnDays(IEnumerable<int[]> customers)
    {
        var gaps = new List<int>();
        foreach (var days in customers)
        {
            for (var i = 0; i + 1 < days.Length; i++)
            {
                gaps.Add(days[i + 1] - days[i]);
            }
        }
        if (gaps.Count == 0)
        {
            return null;
        }
        gaps.Sort();
        var rank = (int)Math.Ceiling(DefaultGapPercentile * gaps.Count);
        return Math.Max(1, gaps[Math.Clamp(rank - 1, 0, gaps.Count - 1)]);
    }

    /// <summary>"2024-03": the cohort of a first purchase day.</summary>
    public static string CohortOf(int firstDay) => DateOnly.FromDayNumber(firstDay).ToString("yyyy-MM", CultureInfo.InvariantCulture);
}

/// <summary>The log-rank result in words: which group gets there sooner, and p in words.</summary>
internal static class SurvivalWords
{
    /// <summary>"p &lt; 0.001", "p = 0.004", "p = 0.03", "p = 0.41".</summary>
    public static string P(double p) =>
        double.IsNaN(p) ? "p not available"
        : p < 0.001 ? "p < 0.001"
        : p < 0.01 ? string.Create(CultureInfo.InvariantCulture, $"p = {p:0.000}")
        : string.Create(CultureInfo.InvariantCulture, $"p = {p:0.00}");

    /// <summary>
    /// The sentence under the chart. Which group is faster is read from the observed/expected ratio of the log-rank
    /// test (more events than expected: faster); with p at 0.05 or above there is "no clear difference".
    /// </summary>
    public static string Sentence(SurvivalEvent kind, IReadOnlyList<SurvivalGroupResult> groups, LogRankTest? test)
    {
        if (groups.Count < 2)
        {
            return "There is one group only, so there is no test between groups.";
        }
        if (test is null || double.IsNaN(test.PValue))
        {
            return "The groups cannot be compared: too few events to test.";
        }
        var p = P(test.PValue);
        if (test.PValue >= 0.05)
        {
            return $"No clear difference between the groups ({p}).";
        }
        var ranked = groups.Where(g => g.LogRank is { Expected: > 0 }).OrderByDescending(g => g.LogRank!.Ratio).ToList();
        var fast = Capital(ranked[0].Noun);
        var slow = ranked[^1].Noun;
        var verb = kind == SurvivalEvent.Churn ? "churn" : "come back for a second purchase";
        return ranked.Count == 2
            ? kind == SurvivalEvent.Churn ? $"{fast} churn faster than {slow}; {p}." : $"{fast} come back for a second purchase sooner than {slow}; {p}."
            : kind == SurvivalEvent.Churn ? $"{fast} churn fastest and {slow} slowest; {p}." : $"{fast} {verb} soonest and {slow} latest; {p}.";
    }

    private static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
