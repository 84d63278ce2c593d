using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>
/// The numerical steps the lifetime models share: minimising a smooth negative log-likelihood over log-parameters, and
/// standard errors from the observed information matrix.
/// </summary>
/// <remarks>
/// MathNet.Numerics' <see cref="BfgsMinimizer"/> (quasi-Newton, Wolfe line search, analytic gradient) rather than a
/// hand-written optimiser: the models have 3–4 parameters and smooth likelihoods, where BFGS converges in tens of
/// evaluations and a maintained, tested implementation is less to get wrong. If BFGS stops on a failed line search
/// (it can, far from the optimum where the likelihood is flat), the derivative-free <see cref="NelderMeadSimplex"/> gets
/// close first and BFGS polishes from there.
/// </remarks>
internal static class Optimizer
{
    private const double GradientTolerance = 1e-9;
    private const int MaximumIterations = 1000;
    /// <summary>Log-parameters beyond ±this mean a parameter ran off to 0 or ∞: no interior optimum.</summary>
    private const double LogParameterLimit = 25;

    public static double[] Minimize(IObjectiveFunction objective, double[] start, CancellationToken cancellationToken, string failure)
    {
        var initial = Vector<double>.Build.DenseOfArray(start);
        Vector<double>? best = null;
        try
        {
            best = Bfgs(objective, initial);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Fall through to the derivative-free start.
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (best is null || !Acceptable(best))
        {
            try
            {
                var simplex = NelderMeadSimplex.Minimum(objective, initial, 1e-12, 5000);
                cancellationToken.ThrowIfCancellationRequested();
                best = simplex.MinimizingPoint;
                try
                {
                    best = Bfgs(objective, best);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Keep the simplex's point if BFGS cannot improve it; checked below.
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw new PortalException(failure);
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (!Acceptable(best))
        {
            throw new PortalException(failure);
        }
        objective.EvaluateAt(best);
        if (!double.IsFinite(objective.Value) || objective.Gradient.InfinityNorm() > 1e-4)
        {
            throw new PortalException(failure);
        }
        return best.ToArray();
    }

    private static Vector<double> Bfgs(IObjectiveFunction objective, Vector<double> start)
    {
        var minimizer = new BfgsMinimizer(GradientTolerance, 1e-12, 1e-14, MaximumIterations);
        return minimizer.FindMinimum(objective, start).MinimizingPoint;
    }

    private static bool Acceptable(Vector<double> theta) =>
        theta.All(v => double.IsFinite(v) && Math.Abs(v) < LogParameterLimit);

    /// <summary>
    /// Standard errors √diag(I⁻¹) where I = −∂²LL/∂p² is the observed information at <paramref name="at"/>, from central
    /// differences of the analytic gradient (step 10⁻⁵ relative); NaN where I is not positive definite there.
    /// </summary>
    /// <param name="gradient">Writes ∂LL/∂p at a point into its span and returns LL.</param>
    public static double[] StandardErrors(double[] at, GradientFunction gradient)
    {
        var n = at.Length;
        var hessian = Matrix<double>.Build.Dense(n, n);
        var point = (double[])at.Clone();
        var plus = new double[n];
        var minus = new double[n];
        for (var i = 0; i < n; i++)
        {
            var h = 1e-5 * Math.Max(Math.Abs(at[i]), 1e-8);
            point[i] = at[i] + h;
            gradient(point, plus);
            point[i] = at[i] - h;
            gradient(point, minus);
            point[i] = at[i];
            for (var j = 0; j < n; j++)
            {
                hessian[i, j] = -(plus[j] - minus[j]) / (2 * h);
            }
        }
        var information = (hessian + hessian.Transpose()) / 2;
        var errors = Enumerable.Repeat(double.NaN, n).ToArray();
        if (!information.ToArray().Cast<double>().All(double.IsFinite))
        {
            return errors;
        }
        Matrix<double> inverse;
        try
        {
            // Cholesky throws when the matrix is not positive definite (no proper maximum there).
            inverse = information.Cholesky().Solve(Matrix<double>.Build.DenseIdentity(n));
        }
        catch (ArgumentException)
        {
            return errors;
        }
        for (var i = 0; i < n; i++)
        {
            errors[i] = inverse[i, i] > 0 ? Math.Sqrt(inverse[i, i]) : double.NaN;
        }
        return errors;
    }

    public delegate double GradientFunction(double[] parameters, Span<double> gradient);
}
