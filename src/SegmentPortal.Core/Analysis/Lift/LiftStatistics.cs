using MathNet.Numerics.Distributions;

namespace SegmentPortal.Core.Analysis.Lift;

/// <summary>One group of a comparison: its size, its mean (a rate for yes/no values) and its standard deviation.</summary>
public sealed record LiftGroup(long Customers, double Mean, double StandardDeviation);

/// <summary>
/// The difference treated − holdout with its 95% confidence interval and the two-sided p-value of "no difference".
/// <see cref="Statistic"/> is Welch's t (means) or the pooled z (rates); <see cref="DegreesOfFreedom"/> is Welch's, null for rates.
/// </summary>
public sealed record LiftComparison(
    LiftGroup Treated, LiftGroup Holdout, double Difference, double Low, double High, double PValue, double Statistic, double? DegreesOfFreedom, string Method)
{
    /// <summary>The interval leaves out 0: a difference this large is unlikely to be chance (at the 5% level).</summary>
    public bool Significant => Low > 0 || High < 0;
}

/// <summary>
/// The statistics of the lift report, independent of where the numbers come from. Means: Welch's unequal-variance t
/// (scipy.stats.ttest_ind(equal_var=False)), with the interval difference ± t(0.975, Welch–Satterthwaite df) × SE.
/// Rates: Newcombe's hybrid score interval for a difference of proportions (Newcombe 1998, method 10, from the two
/// Wilson intervals) and the pooled two-proportion z-test's p-value.
/// </summary>
public static class LiftStatistics
{
    public const double Confidence = 0.95;

    public const string WelchMethod = "Welch's t-test (unequal variances); 95% CI from the t distribution with Welch–Satterthwaite degrees of freedom";

    public const string NewcombeMethod = "Newcombe's hybrid score interval (from Wilson intervals) for the difference of two proportions; p-value from the pooled two-proportion z-test";

    private static double Z => Normal.InvCDF(0, 1, 1 - (1 - Confidence) / 2);

    /// <summary>Mean and sample standard deviation (n − 1) of a group.</summary>
    public static LiftGroup Describe(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var n = values.Count;
        if (n == 0)
        {
            return new LiftGroup(0, double.NaN, double.NaN);
        }
        var mean = values.Average();
        var sumSquares = 0.0;
        foreach (var v in values)
        {
            sumSquares += (v - mean) * (v - mean);
        }
        return new LiftGroup(n, mean, n > 1 ? Math.Sqrt(sumSquares / (n - 1)) : double.NaN);
    }

    /// <summary>Welch's t-test of treated − holdout. Each group needs two values, and the two together some spread.</summary>
    public static LiftComparison Welch(IReadOnlyList<double> treated, IReadOnlyList<double> holdout)
    {
        var a = Describe(treated);
        var b = Describe(holdout);
        if (a.Customers < 2 || b.Customers < 2)
        {
            throw new PortalException("Each group needs at least two customers to compare.");
        }
        var va = a.StandardDeviation * a.StandardDeviation / a.Customers;
        var vb = b.StandardDeviation * b.StandardDeviation / b.Customers;
        var se = Math.Sqrt(va + vb);
        if (se == 0)
        {
            throw new PortalException("Every customer of both groups has the same value, so there is no spread to compare.");
        }
        var difference = a.Mean - b.Mean;
        var df = (va + vb) * (va + vb) / (va * va / (a.Customers - 1) + vb * vb / (b.Customers - 1));
        var t = difference / se;
        var p = 2 * StudentT.CDF(0, 1, df, -Math.Abs(t));
        var q = StudentT.InvCDF(0, 1, df, 1 - (1 - Confidence) / 2);
        return new LiftComparison(a, b, difference, difference - q * se, difference + q * se, p, t, df, WelchMethod);
    }

    /// <summary>The difference of two proportions (treated − holdout) with Newcombe's interval and the pooled z-test.</summary>
    public static LiftComparison Proportions(long treatedYes, long treatedN, long holdoutYes, long holdoutN)
    {
        if (treatedN < 1 || holdoutN < 1)
        {
            throw new PortalException("Each group needs at least one customer to compare.");
        }
        var p1 = treatedYes / (double)treatedN;
        var p2 = holdoutYes / (double)holdoutN;
        var (l1, u1) = Wilson(treatedYes, treatedN);
        var (l2, u2) = Wilson(holdoutYes, holdoutN);
        var difference = p1 - p2;
        var low = difference - Math.Sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
        var high = difference + Math.Sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
        var pooled = (treatedYes + holdoutYes) / (double)(treatedN + holdoutN);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / treatedN + 1.0 / holdoutN));
        var z = se == 0 ? 0 : difference / se;
        var p = se == 0 ? 1 : 2 * Normal.CDF(0, 1, -Math.Abs(z));
        return new LiftComparison(Group(treatedYes, treatedN), Group(holdoutYes, holdoutN), difference, low, high, p, z, null, NewcombeMethod);
    }

    /// <summary>Wilson's score interval of a proportion.</summary>
    public static (double Low, double High) Wilson(long yes, long n)
    {
        var z = Z;
        var p = yes / (double)n;
        var z2n = z * z / n;
        var centre = (p + z2n / 2) / (1 + z2n);
        var half = z / (1 + z2n) * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    private static LiftGroup Group(long yes, long n)
    {
        var p = yes / (double)n;
        // The standard deviation of the 0/1 values (n − 1), as for a mean.
        return new LiftGroup(n, p, n > 1 ? Math.Sqrt(p * (1 - p) * n / (n - 1)) : double.NaN);
    }
}
