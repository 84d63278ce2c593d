namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>A fitted model as the page shows it: its parameters with standard errors, log-likelihood and how many customers it saw.</summary>
public sealed record ModelFit(IReadOnlyList<FittedParameter> Parameters, double LogLikelihood, int Customers);

/// <summary>
/// How the model did on the held-out period: mean actual and expected repeat purchases per calibration frequency, the
/// cumulative repeat purchases week by week (expected vs actual), and the error at the end of the holdout in per cent.
/// </summary>
public sealed record HoldoutCheck(
    DateOnly CalibrationEnd,
    DateOnly HoldoutEnd,
    ModelFit Purchases,
    ModelFit? Spend,
    IReadOnlyList<FrequencyCheck> ByFrequency,
    IReadOnlyList<DateOnly> TrackingDates,
    IReadOnlyList<double> TrackingActual,
    IReadOnlyList<double> TrackingExpected,
    double ErrorPercent,
    int Customers);

/// <summary>A histogram: bin lower edges (the last bin ends at <see cref="Top"/>) and the customers in each.</summary>
public sealed record Histogram(IReadOnlyList<double> Edges, double Top, IReadOnlyList<int> Counts);

/// <summary>
/// Customers by P(alive) band (rows, 0–10% at the bottom) and repeat purchases (columns 0, 1, … "7+"), with the average CLV of each cell.
/// </summary>
public sealed record AliveMatrix(IReadOnlyList<string> Bands, IReadOnlyList<string> Frequencies, IReadOnlyList<IReadOnlyList<int>> Counts, IReadOnlyList<IReadOnlyList<double?>> AverageValue);

/// <summary>
/// The result of a lifetime-value analysis: the check on held-out data, the models refitted on all of it, and what the
/// per-customer predictions add up to.
/// </summary>
/// <param name="ComputedOver">The runner's view of the dataset (<see cref="Access.Authorizer.ViewKeyAsync"/>); null when they saw all of it.</param>
public sealed record LifetimeResult(
    DateOnly First,
    DateOnly Last,
    LifetimeUnit Unit,
    HoldoutCheck? Holdout,
    ModelFit Purchases,
    ModelFit? Spend,
    int Customers,
    int RepeatCustomers,
    long RowsCounted,
    double AverageAlive,
    double ExpectedPurchases,
    double TotalValue,
    Histogram ValueDistribution,
    Histogram AliveDistribution,
    AliveMatrix Matrix,
    int PredictionDays,
    int HorizonMonths,
    double MonthlyDiscount,
    TimeSpan Duration,
    string? ComputedOver = null)
{
    /// <summary>CLV at each per cent of customers, 0 to 100 (the smallest, …, the median at 50, …, the largest).</summary>
    public IReadOnlyList<double> ValuePercentiles { get; init; } = [];

    /// <summary>The CLV above which the top <paramref name="percent"/>% of customers are (at the time of the analysis).</summary>
    public double? TopValueThreshold(double percent) =>
        ValuePercentiles.Count != 101 || percent is <= 0 or > 100 ? null : ValuePercentiles[(int)Math.Round(100 - percent)];
}
