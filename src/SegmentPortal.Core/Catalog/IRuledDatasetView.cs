using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Catalog;

/// <summary>
/// A dataset as the current user sees it under their row and column rules. <see cref="RuledDatasetView"/> answers
/// through the query layer (it reads through the rules); the catalog asks through this, so a host without the query
/// layer (a page test) can still list datasets and their history.
/// </summary>
public interface IRuledDatasetView
{
    /// <summary>Whether row or column rules limit what the current user sees of <paramref name="dataset"/>.</summary>
    Task<bool> IsRestrictedAsync(Dataset dataset, CancellationToken cancellationToken);

    /// <summary>The rows (counted live) and columns of the dataset the current user sees.</summary>
    Task<(long Rows, int Columns)> SizeAsSeenAsync(int datasetId, CancellationToken cancellationToken);
}
