using MathNet.Numerics;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>
/// A fitted Gamma-Gamma spend model (Fader &amp; Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): a customer's
/// transaction values are Gamma(p, ν) around their mean p/ν, and ν ~ Gamma(q, γ) across customers.
/// </summary>
/// <param name="Gamma">γ, in the currency of the spend (it scales with it; p and q do not).</param>
/// <param name="LogLikelihood">The log-likelihood of the repeaters' mean spends at the fitted parameters.</param>
/// <param name="Customers">The repeat customers fitted on (those with a positive mean spend).</param>
/// <param name="Parameters">p, q, gamma with their standard errors.</param>
public sealed record GammaGammaFit(double P, double Q, double Gamma, double LogLikelihood, int Customers, IReadOnlyList<FittedParameter> Parameters)
{
    /// <summary>
    /// E[M | x, mean spend] (Fader &amp; Hardie 2013 eq. 5) for a customer with x repeat transactions of mean value m
    /// (x = 0: the population mean p·γ/(q−1)): a weighted mean of the population mean and the customer's own mean,
    /// the customer's weight p·x/(p·x + q − 1) growing with x.
    /// </summary>
    public double ExpectedAverageSpend(double x, double meanSpend)
    {
        if (x <= 0)
        {
            return PopulationMeanSpend;
        }
        return P * (Gamma + x * meanSpend) / (P * x + Q - 1);
    }

    /// <summary>The mean transaction value across customers, p·γ/(q−1) (infinite when q ≤ 1).</summary>
    public double PopulationMeanSpend => Q > 1 ? P * Gamma / (Q - 1) : double.PositiveInfinity;
}

/// <summary>Fitting the Gamma-Gamma spend model by maximum likelihood.</summary>
public static class GammaGamma
{
    /// <summary>Fewer repeat customers than this give no meaningful fit.</summary>
    public const int MinimumCustomers = 10;

    /// <summary>
    /// Fit on repeat customers (x ≥ 1) with their mean repeat spend (&gt; 0); same error rules as BgNbd.Fit.
    /// Customers with a mean spend ≤ 0 (refunds, free orders) are left out of the fit, as the model is for positive
    /// values; <see cref="GammaGammaFit.Customers"/> counts those used.
    /// </summary>
    /// <remarks>
    /// The log-likelihood of one customer (mean spend m over x transactions) is
    /// log Γ(px+q) − log Γ(px) − log Γ(q) + q log γ + (px−1) log m + px log x − (px+q) log(xm+γ),
    /// maximised like BG/NBD's (MathNet's BFGS on log-parameters with the analytic gradient, see <see cref="Optimizer"/>),
    /// with spends scaled to a mean of 1 during the fit. Gamma-function terms are computed once per distinct x.
    /// </remarks>
    public static GammaGammaFit Fit(IReadOnlyList<(double X, double MeanSpend)> repeaters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repeaters);
        if (repeaters.Count == 0)
        {
            throw new PortalException("The spend model needs repeat customers with their mean spend; there are none.");
        }
        foreach (var (x, m) in repeaters)
        {
            if (!double.IsFinite(x) || x < 1 || !double.IsFinite(m))
            {
                throw new PortalException(
                    $"A customer is not valid for the spend model (repeat purchases {x}, mean spend {m}): it is fitted on customers with at least one repeat purchase and a finite mean spend.");
            }
        }
        var used = repeaters.Where(c => c.MeanSpend > 0).ToArray();
        if (used.Length == 0)
        {
            throw new PortalException("No repeat customer has a positive mean spend, so the spend model cannot be fitted.");
        }
        if (used.Length < MinimumCustomers)
        {
            throw new PortalException(
                $"The spend model needs at least {MinimumCustomers} repeat customers with a positive mean spend; there are {used.Length}.");
        }
        if (used.All(c => c.MeanSpend == used[0].MeanSpend))
        {
            throw new PortalException("Every repeat customer has the same mean spend, so the spend model cannot tell how spend varies between customers.");
        }

        var scale = used.Average(c => c.MeanSpend);
        var data = new GammaGammaData(used, scale);
        var gradient = new double[3];
        var objective = MathNet.Numerics.Optimization.ObjectiveFunction.Gradient(theta =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = theta.Select(Math.Exp).ToArray();
            var ll = data.Evaluate(p[0], p[1], p[2], gradient);
            var g = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(3, i => -gradient[i] * p[i] / used.Length);
            var value = -ll / used.Length;
            return (double.IsFinite(value) ? value : double.MaxValue, g);
        });
        var theta = Optimizer.Minimize(objective, [0, 0, 0], cancellationToken,
            "The spend model (Gamma-Gamma) did not converge on these customers; their spends may be too few or too alike.");
        var pFit = Math.Exp(theta[0]);
        var qFit = Math.Exp(theta[1]);
        var gammaFit = Math.Exp(theta[2]) * scale;

        var original = new GammaGammaData(used, 1);
        var logLikelihood = original.Evaluate(pFit, qFit, gammaFit, default);
        var errors = Optimizer.StandardErrors([pFit, qFit, gammaFit], (p, g) => original.Evaluate(p[0], p[1], p[2], g));
        return new GammaGammaFit(pFit, qFit, gammaFit, logLikelihood, used.Length,
        [
            new FittedParameter("p", pFit, errors[0]),
            new FittedParameter("q", qFit, errors[1]),
            new FittedParameter("gamma", gammaFit, errors[2]),
        ]);
    }

    /// <summary>The log-likelihood of the repeaters' mean spends at these parameters.</summary>
    public static double LogLikelihood(IReadOnlyList<(double X, double MeanSpend)> repeaters, double p, double q, double gamma) =>
        new GammaGammaData(repeaters.Where(c => c.MeanSpend > 0).ToArray(), 1).Evaluate(p, q, gamma, default);
}

/// <summary>Repeaters' (x, mean spend) with x grouped, and the Gamma-Gamma log-likelihood with its analytic gradient.</summary>
internal sealed class GammaGammaData
{
    private readonly double[] _x;
    private readonly int[] _xIndex;
    private readonly double[] _distinctX;
    private readonly double[] _xCounts;
    private readonly double[] _m;
    private readonly double _sumLogM;
    private readonly double[] _xLogMX; // Σ over the group of (log m + log x), per distinct x

    public GammaGammaData(IReadOnlyList<(double X, double MeanSpend)> customers, double scale)
    {
        var n = customers.Count;
        _x = new double[n];
        _m = new double[n];
        _xIndex = new int[n];
        var positions = new Dictionary<double, int>();
        var distinct = new List<double>();
        for (var i = 0; i < n; i++)
        {
            var (x, m) = customers[i];
            if (!positions.TryGetValue(x, out var position))
            {
                position = distinct.Count;
                positions[x] = position;
                distinct.Add(x);
            }
            _x[i] = x;
            _m[i] = m / scale;
            _xIndex[i] = position;
        }
        _distinctX = distinct.ToArray();
        _xCounts = new double[_distinctX.Length];
        _xLogMX = new double[_distinctX.Length];
        for (var i = 0; i < n; i++)
        {
            _xCounts[_xIndex[i]]++;
            var logM = Math.Log(_m[i]);
            _sumLogM += logM;
            _xLogMX[_xIndex[i]] += logM + Math.Log(_x[i]);
        }
    }

    public double Evaluate(double p, double q, double v, Span<double> gradient)
    {
        var wantGradient = gradient.Length == 3;
        var lgQ = SpecialFunctions.GammaLn(q);
        var logV = Math.Log(v);
        var psiQ = wantGradient ? SpecialFunctions.DiGamma(q) : 0;
        double sum = 0, gp = 0, gq = 0, gv = 0;
        var k = _distinctX.Length;
        Span<double> psiPxq = k <= 256 ? stackalloc double[k] : new double[k];
        for (var i = 0; i < k; i++)
        {
            var x = _distinctX[i];
            var count = _xCounts[i];
            var px = p * x;
            // Per group: Σ[log Γ(px+q) − log Γ(px) − log Γ(q) + q log γ + px (log m + log x)]; −Σ log m is added below.
            sum += count * (SpecialFunctions.GammaLn(px + q) - SpecialFunctions.GammaLn(px) - lgQ + q * logV) + px * _xLogMX[i];
            if (wantGradient)
            {
                psiPxq[i] = SpecialFunctions.DiGamma(px + q);
                gp += count * x * (psiPxq[i] - SpecialFunctions.DiGamma(px)) + x * _xLogMX[i];
                gq += count * (psiPxq[i] - psiQ + logV);
                gv += count * q / v;
            }
        }
        sum -= _sumLogM;
        for (var j = 0; j < _x.Length; j++)
        {
            var x = _x[j];
            var denominator = x * _m[j] + v;
            var log = Math.Log(denominator);
            var pxq = p * x + q;
            sum -= pxq * log;
            if (wantGradient)
            {
                gp -= x * log;
                gq -= log;
                gv -= pxq / denominator;
            }
        }
        if (wantGradient)
        {
            gradient[0] = gp;
            gradient[1] = gq;
            gradient[2] = gv;
        }
        return sum;
    }
}
