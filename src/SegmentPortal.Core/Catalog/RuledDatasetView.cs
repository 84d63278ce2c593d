using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Catalog;

/// <summary>Answers <see cref="IRuledDatasetView"/> through the permission policy and the profiler.</summary>
internal sealed class RuledDatasetView(PermissionPolicy policy, DatasetProfiler profiler) : IRuledDatasetView
{
    public async Task<bool> IsRestrictedAsync(Dataset dataset, CancellationToken cancellationToken) =>
        (await policy.DescribeAsync(dataset, cancellationToken)).IsRestricted;

    public async Task<(long Rows, int Columns)> SizeAsSeenAsync(int datasetId, CancellationToken cancellationToken)
    {
        var seen = await profiler.OverviewAsync(datasetId, cancellationToken);
        return (seen.Rows, seen.Columns.Count);
    }
}
