using System.Security.Claims;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Alerts;

/// <summary>After a dataset's refresh, makes a due check for every alert reading it (the worker runs them).</summary>
internal sealed class AlertRefreshListener(AlertChecker checker) : IDatasetRefreshListener
{
    public Task DatasetRefreshedAsync(int datasetId, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        checker.EnqueueForDatasetAsync(datasetId, cancellationToken);
}
