using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// Runs a compiled query in a live dataset's database (implemented by the Connections module): in a read-only
/// session, with the connection's statement timeout and cap on concurrent queries, and cancelling the server's query
/// when <paramref name="cancellationToken"/> fires. The SQL is already in the source's dialect; its parameters are
/// bound by name. Errors reach the caller as <see cref="PortalException"/>s with a message for people.
/// </summary>
public interface ILiveQueryRunner
{
    Task<IReadOnlyList<object?[]>> QueryAsync(
        LiveSource source, string sql, IReadOnlyDictionary<string, object?> parameters, CancellationToken cancellationToken);
}

