namespace SegmentPortal.Core.Datasets;

/// <summary>
/// A dataset as the current user sees it under their row and column rules. The query layer answers (it reads through
/// the rules); the catalog asks, so it needs neither that layer nor the container to list datasets and their history.
/// </summary>
public interface IRuledDatasetView
{
    /// <summary>Whether row or column rules limit what the current user sees of <paramref name="dataset"/>.</summary>
    Task<bool> IsRestrictedAsync(Dataset dataset, CancellationToken cancellationToken);

    /// <summary>The rows (counted live) and columns of the dataset the current user sees.</summary>
    Task<(long Rows, int Columns)> SizeAsSeenAsync(int datasetId, CancellationToken cancellationToken);
}
