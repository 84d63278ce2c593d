namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>Mean actual and expected holdout repeat purchases of the customers with the same calibration frequency.</summary>
/// <param name="Group">"0" … "6" or "7+": repeat purchases in the calibration period.</param>
public sealed record FrequencyCheck(string Group, int Customers, double Actual, double Expected);

/// <summary>Cumulative repeat purchases over time, actual and expected.</summary>
/// <param name="Times">The end of each step, from the calibration start (step, 2·step, …).</param>
/// <param name="ErrorPercent">(expected − actual) / actual · 100 at the last time; 0 when there were no actual purchases.</param>
public sealed record Tracking(IReadOnlyList<double> Times, IReadOnlyList<double> Actual, IReadOnlyList<double> Expected, double ErrorPercent);

/// <summary>Holdout validation as the literature shows it (FHL 2005, figures 2–4).</summary>
public static class Holdout
{
    private static readonly string[] Groups = ["0", "1", "2", "3", "4", "5", "6", "7+"];

    /// <summary>
    /// Mean actual vs mean expected holdout repeat purchases per calibration frequency group 0,1,…,6 and "7+".
    /// Groups without customers are left out (so every figure is a real mean).
    /// </summary>
    public static IReadOnlyList<FrequencyCheck> ByFrequency(BgNbdFit fit, IReadOnlyList<CustomerHistory> calibration, IReadOnlyList<double> actualHoldoutPurchases, double holdoutLength)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(calibration);
        ArgumentNullException.ThrowIfNull(actualHoldoutPurchases);
        if (calibration.Count != actualHoldoutPurchases.Count)
        {
            throw new ArgumentException("There must be one holdout purchase count per calibration history.", nameof(actualHoldoutPurchases));
        }
        var customers = new int[Groups.Length];
        var actual = new double[Groups.Length];
        var expected = new double[Groups.Length];
        // Equal histories have equal expectations: compute each once.
        var cache = new Dictionary<CustomerHistory, double>();
        for (var i = 0; i < calibration.Count; i++)
        {
            var c = calibration[i];
            var group = (int)Math.Min(Math.Max(Math.Round(c.X), 0), Groups.Length - 1);
            if (!cache.TryGetValue(c, out var e))
            {
                e = fit.ExpectedPurchases(holdoutLength, c.X, c.Tx, c.T);
                cache[c] = e;
            }
            customers[group]++;
            actual[group] += actualHoldoutPurchases[i];
            expected[group] += e;
        }
        return Enumerable.Range(0, Groups.Length)
            .Where(g => customers[g] > 0)
            .Select(g => new FrequencyCheck(Groups[g], customers[g], actual[g] / customers[g], expected[g] / customers[g]))
            .ToList();
    }

    /// <summary>
    /// Cumulative repeat purchases per week (or unit step) from the calibration start through the holdout: actual (given)
    /// vs expected = Σ over customers of E[X(t − first purchase time)]; plus the overall error in per cent at the end of holdout.
    /// </summary>
    /// <param name="firstPurchaseTimes">Each customer's first purchase, in time units from the calibration start.</param>
    /// <param name="actualCumulative">Actual cumulative repeat purchases at step, 2·step, …; its length sets the times.</param>
    /// <remarks>
    /// Customers with the same first purchase time are counted together and E[X(u)] is computed once per distinct
    /// u = t − first purchase time, so daily data with many customers stays cheap.
    /// </remarks>
    public static Tracking Track(BgNbdFit fit, IReadOnlyList<double> firstPurchaseTimes, IReadOnlyList<double> actualCumulative, double step)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(firstPurchaseTimes);
        ArgumentNullException.ThrowIfNull(actualCumulative);
        if (!(step > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be positive.");
        }
        var starts = firstPurchaseTimes.GroupBy(t => t).Select(g => (Time: g.Key, Count: g.Count())).ToArray();
        var cache = new Dictionary<double, double>();
        var times = new double[actualCumulative.Count];
        var expected = new double[actualCumulative.Count];
        for (var i = 0; i < times.Length; i++)
        {
            var t = (i + 1) * step;
            times[i] = t;
            double sum = 0;
            foreach (var (start, count) in starts)
            {
                var u = Math.Round(t - start, 9);
                if (u <= 0)
                {
                    continue;
                }
                if (!cache.TryGetValue(u, out var e))
                {
                    e = fit.ExpectedPurchasesSinceFirst(u);
                    cache[u] = e;
                }
                sum += count * e;
            }
            expected[i] = sum;
        }
        var lastActual = actualCumulative.Count > 0 ? actualCumulative[^1] : 0;
        var error = lastActual > 0 ? (expected[^1] - lastActual) / lastActual * 100 : 0;
        return new Tracking(times, actualCumulative.ToArray(), expected, error);
    }
}
