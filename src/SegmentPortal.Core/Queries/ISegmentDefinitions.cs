namespace SegmentPortal.Core.Queries;

/// <summary>A saved segment as a rule that names it ("in segment") needs it: its owner, its dataset and its rule (JSON).</summary>
public sealed record SegmentDefinition(int Id, string Name, string? OwnerId, int DatasetId, string RuleJson);

/// <summary>
/// The saved segments, supplied by the segments module (which owns them) so that the query layer can resolve
/// "in segment" conditions without depending on it.
/// </summary>
public interface ISegmentDefinitions
{
    /// <summary>The segments among <paramref name="ids"/> that exist; no permission is checked here.</summary>
    Task<IReadOnlyList<SegmentDefinition>> FindAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken);
}
