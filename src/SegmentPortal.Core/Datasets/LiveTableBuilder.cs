using DuckDB.NET.Data;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Datasets;

/// <summary>How the user wants one raw column to appear in the live table.</summary>
public sealed record ColumnSetting(string SourceName, string Name, ColumnType Type, FieldRole Role, bool IsExcluded);

/// <summary>
/// Builds a dataset's live table from its raw import: columns renamed, cast (TRY_CAST: a value that does not convert
/// becomes empty, and the UI says how many) or left out as the user chose. Only quoted identifiers of known columns
/// reach the SQL text.
/// </summary>
internal static class LiveTableBuilder
{
    public static string WarehouseTypeOf(ColumnType type) => type switch
    {
        ColumnType.Text => "VARCHAR",
        ColumnType.Integer => "BIGINT",
        ColumnType.Decimal => "DOUBLE",
        ColumnType.Boolean => "BOOLEAN",
        ColumnType.Date => "DATE",
        ColumnType.Timestamp => "TIMESTAMP",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Default settings for freshly imported columns, keeping what the user set on columns of the same name.</summary>
    public static List<ColumnSetting> Merge(IReadOnlyList<WarehouseColumn> raw, IReadOnlyList<ColumnSetting>? previous)
    {
        var bySource = (previous ?? []).ToDictionary(p => p.SourceName, StringComparer.Ordinal);
        return raw.Select(c => bySource.TryGetValue(c.Name, out var kept)
                ? kept
                : new ColumnSetting(c.Name, c.Name, c.Type, FieldRole.None, IsExcluded: false))
            .ToList();
    }

    /// <summary>The SELECT list that turns raw columns into live ones.</summary>
    public static string Projection(IReadOnlyList<WarehouseColumn> raw, IReadOnlyList<ColumnSetting> settings)
    {
        var rawByName = raw.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var included = settings.Where(s => !s.IsExcluded).ToList();
        if (included.Count == 0)
        {
            throw new PortalException("Keep at least one column.");
        }
        var duplicates = included.GroupBy(s => s.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
        {
            throw new PortalException($"Two columns are called \"{duplicates[0]}\"; give each column its own name.");
        }
        return string.Join(", ", included.Select(s =>
        {
            if (!rawByName.TryGetValue(s.SourceName, out var source))
            {
                throw new PortalException($"The source no longer has a column \"{s.SourceName}\".");
            }
            var column = WarehouseNames.Quote(s.SourceName);
            var expression = source.Type == s.Type ? column : $"TRY_CAST({column} AS {WarehouseTypeOf(s.Type)})";
            return $"{expression} AS {WarehouseNames.Quote(s.Name)}";
        }));
    }

    /// <summary>
    /// Makes the live relation from the raw rows: the column settings applied, then each recipe step, in file order.
    /// When that is only renaming or leaving out columns, the live relation is a view over the raw table: nothing is
    /// copied, and the returned <see cref="SwapStep"/> creates the view once the raw table has its final name. Otherwise
    /// it writes <paramref name="liveStaging"/> now and returns null.
    /// </summary>
    public static async Task<SwapStep?> BuildAsync(
        DuckDBConnection db,
        string rawSource,
        string rawFinal,
        string liveStaging,
        string liveFinal,
        IReadOnlyList<ColumnSetting> settings,
        Recipe recipe,
        CancellationToken cancellationToken)
    {
        var raw = await DuckDbWarehouse.DescribeAsync(db, rawSource, cancellationToken);
        if (IsPlainProjection(raw, settings, recipe))
        {
            var projection = Projection(raw, settings);
            return (connection, ct) => WarehouseCommand.ExecuteAsync(connection,
                $"CREATE VIEW {WarehouseNames.Quote(liveFinal)} AS SELECT {projection} FROM {WarehouseNames.Quote(rawFinal)}", null, ct);
        }
        var (with, compiled) = await ChainAsync(db, rawSource, settings, recipe, cancellationToken);
        // DuckDB keeps insertion order through scans, filters and projections; only steps built on window functions
        // or joins may shuffle rows, and only then is the (costly, on millions of rows) sort worth paying for.
        var order = recipe.Steps.Any(s => s is RemoveDuplicateRows or KeepOnePerKey or HandleOutliers)
            ? $" ORDER BY {RecipeCompiler.RowColumn}"
            : "";
        var sql = $"CREATE OR REPLACE TABLE {WarehouseNames.Quote(liveStaging)} AS {with} " +
            $"SELECT * EXCLUDE ({RecipeCompiler.RowColumn}) FROM {compiled.Last}{order}";
        await WarehouseCommand.ExecuteAsync(db, sql, compiled.Parameters, cancellationToken);
        return null;
    }

    /// <summary>No recipe and no type changes: the live data is the raw data under other names.</summary>
    public static bool IsPlainProjection(IReadOnlyList<WarehouseColumn> raw, IReadOnlyList<ColumnSetting> settings, Recipe recipe)
    {
        var types = raw.ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal);
        return recipe.Steps.Count == 0
            && settings.All(s => s.IsExcluded || (types.TryGetValue(s.SourceName, out var type) && type == s.Type));
    }

    /// <summary>What each step would do: rows before and after it, and values it changes (null where it only removes rows).</summary>
    public static async Task<(long[] Rows, long?[] Changed)> MeasureAsync(
        DuckDBConnection db, string rawTable, IReadOnlyList<ColumnSetting> settings, Recipe recipe, CancellationToken cancellationToken)
    {
        var (with, compiled) = await ChainAsync(db, rawTable, settings, recipe, cancellationToken);
        var counts = Enumerable.Range(0, compiled.Steps.Count + 1).Select(k => $"(SELECT count(*) FROM s{k})")
            .Concat(compiled.ChangedValueCounts.Select(c => c ?? "NULL"));
        var values = (await WarehouseCommand.QueryAsync(db, $"{with} SELECT {string.Join(", ", counts)}", compiled.Parameters, r =>
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            }
            return row;
        }, cancellationToken))[0];
        var rows = values.Take(compiled.Steps.Count + 1).Select(v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var changed = values.Skip(compiled.Steps.Count + 1).Select(v => v is null ? (long?)null : Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return (rows, changed);
    }

    private static async Task<(string With, CompiledRecipe Compiled)> ChainAsync(
        DuckDBConnection db, string rawTable, IReadOnlyList<ColumnSetting> settings, Recipe recipe, CancellationToken cancellationToken)
    {
        var raw = await DuckDbWarehouse.DescribeAsync(db, rawTable, cancellationToken);
        var input = settings.Where(s => !s.IsExcluded).Select(s => new RecipeColumn(s.Name.Trim(), s.Type)).ToList();
        var compiled = RecipeCompiler.Compile(recipe.Steps, input);
        // rowid is the insertion order: "first" and "last" in de-duplication mean first and last in the file.
        var steps = new[] { $"s0 AS (SELECT rowid AS {RecipeCompiler.RowColumn}, {Projection(raw, settings)} FROM {WarehouseNames.Quote(rawTable)})" }
            .Concat(compiled.Steps);
        return ($"WITH {string.Join(", ", steps)}", compiled);
    }

    /// <summary>How many present values of a raw column would not survive a change to <paramref name="type"/>.</summary>
    public static async Task<long> CountUnconvertibleAsync(
        DuckDBConnection db, string rawTable, WarehouseColumn column, ColumnType type, CancellationToken cancellationToken)
    {
        var quoted = WarehouseNames.Quote(column.Name);
        var target = WarehouseTypeOf(type);
        // A decimal made whole would round silently; count those as not converting too.
        var lossy = type == ColumnType.Integer && column.Type == ColumnType.Decimal
            ? $" OR CAST({quoted} AS DOUBLE) <> floor(CAST({quoted} AS DOUBLE))"
            : "";
        var sql = $"SELECT count(*) FROM {WarehouseNames.Quote(rawTable)} WHERE {quoted} IS NOT NULL AND (TRY_CAST({quoted} AS {target}) IS NULL{lossy})";
        return await WarehouseCommand.ScalarAsync<long>(db, sql, null, cancellationToken);
    }
}
