namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>A named customer group of the R×F grid, with what it means and what to do about it, for the UI.</summary>
/// <param name="Name">Unique within a grid; cells refer to groups by it.</param>
/// <param name="Description">One line on who is in it.</param>
/// <param name="Action">One line on what marketing usually does with them.</param>
public sealed record RfmGroup(string Name, string Description, string Action);

/// <summary>The standard RFM groups, in the standard order (best first, roughly by recency and frequency).</summary>
internal static class RfmGroups
{
    public const string Champions = "Champions";
    public const string Loyal = "Loyal";
    public const string PotentialLoyalists = "Potential loyalists";
    public const string New = "New";
    public const string Promising = "Promising";
    public const string NeedAttention = "Need attention";
    public const string AboutToSleep = "About to sleep";
    public const string AtRisk = "At risk";
    public const string CannotLoseThem = "Cannot lose them";
    public const string Hibernating = "Hibernating";
    public const string Lost = "Lost";

    /// <summary>The eleven standard groups, in the order summaries list them.</summary>
    public static IReadOnlyList<RfmGroup> Standard { get; } =
    [
        new(Champions, "Bought recently and buy often.",
            "Reward them: early access, loyalty perks; ask for reviews and referrals."),
        new(Loyal, "Buy often, and not long ago.",
            "Upsell higher-value products; invite them to the loyalty programme."),
        new(PotentialLoyalists, "Bought recently, a few times.",
            "Offer membership or a loyalty programme; recommend related products."),
        new(New, "Bought very recently, but only once or rarely.",
            "Welcome and onboard them; make the second order easy."),
        new(Promising, "Bought fairly recently, but not often yet.",
            "Build the habit with targeted offers and free trials."),
        new(NeedAttention, "Average on both recency and frequency.",
            "Send limited-time offers based on their past purchases before they slip."),
        new(AboutToSleep, "Have not bought for a while, and bought rarely.",
            "Reconnect with popular products and a discount."),
        new(AtRisk, "Used to buy often, but not for a long time.",
            "Win them back with personalised emails and offers."),
        new(CannotLoseThem, "Bought the most often, but not for a long time.",
            "Reach out personally; offer renewals or new products to bring them back."),
        new(Hibernating, "Bought rarely, and long ago.",
            "Offer relevant products and special discounts; keep the spend low."),
        new(Lost, "Bought rarely, and the longest ago.",
            "Try one reactivation campaign; otherwise leave them out of paid campaigns."),
    ];
}
