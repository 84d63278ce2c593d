namespace SegmentPortal.Core.Datasets;

/// <summary>The SQL engine a query runs on: the embedded warehouse, or the database a live dataset stays in.</summary>
public enum SqlEngine
{
    DuckDb,
    PostgreSql,
    SqlServer,
}

/// <summary>
/// Where a live dataset's rows are: a table or view of a connection (<paramref name="Schema"/>, <paramref name="Table"/>)
/// or a validated read-only SELECT (<paramref name="Select"/>). Its queries run in the source, in its dialect.
/// </summary>
/// <param name="CacheMinutes">How long a result may be served from the cache; 0 is "always live".</param>
public sealed record LiveSource(int ConnectionId, SqlEngine Engine, string? Schema, string? Table, string? Select, int CacheMinutes);
