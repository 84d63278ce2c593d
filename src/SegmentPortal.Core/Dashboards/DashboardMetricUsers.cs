using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// The dashboard tiles that show a metric, for the metric's page ("used by") and so the metrics library refuses to
/// delete a metric a tile still shows. A board the current user may not open is counted without its name.
/// </summary>
internal sealed class DashboardMetricUsers(IPortalDbFactory dbFactory, Authorizer access) : IMetricUsers
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<MetricUse>> UsesAsync(int metricId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        // Only boards whose tiles name a metric at all are read in full.
        var boards = await db.Dashboards.AsNoTracking().Where(d => d.TilesJson.Contains("\"metricId\""))
            .Select(d => new { d.Id, d.Name, d.OwnerId, d.FolderId, d.TilesJson })
            .ToListAsync(cancellationToken);
        if (boards.Count == 0)
        {
            return [];
        }
        var map = await access.MapAsync(cancellationToken);
        var uses = new List<MetricUse>();
        foreach (var board in boards.OrderBy(b => b.Name, StringComparer.CurrentCultureIgnoreCase).ThenBy(b => b.Id))
        {
            IReadOnlyList<TileDefinition> tiles;
            try
            {
                tiles = DashboardJson.Read<TileDefinition>(board.TilesJson);
            }
            catch (PortalException)
            {
                continue;
            }
            var visible = map.Dashboard(board.Id, board.OwnerId, board.FolderId).CanView;
            uses.AddRange(tiles.Where(t => t.MetricId == metricId && MetricTiles.ShowsMetric(t))
                .Select(t => new MetricUse(MetricUseKind.Tile, board.Id, board.Name, t.Id,
                    string.IsNullOrWhiteSpace(t.Title) ? TileKinds.Of(t.Type).Label : t.Title, visible)));
        }
        return uses;
    }
}
