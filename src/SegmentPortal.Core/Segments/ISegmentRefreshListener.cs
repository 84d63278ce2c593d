namespace SegmentPortal.Core.Segments;

/// <summary>
/// Told after a segment was recounted and its members stored (a refresh, a save of its rule), by a module that acts on
/// it (syncs send the change). A listener's failure does not fail the refresh.
/// </summary>
public interface ISegmentRefreshListener
{
    Task SegmentRefreshedAsync(int segmentId, CancellationToken cancellationToken);
}
