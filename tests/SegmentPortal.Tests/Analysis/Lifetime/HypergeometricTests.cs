using SegmentPortal.Core.Analysis.Lifetime;

namespace SegmentPortal.Tests.Analysis.Lifetime;

/// <summary>
/// The Gauss hypergeometric ₂F₁ against values computed once with mpmath 1.2.1 (<c>mp.hyp2f1</c>, 40 digits; scipy
/// 1.10.1's <c>hyp2f1</c> agrees to about 1e-14): the defining series, Pfaff's transformation for negative z, the
/// 1 − z connection formula near 1 (and the plain series where c − a − b is an integer), polynomials, z = 1, and values
/// beyond double's range as logarithms.
/// </summary>
public sealed class HypergeometricTests
{
    [Theory]
    // The series, 0 ≤ z ≤ 0.9 (the second and third are BG/NBD's with the CDNOW parameters, x = 0 and x = 2).
    [InlineData(0.5, 1.5, 2.5, 0.3, 1.108062551056932)]
    [InlineData(0.2426, 2.4259, 2.2188, 0.9, 1.9456628989491883)]
    [InlineData(2.2426, 4.4259, 5.2188, 0.45, 3.0407636772482761)]
    [InlineData(12.24, 14.43, 15.22, 0.5, 3041.5753935367571)]
    [InlineData(100.24, 102.43, 102.22, 0.3, 3625515411191800.8)]
    // Negative z: Pfaff's transformation (ln(1.5)/0.5 for the first).
    [InlineData(1.0, 1.0, 2.0, -0.5, 0.81093021621632876)]
    [InlineData(0.3, 0.7, 1.9, -5.0, 0.77045178715149738)]
    // Near 1: the 1 − z connection formula (c − a − b not an integer).
    [InlineData(0.2426, 2.4259, 2.2188, 0.95, 2.4429513633156684)]
    [InlineData(0.2426, 2.4259, 2.2188, 0.999, 11.063693899662851)]
    [InlineData(0.2426, 2.4259, 2.2188, 0.99999, 82.87327292031895)]
    [InlineData(3.2, 1.1, 5.0, 0.999, 6.0313700861829877)]
    [InlineData(100.24, 102.43, 102.22, 0.9, 2.8079569002927911e+100)]
    // Near 1 with c − a − b = 0: the plain series.
    [InlineData(1.5, 2.0, 3.5, 0.97, 8.0779931988669071)]
    [InlineData(1.3, 2.2, 3.5, 0.995, 12.886978509049377)]
    // Negative c (not an integer) and a polynomial (a = −2).
    [InlineData(0.25, 3.0, -0.4, 0.6, -34.931717418291439)]
    [InlineData(-2.0, 1.5, 3.0, 0.7, 0.45312500000000002)]
    // z = 1: Gauss's theorem.
    [InlineData(0.4, 0.6, 2.0, 1.0, 1.2613778810677616)]
    public void Matches_mpmath(double a, double b, double c, double z, double expected)
    {
        var value = Hypergeometric.Value(a, b, c, z);

        Assert.True(Math.Abs(value - expected) <= 1e-11 * Math.Abs(expected),
            $"2F1({a}, {b}; {c}; {z}) = {value:R}, mpmath {expected:R}, relative error {Math.Abs(value - expected) / Math.Abs(expected):E2}");
    }

    [Fact]
    public void Values_beyond_double_range_come_back_as_logarithms()
    {
        // mpmath: log 2F1(1000.24, 1002.43; 1002.22; 0.95) = 2997.0799584238885 (the value is about 10^1301).
        var (log, sign) = Hypergeometric.Evaluate(1000.24, 1002.43, 1002.22, 0.95);

        Assert.Equal(1, sign);
        Assert.Equal(2997.0799584238885, log, 1e-8);
    }

    [Fact]
    public void Special_cases_are_exact()
    {
        Assert.Equal(1, Hypergeometric.Value(0.3, 0.5, 1.7, 0));
        Assert.Equal(1, Hypergeometric.Value(0, 0.5, 1.7, 0.8));
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z.
        Assert.Equal(-Math.Log(1 - 0.6) / 0.6, Hypergeometric.Value(1, 1, 2, 0.6), 1e-14);
        // 2F1(a, b; b; z) = (1 − z)^(−a).
        Assert.Equal(Math.Pow(1 - 0.5, -0.7), Hypergeometric.Value(0.7, 2.5, 2.5, 0.5), 1e-13);
    }

    [Fact]
    public void Undefined_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Value(0.5, 0.5, -2, 0.3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Value(0.5, 0.5, 1.5, 1.2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Value(1.5, 0.5, 1.5, 1.0));
    }

    [Fact]
    public void Log_gamma_handles_negative_arguments_with_their_sign()
    {
        // Γ(−0.5) = −2√π, Γ(−1.5) = 4√π/3.
        var (log1, sign1) = Hypergeometric.LogGamma(-0.5);
        var (log2, sign2) = Hypergeometric.LogGamma(-1.5);

        Assert.Equal(-1, sign1);
        Assert.Equal(Math.Log(2 * Math.Sqrt(Math.PI)), log1, 1e-13);
        Assert.Equal(1, sign2);
        Assert.Equal(Math.Log(4 * Math.Sqrt(Math.PI) / 3), log2, 1e-13);
    }
}
