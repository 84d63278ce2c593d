using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Lifetime;

namespace SegmentPortal.Tests.Analysis.Lifetime;

/// <summary>Inputs the models cannot be fitted on end in a PortalException whose message says why, in plain words.</summary>
public sealed class BadInputTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void BgNbd_without_customers()
    {
        var error = Assert.Throws<PortalException>(() => BgNbd.Fit([], cancellationToken: Ct));

        Assert.Contains("at least 10 customers", error.Message);
        Assert.Contains("there are none", error.Message);
    }

    [Fact]
    public void BgNbd_with_too_few_customers()
    {
        var error = Assert.Throws<PortalException>(() => BgNbd.Fit([new(1, 5, 10), new(0, 0, 10), new(2, 8, 9)], cancellationToken: Ct));

        Assert.Contains("there are 3", error.Message);
    }

    [Fact]
    public void BgNbd_without_repeat_purchases()
    {
        var customers = Enumerable.Range(0, 50).Select(i => new CustomerHistory(0, 0, 10 + i)).ToList();

        var error = Assert.Throws<PortalException>(() => BgNbd.Fit(customers, cancellationToken: Ct));

        Assert.Contains("No customer made a repeat purchase", error.Message);
    }

    [Fact]
    public void BgNbd_with_an_impossible_history()
    {
        var customers = Enumerable.Range(0, 20).Select(i => new CustomerHistory(1, 5, 10)).ToList();
        customers.Add(new CustomerHistory(2, 12, 10)); // last purchase after the end of calibration

        var error = Assert.Throws<PortalException>(() => BgNbd.Fit(customers, cancellationToken: Ct));

        Assert.Contains("0 ≤ recency ≤ age", error.Message);
        Assert.Throws<PortalException>(() => BgNbd.Fit([.. customers.Take(20), new CustomerHistory(double.NaN, 0, 10)], cancellationToken: Ct));
        Assert.Throws<PortalException>(() => BgNbd.Fit([.. customers.Take(20), new CustomerHistory(1.5, 3, 10)], cancellationToken: Ct));
    }

    [Fact]
    public void BgNbd_that_cannot_converge()
    {
        // Everyone bought again at the very same moments: nothing tells the heterogeneity apart, the likelihood has no
        // interior maximum and the parameters run off to the bounds.
        var customers = Enumerable.Range(0, 100).Select(_ => new CustomerHistory(3, 9, 10)).ToList();

        var error = Assert.Throws<PortalException>(() => BgNbd.Fit(customers, cancellationToken: Ct));

        Assert.Contains("did not converge", error.Message);
    }

    [Fact]
    public void GammaGamma_without_repeaters()
    {
        var error = Assert.Throws<PortalException>(() => GammaGamma.Fit([], Ct));

        Assert.Contains("there are none", error.Message);
    }

    [Fact]
    public void GammaGamma_with_all_spend_zero()
    {
        var repeaters = Enumerable.Range(1, 30).Select(i => ((double)(i % 4 + 1), 0.0)).ToList();

        var error = Assert.Throws<PortalException>(() => GammaGamma.Fit(repeaters, Ct));

        Assert.Contains("No repeat customer has a positive mean spend", error.Message);
    }

    [Fact]
    public void GammaGamma_with_non_repeaters_or_equal_spends()
    {
        Assert.Contains("at least one repeat purchase",
            Assert.Throws<PortalException>(() => GammaGamma.Fit([(0, 10.0), (1, 12.0)], Ct)).Message);
        Assert.Contains("same mean spend",
            Assert.Throws<PortalException>(() => GammaGamma.Fit(Enumerable.Range(1, 30).Select(i => ((double)i, 25.0)).ToList(), Ct)).Message);
        Assert.Contains("at least 10",
            Assert.Throws<PortalException>(() => GammaGamma.Fit([(1, 10.0), (2, 12.0), (1, -3.0)], Ct)).Message);
    }
}
