using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis;

public enum AttributeSetKind
{
    Rfm = 0,
    Clustering = 1,
    Lifetime = 2,

    /// <summary>A churn-risk run's scores, risk bands and lifecycle stages.</summary>
    Churn = 3,
}

/// <summary>
/// Per-customer results of an analysis kept in a warehouse table (one row per customer key) and offered as customer
/// fields — in the rule builder, previews and tiles — on the analysed dataset and on datasets related to it by the
/// customer key.
/// </summary>
public class CustomerAttributeSet
{
    public int Id { get; set; }

    public AttributeSetKind Kind { get; set; }

    /// <summary>The RFM analysis or clustering run that wrote it.</summary>
    public int SourceId { get; set; }

    /// <summary>The analysed dataset whose customer keys the table holds.</summary>
    public int DatasetId { get; set; }

    /// <summary>Shown as the fields' group in pickers ("RFM", "Clusters: Spend groups").</summary>
    public required string Name { get; set; }

    /// <summary>The warehouse table; a new name on every write.</summary>
    public required string TableName { get; set; }

    public ColumnType KeyType { get; set; }

    /// <summary>The fields, as JSON (<see cref="AttributeColumn"/>s).</summary>
    public required string ColumnsJson { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One customer field of an attribute set: its name in rules, its column in the table, its type and role.</summary>
public sealed record AttributeColumn(string Field, string Column, ColumnType Type, FieldRole Role = FieldRole.None);
