using SegmentPortal.Core.Analysis.Lifetime;

namespace SegmentPortal.Tests.Analysis.Lifetime;

/// <summary>
/// P(alive), the conditional expectation (FHL 2005 eq. 10) and E[X(t)] (eq. 9) against an independent computation:
/// the same formulas in mpmath 1.2.1 at 40 digits (its own hyp2f1), at the CDNOW parameters r 0.242594150135163,
/// α 4.41359212062015, a 0.792919156875463, b 2.42589690165912, computed once and committed here. The first customer is
/// FHL's worked example (x 2, tx 30.43, T 38.86: 1.226 expected purchases in the next 39 weeks).
/// </summary>
public sealed class BgNbdFormulaTests
{
    private static readonly BgNbdFit Cdnow = new(0.242594150135163, 4.41359212062015, 0.792919156875463, 2.42589690165912, -9582.43, 2357, []);

    [Theory]
    [InlineData(2, 30.43, 38.86, 0.726609298002178, 1.22590742448683)]
    [InlineData(0, 0, 38.86, 1.0, 0.194781782365894)]
    [InlineData(1, 2.0, 38.86, 0.222003336353746, 0.212612896348827)]
    [InlineData(7, 35.0, 38.0, 0.862004648380072, 4.5561682612556)]
    [InlineData(26, 35.71, 38.86, 0.826375880695148, 15.1234207528476)]
    [InlineData(3, 10.0, 36.0, 0.16471038695503, 0.418708354582585)]
    public void Alive_probability_and_conditional_expectation_match_mpmath(double x, double tx, double T, double alive, double expected39)
    {
        Assert.Equal(alive, Cdnow.ProbabilityAlive(x, tx, T), 1e-12);
        Assert.Equal(expected39, Cdnow.ExpectedPurchases(39, x, tx, T), 1e-10);
    }

    [Fact]
    public void The_papers_worked_example_expects_1_226_purchases()
    {
        Assert.Equal(1.226, Cdnow.ExpectedPurchases(39, 2, 30.43, 38.86), 0.0005);
    }

    [Theory]
    [InlineData(1, 0.0531843254780644)]
    [InlineData(10, 0.431758873453958)]
    [InlineData(39, 1.19501055648077)]
    [InlineData(78, 1.85795954019494)]
    public void Unconditional_expectation_matches_mpmath(double t, double expected)
    {
        Assert.Equal(expected, Cdnow.ExpectedPurchasesSinceFirst(t), 1e-11);
    }

    [Fact]
    public void Expectations_start_at_zero_and_grow()
    {
        Assert.Equal(0, Cdnow.ExpectedPurchases(0, 2, 30.43, 38.86));
        Assert.Equal(0, Cdnow.ExpectedPurchasesSinceFirst(0));
        var previous = 0.0;
        foreach (var t in new[] { 1e-6, 0.5, 5, 50, 500, 5000 })
        {
            var value = Cdnow.ExpectedPurchases(t, 2, 30.43, 38.86);
            Assert.True(value > previous, $"E at {t} = {value}, before {previous}");
            previous = value;
        }
        // For small t the expectation is P(alive) · (r + x)/(α + T) · t.
        var rate = Cdnow.ProbabilityAlive(2, 30.43, 38.86) * (Cdnow.R + 2) / (Cdnow.Alpha + 38.86);
        Assert.Equal(rate * 1e-6, Cdnow.ExpectedPurchases(1e-6, 2, 30.43, 38.86), 1e-12);
    }

    [Fact]
    public void A_near_one_gives_the_limit_not_a_division_by_zero()
    {
        var below = Cdnow with { A = 1 - 1e-4 };
        var at = Cdnow with { A = 1 };
        var above = Cdnow with { A = 1 + 1e-4 };

        var value = at.ExpectedPurchases(39, 2, 30.43, 38.86);
        Assert.True(double.IsFinite(value));
        Assert.InRange(value, Math.Min(below.ExpectedPurchases(39, 2, 30.43, 38.86), above.ExpectedPurchases(39, 2, 30.43, 38.86)) - 1e-6,
            Math.Max(below.ExpectedPurchases(39, 2, 30.43, 38.86), above.ExpectedPurchases(39, 2, 30.43, 38.86)) + 1e-6);
        Assert.True(double.IsFinite(at.ExpectedPurchasesSinceFirst(39)));
    }

    [Fact]
    public void Daily_histories_with_many_purchases_stay_finite()
    {
        // A heavy buyer in days: x 300 over two years, forecast one year ahead (the ₂F₁ here is about 10^51).
        var daily = new BgNbdFit(0.5, 30, 0.8, 3, 0, 1, []);

        var value = daily.ExpectedPurchases(365, 300, 700, 730);

        Assert.True(double.IsFinite(value));
        // Close to the rate an active customer of that history has, (r+x)/(α+T) per day, times P(alive) and a year,
        // less a little for the chance of dropping out during the year.
        var upper = daily.ProbabilityAlive(300, 700, 730) * (0.5 + 300) / (30 + 730) * 365;
        Assert.InRange(value, 0.5 * upper, upper);
    }

    [Fact]
    public void Log_likelihood_gradient_matches_finite_differences()
    {
        var customers = LifetimeData.DrawBgNbd(500, 0.5, 4, 0.7, 2.5, 20, 40, seed: 11);
        var data = BgNbdData.Fold(customers);
        double[] p = [0.45, 3.5, 0.8, 2.2];
        var gradient = new double[4];
        data.Evaluate(p[0], p[1], p[2], p[3], gradient);

        for (var i = 0; i < 4; i++)
        {
            var h = 1e-6 * p[i];
            var up = (double[])p.Clone();
            var down = (double[])p.Clone();
            up[i] += h;
            down[i] -= h;
            var numeric = (data.Evaluate(up[0], up[1], up[2], up[3], default) - data.Evaluate(down[0], down[1], down[2], down[3], default)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-5 * Math.Max(1, Math.Abs(numeric)), $"d/dp{i}: analytic {gradient[i]}, numeric {numeric}");
        }
        // Folding changes nothing but the speed.
        Assert.Equal(BgNbd.LogLikelihood(customers, p[0], p[1], p[2], p[3]),
            customers.Sum(c => BgNbd.LogLikelihood([c], p[0], p[1], p[2], p[3])), 1e-6);
    }
}
