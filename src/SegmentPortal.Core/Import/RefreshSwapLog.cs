using DuckDB.NET.Data;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Import;

/// <summary>
/// A note in the warehouse, written by the same transaction that swaps a new version of a dataset in, that refresh N
/// reached the warehouse. The metadata store is updated just after that transaction; a process killed between the two
/// leaves a new version live while its refresh still reads "unfinished". On start, <see cref="Jobs.JobRecovery"/> reads
/// these notes to tell such a refresh (finished in the warehouse: its metadata is completed) from one that never
/// swapped (the previous version is still live), then removes them.
/// </summary>
internal static class RefreshSwapLog
{
    private const string Table = "portal_refresh_swaps";

    /// <summary>Records that <paramref name="refreshId"/>'s tables are being swapped in; call inside the swap's transaction.</summary>
    public static async Task RecordAsync(DuckDBConnection connection, int refreshId, CancellationToken cancellationToken)
    {
        await WarehouseCommand.ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {Table} (refresh_id INTEGER PRIMARY KEY)", null, cancellationToken);
        await WarehouseCommand.ExecuteAsync(connection, $"INSERT OR IGNORE INTO {Table} VALUES ($refresh)",
            new Dictionary<string, object?> { ["refresh"] = refreshId }, cancellationToken);
    }

    /// <summary>The refreshes whose swap was committed, as far as the log (since the last start) knows.</summary>
    public static async Task<IReadOnlySet<int>> SwappedAsync(DuckDBConnection connection, CancellationToken cancellationToken)
    {
        if (await DuckDbWarehouse.RelationTypeAsync(connection, Table, cancellationToken) is null)
        {
            return new HashSet<int>();
        }
        return (await WarehouseCommand.QueryAsync(connection, $"SELECT refresh_id FROM {Table}", null, r => r.GetInt32(0), cancellationToken)).ToHashSet();
    }

    /// <summary>Forgets every note; on start, when no refresh is under way.</summary>
    public static Task ClearAsync(DuckDBConnection connection, CancellationToken cancellationToken) =>
        WarehouseCommand.ExecuteAsync(connection, $"DROP TABLE IF EXISTS {Table}", null, cancellationToken);
}
