using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Dashboards;

public sealed record DashboardSummary(int Id, string Name, string? Description, string? Owner, int TileCount, DateTimeOffset UpdatedAt, bool CanEdit)
{
    public int? FolderId { get; init; }

    /// <summary>Shared with the current user by someone else (directly or through its folder), rather than their own.</summary>
    public bool SharedWithMe { get; init; }

    public bool CanShare { get; init; }
}

/// <summary>A dashboard as a page shows it: tiles, their places, filters, and what the current user may do with it.</summary>
public sealed record DashboardView(
    int Id,
    string Name,
    string? Description,
    string? OwnerId,
    IReadOnlyList<TileDefinition> Tiles,
    IReadOnlyList<TileLayout> Layout,
    IReadOnlyList<DashboardFilter> Filters,
    int AutoRefreshMinutes,
    bool CanUndoLayout,
    bool CanEdit,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The owner or an Admin: may change who has access and make public links.</summary>
    public bool CanShare { get; init; }

    /// <summary>The current user may export tiles and the board (see <see cref="Authorizer.MayExport"/>).</summary>
    public bool CanExport { get; init; } = true;

    public bool Watermark { get; init; }

    public bool ViewersMayExport { get; init; } = true;

    public int? FolderId { get; init; }

    public TileDefinition Tile(string tileId) =>
        Tiles.FirstOrDefault(t => t.Id == tileId) ?? throw new PortalException("That tile is no longer on this dashboard.");
}

/// <summary>
/// Dashboards: saving, listing and changing them, with every tile checked against the fields its dataset has for the
/// current user (through the permission policy) before it is saved. Reading tiles' data is <see cref="TileDataService"/>'s.
/// </summary>
public sealed class DashboardService(
    ICurrentUser currentUser,
    IPortalDbFactory dbFactory,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    SegmentService segments,
    RfmService rfm,
    ClusteringService clustering,
    Analysis.Churn.ChurnService churn,
    Analysis.Lifetime.LifetimeService lifetime,
    Metrics.MetricService metrics,
    TimeProvider clock)
{
    public const int MaxTiles = 50;

    /// <summary>The automatic refresh intervals offered, in minutes; 0 is off.</summary>
    public static IReadOnlyList<int> RefreshChoices { get; } = [0, 1, 5, 15, 60];

    public async Task<IReadOnlyList<DashboardSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var map = await access.MapAsync(cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await (from d in db.Dashboards.AsNoTracking()
                          join u in db.Users on d.OwnerId equals u.Id into owners
                          from owner in owners.DefaultIfEmpty()
                          select new { Dashboard = d, Owner = owner == null ? null : owner.Email })
            .ToListAsync(cancellationToken);
        return rows.Select(r => (Row: r, Access: map.Dashboard(r.Dashboard.Id, r.Dashboard.OwnerId, r.Dashboard.FolderId)))
            .Where(r => r.Access.CanView)
            .Select(r => new DashboardSummary(r.Row.Dashboard.Id, r.Row.Dashboard.Name, r.Row.Dashboard.Description, r.Row.Owner,
                DashboardJson.Read<TileDefinition>(r.Row.Dashboard.TilesJson).Count, r.Row.Dashboard.UpdatedAt, r.Access.CanEdit)
            {
                FolderId = r.Row.Dashboard.FolderId,
                SharedWithMe = !r.Access.IsOwner && map.SharedWithMe(r.Row.Dashboard.Id, r.Row.Dashboard.FolderId),
                CanShare = r.Access.CanShare,
            })
            .OrderBy(r => r.Name, StringComparer.CurrentCultureIgnoreCase)
            .ToList();
    }

    public async Task<DashboardView> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dashboard = await db.Dashboards.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        var itemAccess = dashboard is null ? ItemAccess.None : (await access.MapAsync(cancellationToken)).Dashboard(dashboard.Id, dashboard.OwnerId, dashboard.FolderId);
        return itemAccess.CanView ? View(user, itemAccess, dashboard!) : throw Missing();
    }

    public async Task<int> CreateAsync(string name, string? description = null, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var dashboard = new Dashboard
        {
            Name = await CheckNameAsync(db, name, user.UserId(), null, cancellationToken),
            Description = CheckDescription(description),
            OwnerId = user.UserId(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Dashboards.Add(dashboard);
        await db.SaveChangesAsync(cancellationToken);
        return dashboard.Id;
    }

    /// <summary>Renames a dashboard and sets its description.</summary>
    public Task<DashboardView> DescribeAsync(int id, string name, string? description, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, async (db, dashboard) =>
        {
            dashboard.Name = await CheckNameAsync(db, name, dashboard.OwnerId, id, cancellationToken);
            dashboard.Description = CheckDescription(description);
        }, cancellationToken);

    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (dashboard, access) = await LoadForEditAsync(db, id, cancellationToken);
        if (!access.CanShare)
        {
            throw new PermissionDeniedException("Only the dashboard's owner or an Admin can delete it.");
        }
        db.Dashboards.Remove(dashboard);
        await db.SaveChangesAsync(cancellationToken);
        // Its shares and links go with it, so a later dashboard with the same id inherits nothing.
        await db.Shares.Where(s => s.Item == SharedItem.Dashboard && s.ItemId == id).ExecuteDeleteAsync(cancellationToken);
        await db.PublicLinks.Where(l => l.DashboardId == id).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Adds a checked tile (an id is given when it has none) at the first free place, or at <paramref name="at"/>.</summary>
    public async Task<DashboardView> AddTileAsync(int id, TileDefinition tile, TileLayout? at = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(tile.Id))
        {
            tile = tile with { Id = Guid.NewGuid().ToString("N")[..12] };
        }
        tile = await ValidateTileAsync(tile, cancellationToken);
        return await ChangeAsync(id, (_, dashboard) =>
        {
            var tiles = DashboardJson.Read<TileDefinition>(dashboard.TilesJson);
            if (tiles.Count >= MaxTiles)
            {
                throw new PortalException($"A dashboard holds at most {MaxTiles} tiles.");
            }
            if (tiles.Any(t => t.Id == tile.Id))
            {
                throw new PortalException("This dashboard already has a tile with that id.");
            }
            var layout = DashboardLayout.Reconcile(DashboardJson.Read<TileLayout>(dashboard.LayoutJson), tiles).ToList();
            var kind = TileKinds.Of(tile.Type);
            var place = at is null ? DashboardLayout.Place(tile.Id, kind.Width, kind.Height, layout) : at with { TileId = tile.Id };
            TileDefinition[] newTiles = [.. tiles, tile];
            TileLayout[] newLayout = [.. layout, place];
            DashboardLayout.Validate(newLayout, newTiles);
            dashboard.TilesJson = DashboardJson.Write(newTiles);
            dashboard.LayoutJson = DashboardJson.Write(newLayout);
            return Task.CompletedTask;
        }, cancellationToken);
    }

    /// <summary>Replaces a tile's definition (same id), keeping its place.</summary>
    public async Task<DashboardView> UpdateTileAsync(int id, TileDefinition tile, CancellationToken cancellationToken = default)
    {
        tile = await ValidateTileAsync(tile, cancellationToken);
        return await ChangeAsync(id, (_, dashboard) =>
        {
            var tiles = DashboardJson.Read<TileDefinition>(dashboard.TilesJson).ToList();
            var index = tiles.FindIndex(t => t.Id == tile.Id);
            if (index < 0)
            {
                throw new PortalException("That tile is no longer on this dashboard.");
            }
            tiles[index] = tile;
            dashboard.TilesJson = DashboardJson.Write(tiles);
            return Task.CompletedTask;
        }, cancellationToken);
    }

    public Task<DashboardView> RemoveTileAsync(int id, string tileId, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, (_, dashboard) =>
        {
            var tiles = DashboardJson.Read<TileDefinition>(dashboard.TilesJson);
            if (tiles.All(t => t.Id != tileId))
            {
                throw new PortalException("That tile is no longer on this dashboard.");
            }
            dashboard.TilesJson = DashboardJson.Write(tiles.Where(t => t.Id != tileId).ToList());
            dashboard.LayoutJson = DashboardJson.Write(DashboardJson.Read<TileLayout>(dashboard.LayoutJson).Where(l => l.TileId != tileId).ToList());
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>Saves where the tiles sit (every tile once, inside the grid, none overlapping); the layout before can be restored once.</summary>
    public Task<DashboardView> SaveLayoutAsync(int id, IReadOnlyList<TileLayout> layout, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, (_, dashboard) =>
        {
            DashboardLayout.Validate(layout, DashboardJson.Read<TileDefinition>(dashboard.TilesJson));
            dashboard.PreviousLayoutJson = dashboard.LayoutJson;
            dashboard.LayoutJson = DashboardJson.Write(layout);
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>Restores the layout before the last saved change (one step; tiles added since are placed in free spots).</summary>
    public Task<DashboardView> UndoLayoutAsync(int id, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, (_, dashboard) =>
        {
            if (dashboard.PreviousLayoutJson is null)
            {
                throw new PortalException("There is no layout change to undo.");
            }
            var tiles = DashboardJson.Read<TileDefinition>(dashboard.TilesJson);
            dashboard.LayoutJson = DashboardJson.Write(DashboardLayout.Reconcile(DashboardJson.Read<TileLayout>(dashboard.PreviousLayoutJson), tiles));
            dashboard.PreviousLayoutJson = null;
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>Saves the dashboard's filters and their selections (which tiles each one narrows: <see cref="TileDataService.CoverageAsync"/>).</summary>
    public Task<DashboardView> SetFiltersAsync(int id, IReadOnlyList<DashboardFilter> filters, CancellationToken cancellationToken = default)
    {
        DashboardFilters.Validate(filters);
        return ChangeAsync(id, (_, dashboard) =>
        {
            dashboard.FiltersJson = DashboardJson.Write(filters);
            return Task.CompletedTask;
        }, cancellationToken);
    }

    public Task<DashboardView> SetAutoRefreshAsync(int id, int minutes, CancellationToken cancellationToken = default)
    {
        if (!RefreshChoices.Contains(minutes))
        {
            throw new PortalException("Refresh every 1, 5, 15 or 60 minutes, or turn automatic refresh off.");
        }
        return ChangeAsync(id, (_, dashboard) =>
        {
            dashboard.AutoRefreshMinutes = minutes;
            return Task.CompletedTask;
        }, cancellationToken);
    }

    /// <summary>Shows the viewer's name and the time across the board, or stops showing it.</summary>
    public Task<DashboardView> SetWatermarkAsync(int id, bool on, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, (_, dashboard) =>
        {
            dashboard.Watermark = on;
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>Lets the people it is shared with as Viewers export tiles and the board, or stops them.</summary>
    public Task<DashboardView> SetViewersMayExportAsync(int id, bool allowed, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, (_, dashboard) =>
        {
            dashboard.ViewersMayExport = allowed;
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>
    /// Checks a tile against what it reads, as the current user may read it, and returns it as it is saved. A tile
    /// showing a metric is checked as it would load with the metric's current definition, and saved without what the
    /// metric decides (read again at each load).
    /// </summary>
    private async Task<TileDefinition> ValidateTileAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        if (tile.MetricId is { } metricId)
        {
            if (!TileKinds.Of(tile.Type).Has(TileTraits.Metric))
            {
                throw new PortalException($"A {TileKinds.Of(tile.Type).Label.ToLowerInvariant()} cannot show a metric; use a KPI card, a bar, line or area chart.");
            }
            var metric = await metrics.FindAsync(metricId, cancellationToken)
                ?? throw new PortalException("That metric does not exist or you do not have access to it.");
            var stored = MetricTiles.Stored(tile);
            if (tile.Type != TileType.Kpi && stored.Dimensions.Count > 1)
            {
                throw new PortalException("A chart of a metric is drawn over the metric's dates, or grouped by one column of your choice.");
            }
            await CheckTileAsync(MetricTiles.Apply(stored, metric, DateOnly.FromDateTime(clock.GetLocalNow().DateTime)), cancellationToken);
            return stored;
        }
        await CheckTileAsync(tile, cancellationToken);
        return tile;
    }

    private async Task CheckTileAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        QueryDataset? dataset = null;
        var kind = TileKinds.Of(tile.Type);
        if (kind.ReadsDataset)
        {
            var stored = await access.RequireReadableAsync(tile.DatasetId ?? throw new PortalException("Choose the dataset the tile reads."), cancellationToken);
            dataset = await policy.DescribeAsync(stored, cancellationToken);
            if (kind.Has(TileTraits.NeedsTransactions) && (await policy.FactSourceAsync(stored, cancellationToken))?.Orders.Id != stored.Id)
            {
                throw new PortalException($"A cohort tile reads a transactions dataset (Customer ID, date and amount roles); {stored.Name} is not one.");
            }
        }
        TileValidator.Validate(tile, dataset);
        if (dataset is not null && !string.IsNullOrWhiteSpace(tile.FilterJson))
        {
            var problems = await queries.CheckAsync(dataset.Id, RuleTree.FromJson(tile.FilterJson).Root, cancellationToken);
            if (problems.Count > 0)
            {
                throw new PortalException($"The tile's filter is not complete: {problems[0].Message}");
            }
        }
        foreach (var segment in tile.SegmentIds.Append(tile.SegmentId ?? 0).Where(s => s != 0).Distinct())
        {
            await segments.GetAsync(segment, cancellationToken);
        }
        switch (kind.Source)
        {
            case TileSource.RfmAnalysis:
                await rfm.GetAsync(tile.SourceId ?? tile.DatasetId!.Value, cancellationToken);
                break;
            case TileSource.ClusteringRun:
                await clustering.GetAsync(tile.SourceId!.Value, cancellationToken);
                break;
            case TileSource.ChurnRun:
                await churn.GetAsync(tile.SourceId!.Value, cancellationToken);
                break;
            case TileSource.LifetimeAnalysis:
                // Refuses a dataset the user cannot read or without customer, date and amount roles.
                await lifetime.GetAsync(tile.SourceId!.Value, cancellationToken);
                break;
            case TileSource.SurvivalAnalysis:
            {
                // Each viewer's own analysis is shown (see TileDataService), so the check is on the dataset: readable, with
                // a customer and a visible date.
                var stored = await access.RequireReadableAsync(tile.SourceId!.Value, cancellationToken);
                if (Analysis.Survival.SurvivalService.SourceOf(await policy.DescribeAsync(stored, cancellationToken)) is null)
                {
                    throw new PortalException($"{stored.Name} needs Customer ID and date roles for survival curves. Set them on the dataset's Columns & roles tab.");
                }
                break;
            }
        }
    }

    /// <summary>Loads a dashboard the user may change, applies a change, stamps and saves it.</summary>
    private async Task<DashboardView> ChangeAsync(int id, Func<IPortalDb, Dashboard, Task> change, CancellationToken cancellationToken)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var (dashboard, access) = await LoadForEditAsync(db, id, cancellationToken);
        await change(db, dashboard);
        dashboard.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return View(user, access, dashboard);
    }

    private async Task<(Dashboard Dashboard, ItemAccess Access)> LoadForEditAsync(IPortalDb db, int id, CancellationToken cancellationToken)
    {
        var dashboard = await db.Dashboards.SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        var itemAccess = dashboard is null ? ItemAccess.None : (await access.MapAsync(cancellationToken)).Dashboard(dashboard.Id, dashboard.OwnerId, dashboard.FolderId);
        if (!itemAccess.CanView)
        {
            throw Missing();
        }
        return itemAccess.CanEdit ? (dashboard!, itemAccess) : throw new PermissionDeniedException("Only the dashboard's owner, its Editors or an Admin can change it.");
    }

    private static DashboardView View(ClaimsPrincipal user, ItemAccess access, Dashboard dashboard)
    {
        var tiles = DashboardJson.Read<TileDefinition>(dashboard.TilesJson);
        return new DashboardView(dashboard.Id, dashboard.Name, dashboard.Description, dashboard.OwnerId, tiles,
            DashboardLayout.Reconcile(DashboardJson.Read<TileLayout>(dashboard.LayoutJson), tiles), DashboardJson.Read<DashboardFilter>(dashboard.FiltersJson),
            dashboard.AutoRefreshMinutes, dashboard.PreviousLayoutJson is not null, access.CanEdit, dashboard.UpdatedAt)
        {
            CanShare = access.CanShare,
            CanExport = Authorizer.MayExport(user, access, dashboard.ViewersMayExport),
            Watermark = dashboard.Watermark,
            ViewersMayExport = dashboard.ViewersMayExport,
            FolderId = dashboard.FolderId,
        };
    }

    private static PortalException Missing() => new("That dashboard does not exist or you do not have access to it.");

    /// <summary>
    /// A dashboard's name is unique among its owner's dashboards only, so saving never tells anyone whether another
    /// user has a (private) board of that name.
    /// </summary>
    private async Task<string> CheckNameAsync(IPortalDb db, string name, string? ownerId, int? except, CancellationToken cancellationToken)
    {
        var clean = name.Trim();
        if (clean.Length == 0)
        {
            throw new PortalException("Give the dashboard a name.");
        }
        if (clean.Length > 200)
        {
            throw new PortalException("A dashboard name has at most 200 characters.");
        }
        var taken = await db.Dashboards.Where(d => d.OwnerId == ownerId && d.Id != except).Select(d => d.Name).ToListAsync(cancellationToken);
        if (UniqueNames.IsTaken(clean, taken))
        {
            throw new PortalException(UniqueNames.TakenMessage("dashboard", clean,
                ownerId == (await currentUser.GetPrincipalAsync()).UserId() ? "You" : "Its owner"));
        }
        return clean;
    }

    private static string? CheckDescription(string? description) =>
        string.IsNullOrWhiteSpace(description) ? null
        : description.Trim().Length <= 2000 ? description.Trim() : throw new PortalException("A description has at most 2,000 characters.");
}
