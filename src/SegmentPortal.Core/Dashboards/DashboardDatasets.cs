using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Sharing;

namespace SegmentPortal.Core.Dashboards;

/// <summary>The datasets a dashboard reads, for sharing's "who lacks which dataset" and public links' checks.</summary>
internal sealed class DashboardDatasets(IPortalDbFactory dbFactory) : IDashboardDatasets
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<int>> DatasetsOfAsync(int dashboardId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await DatasetsOfAsync(db, dashboardId, cancellationToken);
    }

    /// <summary>The datasets a dashboard's tiles read: their own, their metrics' and their segments'.</summary>
    public static async Task<IReadOnlyList<int>> DatasetsOfAsync(IPortalDb db, int dashboardId, CancellationToken cancellationToken)
    {
        var json = await db.Dashboards.AsNoTracking().Where(d => d.Id == dashboardId).Select(d => d.TilesJson).SingleOrDefaultAsync(cancellationToken);
        var tiles = json is null ? [] : DashboardJson.Read<TileDefinition>(json);
        var segmentIds = tiles.SelectMany(t => t.SegmentIds.Append(t.SegmentId ?? 0)).Where(s => s != 0).Distinct().ToList();
        var metricIds = tiles.Where(MetricTiles.ShowsMetric).Select(t => t.MetricId!.Value).Distinct().ToList();
        var fromMetrics = await db.Metrics.AsNoTracking().Where(m => metricIds.Contains(m.Id)).Select(m => new { m.DatasetId, m.SegmentId }).ToListAsync(cancellationToken);
        segmentIds.AddRange(fromMetrics.Select(m => m.SegmentId).OfType<int>());
        var fromSegments = await db.Segments.AsNoTracking().Where(s => segmentIds.Contains(s.Id)).Select(s => s.DatasetId).ToListAsync(cancellationToken);
        return tiles.Select(t => t.DatasetId).OfType<int>().Concat(fromMetrics.Select(m => m.DatasetId)).Concat(fromSegments).Distinct().ToList();
    }
}
