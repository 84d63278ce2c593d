namespace SegmentPortal.Core.Rules;

/// <summary>How a field behaves in rules: which operators and value editors it gets.</summary>
public enum FieldKind
{
    Number,
    Text,
    Category,
    Date,
    Boolean,
}
