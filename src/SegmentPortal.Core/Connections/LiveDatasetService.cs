using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Connections;

/// <summary>What makes a live dataset: the table, view or SELECT of a connection, a name, roles and freshness.</summary>
/// <param name="CacheMinutes">How long results may be served from the cache; 0 is "always live".</param>
/// <param name="Roles">Roles by column name (unnamed columns get none; Customer ID, date and amount drive segments and facts).</param>
public sealed record LiveDatasetDraft(
    ConnectionSource Source,
    string? Name = null,
    int CacheMinutes = 0,
    DatasetKind Kind = DatasetKind.Table,
    IReadOnlyDictionary<string, FieldRole>? Roles = null);

/// <summary>
/// Live datasets: a table, view or validated SELECT of a PostgreSQL or SQL Server connection that stays in the source.
/// Creating one reads its columns and types from the source (as an import would see them, <see cref="ColumnPlanner"/>);
/// no row is copied. "Refresh" reads the columns again; the freshness setting (<see cref="Dataset.LiveCacheMinutes"/>)
/// says how long query results may be served from the cache. Every query then runs in the source through
/// <see cref="LiveQueryRunner"/>.
/// </summary>
public sealed class LiveDatasetService(
    ICurrentUser currentUser,
    Authorizer access,
    ConnectionService connections,
    IPortalDbFactory dbFactory,
    TimeProvider clock,
    ILogger<LiveDatasetService> logger)
{
    public const int MaxCacheMinutes = 7 * 24 * 60;

    /// <summary>Creates a live dataset over <paramref name="draft"/>'s table, view or SELECT; returns its id.</summary>
    public async Task<int> CreateAsync(int connectionId, LiveDatasetDraft draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        CheckCacheMinutes(draft.CacheMinutes);
        var connection = await connections.GetAsync(connectionId, cancellationToken);
        var engine = EngineOf(connection.Summary.Kind);
        var source = draft.Source;
        if (source.Kind == ConnectionSourceKind.Query)
        {
            source = ConnectionSource.ForQuery(SelectValidator.Validate(source.Query, connection.Summary.Kind));
        }
        else if (string.IsNullOrWhiteSpace(source.Schema))
        {
            source = ConnectionSource.ForTable(engine == SqlEngine.SqlServer ? "dbo" : "public", source.Table ?? "");
        }
        var columns = await ReadColumnsAsync(connectionId, source, cancellationToken);
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var baseName = string.IsNullOrWhiteSpace(draft.Name) ? (source.Table ?? "Query") : draft.Name.Trim();
        var name = baseName;
        for (var n = 2; await db.Datasets.AnyAsync(d => d.Name == name, cancellationToken); n++)
        {
            name = $"{baseName} ({n})";
        }
        var slug = WarehouseNames.Slug(name);
        var dataset = new Dataset
        {
            Name = name,
            // Never a warehouse table: a unique name the warehouse does not hold, so nothing can read it there by mistake.
            TableName = $"live_{slug[..Math.Min(20, slug.Length)].TrimEnd('_')}_{Guid.NewGuid().ToString("N")[..8]}",
            Kind = draft.Kind,
            Status = DatasetStatus.Ready,
            Source = $"Live: {source.Describe()} on {connection.Summary.Name}",
            SourceKind = DatasetSourceKind.Connection,
            Storage = DatasetStorage.Live,
            LiveConnectionId = connectionId,
            LiveEngine = engine,
            LiveSchema = source.Kind == ConnectionSourceKind.Table ? source.Schema : null,
            LiveTable = source.Kind == ConnectionSourceKind.Table ? source.Table : null,
            LiveSelect = source.Kind == ConnectionSourceKind.Query ? source.Query : null,
            LiveCacheMinutes = draft.CacheMinutes,
            OwnerId = user.UserId(),
            CreatedAt = now,
            RefreshedAt = now,
        };
        dataset.Columns.AddRange(ToColumns(columns, draft.Roles));
        dataset.RowCount = await EstimateRowsAsync(connectionId, source, cancellationToken);
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Live dataset {Name} ({Id}) created over {Source} of connection {Connection}", name, dataset.Id, source.Describe(), connectionId);
        return dataset.Id;
    }

    /// <summary>Sets how long a live dataset's results may be cached (0: always live); its owner or an Admin.</summary>
    public async Task SetCacheMinutesAsync(int datasetId, int minutes, CancellationToken cancellationToken = default)
    {
        CheckCacheMinutes(minutes);
        var dataset = await RequireLiveAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var stored = await db.Datasets.SingleAsync(d => d.Id == dataset.Id, cancellationToken);
        stored.LiveCacheMinutes = minutes;
        // A new version: results cached under the old freshness are not served again.
        stored.RefreshedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// A live dataset's refresh: its columns and types read again from the source (roles and names of columns that are
    /// still there kept). The rows are never copied. Changes the dataset's version, so cached results are not served.
    /// </summary>
    public async Task RefreshColumnsAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await RequireLiveAsync(datasetId, cancellationToken);
        var live = dataset.Live!;
        var source = live.Select is { } select ? ConnectionSource.ForQuery(select) : ConnectionSource.ForTable(live.Schema, live.Table!);
        var columns = await ReadColumnsAsync(live.ConnectionId, source, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var stored = await db.Datasets.Include(d => d.Columns).SingleAsync(d => d.Id == dataset.Id, cancellationToken);
        // Columns still there keep their id (column rules are keyed by it), role and place; gone ones are removed.
        var fresh = ToColumns(columns, null).ToList();
        var byName = stored.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        db.DatasetColumns.RemoveRange(stored.Columns.Where(c => fresh.All(f => f.Name != c.Name)));
        var ordinal = 0;
        // Ordinals are unique per dataset: park the kept ones out of the way first.
        foreach (var kept in stored.Columns)
        {
            kept.Ordinal += 100_000;
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var column in fresh)
        {
            if (byName.TryGetValue(column.Name, out var kept))
            {
                kept.Ordinal = ordinal++;
                kept.Type = column.Type;
                kept.ImportType = column.ImportType;
                kept.WarehouseType = column.WarehouseType;
                kept.IsExcluded = column.IsExcluded;
                kept.Role = column.IsExcluded ? FieldRole.None : kept.Role;
            }
            else
            {
                column.Ordinal = ordinal++;
                stored.Columns.Add(column);
            }
        }
        stored.RowCount = await EstimateRowsAsync(live.ConnectionId, source, cancellationToken);
        stored.RefreshedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The source's row count as its catalog reports it (exact for small tables, the planner's estimate for big ones),
    /// for lists; 0 for a SELECT or a view. Previews and overviews count in the source.
    /// </summary>
    private async Task<long> EstimateRowsAsync(int connectionId, ConnectionSource source, CancellationToken cancellationToken)
    {
        if (source.Kind != ConnectionSourceKind.Table)
        {
            return 0;
        }
        var tables = await connections.ListTablesAsync(connectionId, cancellationToken);
        return tables.FirstOrDefault(t => t.Schema == source.Schema && t.Name == source.Table)?.RowCount ?? 0;
    }

    private async Task<Dataset> RequireLiveAsync(int datasetId, CancellationToken cancellationToken)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var dataset = await access.RequireWritableAsync(datasetId, cancellationToken);
        if (dataset.Storage != DatasetStorage.Live)
        {
            throw new PortalException($"{dataset.Name} is imported, not live.");
        }
        return dataset;
    }

    /// <summary>The columns as the source describes them; names must be the source's own (they are quoted into every query).</summary>
    private async Task<IReadOnlyList<SourceColumn>> ReadColumnsAsync(int connectionId, ConnectionSource source, CancellationToken cancellationToken)
    {
        var preview = await connections.PreviewAsync(connectionId, source, 1, cancellationToken);
        if (preview.Columns.Count == 0)
        {
            throw new PortalException("The source has no columns.");
        }
        return preview.Columns;
    }

    private static IEnumerable<DatasetColumn> ToColumns(IReadOnlyList<SourceColumn> columns, IReadOnlyDictionary<string, FieldRole>? roles) =>
        columns.Select((c, i) =>
        {
            var type = DuckDbWarehouse.ToColumnType(c.WarehouseType);
            // An import turns uuid, json, arrays and the like into text as it copies them; in place they are not text
            // (no lower(), min() or comparison with a text value), so a live dataset leaves them out. Cast them to
            // text in a view or the dataset's SELECT to use them.
            var readable = type != ColumnType.Text || IsSourceText(c.SourceType);
            return new DatasetColumn
            {
                Ordinal = i,
                Name = c.Name,
                SourceName = c.Name,
                Type = type,
                ImportType = type,
                WarehouseType = c.SourceType.Length > 0 ? c.SourceType : c.WarehouseType,
                Role = readable ? roles?.GetValueOrDefault(c.Name) ?? FieldRole.None : FieldRole.None,
                IsExcluded = !readable,
            };
        });

    /// <summary>Source types that are text in place (PostgreSQL and SQL Server character types).</summary>
    internal static bool IsSourceText(string sourceType)
    {
        var t = sourceType.Trim().ToLowerInvariant();
        return t is "text" or "name" or "citext" or "bpchar" or "ntext" or "sysname"
            || t.StartsWith("character", StringComparison.Ordinal) || t.StartsWith("varchar", StringComparison.Ordinal)
            || t.StartsWith("char", StringComparison.Ordinal) || t.StartsWith("nvarchar", StringComparison.Ordinal)
            || t.StartsWith("nchar", StringComparison.Ordinal);
    }

    private static SqlEngine EngineOf(ConnectionKind kind) => kind switch
    {
        ConnectionKind.PostgreSql => SqlEngine.PostgreSql,
        ConnectionKind.SqlServer => SqlEngine.SqlServer,
        _ => throw new PortalException("Live datasets need a PostgreSQL or SQL Server connection; import from SQLite files instead."),
    };

    private static void CheckCacheMinutes(int minutes)
    {
        if (minutes is < 0 or > MaxCacheMinutes)
        {
            throw new PortalException($"Cache results for 0 (always live) to {MaxCacheMinutes} minutes.");
        }
    }
}
