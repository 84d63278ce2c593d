namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>The time unit the models count in.</summary>
public enum LifetimeUnit
{
    Days,
    Weeks,
}

/// <summary>
/// What a lifetime-value analysis reads and predicts: which rows count (as RFM's rule), where the calibration period
/// ends (the rest of the history checks the model), the time unit, and the horizons of the predictions.
/// </summary>
public sealed record LifetimeSettings
{
    public const int MaxPredictionDays = 3650;
    public const int MaxHorizonMonths = 120;

    /// <summary>Which rows count (e.g. not cancelled), as a rule tree over the transactions; null for all.</summary>
    public string? RowsJson { get; init; }

    /// <summary>The last day of the calibration period; null for the day that leaves the last quarter of the history to check the model.</summary>
    public DateOnly? CalibrationEnd { get; init; }

    public LifetimeUnit Unit { get; init; } = LifetimeUnit.Weeks;

    /// <summary>"Expected purchases" counts the purchases expected in the so many days after the last day of the data.</summary>
    public int PredictionDays { get; init; } = 90;

    /// <summary>CLV sums the margin-free spend expected over the so many months.</summary>
    public int HorizonMonths { get; init; } = 12;

    /// <summary>Monthly discount rate of CLV (0.01 is 1% a month).</summary>
    public double MonthlyDiscount { get; init; } = 0.01;

    public double DaysPerUnit => Unit == LifetimeUnit.Weeks ? 7 : 1;

    /// <summary>Why the settings cannot run, in the user's words; null when they can.</summary>
    public string? Problem() =>
        PredictionDays is < 1 or > MaxPredictionDays ? $"Predict purchases for 1 to {MaxPredictionDays:N0} days."
        : HorizonMonths is < 1 or > MaxHorizonMonths ? $"Value customers over 1 to {MaxHorizonMonths} months."
        : !double.IsFinite(MonthlyDiscount) || MonthlyDiscount is < 0 or >= 1 ? "The monthly discount rate must be from 0% to under 100%."
        : !Enum.IsDefined(Unit) ? "Choose days or weeks."
        : null;
}
