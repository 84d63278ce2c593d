using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// The customer fields analyses add to a dataset (RFM scores, clusters), supplied by the analysis module so that the
/// query layer can offer and join them without depending on it.
/// </summary>
public interface IAnalysisFields
{
    /// <summary>
    /// The analysis fields for <paramref name="dataset"/> (on it or on datasets related to it by the customer key), each
    /// only when <paramref name="readable"/> says the asking user sees every dataset the analysis was computed from.
    /// </summary>
    Task<IReadOnlyList<QueryField>> FieldsForAsync(Dataset dataset, Func<IReadOnlyCollection<int>, Task<bool>> readable, CancellationToken cancellationToken = default);
}
