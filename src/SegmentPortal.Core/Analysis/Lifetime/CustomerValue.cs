namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>Customer lifetime value from a purchase model and an expected spend per purchase.</summary>
public static class CustomerValue
{
    /// <summary>Days per month on average (365.25 / 12).</summary>
    public const double DaysPerMonth = 30.4375;

    /// <summary>Weeks per month on average (30.4375 / 7).</summary>
    public const double WeeksPerMonth = DaysPerMonth / 7;

    /// <summary>
    /// CLV over `months` months with a monthly discount rate: Σ_{i=1..months} (E[X(i·m)] − E[X((i−1)·m)]) · spend / (1+d)^i
    /// with m = time units per month (30.4375 days or 30.4375/7 weeks), the way the `lifetimes` package computes it.
    /// E[X(t)] is the customer's conditional expectation (<see cref="BgNbdFit.ExpectedPurchases"/>) given (x, tx, T).
    /// </summary>
    public static double Lifetime(BgNbdFit purchases, double expectedSpend, double x, double tx, double T, int months, double monthlyDiscount, double unitsPerMonth)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        ArgumentOutOfRangeException.ThrowIfNegative(months);
        if (!(unitsPerMonth > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(unitsPerMonth), unitsPerMonth, "The time units per month must be positive.");
        }
        if (!(monthlyDiscount > -1))
        {
            throw new ArgumentOutOfRangeException(nameof(monthlyDiscount), monthlyDiscount, "The monthly discount rate must be above −100%.");
        }
        double value = 0, previous = 0, discount = 1;
        for (var i = 1; i <= months; i++)
        {
            var cumulative = purchases.ExpectedPurchases(i * unitsPerMonth, x, tx, T);
            discount *= 1 + monthlyDiscount;
            value += (cumulative - previous) * expectedSpend / discount;
            previous = cumulative;
        }
        return value;
    }
}
