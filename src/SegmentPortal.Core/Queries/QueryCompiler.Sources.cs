using SegmentPortal.Core.Access;

namespace SegmentPortal.Core.Queries;

// The restrict stage in SQL: a restricted dataset is read through a derived table of the rows and columns its user may see.
internal sealed partial class QueryCompiler
{
    /// <summary>
    /// What a query reads for a dataset: its table, or for a restricted dataset a derived table of the rows the user
    /// may see (their row rules, evaluated on the stored values) with the columns they may see, masked or hashed as
    /// their column rules say. Every reference to a dataset's table (the rows, the orders behind customer facts, the
    /// candidates, another segment's members) goes through here.
    /// </summary>
    private string Source(QueryDataset dataset)
    {
        if (!dataset.IsRestricted)
        {
            return Relation(dataset);
        }
        var stored = dataset with { Fields = dataset.StoredFields ?? dataset.OwnFields.ToList(), RowFilter = null, NoRows = false, HiddenColumns = [] };
        var rows = new Scope($"r{_aliases++}", stored, null);
        var where = dataset.NoRows ? _d.Condition(false) : dataset.RowFilter is { } rule ? Predicate(rule, rows, strict: true, []) ?? _d.Condition(true) : _d.Condition(true);
        var columns = dataset.OwnFields.Select(f =>
        {
            var value = $"{rows.Alias}.{_d.Quote(f.Name)}";
            var shown = f.Treatment switch
            {
                ColumnTreatment.Masked => _d.Mask(_d.AsText(value)),
                ColumnTreatment.Hashed => _d.Hash(_d.AsText(value), Param(dataset.HashKey ?? throw new InvalidOperationException("Hashed columns need a key."))),
                _ => value,
            };
            return $"{shown} AS {_d.Quote(f.Name)}";
        });
        return $"(SELECT {string.Join(", ", columns)} FROM {Relation(dataset)} AS {rows.Alias} WHERE {where})";
    }

    /// <summary>
    /// The stored rows of a dataset: its warehouse table, or for a live dataset the source's table or view (with its
    /// schema) or its validated SELECT as a derived table.
    /// </summary>
    private string Relation(QueryDataset dataset) => Relation(dataset, _d);

    /// <inheritdoc cref="Relation(QueryDataset)"/>
    internal static string Relation(QueryDataset dataset, ISqlDialect d) => dataset.Live switch
    {
        null => d.Quote(dataset.Table),
        // On lines of its own, so a comment ending the SELECT cannot swallow the closing parenthesis.
        { Select: { } select } => $"(\n{select}\n)",
        { Schema: { } schema, Table: { } table } => $"{d.Quote(schema)}.{d.Quote(table)}",
        { Table: { } table } => d.Quote(table),
        _ => throw new InvalidOperationException($"The live dataset {dataset.Name} names no table and no query."),
    };
}
