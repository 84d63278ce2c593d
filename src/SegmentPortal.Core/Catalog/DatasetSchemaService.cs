using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Catalog;

/// <summary>
/// What the user tells the portal about a dataset's columns: names, types, which to leave out, and their roles.
/// Changes rebuild the live table from the raw import (swapped in atomically), so nothing is lost and any change can be undone.
/// </summary>
public sealed class DatasetSchemaService(Authorizer access, DuckDbWarehouse warehouse, DatasetRebuilder rebuilder)
{
    private static readonly FieldRole[] SingleRoles = [FieldRole.CustomerId, FieldRole.EventDate, FieldRole.Amount, FieldRole.Quantity, FieldRole.OrderId];

    /// <summary>How many present values of <paramref name="sourceColumn"/> would become empty as <paramref name="type"/>.</summary>
    public async Task<long> CountUnconvertibleAsync(int datasetId, string sourceColumn, ColumnType type, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireWritableAsync(datasetId, cancellationToken);
        if (dataset.Storage == DatasetStorage.Live)
        {
            throw new PortalException($"{dataset.Name} is live: its column types are the source's own.");
        }
        var table = dataset.RawTableName ?? dataset.TableName;
        await using var db = await warehouse.OpenAsync(cancellationToken);
        var column = (await DuckDbWarehouse.DescribeAsync(db, table, cancellationToken)).SingleOrDefault(c => c.Name == sourceColumn)
            ?? throw new PortalException($"{dataset.Name} has no column \"{sourceColumn}\".");
        return column.Type == type ? 0 : await LiveTableBuilder.CountUnconvertibleAsync(db, table, column, type, cancellationToken);
    }

    public async Task<Dataset> SaveColumnsAsync(int datasetId, IReadOnlyList<ColumnSetting> settings, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireWritableAsync(datasetId, cancellationToken);
        var current = DatasetRebuilder.SettingsOf(dataset);
        Validate(dataset, current, settings);
        var recipe = Recipe.FromJson(dataset.RecipeJson);
        if (StructureChanged(current, settings))
        {
            await rebuilder.RebuildAsync(dataset, settings, recipe, cancellationToken);
        }
        else
        {
            await rebuilder.SaveMetadataAsync(dataset.Id, settings, recipe, cancellationToken);
        }
        return await access.RequireReadableAsync(datasetId, cancellationToken);
    }

    /// <summary>A dataset with a customer, a date and an amount is a transaction log; with only a customer, a customer list.</summary>
    public static DatasetKind KindFrom(IReadOnlyList<ColumnSetting> settings)
    {
        bool Has(FieldRole role) => settings.Any(s => !s.IsExcluded && s.Role == role);
        return Has(FieldRole.CustomerId) && Has(FieldRole.EventDate) && Has(FieldRole.Amount) ? DatasetKind.Transactions
            : Has(FieldRole.CustomerId) ? DatasetKind.Customers
            : DatasetKind.Table;
    }

    private static void Validate(Dataset dataset, IReadOnlyList<ColumnSetting> current, IReadOnlyList<ColumnSetting> settings)
    {
        var sources = current.Select(c => c.SourceName).ToList();
        if (!settings.Select(s => s.SourceName).Order(StringComparer.Ordinal).SequenceEqual(sources.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            throw new PortalException("The columns changed since this page was opened. Reload it and try again.");
        }
        foreach (var s in settings)
        {
            var name = s.Name.Trim();
            if (name.Length == 0)
            {
                throw new PortalException($"Give the column \"{s.SourceName}\" a name.");
            }
            if (name.Length > 120)
            {
                throw new PortalException($"\"{name[..30]}…\" is too long for a column name (120 characters at most).");
            }
            if (s.IsExcluded && s.Role != FieldRole.None)
            {
                throw new PortalException($"\"{name}\" is left out, so it cannot be the {RoleName(s.Role)}.");
            }
        }
        var included = settings.Where(s => !s.IsExcluded).ToList();
        if (included.Count == 0)
        {
            throw new PortalException("Keep at least one column.");
        }
        var duplicate = included.GroupBy(s => s.Name.Trim(), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new PortalException($"Two columns are called \"{duplicate.Key}\"; give each column its own name.");
        }
        foreach (var role in SingleRoles)
        {
            var holders = included.Where(s => s.Role == role).Select(s => s.Name.Trim()).ToList();
            if (holders.Count > 1)
            {
                throw new PortalException($"Only one column can be the {RoleName(role)} (now: {string.Join(", ", holders)}).");
            }
        }
        if (dataset.Storage == DatasetStorage.Live && StructureChanged(current, settings))
        {
            throw new PortalException(
                $"{dataset.Name} is live: its columns are the source's own, so only their roles can change here. Rename or leave out columns in a view or in the dataset's SELECT.");
        }
        if (dataset.RawTableName is null && StructureChanged(current, settings))
        {
            throw new PortalException($"{dataset.Name} has no raw copy to rebuild from, so only column roles can change.");
        }
    }

    private static bool StructureChanged(IReadOnlyList<ColumnSetting> current, IReadOnlyList<ColumnSetting> settings)
    {
        var bySource = current.ToDictionary(c => c.SourceName, StringComparer.Ordinal);
        return settings.Any(s =>
        {
            var c = bySource[s.SourceName];
            return c.Name != s.Name.Trim() || c.Type != s.Type || c.IsExcluded != s.IsExcluded;
        }) || !settings.Select(s => s.SourceName).SequenceEqual(current.Select(c => c.SourceName));
    }

    public static string RoleName(FieldRole role) => role switch
    {
        FieldRole.CustomerId => "Customer ID",
        FieldRole.EventDate => "order/event date",
        FieldRole.Amount => "amount",
        FieldRole.Quantity => "quantity",
        FieldRole.Dimension => "dimension",
        FieldRole.Measure => "measure",
        FieldRole.OrderId => "order number",
        _ => "nothing in particular",
    };
}
