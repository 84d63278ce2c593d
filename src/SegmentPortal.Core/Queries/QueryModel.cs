using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>How a field behaves in rules: which operators and value editors it gets.</summary>
public enum FieldKind
{
    Number,
    Text,
    Category,
    Date,
    Boolean,
}

/// <summary>
/// A column as the query layer knows it; the only identifiers that ever reach SQL text. A field with a
/// <see cref="Source"/> is a customer attribute from an analysis (RFM, clustering): column <see cref="SourceColumn"/> of
/// that table, joined on the customer key.
/// </summary>
public sealed record QueryField(string Name, ColumnType Type, FieldRole Role, AttributeTable? Source = null, string? SourceColumn = null)
{
    public FieldKind Kind => Type switch
    {
        ColumnType.Integer or ColumnType.Decimal => FieldKind.Number,
        ColumnType.Date or ColumnType.Timestamp => FieldKind.Date,
        ColumnType.Boolean => FieldKind.Boolean,
        _ => Role is FieldRole.Dimension or FieldRole.CustomerId ? FieldKind.Category : FieldKind.Text,
    };
}

/// <summary>A dataset as the compiler sees it: its live table and its columns, and when it last changed (for caching).</summary>
public sealed record QueryDataset(int Id, string Name, string Table, IReadOnlyList<QueryField> Fields, DateTimeOffset Version)
{
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
        dataset.Columns.Where(c => !c.IsExcluded).OrderBy(c => c.Ordinal).Select(c => new QueryField(c.Name, c.Type, c.Role)).ToList(),
        dataset.RefreshedAt);
}

/// <summary>
/// A warehouse table of per-customer results (one row per customer key, column <see cref="Key"/>) that the compiler
/// LEFT JOINs when a rule or spec uses one of its fields. The table name changes with every write, so cached results
/// of the old one are never served.
/// </summary>
public sealed record AttributeTable(int Id, string Name, string Table, string Key, ColumnType KeyType);

/// <summary>Where customer facts come from: a transaction dataset, its customer key, date, amount and order columns.</summary>
public sealed record FactSource(QueryDataset Orders, string CustomerKey, string Date, string? Amount, string? OrderId);

/// <summary>A saved segment as another rule refers to it: its rule over its own dataset.</summary>
public sealed record SegmentReference(int Id, string Name, RuleGroup Rule, QueryDataset Dataset, FactSource? Facts);

/// <summary>The SQL for a spec, its parameters, the output column names and the datasets it read (for the cache key).</summary>
public sealed record CompiledQuery(string Sql, IReadOnlyDictionary<string, object?> Parameters, IReadOnlyList<string> Columns, IReadOnlyList<QueryDataset> Reads);

/// <summary>Reading result values: DuckDB returns sums of whole numbers as 128-bit integers (BigInteger).</summary>
public static class QueryValue
{
    public static double? ToDouble(object? value) => value switch
    {
        null or DBNull => null,
        System.Numerics.BigInteger big => (double)big,
        double d => d,
        IConvertible c => c.ToDouble(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException($"{value.GetType().Name} is not a number."),
    };
}
