using MathNet.Numerics;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>
/// The Gauss hypergeometric function ₂F₁(a, b; c; z) for real arguments and z &lt; 1 (and z = 1 where c − a − b &gt; 0),
/// as the BG/NBD's P(alive) and E[X(t)] formulas need it (Fader, Hardie &amp; Lee 2005, eq. 9 and 10; FHL's note
/// "Implementing the BG/NBD Model", which sums the series term by term, u_j = u_{j−1}·(a+j−1)(b+j−1)/((c+j−1)·j)·z).
/// <list type="bullet">
/// <item>0 ≤ z ≤ 0.9: the defining series Σ (a)_j (b)_j / ((c)_j j!) z^j, summed until a term no longer changes the sum.
/// The running sum is rescaled whenever it grows large, so values far beyond double's range (large x and z near 1,
/// where ₂F₁ grows like (1 − z)^(c−a−b)) come back as a logarithm instead of overflowing.</item>
/// <item>z &lt; 0: Pfaff's transformation ₂F₁(a, b; c; z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z / (z − 1)), which brings the
/// argument into [0, 1).</item>
/// <item>0.9 &lt; z &lt; 1: the series converges slowly there (about 16 / −log₁₀ z terms per digit), so when c − a − b is not
/// within 0.01 of an integer the connection formula to 1 − z (Abramowitz &amp; Stegun 15.3.6) is used: two series in 1 − z
/// weighted by Gamma-function ratios. Near an integer c − a − b those weights have cancelling poles and the plain series
/// is summed instead (up to <see cref="MaximumTerms"/> terms).</item>
/// <item>z = 1: Gauss's theorem Γ(c)Γ(c−a−b) / (Γ(c−a)Γ(c−b)) when c − a − b &gt; 0.</item>
/// </list>
/// Values are returned as (log |₂F₁|, sign) by <see cref="Evaluate"/> so callers can combine them with other factors in
/// log space; <see cref="Value"/> is the plain number.
/// </summary>
internal static class Hypergeometric
{
    /// <summary>Beyond this many terms a series that has not converged is an error rather than a slow answer.</summary>
    public const int MaximumTerms = 20_000_000;

    private const double SeriesTolerance = 1e-16;
    private const double Rescale = 1e250;
    private static readonly double LogRescale = Math.Log(Rescale);

    /// <summary>₂F₁(a, b; c; z) as a number (±∞ when it is beyond double's range).</summary>
    public static double Value(double a, double b, double c, double z)
    {
        var (log, sign) = Evaluate(a, b, c, z);
        return sign == 0 ? 0 : sign * Math.Exp(log);
    }

    /// <summary>(log |₂F₁(a, b; c; z)|, sign): sign is −1, 0 or +1 (with log = −∞ for 0).</summary>
    public static (double Log, int Sign) Evaluate(double a, double b, double c, double z)
    {
        if (double.IsNaN(a) || double.IsNaN(b) || double.IsNaN(c) || double.IsNaN(z))
        {
            throw new ArgumentException("The hypergeometric function's arguments must be numbers.");
        }
        if (IsNonPositiveInteger(c) && !(IsNonPositiveInteger(a) && a > c) && !(IsNonPositiveInteger(b) && b > c))
        {
            throw new ArgumentOutOfRangeException(nameof(c), c, "₂F₁ is not defined for c = 0, −1, −2, …");
        }
        if (z == 0 || a == 0 || b == 0)
        {
            return (0, 1);
        }
        if (z > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(z), z, "₂F₁ is evaluated here for z ≤ 1 only.");
        }
        if (z == 1)
        {
            return AtOne(a, b, c);
        }
        if (z < 0)
        {
            // Pfaff: (1 − z)^(−a) ₂F₁(a, c − b; c; z / (z − 1)); the argument z / (z − 1) lies in (0, 1).
            var (log, sign) = Evaluate(a, c - b, c, z / (z - 1));
            return (log - a * Math.Log(1 - z), sign);
        }
        if (z > 0.9 && !IsNearInteger(c - a - b, 0.01))
        {
            return OneMinusZ(a, b, c, z);
        }
        return Series(a, b, c, z);
    }

    /// <summary>The defining series, as (log |sum|, sign), rescaled on the way so that it never overflows.</summary>
    internal static (double Log, int Sign) Series(double a, double b, double c, double z)
    {
        double sum = 1, term = 1, logScale = 0;
        var settled = 0;
        var limit = Math.Max(Math.Max(-a, -b), -c) + 1;
        for (var j = 0; j < MaximumTerms; j++)
        {
            var ratio = (a + j) * (b + j) / ((c + j) * (j + 1)) * z;
            term *= ratio;
            sum += term;
            if (term == 0)
            {
                break; // a or b is a non-positive integer: the series is a polynomial and has ended.
            }
            if (Math.Abs(sum) > Rescale)
            {
                sum /= Rescale;
                term /= Rescale;
                logScale += LogRescale;
            }
            // Converged once a term no longer moves the sum and the terms shrink from here on: |ratio| < 1 and j past
            // every parameter, so that no factor (a+j), (b+j), (c+j) changes sign or comes near 0 later.
            if (Math.Abs(term) <= SeriesTolerance * Math.Abs(sum) && Math.Abs(ratio) < 1 && j > limit)
            {
                if (++settled >= 2)
                {
                    return sum == 0 ? (double.NegativeInfinity, 0) : (Math.Log(Math.Abs(sum)) + logScale, Math.Sign(sum));
                }
            }
            else
            {
                settled = 0;
            }
        }
        if (term == 0)
        {
            return sum == 0 ? (double.NegativeInfinity, 0) : (Math.Log(Math.Abs(sum)) + logScale, Math.Sign(sum));
        }
        throw new ArithmeticException($"The hypergeometric series 2F1({a}, {b}; {c}; {z}) did not converge in {MaximumTerms} terms.");
    }

    /// <summary>
    /// Abramowitz &amp; Stegun 15.3.6: ₂F₁(a,b;c;z) = Γ(c)Γ(c−a−b)/(Γ(c−a)Γ(c−b)) ₂F₁(a,b;a+b−c+1;1−z)
    /// + (1−z)^(c−a−b) Γ(c)Γ(a+b−c)/(Γ(a)Γ(b)) ₂F₁(c−a,c−b;c−a−b+1;1−z), for c − a − b not an integer.
    /// </summary>
    private static (double Log, int Sign) OneMinusZ(double a, double b, double c, double z)
    {
        var w = 1 - z;
        var s = c - a - b;
        var (g1, s1) = LogGamma(c);
        var (gs, ss) = LogGamma(s);
        var (gca, sca) = LogGamma(c - a);
        var (gcb, scb) = LogGamma(c - b);
        var (gms, sms) = LogGamma(-s);
        var (ga, sa) = LogGamma(a);
        var (gb, sb) = LogGamma(b);

        var (f1, sf1) = Series(a, b, 1 - s, w);
        var (f2, sf2) = Series(c - a, c - b, 1 + s, w);

        // 1/Γ at a pole is 0: that whole term vanishes.
        var first = double.IsPositiveInfinity(gca) || double.IsPositiveInfinity(gcb)
            ? (double.NegativeInfinity, 0)
            : (g1 + gs - gca - gcb + f1, s1 * ss * sca * scb * sf1);
        var second = double.IsPositiveInfinity(ga) || double.IsPositiveInfinity(gb)
            ? (double.NegativeInfinity, 0)
            : (s * Math.Log(w) + g1 + gms - ga - gb + f2, s1 * sms * sa * sb * sf2);
        return AddSigned(first, second);
    }

    /// <summary>Gauss's theorem at z = 1 (the series converges there only when c − a − b &gt; 0).</summary>
    private static (double Log, int Sign) AtOne(double a, double b, double c)
    {
        if (c - a - b <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(c), c, "₂F₁(a, b; c; 1) diverges unless c − a − b > 0.");
        }
        var (g1, s1) = LogGamma(c);
        var (g2, s2) = LogGamma(c - a - b);
        var (g3, s3) = LogGamma(c - a);
        var (g4, s4) = LogGamma(c - b);
        if (double.IsPositiveInfinity(g3) || double.IsPositiveInfinity(g4))
        {
            return (double.NegativeInfinity, 0);
        }
        return (g1 + g2 - g3 - g4, s1 * s2 * s3 * s4);
    }

    /// <summary>(log |Γ(x)|, sign Γ(x)) for any real x; (+∞, +1) at the poles 0, −1, −2, ….</summary>
    internal static (double Log, int Sign) LogGamma(double x)
    {
        if (x > 0)
        {
            return (SpecialFunctions.GammaLn(x), 1);
        }
        if (IsNonPositiveInteger(x))
        {
            return (double.PositiveInfinity, 1);
        }
        // Reflection: Γ(x) = π / (sin(πx) Γ(1 − x)); for x in (−1, 0) Γ is negative, in (−2, −1) positive, and so on.
        var sin = Math.Sin(Math.PI * (x - Math.Floor(x))); // sin(π·frac(x)) > 0; the sign is carried separately
        var log = Math.Log(Math.PI) - Math.Log(sin) - SpecialFunctions.GammaLn(1 - x);
        var sign = ((long)Math.Floor(x) % 2 == 0) ? 1 : -1;
        return (log, sign);
    }

    private static (double Log, int Sign) AddSigned((double Log, int Sign) x, (double Log, int Sign) y)
    {
        if (x.Sign == 0)
        {
            return y;
        }
        if (y.Sign == 0)
        {
            return x;
        }
        var (big, small) = x.Log >= y.Log ? (x, y) : (y, x);
        var ratio = Math.Exp(small.Log - big.Log) * small.Sign * big.Sign; // in [−1, 1]
        var factor = 1 + ratio;
        if (factor == 0)
        {
            return (double.NegativeInfinity, 0);
        }
        return (big.Log + Math.Log(Math.Abs(factor)), big.Sign * Math.Sign(factor));
    }

    private static bool IsNonPositiveInteger(double x) => x <= 0 && x == Math.Floor(x);

    private static bool IsNearInteger(double x, double distance) => Math.Abs(x - Math.Round(x)) < distance;
}
