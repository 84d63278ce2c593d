namespace SegmentPortal.Core.Segments;

/// <summary>A saved group of customers: a rule tree over one dataset, with the facts of its last refresh.</summary>
public class Segment
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>Comma-separated, for grouping and search.</summary>
    public string? Tags { get; set; }

    public string? OwnerId { get; set; }

    /// <summary>The dataset whose customers the rule selects (a customer list, or a transaction log's customers).</summary>
    public int DatasetId { get; set; }

    /// <summary>The rule tree as versioned JSON.</summary>
    public required string RuleJson { get; set; }

    /// <summary>Members at the last refresh; null before the first.</summary>
    public long? Size { get; set; }

    /// <summary>All customers of the dataset at the last refresh, for "% of all".</summary>
    public long? Population { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? RefreshedAt { get; set; }

    /// <summary>
    /// The share of members kept out of every campaign as a control group (0.1 = 10%), or null for none. Who is held
    /// out is decided by <see cref="SegmentHoldout"/> from the customer key and <see cref="HoldoutSalt"/>.
    /// </summary>
    public double? HoldoutShare { get; set; }

    /// <summary>Random per segment and fixed once set, so a customer stays in or out of the holdout across refreshes.</summary>
    public string? HoldoutSalt { get; set; }
}

/// <summary>One refresh of a segment: its size, and how many customers entered and left since the one before.</summary>
public class SegmentSnapshot
{
    public int Id { get; set; }

    public int SegmentId { get; set; }

    public DateTimeOffset TakenAt { get; set; }

    public long Size { get; set; }

    public long Entered { get; set; }

    public long Left { get; set; }
}
