using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Catalog;

public sealed record DatasetSummary(int Id, string Name, DatasetKind Kind, string Source, long RowCount, int ColumnCount, DateTimeOffset RefreshedAt,
    DatasetStatus Status = DatasetStatus.Ready);

/// <summary>A dataset's imports and refreshes as the user may see them, and why their row counts are left out when they are.</summary>
public sealed record DatasetHistory(IReadOnlyList<DatasetRefresh> Refreshes, string? Notice);

public sealed record PortalOverview(int DatasetCount, long? CustomerCount, long TotalRows);

/// <summary>The register of datasets: what tables the warehouse holds and what they look like.</summary>
/// <remarks>
/// <paramref name="ruled"/> is only needed for datasets with data rules; a host that registers the catalog without the
/// query layer (a page test with no rules) may leave it out, and then a dataset with rules is refused rather than
/// shown whole.
/// </remarks>
public sealed class DatasetCatalog(
    IPortalDbFactory dbFactory, DuckDbWarehouse warehouse, ICurrentUser currentUser, Authorizer access, TimeProvider clock,
    IRuledDatasetView? ruled = null)
{
    private IRuledDatasetView Ruled => ruled
        ?? throw new InvalidOperationException($"No {nameof(IRuledDatasetView)} is registered: datasets with data rules cannot be described.");

    /// <summary>The datasets the current user may use.</summary>
    public async Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var all = await db.Datasets.AsNoTracking()
            .OrderBy(d => d.Name)
            .Select(d => new { Summary = new DatasetSummary(d.Id, d.Name, d.Kind, d.Source, d.RowCount, d.Columns.Count(c => !c.IsExcluded), d.RefreshedAt, d.Status), d.OwnerId })
            .ToListAsync(cancellationToken);
        var readable = await access.ReadableAsync(all.Select(d => d.Summary.Id).ToList(), all.ToDictionary(d => d.Summary.Id, d => d.OwnerId), cancellationToken);
        var ruled = (await db.RowRules.Select(r => r.DatasetId).Distinct().ToListAsync(cancellationToken))
            .Concat(await db.ColumnRules.Select(r => r.DatasetId).Distinct().ToListAsync(cancellationToken)).ToHashSet();
        var result = new List<DatasetSummary>();
        foreach (var summary in all.Where(d => readable.Contains(d.Summary.Id)).Select(d => d.Summary))
        {
            result.Add(summary.Status == DatasetStatus.Ready && ruled.Contains(summary.Id) ? await AsSeenAsync(summary, cancellationToken) : summary);
        }
        return result;
    }

    /// <summary>Under data rules a dataset's size is what the user may see: their rows (counted live) and their columns.</summary>
    private async Task<DatasetSummary> AsSeenAsync(DatasetSummary summary, CancellationToken cancellationToken)
    {
        var (rows, columns) = await Ruled.SizeAsSeenAsync(summary.Id, cancellationToken);
        return summary with { RowCount = rows, ColumnCount = columns };
    }

    public async Task<Dataset?> GetAsync(int id, CancellationToken cancellationToken = default) =>
        await access.FindReadableAsync(id, cancellationToken);

    /// <summary>Counts for the home page. Customers are the rows of the newest customer dataset.</summary>
    public async Task<PortalOverview> GetOverviewAsync(CancellationToken cancellationToken = default)
    {
        var datasets = await ListAsync(cancellationToken);
        var customers = datasets.Where(d => d.Kind == DatasetKind.Customers && d.Status == DatasetStatus.Ready)
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
        dataset.Status = DatasetStatus.Ready;
        dataset.Description = registration.Description;
        dataset.Source = registration.Source;
        dataset.SourceKind = registration.SourceKind;
        dataset.RowCount = rows;
        dataset.RefreshedAt = now;

        // Roles the user set survive a refresh of the same columns; the registration's own roles fill the rest.
        var previousRoles = dataset.Columns.ToDictionary(c => c.Name, c => c.Role, StringComparer.Ordinal);
        dataset.Columns.Clear();
        dataset.Columns.AddRange(columns.Select((c, i) => new DatasetColumn
        {
            Ordinal = i,
            Name = c.Name,
            Type = c.Type,
            ImportType = c.Type,
            WarehouseType = c.WarehouseType,
            Role = previousRoles.TryGetValue(c.Name, out var kept) && kept != FieldRole.None
                ? kept
                : registration.Roles?.GetValueOrDefault(c.Name) ?? FieldRole.None,
        }));
        await db.SaveChangesAsync(cancellationToken);
        return dataset;
    }
    /// <summary>
    /// The dataset's imports and refreshes, newest first. Their row counts are of the whole dataset: a user with row or
    /// column rules on it gets them without counts (<see cref="DatasetHistory.Notice"/> says why).
    /// </summary>
    public async Task<DatasetHistory> HistoryAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var history = (await db.DatasetRefreshes.AsNoTracking().Where(r => r.DatasetId == datasetId).ToListAsync(cancellationToken))
            .OrderByDescending(r => r.StartedAt).Take(100).ToList();
        if (!await Ruled.IsRestrictedAsync(dataset, cancellationToken))
        {
            return new DatasetHistory(history, null);
        }
        foreach (var refresh in history)
        {
            refresh.RowCount = null;
        }
        return new DatasetHistory(history, HistoryCountsHidden);
    }

    /// <summary>Why a user with data rules sees the import history without row counts.</summary>
    public const string HistoryCountsHidden =
        "Row counts are left out: each counts every row of the dataset at that import, and your data rules let you see only some of them.";

    /// <summary>Relates a column of one dataset to a key of another (orders.customer_id → customers.id); replaces the column's previous link.</summary>
    public async Task RelateAsync(int fromDatasetId, string fromColumn, int toDatasetId, string toColumn, CancellationToken cancellationToken = default)
    {
        await access.RequireWritableAsync(fromDatasetId, cancellationToken);
        await access.RequireReadableAsync(toDatasetId, cancellationToken);
        await RelateUncheckedAsync(fromDatasetId, fromColumn, toDatasetId, toColumn, cancellationToken);
    }

    /// <summary>Relates two datasets the portal itself just registered (demo data): no user is changing someone's dataset.</summary>
    internal async Task RelateUncheckedAsync(int fromDatasetId, string fromColumn, int toDatasetId, string toColumn, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await RequireColumnAsync(db, fromDatasetId, fromColumn, cancellationToken);
        await RequireColumnAsync(db, toDatasetId, toColumn, cancellationToken);
        if (fromDatasetId == toDatasetId)
        {
            throw new PortalException("Relate a dataset to another dataset, not to itself.");
        }
        var existing = await db.DatasetRelationships
            .SingleOrDefaultAsync(r => r.FromDatasetId == fromDatasetId && r.FromColumn == fromColumn, cancellationToken);
        if (existing is null)
        {
            db.DatasetRelationships.Add(new DatasetRelationship
            {
                FromDatasetId = fromDatasetId, FromColumn = fromColumn, ToDatasetId = toDatasetId, ToColumn = toColumn,
            });
        }
        else
        {
            existing.ToDatasetId = toDatasetId;
            existing.ToColumn = toColumn;
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DatasetRelation>> RelationsAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await access.RequireReadableAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await (from r in db.DatasetRelationships.AsNoTracking()
                      join d in db.Datasets on r.ToDatasetId equals d.Id
                      where r.FromDatasetId == datasetId
                      select new DatasetRelation(r.Id, r.FromDatasetId, r.FromColumn, r.ToDatasetId, d.Name, r.ToColumn))
            .ToListAsync(cancellationToken);
    }

    private static async Task RequireColumnAsync(IPortalDb db, int datasetId, string column, CancellationToken cancellationToken)
    {
        if (!await db.DatasetColumns.AnyAsync(c => c.DatasetId == datasetId && c.Name == column, cancellationToken))
        {
            throw new PortalException($"Dataset {datasetId} has no column '{column}'.");
        }
    }
}

public sealed record DatasetRelation(int Id, int FromDatasetId, string FromColumn, int ToDatasetId, string ToDatasetName, string ToColumn);

public sealed record DatasetRegistration(
    string Name,
    string TableName,
    DatasetKind Kind,
    string Source,
    string? Description = null,
    string? OwnerId = null,
    DatasetSourceKind SourceKind = DatasetSourceKind.File,
    IReadOnlyDictionary<string, FieldRole>? Roles = null);
