// Temporary: the engine's API until the engine branch is merged (this file is deleted then).
namespace SegmentPortal.Core.Analysis.Lifetime;

public readonly record struct CustomerHistory(double X, double Tx, double T);
public sealed record FittedParameter(string Name, double Value, double StandardError);
public sealed record BgNbdFit(double R, double Alpha, double A, double B, double LogLikelihood, int Customers, IReadOnlyList<FittedParameter> Parameters)
{
    public double ProbabilityAlive(double x, double tx, double T) => throw new NotImplementedException();
    public double ExpectedPurchases(double t, double x, double tx, double T) => throw new NotImplementedException();
    public double ExpectedPurchasesSinceFirst(double t) => throw new NotImplementedException();
}
public static class BgNbd
{
    public static BgNbdFit Fit(IReadOnlyList<CustomerHistory> customers, IProgress<double>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
public sealed record GammaGammaFit(double P, double Q, double Gamma, double LogLikelihood, int Customers, IReadOnlyList<FittedParameter> Parameters)
{
    public double ExpectedAverageSpend(double x, double meanSpend) => throw new NotImplementedException();
}
public static class GammaGamma
{
    public static GammaGammaFit Fit(IReadOnlyList<(double X, double MeanSpend)> repeaters, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
public static class CustomerValue
{
    public static double Lifetime(BgNbdFit purchases, double expectedSpend, double x, double tx, double T, int months, double monthlyDiscount, double unitsPerMonth) => throw new NotImplementedException();
}
public static class Holdout
{
    public static IReadOnlyList<FrequencyCheck> ByFrequency(BgNbdFit fit, IReadOnlyList<CustomerHistory> calibration, IReadOnlyList<double> actualHoldoutPurchases, double holdoutLength) => throw new NotImplementedException();
    public static Tracking Track(BgNbdFit fit, IReadOnlyList<double> firstPurchaseTimes, IReadOnlyList<double> actualCumulative, double step) => throw new NotImplementedException();
}
public sealed record FrequencyCheck(string Group, int Customers, double Actual, double Expected);
public sealed record Tracking(IReadOnlyList<double> Times, IReadOnlyList<double> Actual, IReadOnlyList<double> Expected, double ErrorPercent);
