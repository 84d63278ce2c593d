using MathNet.Numerics;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>
/// One customer's calibration summary in time units (days or weeks): X = repeat purchase periods (purchases on the same
/// day count once; the first purchase is not a repeat), Tx = time from first purchase to last, T = time from first
/// purchase to the end of calibration.
/// </summary>
public readonly record struct CustomerHistory(double X, double Tx, double T);

/// <summary>A fitted model parameter with its standard error (NaN when the information matrix could not be inverted).</summary>
public sealed record FittedParameter(string Name, double Value, double StandardError);

/// <summary>
/// A fitted BG/NBD model (Fader, Hardie &amp; Lee 2005, "Counting Your Customers the Easy Way"): purchase rates
/// λ ~ Gamma(r, α) (α a rate, in the time unit of the data), drop-out probability after each repeat purchase
/// p ~ Beta(a, b).
/// </summary>
/// <param name="LogLikelihood">The log-likelihood of the calibration data at the fitted parameters (eq. 6).</param>
/// <param name="Customers">The customers fitted on.</param>
/// <param name="Parameters">r, alpha, a, b with their standard errors.</param>
public sealed record BgNbdFit(double R, double Alpha, double A, double B, double LogLikelihood, int Customers, IReadOnlyList<FittedParameter> Parameters)
{
    /// <summary>
    /// The probability that a customer with this history is still active at T (FHL 2005 eq. 11; 1 for a customer with
    /// no repeat purchase, whom the model cannot have seen drop out).
    /// </summary>
    public double ProbabilityAlive(double x, double tx, double T)
    {
        if (x <= 0)
        {
            return 1;
        }
        var log = Math.Log(A) - Math.Log(B + x - 1) + (R + x) * (Math.Log(Alpha + T) - Math.Log(Alpha + tx));
        return 1 / (1 + Math.Exp(log));
    }

    /// <summary>Expected purchases in the next t time units of a customer with this history (conditional expectation, FHL 2005 eq. 10).</summary>
    public double ExpectedPurchases(double t, double x, double tx, double T)
    {
        if (t <= 0)
        {
            return 0;
        }
        return AwayFromSingularA(a => Conditional(a, t, x, tx, T));
    }

    /// <summary>Expected purchases in (0, t] of a customer who made their first purchase at time 0 (unconditional E[X(t)], eq. 9) — for the tracking chart.</summary>
    public double ExpectedPurchasesSinceFirst(double t)
    {
        if (t <= 0)
        {
            return 0;
        }
        return AwayFromSingularA(a => Unconditional(a, t));
    }

    /// <summary>The mean of the purchase-rate distribution, r/α, in purchases per time unit (of an active customer).</summary>
    public double MeanPurchaseRate => R / Alpha;

    /// <summary>The mean drop-out probability after a purchase, a/(a+b).</summary>
    public double MeanDropoutProbability => A / (A + B);

    // (a+b+x−1)/(a−1) · [1 − (α+T)^(r+x)/(α+T+t)^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
    //   / [1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+tx))^(r+x)]
    private double Conditional(double a, double t, double x, double tx, double T)
    {
        var z = t / (Alpha + T + t);
        var (logHyp, sign) = Hypergeometric.Evaluate(R + x, B + x, a + B + x - 1, z);
        var logPower = -(R + x) * Math.Log(1 + t / (Alpha + T)); // log ((α+T)/(α+T+t))^(r+x)
        // 1 − e^u via expm1, without losing digits for small t.
        var second = sign > 0 ? -double.ExpM1(logHyp + logPower) : 1 - sign * Math.Exp(logHyp + logPower);
        var numerator = (a + B + x - 1) / (a - 1) * second;
        var denominator = x > 0
            ? 1 + a / (B + x - 1) * Math.Exp((R + x) * (Math.Log(Alpha + T) - Math.Log(Alpha + tx)))
            : 1;
        return numerator / denominator;
    }

    // (a+b−1)/(a−1) · [1 − (α/(α+t))^r · ₂F₁(r, b; a+b−1; t/(α+t))]
    private double Unconditional(double a, double t)
    {
        var z = t / (Alpha + t);
        var (logHyp, sign) = Hypergeometric.Evaluate(R, B, a + B - 1, z);
        var logPower = -R * Math.Log(1 + t / Alpha);
        var second = sign > 0 ? -double.ExpM1(logHyp + logPower) : 1 - sign * Math.Exp(logHyp + logPower);
        return (a + B - 1) / (a - 1) * second;
    }

    /// <summary>
    /// Eq. 9 and 10 have the factor 1/(a − 1) (and ₂F₁'s c = a + b − 1 has a pole at 0): their limits exist, but the
    /// expressions are 0/0 there. Within 1e-6 of a = 1 or a + b = 1 the value is the mean of a ± 1e-5, which is the
    /// limit to about ten digits (the function is smooth in a).
    /// </summary>
    private double AwayFromSingularA(Func<double, double> at)
    {
        const double near = 1e-6, step = 1e-5;
        if (Math.Abs(A - 1) < near || Math.Abs(A + B - 1) < near)
        {
            return (at(A - step) + at(A + step)) / 2;
        }
        return at(A);
    }
}

/// <summary>Fitting the BG/NBD model by maximum likelihood.</summary>
public static class BgNbd
{
    /// <summary>Fewer customers than this give no meaningful fit.</summary>
    public const int MinimumCustomers = 10;

    /// <summary>
    /// Maximum-likelihood fit (log-likelihood FHL 2005 eq. 6, in log space for stability), standard errors from the
    /// inverse of the observed information matrix (a central-difference Hessian of the analytic gradient at the optimum).
    /// Customers with equal (X, Tx, T) are folded into weights, and the Gamma-function terms are computed once per
    /// distinct X, so a fit costs a few logarithms per distinct history and evaluation. Throws PortalException with a
    /// plain message on too few customers / no repeaters / invalid histories / non-convergence.
    /// </summary>
    /// <remarks>
    /// Times are rescaled internally so that the longest T is 10 (α scales with the time unit; the other parameters do
    /// not), which keeps the optimisation equally conditioned for days and weeks. The optimiser is MathNet.Numerics'
    /// BFGS on the logarithms of the four parameters (so they stay positive) with the analytic gradient: a quasi-Newton
    /// method with a Wolfe line search converges in a few dozen evaluations on this smooth four-parameter problem,
    /// where derivative-free Nelder–Mead (what the <c>lifetimes</c> package uses) needs hundreds, and a maintained
    /// library is preferred to a hand-written optimiser. Nelder–Mead is kept as a fallback start when BFGS fails.
    /// </remarks>
    public static BgNbdFit Fit(IReadOnlyList<CustomerHistory> customers, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(customers);
        if (customers.Count < MinimumCustomers)
        {
            throw new PortalException(
                $"The purchase model needs at least {MinimumCustomers} customers; {(customers.Count == 0 ? "there are none" : $"there are {customers.Count}")}.");
        }
        progress?.Report(0);
        Validate(customers);
        var maxT = customers.Max(c => c.T);
        if (!(maxT > 0))
        {
            throw new PortalException("The purchase model needs customers observed for some time after their first purchase (every T is 0).");
        }
        if (!customers.Any(c => c.X > 0))
        {
            throw new PortalException("No customer made a repeat purchase, so the purchase model cannot be fitted: it learns how often customers come back from the repeat purchases.");
        }

        var scale = 10 / maxT;
        var original = BgNbdData.Fold(customers);
        var data = original.Scaled(scale);
        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(0.1);

        var evaluations = 0;
        var gradient = new double[4];
        var objective = MathNet.Numerics.Optimization.ObjectiveFunction.Gradient(theta =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            evaluations++;
            progress?.Report(0.1 + 0.75 * (1 - Math.Exp(-evaluations / 40.0)));
            var p = Exp(theta);
            var ll = data.Evaluate(p[0], p[1], p[2], p[3], gradient);
            // Minimise the mean negative log-likelihood; chain rule d/dθ = p · d/dp.
            var g = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(4, i => -gradient[i] * p[i] / data.TotalWeight);
            var value = -ll / data.TotalWeight;
            return (double.IsFinite(value) ? value : double.MaxValue, g);
        });

        var theta = Optimizer.Minimize(objective, [0, 0, 0, 0], cancellationToken,
            "The purchase model (BG/NBD) did not converge on these customers; the histories may be too few or too alike to tell the parameters apart.");
        var fitted = Exp(theta);
        var r = fitted[0];
        var alpha = fitted[1] / scale;
        var a = fitted[2];
        var b = fitted[3];
        progress?.Report(0.9);

        var logLikelihood = original.Evaluate(r, alpha, a, b, default);
        if (!double.IsFinite(logLikelihood))
        {
            throw new PortalException("The purchase model (BG/NBD) did not converge on these customers: the likelihood is not finite at the fitted parameters.");
        }
        var errors = Optimizer.StandardErrors([r, alpha, a, b], (p, g) => original.Evaluate(p[0], p[1], p[2], p[3], g));
        progress?.Report(1);
        return new BgNbdFit(r, alpha, a, b, logLikelihood, customers.Count,
        [
            new FittedParameter("r", r, errors[0]),
            new FittedParameter("alpha", alpha, errors[1]),
            new FittedParameter("a", a, errors[2]),
            new FittedParameter("b", b, errors[3]),
        ]);
    }

    /// <summary>The log-likelihood of the customers at these parameters (FHL 2005 eq. 6).</summary>
    public static double LogLikelihood(IReadOnlyList<CustomerHistory> customers, double r, double alpha, double a, double b)
    {
        ArgumentNullException.ThrowIfNull(customers);
        Validate(customers);
        return BgNbdData.Fold(customers).Evaluate(r, alpha, a, b, default);
    }

    private static void Validate(IReadOnlyList<CustomerHistory> customers)
    {
        foreach (var c in customers)
        {
            if (!double.IsFinite(c.X) || !double.IsFinite(c.Tx) || !double.IsFinite(c.T) || c.X < 0 || c.X != Math.Floor(c.X)
                || c.Tx < 0 || c.T < c.Tx)
            {
                throw new PortalException(
                    $"A customer history is not valid for the purchase model (repeat purchases {c.X}, recency {c.Tx}, age {c.T}): repeat purchases must be a whole number ≥ 0 and 0 ≤ recency ≤ age.");
            }
        }
    }

    private static double[] Exp(IEnumerable<double> theta) => theta.Select(Math.Exp).ToArray();
}

/// <summary>
/// Calibration histories folded into distinct (X, Tx, T) with weights, and the BG/NBD log-likelihood with its analytic
/// gradient over them. Every term that depends on only one of X, Tx or T is computed once per distinct value of it per
/// evaluation (Gamma functions per X; log(α+T), 1/(α+T) per T; the same per Tx): with times in whole days there are a
/// few hundred distinct values of each, so a history costs an exponential and a logarithm. Large inputs are summed on
/// all cores in fixed slices, so the result does not depend on thread timing.
/// </summary>
internal sealed class BgNbdData
{
    private const int ParallelThreshold = 50_000;

    private readonly double[] _w;
    private readonly int[] _xIndex;
    private readonly int[] _tIndex;
    private readonly int[] _txIndex;
    private readonly double[] _distinctX;
    private readonly double[] _xWeights; // total weight per distinct X
    private readonly double[] _distinctT;
    private readonly double[] _distinctTx;

    private BgNbdData(double[] w, int[] xIndex, int[] tIndex, int[] txIndex, double[] distinctX, double[] xWeights, double[] distinctT, double[] distinctTx)
    {
        _w = w;
        _xIndex = xIndex;
        _tIndex = tIndex;
        _txIndex = txIndex;
        _distinctX = distinctX;
        _xWeights = xWeights;
        _distinctT = distinctT;
        _distinctTx = distinctTx;
        TotalWeight = w.Sum();
    }

    public double TotalWeight { get; }

    /// <summary>The number of distinct (X, Tx, T) histories.</summary>
    public int Distinct => _w.Length;

    public static BgNbdData Fold(IReadOnlyList<CustomerHistory> customers)
    {
        var counts = new Dictionary<CustomerHistory, int>();
        foreach (var c in customers)
        {
            ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, c, out _);
            count++;
        }
        var n = counts.Count;
        var w = new double[n];
        var xIndex = new int[n];
        var tIndex = new int[n];
        var txIndex = new int[n];
        var xs = new Dictionary<double, int>();
        var ts = new Dictionary<double, int>();
        var txs = new Dictionary<double, int>();
        var j = 0;
        foreach (var (history, count) in counts)
        {
            w[j] = count;
            xIndex[j] = IndexOf(xs, history.X);
            tIndex[j] = IndexOf(ts, history.T);
            txIndex[j] = IndexOf(txs, history.Tx);
            j++;
        }
        var distinctX = Values(xs);
        var xWeights = new double[distinctX.Length];
        for (var i = 0; i < n; i++)
        {
            xWeights[xIndex[i]] += w[i];
        }
        return new BgNbdData(w, xIndex, tIndex, txIndex, distinctX, xWeights, Values(ts), Values(txs));
    }

    /// <summary>The same histories with every time multiplied by <paramref name="scale"/>.</summary>
    public BgNbdData Scaled(double scale) => new(_w, _xIndex, _tIndex, _txIndex, _distinctX, _xWeights,
        _distinctT.Select(t => t * scale).ToArray(), _distinctTx.Select(t => t * scale).ToArray());

    private static int IndexOf(Dictionary<double, int> positions, double value)
    {
        ref var position = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(positions, value, out var exists);
        if (!exists)
        {
            position = positions.Count - 1;
        }
        return position;
    }

    private static double[] Values(Dictionary<double, int> positions)
    {
        var values = new double[positions.Count];
        foreach (var (value, position) in positions)
        {
            values[position] = value;
        }
        return values;
    }

    /// <summary>
    /// Σ w · log L(r, α, a, b | x, tx, T) with
    /// log L = log Γ(r+x) − log Γ(r) + r log α + log B(a, b+x) − log B(a, b)
    ///       + log[ (α+T)^−(r+x) + δ(x&gt;0) · a/(b+x−1) · (α+tx)^−(r+x) ],
    /// the last term as a log-sum-exp. When <paramref name="gradient"/> has 4 elements it receives ∂/∂(r, α, a, b).
    /// </summary>
    public double Evaluate(double r, double alpha, double a, double b, Span<double> gradient)
    {
        var wantGradient = gradient.Length == 4;
        var k = _distinctX.Length;
        var constant = new double[k];   // per-X part of log L without the log-sum-exp
        var dConstR = new double[k];
        var dConstA = new double[k];
        var dConstB = new double[k];
        var logB1 = new double[k];      // log a − log(b+x−1)
        var invB1 = new double[k];      // 1/(b+x−1)

        var lgR = SpecialFunctions.GammaLn(r);
        var lgB = SpecialFunctions.GammaLn(b);
        var lgAB = SpecialFunctions.GammaLn(a + b);
        var logAlpha = Math.Log(alpha);
        var logA = Math.Log(a);
        double psiR = 0, psiB = 0, psiAB = 0;
        if (wantGradient)
        {
            psiR = SpecialFunctions.DiGamma(r);
            psiB = SpecialFunctions.DiGamma(b);
            psiAB = SpecialFunctions.DiGamma(a + b);
        }
        for (var i = 0; i < k; i++)
        {
            var x = _distinctX[i];
            constant[i] = SpecialFunctions.GammaLn(r + x) - lgR + r * logAlpha
                + lgAB + SpecialFunctions.GammaLn(b + x) - lgB - SpecialFunctions.GammaLn(a + b + x);
            logB1[i] = x > 0 ? logA - Math.Log(b + x - 1) : double.NegativeInfinity;
            invB1[i] = x > 0 ? 1 / (b + x - 1) : 0;
            if (wantGradient)
            {
                var psiABX = SpecialFunctions.DiGamma(a + b + x);
                dConstR[i] = SpecialFunctions.DiGamma(r + x) - psiR + logAlpha;
                dConstA[i] = psiAB - psiABX;
                dConstB[i] = psiAB + SpecialFunctions.DiGamma(b + x) - psiB - psiABX;
            }
        }
        var logT = new double[_distinctT.Length];
        var invT = new double[_distinctT.Length];
        for (var i = 0; i < logT.Length; i++)
        {
            logT[i] = Math.Log(alpha + _distinctT[i]);
            invT[i] = 1 / (alpha + _distinctT[i]);
        }
        var logTx = new double[_distinctTx.Length];
        var invTx = new double[_distinctTx.Length];
        for (var i = 0; i < logTx.Length; i++)
        {
            logTx[i] = Math.Log(alpha + _distinctTx[i]);
            invTx[i] = 1 / (alpha + _distinctTx[i]);
        }

        var tables = new Tables(logB1, invB1, logT, invT, logTx, invTx);
        Sums total;
        var n = _w.Length;
        if (n < ParallelThreshold || Environment.ProcessorCount < 2)
        {
            total = Sum(0, n, r, tables, wantGradient);
        }
        else
        {
            var slices = Math.Min(Environment.ProcessorCount, 8);
            var parts = new Sums[slices];
            Parallel.For(0, slices, s => parts[s] = Sum((int)((long)n * s / slices), (int)((long)n * (s + 1) / slices), r, tables, wantGradient));
            total = default;
            foreach (var part in parts)
            {
                total = total.Add(part); // in slice order: the same total on every run
            }
        }

        var sum = total.Value;
        double gr = total.R, gAlpha = total.Alpha, ga = 0, gb = total.B;
        for (var i = 0; i < k; i++)
        {
            sum += _xWeights[i] * constant[i];
            if (wantGradient)
            {
                gr += _xWeights[i] * dConstR[i];
                gAlpha += _xWeights[i] * r / alpha;
                ga += _xWeights[i] * dConstA[i];
                gb += _xWeights[i] * dConstB[i];
            }
        }
        if (wantGradient)
        {
            gradient[0] = gr;
            gradient[1] = gAlpha;
            gradient[2] = ga + total.W4 / a;
            gradient[3] = gb;
        }
        return sum;
    }

    private sealed record Tables(double[] LogB1, double[] InvB1, double[] LogT, double[] InvT, double[] LogTx, double[] InvTx);

    private readonly record struct Sums(double Value, double R, double Alpha, double W4, double B)
    {
        public Sums Add(Sums other) => new(Value + other.Value, R + other.R, Alpha + other.Alpha, W4 + other.W4, B + other.B);
    }

    /// <summary>The log-sum-exp terms of histories [from, to) and their derivatives.</summary>
    private Sums Sum(int from, int to, double r, Tables tables, bool wantGradient)
    {
        double sum = 0, gr = 0, gAlpha = 0, w4Sum = 0, gb = 0;
        for (var j = from; j < to; j++)
        {
            var xi = _xIndex[j];
            var x = _distinctX[xi];
            var w = _w[j];
            var rx = r + x;
            var logT = tables.LogT[_tIndex[j]];
            var a3 = -rx * logT;
            double s, w4 = 0, logTx = 0;
            if (x > 0)
            {
                logTx = tables.LogTx[_txIndex[j]];
                var a4 = tables.LogB1[xi] - rx * logTx;
                if (a3 >= a4)
                {
                    var e = Math.Exp(a4 - a3);
                    s = a3 + double.LogP1(e);
                    w4 = e / (1 + e);
                }
                else
                {
                    var e = Math.Exp(a3 - a4);
                    s = a4 + double.LogP1(e);
                    w4 = 1 / (1 + e);
                }
            }
            else
            {
                s = a3;
            }
            sum += w * s;
            if (wantGradient)
            {
                var w3 = 1 - w4;
                gr -= w * (w3 * logT + w4 * logTx);
                gAlpha -= w * rx * (w3 * tables.InvT[_tIndex[j]] + (x > 0 ? w4 * tables.InvTx[_txIndex[j]] : 0));
                w4Sum += w * w4;
                gb -= w * w4 * tables.InvB1[xi];
            }
        }
        return new Sums(sum, gr, gAlpha, w4Sum, gb);
    }
}
