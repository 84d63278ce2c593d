using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Access;

/// <summary>
/// A column as the query layer knows it; the only identifiers that ever reach SQL text. A field with a
/// <see cref="Source"/> is a customer attribute from an analysis (RFM, clustering): column <see cref="SourceColumn"/> of
/// that table, joined on the customer key. A masked or hashed column (<see cref="Treatment"/>, from the user's column
/// rules) is text to every query: its values are masked in the table the query reads.
/// </summary>
public sealed record QueryField(string Name, ColumnType Type, FieldRole Role, AttributeTable? Source = null, string? SourceColumn = null)
{
    public ColumnTreatment Treatment { get; init; }

    /// <summary>The dataset column behind a field of the dataset's own (its stable id: column rules are keyed by it); null otherwise.</summary>
    public int? ColumnId { get; init; }

    public FieldKind Kind => Type switch
    {
        ColumnType.Integer or ColumnType.Decimal => FieldKind.Number,
        ColumnType.Date or ColumnType.Timestamp => FieldKind.Date,
        ColumnType.Boolean => FieldKind.Boolean,
        _ => Role is FieldRole.Dimension or FieldRole.CustomerId ? FieldKind.Category : FieldKind.Text,
    };
}

/// <summary>
/// A dataset as the compiler sees it for one user: its live table, the columns that user may see (masked ones as text),
/// the rows they may see, and when it last changed (for caching). A restricted dataset is read through a derived table
/// that applies the row filter and the masks, so no query over it can reach a hidden row, column or value.
/// </summary>
public sealed record QueryDataset(int Id, string Name, string Table, IReadOnlyList<QueryField> Fields, DateTimeOffset Version)
{
    /// <summary>The user's row rules, with their attribute values filled in; null when every row is visible.</summary>
    public RuleGroup? RowFilter { get; init; }

    /// <summary>The dataset is restricted and no rule is for this user: no row is visible (fail closed).</summary>
    public bool NoRows { get; init; }

    /// <summary>The table's columns as stored (unmasked, hidden ones included): what row rules are evaluated on.</summary>
    public IReadOnlyList<QueryField>? StoredFields { get; init; }

    /// <summary>Columns that do not exist for this user; a spec naming one is refused with a clear message.</summary>
    public IReadOnlyList<string> HiddenColumns { get; init; } = [];

    /// <summary>Set for a live dataset: its rows stay in a connection's database and its queries run there.</summary>
    public Datasets.LiveSource? Live { get; init; }

    /// <summary>The key of hashed columns (a parameter of the query, never text in it).</summary>
    public string? HashKey { get; init; }

    /// <summary>Rows, columns or values are limited for this user: queries read the derived table.</summary>
    public bool IsRestricted => NoRows || RowFilter is not null || OwnFields.Any(f => f.Treatment != ColumnTreatment.Visible) || HiddenColumns.Count > 0;

    public QueryField? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);

    public QueryField? WithRole(FieldRole role) => Fields.FirstOrDefault(f => f.Role == role);

    /// <summary>The dataset's own columns, without attached customer attributes (what a plain preview shows).</summary>
    public IEnumerable<QueryField> OwnFields => Fields.Where(f => f.Source is null);

    /// <summary>This dataset with customer attribute fields added (names already taken by a column are skipped).</summary>
    public QueryDataset WithAttributes(IEnumerable<QueryField> attributes) =>
        this with { Fields = [.. Fields, .. attributes.Where(a => a.Source is not null && Field(a.Name) is null).DistinctBy(a => a.Name)] };

    public static QueryDataset From(Dataset dataset) => new(
        dataset.Id,
        dataset.Name,
        dataset.TableName,
        dataset.Columns.Where(c => !c.IsExcluded).OrderBy(c => c.Ordinal).Select(c => new QueryField(c.Name, c.Type, c.Role) { ColumnId = c.Id }).ToList(),
        dataset.RefreshedAt) { Live = dataset.Live };
}

/// <summary>
/// A warehouse table of per-customer results (one row per customer key, column <see cref="Key"/>) that the compiler
/// LEFT JOINs when a rule or spec uses one of its fields. The table name changes with every write, so cached results
/// of the old one are never served.
/// </summary>
public sealed record AttributeTable(int Id, string Name, string Table, string Key, ColumnType KeyType);
