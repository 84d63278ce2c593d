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

    /// <summary>
    /// Whether the source's own constraints make a live table's column a key: a value on every row, no two alike (a
    /// primary key, or a unique index of that column alone on a NOT NULL column). False for a SELECT or where unknown.
    /// </summary>
    Task<bool> IsUniqueKeyAsync(LiveSource source, string column, CancellationToken cancellationToken);
}

