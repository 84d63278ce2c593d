using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Datasets;

public sealed record DatasetSummary(int Id, string Name, DatasetKind Kind, string Source, long RowCount, int ColumnCount, DateTimeOffset RefreshedAt);

public sealed record PortalOverview(int DatasetCount, long? CustomerCount, long TotalRows);

/// <summary>The register of datasets: what tables the warehouse holds and what they look like.</summary>
public sealed class DatasetCatalog(IPortalDbFactory dbFactory, DuckDbWarehouse warehouse, ICurrentUser currentUser, TimeProvider clock)
{
    public async Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Datasets.AsNoTracking()
            .OrderBy(d => d.Name)
            .Select(d => new DatasetSummary(d.Id, d.Name, d.Kind, d.Source, d.RowCount, d.Columns.Count, d.RefreshedAt))
            .ToListAsync(cancellationToken);
    }

    public async Task<Dataset?> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Datasets.AsNoTracking()
            .Include(d => d.Columns.OrderBy(c => c.Ordinal))
            .SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
    }

    /// <summary>Counts for the home page. Customers are the rows of the newest customer dataset.</summary>
    public async Task<PortalOverview> GetOverviewAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var datasets = await db.Datasets.AsNoTracking()
            .Select(d => new { d.Kind, d.RowCount, d.RefreshedAt })
            .ToListAsync(cancellationToken);
        var customers = datasets.Where(d => d.Kind == DatasetKind.Customers)
            .OrderByDescending(d => d.RefreshedAt)
            .Select(d => (long?)d.RowCount)
            .FirstOrDefault();
        return new PortalOverview(datasets.Count, customers, datasets.Sum(d => d.RowCount));
    }

    /// <summary>
    /// Records (or refreshes) the metadata of a warehouse table: its columns as the warehouse reports them and its
    /// row count. Called by whatever just wrote the table.
    /// </summary>
    public async Task<Dataset> RegisterAsync(DatasetRegistration registration, CancellationToken cancellationToken = default)
    {
        var columns = await warehouse.DescribeAsync(registration.TableName, cancellationToken);
        if (columns.Count == 0)
        {
            throw new InvalidOperationException($"The warehouse has no table '{registration.TableName}'.");
        }
        var rows = await warehouse.CountRowsAsync(registration.TableName, cancellationToken);
        var now = clock.GetUtcNow();

        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.Include(d => d.Columns)
            .SingleOrDefaultAsync(d => d.TableName == registration.TableName, cancellationToken);
        if (dataset is null)
        {
            dataset = new Dataset
            {
                Name = registration.Name,
                TableName = registration.TableName,
                Source = registration.Source,
                OwnerId = registration.OwnerId,
                CreatedAt = now,
            };
            db.Datasets.Add(dataset);
        }
        dataset.Name = registration.Name;
        dataset.Kind = registration.Kind;
        dataset.Description = registration.Description;
        dataset.Source = registration.Source;
        dataset.RowCount = rows;
        dataset.RefreshedAt = now;
        dataset.Columns.Clear();
        dataset.Columns.AddRange(columns.Select((c, i) => new DatasetColumn
        {
            Ordinal = i,
            Name = c.Name,
            Type = c.Type,
            WarehouseType = c.WarehouseType,
        }));
        await db.SaveChangesAsync(cancellationToken);
        return dataset;
    }
}

public sealed record DatasetRegistration(
    string Name,
    string TableName,
    DatasetKind Kind,
    string Source,
    string? Description = null,
    string? OwnerId = null);
