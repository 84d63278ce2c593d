namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>
/// The RFM analysis of a transaction dataset: its settings and the result of its last computation. One per dataset;
/// computing again replaces the result, and the per-customer scores become customer fields (an attribute table).
/// </summary>
public class RfmRun
{
    public int Id { get; set; }

    /// <summary>The transaction dataset (Customer ID, date and amount roles).</summary>
    public int DatasetId { get; set; }

    /// <summary>Window, reference date, which rows count, scoring method and grid, as JSON.</summary>
    public required string SettingsJson { get; set; }

    /// <summary>Groups, heatmap and bin edges of the last computation, as JSON; null before the first.</summary>
    public string? ResultJson { get; set; }

    public long Customers { get; set; }

    public double TotalMonetary { get; set; }

    public string? OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ComputedAt { get; set; }
}
