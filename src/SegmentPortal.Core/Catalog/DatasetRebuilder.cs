using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Catalog;

/// <summary>
/// The one way a dataset's live table is made: raw import → the user's column settings → the cleaning recipe.
/// Used by imports, refreshes, column edits and recipe edits alike, so a refresh re-applies exactly what the user set.
/// </summary>
public sealed class DatasetRebuilder(DuckDbWarehouse warehouse, IPortalDbFactory dbFactory, AuditLog audit, TimeProvider clock)
{

    /// <summary>Rebuilds a dataset's live table from its raw copy and saves the settings and recipe that made it.</summary>
    public async Task RebuildAsync(Dataset dataset, IReadOnlyList<ColumnSetting> settings, Recipe recipe, CancellationToken ct)
    {
        if (dataset.RawTableName is not { } raw)
        {
            throw new PortalException($"{dataset.Name} has no original import to rebuild from.");
        }
        await warehouse.ReplaceTablesAsync([dataset.TableName], (db, staging, token) =>
            LiveTableBuilder.BuildAsync(db, raw, raw, staging[0], dataset.TableName, settings, recipe, token), ct);
        await SaveMetadataAsync(dataset.Id, settings, recipe, ct);
    }

    /// <summary>
    /// Records what the live table now holds: its columns (settings plus columns steps added), row count and recipe.
    /// Columns keep their ids (matched by their raw name, or by name for columns without one), so the column rules held
    /// by id follow a renamed column; row rules naming it are rewritten to the new name, and a rename of a column any
    /// data rule names is written to the audit log.
    /// </summary>
    public async Task SaveMetadataAsync(int datasetId, IReadOnlyList<ColumnSetting> settings, Recipe recipe, CancellationToken ct)
    {
        await using var metadata = await dbFactory.CreateAsync(ct);
        var dataset = await metadata.Datasets.Include(d => d.Columns).SingleAsync(d => d.Id == datasetId, ct);
        // A live dataset's rows stay in its source: its columns are the ones read from there, its row count unknown here.
        var isLive = dataset.Storage == DatasetStorage.Live;
        var live = isLive
            ? dataset.Columns.Select(c => new WarehouseColumn(c.Name, c.WarehouseType, c.Type)).ToList()
            : await warehouse.DescribeAsync(dataset.TableName, ct);
        var liveByName = live.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var rows = isLive ? dataset.RowCount : await warehouse.CountRowsAsync(dataset.TableName, ct);
        var hasRaw = dataset.RawTableName is not null;

        var columns = settings.Select(s =>
        {
            var name = s.Name.Trim();
            var inLive = !s.IsExcluded && liveByName.TryGetValue(name, out var c) ? c : null;
            return new DatasetColumn
            {
                Name = name,
                SourceName = hasRaw ? s.SourceName : null,
                ImportType = s.Type,
                Type = inLive?.Type ?? s.Type,
                WarehouseType = inLive?.WarehouseType ?? LiveTableBuilder.WarehouseTypeOf(s.Type),
                Role = s.Role,
                IsExcluded = s.IsExcluded,
            };
        }).ToList();
        var roles = dataset.Columns.Where(c => c.SourceName is null).ToDictionary(c => c.Name, c => c.Role, StringComparer.Ordinal);
        var known = columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        columns.AddRange(live.Where(c => !known.Contains(c.Name)).Select(c => new DatasetColumn
        {
            Name = c.Name,
            SourceName = null,
            ImportType = c.Type,
            Type = c.Type,
            WarehouseType = c.WarehouseType,
            Role = roles.GetValueOrDefault(c.Name),
        }));

        // The stored column each new one continues: a setting by its raw name, any other column by its name.
        var bySource = dataset.Columns.Where(c => c.SourceName is not null).ToDictionary(c => c.SourceName!, StringComparer.Ordinal);
        var byName = dataset.Columns.Where(c => c.SourceName is null).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var matched = columns.Select(c => c.SourceName is { } source ? bySource.GetValueOrDefault(source) : byName.GetValueOrDefault(c.Name)).ToList();
        var renamed = matched.Select((old, i) => (Old: old, New: columns[i])).Where(p => p.Old is not null && p.Old.Name != p.New.Name)
            .ToDictionary(p => p.Old!.Name, p => (p.Old!.Id, p.New.Name), StringComparer.Ordinal);
        var notes = await FollowRenamesAsync(metadata, dataset, renamed, ct);

        var kept = matched.OfType<DatasetColumn>().ToHashSet();
        var gone = dataset.Columns.Where(c => !kept.Contains(c)).ToList();
        foreach (var column in gone)
        {
            dataset.Columns.Remove(column);
            metadata.DatasetColumns.Remove(column);
        }
        if (gone.Count > 0 || matched.Select((old, i) => old is not null && old.Ordinal != i).Any(moved => moved))
        {
            // Ordinals are unique per dataset: park the kept columns first so no update collides with another.
            foreach (var (old, i) in kept.Select((c, i) => (c, i)))
            {
                old.Ordinal = -1 - i;
            }
            await metadata.SaveChangesAsync(ct);
        }
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            column.Ordinal = i;
            if (matched[i] is { } old)
            {
                old.Ordinal = i;
                old.Name = column.Name;
                old.SourceName = column.SourceName;
                old.ImportType = column.ImportType;
                old.Type = column.Type;
                old.WarehouseType = column.WarehouseType;
                old.Role = column.Role;
                old.IsExcluded = column.IsExcluded;
            }
            else
            {
                dataset.Columns.Add(column);
            }
        }
        dataset.RowCount = rows;
        dataset.RecipeJson = recipe.Steps.Count == 0 ? null : recipe.ToJson();
        dataset.Kind = DatasetSchemaService.KindFrom(settings);
        dataset.RefreshedAt = clock.GetUtcNow();
        await metadata.SaveChangesAsync(ct);
        foreach (var note in notes)
        {
            await audit.RecordAsync(AuditActions.PermissionChanged, $"Dataset {dataset.Id} “{dataset.Name}”", note, cancellationToken: ct);
        }
    }

    /// <summary>
    /// Carries the data rules along with renamed columns (old name → id and new name): column rules get the column's id
    /// (rules stored by name alone included) and its new name; row rules compare the new name. Each rename of a column a
    /// rule names is noted for the audit log (written once the columns are saved).
    /// </summary>
    private async Task<List<string>> FollowRenamesAsync(IPortalDb metadata, Dataset dataset, IReadOnlyDictionary<string, (int Id, string Name)> renamed, CancellationToken ct)
    {
        var columnRules = await metadata.ColumnRules.Where(r => r.DatasetId == dataset.Id).ToListAsync(ct);
        var ids = dataset.Columns.ToDictionary(c => c.Name, c => c.Id, StringComparer.Ordinal);
        foreach (var rule in columnRules.Where(r => r.ColumnId is null && ids.ContainsKey(r.Column)))
        {
            rule.ColumnId = ids[rule.Column];
        }
        var notes = new List<string>();
        if (renamed.Count == 0)
        {
            return notes;
        }
        var rowRules = await metadata.RowRules.Where(r => r.DatasetId == dataset.Id).ToListAsync(ct);
        foreach (var (oldName, (id, newName)) in renamed)
        {
            var its = columnRules.Where(r => r.ColumnId == id).ToList();
            foreach (var rule in its)
            {
                rule.Column = newName;
            }
            var rowRuleCount = rowRules.Count(r => RuleTree.FromJson(r.RuleJson).Root.Descendants().OfType<FieldCondition>().Any(c => c.Field == oldName));
            if (its.Count > 0 || rowRuleCount > 0)
            {
                var what = string.Join(", ", its.OrderBy(r => r.Role, StringComparer.Ordinal).Select(r => $"{r.Treatment} for {r.Role}")
                    .Concat(rowRuleCount > 0 ? [$"{rowRuleCount} row rule{(rowRuleCount == 1 ? "" : "s")}"] : []));
                notes.Add($"Column {oldName} of {dataset.Name} renamed to {newName}; its rules follow it ({what})");
            }
        }
        foreach (var rule in rowRules)
        {
            var tree = RuleTree.FromJson(rule.RuleJson);
            var conditions = tree.Root.Descendants().OfType<FieldCondition>().Where(c => renamed.ContainsKey(c.Field)).ToList();
            if (conditions.Count == 0)
            {
                continue;
            }
            foreach (var condition in conditions)
            {
                condition.Field = renamed[condition.Field].Name;
            }
            rule.RuleJson = tree.ToJson();
            rule.UpdatedAt = clock.GetUtcNow();
        }
        return notes;
    }

    /// <summary>The settings a dataset's columns stand for (columns a recipe added are not settings).</summary>
    public static List<ColumnSetting> SettingsOf(Dataset dataset) => dataset.Columns
        .Where(c => dataset.RawTableName is null || c.SourceName is not null)
        .OrderBy(c => c.Ordinal)
        .Select(c => new ColumnSetting(c.SourceName ?? c.Name, c.Name, c.ImportType, c.Role, c.IsExcluded))
        .ToList();
}
