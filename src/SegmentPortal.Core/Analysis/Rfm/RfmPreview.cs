using System.Globalization;

namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>
/// What one score of one dimension holds. Min and Max are the values actually scored so, not the nominal range of a
/// cut point, so the UI shows what the data looks like; both are null when no customer has the score.
/// </summary>
public sealed record RfmScoreBin(int Score, int Customers, double? Min, double? Max)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// The values as the UI shows them: "0–14 days", "1 order" (or "1 purchase day" when <paramref name="frequencyUnit"/>
    /// says Frequency counted days), "100.00–249.99"; "none" when empty.
    /// </summary>
    public string Range(RfmDimension dimension, RfmFrequencyUnit frequencyUnit = RfmFrequencyUnit.Orders)
    {
        if (Min is not { } min || Max is not { } max)
        {
            return "none";
        }
        var text = min == max ? Format(min, dimension) : $"{Format(min, dimension)}–{Format(max, dimension)}";
        return dimension switch
        {
            RfmDimension.Recency => $"{text} {(min == max && min == 1 ? "day" : "days")}",
            RfmDimension.Frequency => $"{text} {RfmScores.Unit(frequencyUnit, one: min == max && min == 1)}",
            _ => text,
        };
    }

    /// <summary>One line for the UI: "Score 5: 0–14 days, 871 customers", or "Score 2: no customers".</summary>
    public string Describe(RfmDimension dimension, RfmFrequencyUnit frequencyUnit = RfmFrequencyUnit.Orders) => Customers == 0
        ? $"Score {Score}: no customers"
        : $"Score {Score}: {Range(dimension, frequencyUnit)}, {Customers.ToString("#,0", Invariant)} {(Customers == 1 ? "customer" : "customers")}";

    private static string Format(double value, RfmDimension dimension) =>
        value.ToString(dimension == RfmDimension.Monetary ? "#,0.00" : "#,0.##", Invariant);
}

/// <summary>The five bins of one dimension, score 1 first (so <c>Bins[score - 1]</c>).</summary>
public sealed record RfmDimensionPreview(RfmDimension Dimension, RfmScoringMethod Method, IReadOnlyList<RfmScoreBin> Bins)
{
    /// <summary>The bin of one score.</summary>
    public RfmScoreBin Bin(int score)
    {
        RfmScores.Check(score, nameof(score));
        return Bins[score - 1];
    }

    /// <summary>One line per score, best score first, as the UI lists them, Frequency in <paramref name="frequencyUnit"/>.</summary>
    public IEnumerable<string> Describe(RfmFrequencyUnit frequencyUnit = RfmFrequencyUnit.Orders) =>
        Bins.Reverse().Select(b => b.Describe(Dimension, frequencyUnit));
}
