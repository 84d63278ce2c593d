using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis;

/// <summary>
/// Writes analysis results as per-customer warehouse tables and tells the permission policy which of them a dataset
/// can use. The fields reach SQL only through the query layer (joined on the customer key); a user sees them only when
/// they may read the analysed dataset.
/// </summary>
public sealed class CustomerAttributeStore(DuckDbWarehouse warehouse, IPortalDbFactory dbFactory, TimeProvider clock) : IAnalysisFields
{
    public const string KeyColumn = "customer_key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Writes <paramref name="rows"/> (the customer key, then one value per column, in order) to a new table and points
    /// the set at it; the previous table is dropped. Keys must be unique and not empty: a write that breaks this fails
    /// and leaves the previous table in place. <paramref name="keysAreDistinct"/>: the caller read the keys from the query
    /// layer's distinct customers with a non-empty key (<c>QuerySpec.DistinctCustomers</c>), so they cannot repeat or
    /// be empty and the check (a pass over every key) is skipped.
    /// </summary>
    public async Task<CustomerAttributeSet> WriteAsync(
        AttributeSetKind kind, int sourceId, int datasetId, string name, ColumnType keyType,
        IReadOnlyList<AttributeColumn> columns, IEnumerable<object?[]> rows, CancellationToken cancellationToken = default,
        bool keysAreDistinct = false)
    {
        var table = $"portal_attr_{kind.ToString().ToLowerInvariant()}_{sourceId}_{Guid.NewGuid().ToString("N")[..8]}";
        // No PRIMARY KEY: DuckDB would build an index while appending (a large part of writing a million rows); the keys
        // are checked once after the append instead, so a duplicate or empty key still fails the write.
        var definitions = new[] { $"{WarehouseNames.Quote(KeyColumn)} {LiveTableBuilder.WarehouseTypeOf(keyType)}" }
            .Concat(columns.Select(c => $"{WarehouseNames.Quote(c.Column)} {LiveTableBuilder.WarehouseTypeOf(c.Type)}"));
        await using (var connection = await warehouse.OpenAsync(cancellationToken))
        {
            await WarehouseCommand.ExecuteAsync(connection, $"CREATE TABLE {WarehouseNames.Quote(table)} ({string.Join(", ", definitions)})", null, cancellationToken);
            try
            {
                using (var appender = connection.CreateAppender(table))
                {
                    foreach (var row in rows)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var line = appender.CreateRow();
                        Append(line, keyType, row[0]);
                        for (var i = 0; i < columns.Count; i++)
                        {
                            Append(line, columns[i].Type, row[i + 1]);
                        }
                        line.EndRow();
                    }
                }
                // The appender has flushed every row; now the keys.
                var key = WarehouseNames.Quote(KeyColumn);
                if (!keysAreDistinct && !await WarehouseCommand.ScalarAsync<bool>(connection,
                    $"SELECT count(*) = count(DISTINCT {key}) FROM {WarehouseNames.Quote(table)}", null, cancellationToken))
                {
                    throw new InvalidOperationException($"The customer keys of {name} must be unique and not empty.");
                }
            }
            catch
            {
                await DuckDbWarehouse.DropRelationAsync(connection, table, CancellationToken.None);
                throw;
            }
        }

        string? previous;
        CustomerAttributeSet set;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            set = await db.CustomerAttributeSets.FirstOrDefaultAsync(s => s.Kind == kind && s.SourceId == sourceId, cancellationToken)
                ?? db.CustomerAttributeSets.Add(new CustomerAttributeSet { Kind = kind, SourceId = sourceId, Name = name, TableName = table, ColumnsJson = "[]" }).Entity;
            previous = set.Id == 0 ? null : set.TableName;
            set.DatasetId = datasetId;
            set.Name = name;
            set.TableName = table;
            set.KeyType = keyType;
            set.ColumnsJson = JsonSerializer.Serialize(columns, Json);
            set.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
        if (previous is not null && previous != table)
        {
            await warehouse.DropTableAsync(previous, CancellationToken.None);
        }
        return set;
    }

    /// <summary>
    /// Sets a text column to <paramref name="value"/> on the rows whose <paramref name="keyColumn"/> equals
    /// <paramref name="key"/> (a cluster's name, by its number), in place: no other row or column is read again.
    /// </summary>
    public async Task UpdateValueAsync(AttributeSetKind kind, int sourceId, string column, string value, string keyColumn, long key,
        CancellationToken cancellationToken = default)
    {
        string table;
        IReadOnlyList<AttributeColumn> columns;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var set = await db.CustomerAttributeSets.AsNoTracking().FirstOrDefaultAsync(s => s.Kind == kind && s.SourceId == sourceId, cancellationToken)
                ?? throw new PortalException("These customer fields no longer exist.");
            table = set.TableName;
            columns = JsonSerializer.Deserialize<List<AttributeColumn>>(set.ColumnsJson, Json) ?? [];
        }
        // Identifiers only from the set's own column list; values are parameters.
        var target = columns.FirstOrDefault(c => c.Column == column) ?? throw new ArgumentException($"No column {column}.", nameof(column));
        var match = columns.FirstOrDefault(c => c.Column == keyColumn) ?? throw new ArgumentException($"No column {keyColumn}.", nameof(keyColumn));
        await using var connection = await warehouse.OpenAsync(cancellationToken);
        await WarehouseCommand.ExecuteAsync(connection,
            $"UPDATE {WarehouseNames.Quote(table)} SET {WarehouseNames.Quote(target.Column)} = $value WHERE {WarehouseNames.Quote(match.Column)} = $key",
            new Dictionary<string, object?> { ["value"] = value, ["key"] = key }, cancellationToken);
    }

    public async Task RemoveAsync(AttributeSetKind kind, int sourceId, CancellationToken cancellationToken = default)
    {
        string? table = null;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            if (await db.CustomerAttributeSets.FirstOrDefaultAsync(s => s.Kind == kind && s.SourceId == sourceId, cancellationToken) is { } set)
            {
                table = set.TableName;
                db.CustomerAttributeSets.Remove(set);
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        if (table is not null)
        {
            await warehouse.DropTableAsync(table, CancellationToken.None);
        }
    }

    /// <summary>
    /// The attribute fields a dataset can use: sets written for it, or for a dataset related to it by the customer key
    /// (<see cref="DatasetRelations.RelatedByCustomerKeyAsync"/>), whose input datasets
    /// (<see cref="InputsAsync(AttributeSetKind, int, int, CancellationToken)"/>) <paramref name="readable"/> allows.
    /// </summary>
    public async Task<IReadOnlyList<QueryField>> FieldsForAsync(Dataset dataset, Func<IReadOnlyCollection<int>, Task<bool>> readable, CancellationToken cancellationToken = default)
    {
        if (dataset.CustomerKey is null)
        {
            return [];
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var related = (await DatasetRelations.RelatedByCustomerKeyAsync(db, dataset.Id, cancellationToken)).Select(r => r.DatasetId).Append(dataset.Id).ToList();
        var sets = await db.CustomerAttributeSets.AsNoTracking().Where(s => related.Contains(s.DatasetId))
            .OrderBy(s => s.Kind).ThenBy(s => s.Name).ToListAsync(cancellationToken);
        var fields = new List<QueryField>();
        foreach (var set in sets)
        {
            if (!await readable(await InputsAsync(db, set.Kind, set.SourceId, set.DatasetId, [], cancellationToken)))
            {
                continue;
            }
            var table = new AttributeTable(set.Id, set.Name, set.TableName, KeyColumn, set.KeyType);
            foreach (var column in JsonSerializer.Deserialize<List<AttributeColumn>>(set.ColumnsJson, Json) ?? [])
            {
                fields.Add(new QueryField(column.Field, column.Type, column.Role, table, column.Column));
            }
        }
        return fields;
    }

    /// <summary>
    /// Every dataset an analysis's values were computed from, so its results and fields carry the data rules of each:
    /// the analysed dataset; for a clustering run whose features (or segment) read orders, every dataset related to its
    /// customers by the customer key (where its order facts may have come from); and the inputs of any analysis field
    /// (RFM values, another run's clusters) it used as a feature.
    /// </summary>
    public async Task<IReadOnlyCollection<int>> InputsAsync(AttributeSetKind kind, int sourceId, int datasetId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await InputsAsync(db, kind, sourceId, datasetId, [], cancellationToken);
    }

    private static async Task<IReadOnlyCollection<int>> InputsAsync(IPortalDb db, AttributeSetKind kind, int sourceId, int datasetId,
        HashSet<(AttributeSetKind, int)> seen, CancellationToken cancellationToken)
    {
        var inputs = new HashSet<int> { datasetId };
        if (kind == AttributeSetKind.Churn && seen.Add((kind, sourceId))
            && await db.ChurnRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == sourceId, cancellationToken) is { } churn)
        {
            // Every churn feature comes from the orders related to the customers (whichever the runner could read); the
            // attributes are the dataset's own columns.
            inputs.Add(churn.DatasetId);
            inputs.UnionWith((await DatasetRelations.RelatedByCustomerKeyAsync(db, churn.DatasetId, cancellationToken)).Select(r => r.DatasetId));
            return inputs;
        }
        if (kind != AttributeSetKind.Clustering || !seen.Add((kind, sourceId))
            || await db.ClusteringRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == sourceId, cancellationToken) is not { } run)
        {
            return inputs;
        }
        var request = JsonSerializer.Deserialize<Clustering.ClusteringRequest>(run.SettingsJson, Clustering.ClusteringService.Json)!;
        inputs.Add(run.DatasetId);
        // Order measures (and a segment's order facts) come from whichever related orders the runner could read: all count.
        if (request.SegmentId is not null || request.Features.Any(f => f.Source == Clustering.FeatureSource.Orders))
        {
            inputs.UnionWith((await DatasetRelations.RelatedByCustomerKeyAsync(db, run.DatasetId, cancellationToken)).Select(r => r.DatasetId));
        }
        var fields = request.Features.Where(f => f.Source == Clustering.FeatureSource.Field).Select(f => f.Field!).ToHashSet();
        if (fields.Count > 0)
        {
            foreach (var set in await db.CustomerAttributeSets.AsNoTracking().ToListAsync(cancellationToken))
            {
                if ((JsonSerializer.Deserialize<List<AttributeColumn>>(set.ColumnsJson, Json) ?? []).Any(c => fields.Contains(c.Field)))
                {
                    inputs.UnionWith(await InputsAsync(db, set.Kind, set.SourceId, set.DatasetId, seen, cancellationToken));
                }
            }
        }
        return inputs;
    }

    private static void Append(IDuckDBAppenderRow row, ColumnType type, object? value)
    {
        if (value is null or DBNull)
        {
            row.AppendNullValue();
            return;
        }
        _ = type switch
        {
            ColumnType.Integer => row.AppendValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
            ColumnType.Decimal => row.AppendValue(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)),
            ColumnType.Boolean => row.AppendValue(Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture)),
            ColumnType.Date => row.AppendValue(value is DateOnly d ? d : DateOnly.FromDateTime(Convert.ToDateTime(value, System.Globalization.CultureInfo.InvariantCulture))),
            ColumnType.Timestamp => row.AppendValue(Convert.ToDateTime(value, System.Globalization.CultureInfo.InvariantCulture)),
            _ => row.AppendValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
        };
    }
}
