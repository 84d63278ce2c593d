using Bunit;
using SegmentPortal.Core.Analysis.Lifetime;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Analysis;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Analysis;

/// <summary>The lifetime-value result view: the holdout check in words and numbers, the parameters, the save-as-segment form.</summary>
public sealed class LifetimeComponentTests : PortalTestContext
{
    private static LifetimeResult Result()
    {
        var purchases = new ModelFit([new("r", 0.243, 0.013), new("α", 4.414, 0.378), new("a", 0.793, 0.186), new("b", 2.426, 0.705)], -9582.4, 2357);
        var spend = new ModelFit([new("p", 6.25, 0.4), new("q", 3.74, 0.3), new("γ", 15.44, 1.9)], -4055.9, 946);
        FrequencyCheck[] groups = [new("0", 1411, 0.24, 0.23), new("1", 439, 0.70, 0.68), new("7+", 18, 4.3, 4.0)];
        var holdout = new HoldoutCheck(new DateOnly(1997, 9, 30), new DateOnly(1998, 6, 30), purchases, spend, groups,
            [new DateOnly(1997, 1, 7), new DateOnly(1998, 6, 30)], [100, 1789], [98, 1818], 1.6, 2357);
        var matrix = new AliveMatrix(["0–10%", "90–100%"], ["0", "7+"], [[5, 0], [100, 3]], [[1.5, null], [20.0, 300.0]]);
        return new LifetimeResult(new DateOnly(1997, 1, 1), new DateOnly(1998, 6, 30), LifetimeUnit.Weeks, holdout, purchases, spend, 2357, 1100, 6919,
            0.55, 812.4, 51234.5, new Histogram([0, 10], 20, [2000, 357]), new Histogram([0, 0.5], 1, [1000, 1357]), matrix, 90, 12, 0.01, TimeSpan.FromSeconds(1.2))
        {
            ValuePercentiles = Enumerable.Range(0, 101).Select(i => (double)i).ToList(),
        };
    }

    [Fact]
    public void The_holdout_check_says_how_far_the_expected_repeat_purchases_were_from_what_customers_did()
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        var cut = Render<LifetimeResults>(p => p.Add(r => r.Result, Result()));

        var summary = cut.Find("[data-testid=ltv-holdout-summary]").TextContent;
        Assert.Contains("2,357 customers", summary);
        Assert.Contains("1997-09-30", summary);
        Assert.Contains("1,818 repeat purchases by 1998-06-30", summary);
        Assert.Contains("they made 1,789", summary);
        Assert.Contains("1.6% more than they made", summary);
        var table = cut.Find("[data-testid=ltv-by-frequency-table]").TextContent;
        Assert.Contains("7+", table);
        Assert.Contains("0.68", table);
        // The calibration fit (the models the check is about) and the refit on all the data, each with both models.
        var calibration = cut.Find("[data-testid=ltv-calibration-parameters]").TextContent;
        Assert.Contains("BG/NBD, 2,357 customers", calibration);
        Assert.Contains("Gamma-Gamma, 946 repeat customers", calibration);
        Assert.Contains("4.414", calibration);
        var parameters = cut.Find("[data-testid=ltv-parameters]").QuerySelectorAll("[data-testid=ltv-parameter-table]");
        Assert.Equal(2, parameters.Length);
        Assert.Equal(4, cut.FindAll("[data-testid=ltv-parameter-table]").Count);
        Assert.Contains("0.243", parameters[0].TextContent);
        Assert.Contains("-9,582.4", parameters[0].TextContent);
        Assert.Contains("15.44", parameters[1].TextContent);
    }

    [Fact]
    public void The_save_form_hands_the_P_alive_limit_and_the_top_share_of_CLV_to_the_page()
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        (double? Alive, double? Top)? saved = null;
        var cut = Render<LifetimeResults>(p => p.Add(r => r.Result, Result()).Add(r => r.OnSaveSegment, c => saved = c));

        cut.Find("[data-testid=ltv-segment-save]").Click();

        Assert.Equal((0.3, 20.0), saved);
    }

    [Fact]
    public void A_Viewer_gets_no_save_form()
    {
        SignInAs("viewer@example.com", Roles.Viewer);
        var cut = Render<LifetimeResults>(p => p.Add(r => r.Result, Result()));
        Assert.Empty(cut.FindAll("[data-testid=ltv-save-segment]"));
    }

    [Theory]
    [InlineData(0.2, "as expected")]
    [InlineData(-12.5, "12.5% fewer than they made (the model was too cautious)")]
    public void The_error_is_put_in_words(double percent, string words) => Assert.Equal(words, LifetimeResults.ErrorWords(percent));
}
