using SegmentPortal.Core.Access;

namespace SegmentPortal.Core.Segments;

public sealed record SegmentChoice(int Id, string Name);

/// <summary>What the rule builder may offer for a dataset: its fields, whether order facts exist, the order columns that hold categories, and other segments.</summary>
public sealed record RuleBuilderOptions(
    int DatasetId,
    string DatasetName,
    IReadOnlyList<QueryField> Fields,
    string? OrdersDatasetName,
    int? OrdersDatasetId,
    IReadOnlyList<string> OrderCategoryColumns,
    IReadOnlyList<SegmentChoice> Segments)
{
    public bool HasFacts => OrdersDatasetId is not null;
}
