using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Datasets;

/// <summary>
/// The one way a dataset's live table is made: raw import → the user's column settings → the cleaning recipe.
/// Used by imports, refreshes, column edits and recipe edits alike, so a refresh re-applies exactly what the user set.
/// </summary>
public sealed class DatasetRebuilder(DuckDbWarehouse warehouse, IPortalDbFactory dbFactory, TimeProvider clock)
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

    /// <summary>Records what the live table now holds: its columns (settings plus columns steps added), row count and recipe.</summary>
    public async Task SaveMetadataAsync(int datasetId, IReadOnlyList<ColumnSetting> settings, Recipe recipe, CancellationToken ct)
    {
        await using var metadata = await dbFactory.CreateAsync(ct);
        var dataset = await metadata.Datasets.Include(d => d.Columns).SingleAsync(d => d.Id == datasetId, ct);
        var live = await warehouse.DescribeAsync(dataset.TableName, ct);
        var liveByName = live.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var rows = await warehouse.CountRowsAsync(dataset.TableName, ct);
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
        for (var i = 0; i < columns.Count; i++)
        {
            columns[i].Ordinal = i;
        }

        dataset.Columns.Clear();
        dataset.Columns.AddRange(columns);
        dataset.RowCount = rows;
        dataset.RecipeJson = recipe.Steps.Count == 0 ? null : recipe.ToJson();
        dataset.Kind = DatasetSchemaService.KindFrom(settings);
        dataset.RefreshedAt = clock.GetUtcNow();
        await metadata.SaveChangesAsync(ct);
    }

    /// <summary>The settings a dataset's columns stand for (columns a recipe added are not settings).</summary>
    public static List<ColumnSetting> SettingsOf(Dataset dataset) => dataset.Columns
        .Where(c => dataset.RawTableName is null || c.SourceName is not null)
        .OrderBy(c => c.Ordinal)
        .Select(c => new ColumnSetting(c.SourceName ?? c.Name, c.Name, c.ImportType, c.Role, c.IsExcluded))
        .ToList();
}
