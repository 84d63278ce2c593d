using System.Security.Claims;

namespace SegmentPortal.Core.Datasets;

/// <summary>
/// Told after a dataset's rows were replaced by a refresh, to bring derived results up to date (clusters assigned by a
/// saved model). A listener's failure is logged and does not fail the refresh.
/// </summary>
internal interface IDatasetRefreshListener
{
    Task DatasetRefreshedAsync(int datasetId, ClaimsPrincipal user, CancellationToken cancellationToken);
}
