namespace SegmentPortal.Core.Sharing;

/// <summary>
/// The datasets a dashboard reads, supplied by the dashboards module (which knows its tiles) so that sharing can say who
/// lacks which dataset without depending on it.
/// </summary>
public interface IDashboardDatasets
{
    /// <summary>The datasets a dashboard's tiles read: their own, their metrics' and their segments'.</summary>
    Task<IReadOnlyList<int>> DatasetsOfAsync(int dashboardId, CancellationToken cancellationToken = default);
}
