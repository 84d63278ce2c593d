namespace SegmentPortal.Core.Analysis.Survival;

/// <summary>One subject's follow-up: how long it was watched, and whether the event ended it (false: censored).</summary>
public readonly record struct SurvivalObservation(double Time, bool Event);

/// <summary>
/// A step of a Kaplan–Meier curve at a time with at least one event: how many were at risk just before it, the events
/// and censorings at it, the survival after it, Greenwood's standard error and the 95% band.
/// </summary>
public sealed record KaplanMeierStep(double Time, int AtRisk, int Events, int Censored, double Survival, double StandardError, double Lower, double Upper);

/// <summary>A censoring mark: a time at which subjects left the study without the event, and the curve's height there.</summary>
public sealed record CensoringMark(double Time, int Count, double Survival);

/// <summary>
/// A Kaplan–Meier curve. It starts at 1 at time 0 and steps down at <see cref="Steps"/>; <see cref="Median"/> is the
/// first time the survival is 0.5 or below, null when the curve never gets there ("not reached").
/// </summary>
public sealed record KaplanMeierCurve(int Subjects, int Events, IReadOnlyList<KaplanMeierStep> Steps, IReadOnlyList<CensoringMark> Censored, double? Median)
{
    /// <summary>The curve's height at <paramref name="time"/> (right-continuous: a step at that time counts).</summary>
    public double SurvivalAt(double time)
    {
        var s = 1.0;
        foreach (var step in Steps)
        {
            if (step.Time > time)
            {
                break;
            }
            s = step.Survival;
        }
        return s;
    }
}

/// <summary>One group's part in a log-rank test: observed events and those expected if every group shared one curve.</summary>
public sealed record LogRankGroup(int Observed, double Expected)
{
    /// <summary>Observed over expected: above 1, events come sooner in this group than in the groups together.</summary>
    public double Ratio => Expected > 0 ? Observed / Expected : double.NaN;
}

/// <summary>The log-rank test of equal survival in all groups: chi-square with groups − 1 degrees of freedom.</summary>
public sealed record LogRankTest(double ChiSquare, int DegreesOfFreedom, double PValue, IReadOnlyList<LogRankGroup> Groups);

/// <summary>
/// Kaplan–Meier curves with Greenwood's variance, the 95% band as SciPy's <c>ecdf(...).sf.confidence_interval()</c>
/// gives it by default ("linear": S ± 1.96·SE, clipped to [0, 1]), median survival, and the log-rank test for two or
/// more groups. Pure arithmetic: no data access.
/// </summary>
internal static class SurvivalEngine
{
    /// <summary>The normal quantile for a two-sided 95% band.</summary>
    public const double Z95 = 1.959963984540054;

    public static KaplanMeierCurve KaplanMeier(IReadOnlyList<SurvivalObservation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var sorted = observations.OrderBy(o => o.Time).ToArray();
        var steps = new List<KaplanMeierStep>();
        var marks = new List<CensoringMark>();
        var atRisk = sorted.Length;
        var survival = 1.0;
        var greenwood = 0.0;
        double? median = null;
        var events = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var time = sorted[i].Time;
            int d = 0, c = 0;
            for (; i < sorted.Length && sorted[i].Time == time; i++)
            {
                if (sorted[i].Event)
                {
                    d++;
                }
                else
                {
                    c++;
                }
            }
            if (d > 0)
            {
                survival *= 1 - (double)d / atRisk;
                // Greenwood: Var S(t) = S(t)² Σ d / (n (n − d)); undefined once everyone at risk had the event (S = 0).
                greenwood += d == atRisk ? double.PositiveInfinity : (double)d / ((double)atRisk * (atRisk - d));
                var se = survival == 0 ? 0 : survival * Math.Sqrt(greenwood);
                steps.Add(new KaplanMeierStep(time, atRisk, d, c, survival, se,
                    Math.Clamp(survival - Z95 * se, 0, 1), Math.Clamp(survival + Z95 * se, 0, 1)));
                events += d;
                if (median is null && survival <= 0.5)
                {
                    median = time;
                }
            }
            if (c > 0)
            {
                marks.Add(new CensoringMark(time, c, survival));
            }
            atRisk -= d + c;
        }
        return new KaplanMeierCurve(sorted.Length, events, steps, marks, median);
    }

    /// <summary>
    /// The log-rank test over the groups (each a list of observations): at every event time, each group's expected
    /// events are the events then times its share of those at risk; the statistic is (O − E)ᵀ V⁻¹ (O − E) over all groups
    /// but the last, with V the hypergeometric covariance. Null with fewer than two groups that have subjects.
    /// </summary>
    public static LogRankTest? LogRank(IReadOnlyList<IReadOnlyList<SurvivalObservation>> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var k = groups.Count;
        if (groups.Count(g => g.Count > 0) < 2)
        {
            return null;
        }
        var all = groups.SelectMany((g, j) => g.Select(o => (o.Time, o.Event, Group: j))).OrderBy(o => o.Time).ToArray();
        var atRisk = groups.Select(g => (double)g.Count).ToArray();
        var observed = new int[k];
        var expected = new double[k];
        var covariance = new double[k, k];
        for (var i = 0; i < all.Length;)
        {
            var time = all[i].Time;
            var deaths = new double[k];
            var leaving = new double[k];
            for (; i < all.Length && all[i].Time == time; i++)
            {
                leaving[all[i].Group]++;
                if (all[i].Event)
                {
                    deaths[all[i].Group]++;
                }
            }
            var d = deaths.Sum();
            var n = atRisk.Sum();
            if (d > 0)
            {
                for (var j = 0; j < k; j++)
                {
                    observed[j] += (int)deaths[j];
                    expected[j] += d * atRisk[j] / n;
                }
                if (n > 1)
                {
                    var factor = d * (n - d) / (n - 1);
                    for (var j = 0; j < k; j++)
                    {
                        for (var l = 0; l < k; l++)
                        {
                            covariance[j, l] += factor * atRisk[j] / n * ((j == l ? 1 : 0) - atRisk[l] / n);
                        }
                    }
                }
            }
            for (var j = 0; j < k; j++)
            {
                atRisk[j] -= leaving[j];
            }
        }

        // Groups without subjects carry no information; the last remaining group is dropped (the differences sum to 0).
        var used = Enumerable.Range(0, k).Where(j => groups[j].Count > 0).ToArray();
        var m = used.Length - 1;
        var v = new double[m, m];
        var diff = new double[m];
        for (var a = 0; a < m; a++)
        {
            diff[a] = observed[used[a]] - expected[used[a]];
            for (var b = 0; b < m; b++)
            {
                v[a, b] = covariance[used[a], used[b]];
            }
        }
        var solved = Solve(v, diff);
        // No variance: every event at one time with everyone at risk having it; then observed equals expected, nothing differs.
        var chi = solved is not null ? Math.Max(0, diff.Select((x, a) => x * solved[a]).Sum())
            : diff.All(x => Math.Abs(x) < 1e-9) ? 0 : double.NaN;
        return new LogRankTest(chi, m, double.IsNaN(chi) ? double.NaN : ChiSquareSurvival(chi, m),
            Enumerable.Range(0, k).Select(j => new LogRankGroup(observed[j], expected[j])).ToList());
    }

    /// <summary>Solves V x = b by Gaussian elimination with partial pivoting; null when V is singular (no variance to test).</summary>
    private static double[]? Solve(double[,] v, double[] b)
    {
        var n = b.Length;
        var a = new double[n, n + 1];
        var scale = 0.0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                a[i, j] = v[i, j];
                scale = Math.Max(scale, Math.Abs(v[i, j]));
            }
            a[i, n] = b[i];
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = r;
                }
            }
            if (Math.Abs(a[pivot, col]) <= 1e-12 * Math.Max(scale, 1e-300))
            {
                return null;
            }
            if (pivot != col)
            {
                for (var j = 0; j <= n; j++)
                {
                    (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
                }
            }
            for (var r = 0; r < n; r++)
            {
                if (r == col)
                {
                    continue;
                }
                var f = a[r, col] / a[col, col];
                for (var j = col; j <= n; j++)
                {
                    a[r, j] -= f * a[col, j];
                }
            }
        }
        return Enumerable.Range(0, n).Select(i => a[i, n] / a[i, i]).ToArray();
    }

    /// <summary>P(X ≥ x) for X chi-square with <paramref name="degreesOfFreedom"/>: the regularised upper gamma Q(df/2, x/2).</summary>
    public static double ChiSquareSurvival(double x, int degreesOfFreedom)
    {
        if (degreesOfFreedom < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom));
        }
        return x <= 0 ? 1 : UpperGamma(degreesOfFreedom / 2.0, x / 2.0);
    }

    /// <summary>The regularised upper incomplete gamma Q(a, x): a series below a + 1, a continued fraction above (Numerical Recipes, gammq).</summary>
    internal static double UpperGamma(double a, double x)
    {
        var logPrefix = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            double sum = 1 / a, term = sum, ap = a;
            for (var n = 0; n < 1000 && Math.Abs(term) > Math.Abs(sum) * 1e-16; n++)
            {
                ap++;
                term *= x / ap;
                sum += term;
            }
            return Math.Max(0, 1 - sum * Math.Exp(logPrefix));
        }
        // Lentz's method for the continued fraction.
        const double tiny = 1e-300;
        var b = x + 1 - a;
        var c = 1 / tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = an * d + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }
        return Math.Exp(logPrefix) * h;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; about 15 significant digits).</summary>
    internal static double LogGamma(double x)
    {
        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }
        x -= 1;
        var sum = g[0];
        for (var i = 1; i < g.Length; i++)
        {
            sum += g[i] / (x + i);
        }
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
