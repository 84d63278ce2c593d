namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>The three things RFM scores a customer on.</summary>
public enum RfmDimension
{
    /// <summary>Days since the last purchase before the reference date; fewer days is better.</summary>
    Recency,

    /// <summary>Distinct orders, or purchase days without an order number (see <see cref="RfmFrequencyUnit"/>); more is better.</summary>
    Frequency,

    /// <summary>Sum of order amounts; more is better.</summary>
    Monetary,
}

/// <summary>What an analysis's Frequency counted per customer, so the figures are called what they are.</summary>
public enum RfmFrequencyUnit
{
    /// <summary>Distinct order (or invoice) numbers: the dataset has a column with the order-number role.</summary>
    Orders,

    /// <summary>Distinct calendar days with a purchase: the dataset has no order number to count.</summary>
    PurchaseDays,
}

/// <summary>How values of one dimension become scores 1–5.</summary>
public enum RfmScoringMethod
{
    /// <summary>Relative to the other customers: about a fifth of them per score (see <see cref="RfmScorer.QuintileRule"/>).</summary>
    Quintiles,

    /// <summary>Fixed cut points the user chooses (see <see cref="RfmScorer.ThresholdRule"/>).</summary>
    Thresholds,
}

/// <summary>
/// One customer's raw RFM values, as the warehouse query computes them. A struct, because an analysis holds one per
/// customer and a million small objects would cost more than the scoring itself.
/// </summary>
/// <param name="Key">The customer key, shown and exported as is.</param>
/// <param name="RecencyDays">Days between the last purchase and the reference date.</param>
/// <param name="Frequency">Number of distinct orders.</param>
/// <param name="Monetary">Sum of the order amounts; must be a finite number.</param>
public readonly record struct RfmCustomer(string Key, int RecencyDays, int Frequency, double Monetary)
{
    /// <summary>The customer's value on one dimension, as the scorers take it.</summary>
    public double ValueOf(RfmDimension dimension) => dimension switch
    {
        RfmDimension.Recency => RecencyDays,
        RfmDimension.Frequency => Frequency,
        RfmDimension.Monetary => Monetary,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };
}

/// <summary>A customer with their scores and group (a struct for the same reason as <see cref="RfmCustomer"/>).</summary>
/// <param name="R">Recency score 1–5 (5 = bought most recently).</param>
/// <param name="F">Frequency score 1–5 (5 = most orders).</param>
/// <param name="M">Monetary score 1–5 (5 = spent most).</param>
/// <param name="Group">The name of the group the R×F grid puts the customer in.</param>
public readonly record struct RfmScoredCustomer(
    string Key,
    int RecencyDays,
    int Frequency,
    double Monetary,
    int R,
    int F,
    int M,
    string Group)
{
    /// <summary>The three scores as one code, R then F then M, e.g. "545"; shared strings, so a million rows allocate none.</summary>
    public string Score => RfmScores.Code(R, F, M);
}

/// <summary>Helpers shared by the scoring types.</summary>
public static class RfmScores
{
    /// <summary>The lowest score.</summary>
    public const int Min = 1;

    /// <summary>The highest score.</summary>
    public const int Max = 5;

    private static readonly string[] Codes = BuildCodes();

    /// <summary>The "RFM score" code for three scores, e.g. (5, 4, 5) → "545".</summary>
    public static string Code(int r, int f, int m)
    {
        Check(r, nameof(r));
        Check(f, nameof(f));
        Check(m, nameof(m));
        return Codes[((r - 1) * 25) + ((f - 1) * 5) + (m - 1)];
    }

    /// <summary>The dimension's name as the UI shows it.</summary>
    public static string Name(RfmDimension dimension) => dimension switch
    {
        RfmDimension.Recency => "Recency",
        RfmDimension.Frequency => "Frequency",
        RfmDimension.Monetary => "Monetary",
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };

    /// <summary>What Frequency is counted in, as the UI says it: "orders" or "purchase days" ("order", "purchase day" for one).</summary>
    public static string Unit(RfmFrequencyUnit unit, bool one = false) => (unit, one) switch
    {
        (RfmFrequencyUnit.PurchaseDays, false) => "purchase days",
        (RfmFrequencyUnit.PurchaseDays, true) => "purchase day",
        (_, false) => "orders",
        (_, true) => "order",
    };

    internal static bool IsScore(int score) => score is >= Min and <= Max;

    internal static void Check(int score, string name)
    {
        if (!IsScore(score))
        {
            throw new ArgumentOutOfRangeException(name, score, "Scores go from 1 to 5.");
        }
    }

    private static string[] BuildCodes()
    {
        var codes = new string[125];
        for (var r = 1; r <= 5; r++)
        {
            for (var f = 1; f <= 5; f++)
            {
                for (var m = 1; m <= 5; m++)
                {
                    codes[((r - 1) * 25) + ((f - 1) * 5) + (m - 1)] = $"{r}{f}{m}";
                }
            }
        }
        return codes;
    }
}
