namespace SegmentPortal.Core.Metrics;

/// <summary>What uses a metric.</summary>
public enum MetricUseKind
{
    /// <summary>A dashboard tile (the item is the dashboard).</summary>
    Tile,

    Alert,
}

/// <summary>
/// One place a metric is used: a tile on a dashboard (item = the dashboard, part = the tile), later an alert.
/// <see cref="Visible"/> says whether the current user may open the item; the names of the others are not shown to them.
/// </summary>
public sealed record MetricUse(MetricUseKind Kind, int ItemId, string ItemName, string? PartId, string? PartName, bool Visible);

/// <summary>
/// Supplied by the modules that use metrics (dashboards' tiles, later alerts), so the metrics library can list them on a
/// metric's page and refuse to delete a metric in use, without depending on those modules.
/// </summary>
public interface IMetricUsers
{
    /// <summary>Every use of the metric, whether or not the current user may see the item holding it.</summary>
    Task<IReadOnlyList<MetricUse>> UsesAsync(int metricId, CancellationToken cancellationToken = default);
}
