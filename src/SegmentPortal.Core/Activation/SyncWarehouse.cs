using System.Globalization;
using DuckDB.NET.Data;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Activation;

/// <summary>A column a sync sends, as the destination stores it: a number or text.</summary>
internal sealed record SyncColumn(string Name, bool IsNumber);

/// <summary>One member as a sync sends it: the customer key and the chosen columns' values (double, text or null).</summary>
internal sealed record SyncMember(string Key, object?[] Values);

/// <summary>
/// The portal's own warehouse tables behind syncs (never datasets, never read by the query layer): per sync the set of
/// members last delivered successfully (<c>portal_sync_delivered</c>) and its version (<c>portal_sync_state</c>), and
/// during a run the members to send now (<c>portal_sync_current_N</c>) with who entered and who left.
/// </summary>
internal sealed class SyncWarehouse(SegmentStore segments)
{
    private const string Delivered = "portal_sync_delivered";
    private const string State = "portal_sync_state";
    private readonly SemaphoreSlim _create = new(1, 1);
    private bool _created;

    public static string CurrentTable(int syncId) => string.Create(CultureInfo.InvariantCulture, $"portal_sync_current_{syncId}");

    /// <summary>Where a run's entered members are: all current members for a full sync, otherwise the entered table.</summary>
    public static string EnteredSource(int syncId, bool full) => full ? CurrentTable(syncId) : EnteredTable(syncId);

    public static string EnteredTable(int syncId) => string.Create(CultureInfo.InvariantCulture, $"portal_sync_entered_{syncId}");

    public static string LeftTable(int syncId) => string.Create(CultureInfo.InvariantCulture, $"portal_sync_left_{syncId}");

    /// <summary>A connection on which the sync tables and the segments' member table exist.</summary>
    public async Task<DuckDBConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var db = await segments.OpenStoreAsync(cancellationToken);
        if (!_created)
        {
            await _create.WaitAsync(cancellationToken);
            try
            {
                await WarehouseCommand.ExecuteAsync(db, $"CREATE TABLE IF NOT EXISTS {Delivered} (sync_id INTEGER NOT NULL, member VARCHAR NOT NULL)", null, cancellationToken);
                await WarehouseCommand.ExecuteAsync(db, $"CREATE TABLE IF NOT EXISTS {State} (sync_id INTEGER NOT NULL, version BIGINT NOT NULL, delivered_at TIMESTAMPTZ NOT NULL)", null, cancellationToken);
                _created = true;
            }
            finally
            {
                _create.Release();
            }
        }
        return db;
    }

    /// <summary>How many successful deliveries the sync has had (0: the next is a full sync).</summary>
    public static async Task<long> VersionAsync(DuckDBConnection db, int syncId, CancellationToken cancellationToken)
    {
        var rows = await WarehouseCommand.QueryAsync(db, $"SELECT max(version) FROM {State} WHERE sync_id = $sync",
            Id(syncId), r => r.IsDBNull(0) ? 0L : r.GetInt64(0), cancellationToken);
        return rows.Count == 0 ? 0 : rows[0];
    }

    /// <summary>The table the members read now are appended to: member, then one column per chosen column.</summary>
    public static async Task CreateCurrentAsync(DuckDBConnection db, int syncId, IReadOnlyList<SyncColumn> columns, CancellationToken cancellationToken)
    {
        var definitions = string.Concat(columns.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $", c{i} {(c.IsNumber ? "DOUBLE" : "VARCHAR")}")));
        await WarehouseCommand.ExecuteAsync(db, $"CREATE OR REPLACE TABLE {CurrentTable(syncId)} (member VARCHAR NOT NULL{definitions})", null, cancellationToken);
    }

    /// <summary>
    /// Keeps of the appended rows (one per customer, from the query layer) only the segment's stored members (its last refresh), then works out
    /// who entered and who left since the last successful delivery. Returns the counts and a fingerprint of the change.
    /// </summary>
    public static async Task<SyncChange> CompareAsync(DuckDBConnection db, int syncId, int segmentId, bool full, bool fingerprint, CancellationToken cancellationToken)
    {
        var current = CurrentTable(syncId);
        // Of the rows read, only the segment's stored members stay (usually all of them: nothing to delete).
        await WarehouseCommand.ExecuteAsync(db,
            $"DELETE FROM {current} WHERE member NOT IN (SELECT member FROM {SegmentStore.MembersTable} WHERE segment_id = $segment)",
            new Dictionary<string, object?> { ["segment"] = segmentId }, cancellationToken);
        var entered = EnteredTable(syncId);
        var left = LeftTable(syncId);
        if (full)
        {
            // Everyone entered: the current table is read as it is (EnteredSource).
            await WarehouseCommand.ExecuteAsync(db, $"DROP TABLE IF EXISTS {entered}", null, cancellationToken);
            await WarehouseCommand.ExecuteAsync(db, $"CREATE OR REPLACE TABLE {left} (member VARCHAR NOT NULL)", null, cancellationToken);
        }
        else
        {
            await WarehouseCommand.ExecuteAsync(db,
                $"CREATE OR REPLACE TABLE {entered} AS SELECT * FROM {current} c WHERE c.member NOT IN (SELECT member FROM {Delivered} WHERE sync_id = $sync)",
                Id(syncId), cancellationToken);
            await WarehouseCommand.ExecuteAsync(db,
                $"CREATE OR REPLACE TABLE {left} AS SELECT DISTINCT member FROM {Delivered} d WHERE d.sync_id = $sync AND d.member NOT IN (SELECT member FROM {current})",
                Id(syncId), cancellationToken);
        }
        var counts = await WarehouseCommand.QueryAsync(db,
            $"SELECT (SELECT count(*) FROM {current}), (SELECT count(*) FROM {EnteredSource(syncId, full)}), (SELECT count(*) FROM {left}), " +
            (fingerprint
                ? $"md5(coalesce((SELECT string_agg(member, chr(10) ORDER BY member) FROM {EnteredSource(syncId, full)}), '') || '|' || coalesce((SELECT string_agg(member, chr(10) ORDER BY member) FROM {left}), ''))"
                : "''"),
            null, r => new SyncChange(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3)), cancellationToken);
        return counts[0];
    }

    /// <summary>The members who entered (all members for a full sync), with their values; by key when <paramref name="ordered"/>.</summary>
    public static IEnumerable<SyncMember> Entered(DuckDBConnection db, int syncId, bool full, int columnCount, bool ordered = true)
    {
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT * FROM {EnteredSource(syncId, full)}{(ordered ? " ORDER BY member" : "")}";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var values = new object?[columnCount];
            for (var i = 0; i < columnCount; i++)
            {
                values[i] = reader.IsDBNull(i + 1) ? null : reader.GetValue(i + 1);
            }
            yield return new SyncMember(reader.GetString(0), values);
        }
    }

    /// <summary>The keys of those who left; in order when <paramref name="ordered"/>.</summary>
    public static IEnumerable<string> Left(DuckDBConnection db, int syncId, bool ordered = true)
    {
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT member FROM {LeftTable(syncId)}{(ordered ? " ORDER BY member" : "")}";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return reader.GetString(0);
        }
    }

    /// <summary>Copies the entered or left table to a file in the warehouse's temp folder (CSV header or Parquet).</summary>
    public static Task CopyToAsync(DuckDBConnection db, string table, IReadOnlyList<SyncColumn> columns, string path, bool parquet, CancellationToken cancellationToken)
    {
        var select = table.StartsWith("portal_sync_left_", StringComparison.Ordinal)
            ? $"SELECT member AS customer_key FROM {table} ORDER BY member"
            : $"SELECT member AS customer_key{string.Concat(columns.Select((c, i) => $", c{i} AS {WarehouseNames.Quote(c.Name)}"))} FROM {table} ORDER BY member";
        var literal = "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";
        return WarehouseCommand.ExecuteAsync(db, $"COPY ({select}) TO {literal} (FORMAT {(parquet ? "parquet" : "csv")}{(parquet ? "" : ", HEADER")})", null, cancellationToken);
    }

    /// <summary>
    /// Makes the current members the sync's delivered set, with the next version, in one transaction: called only
    /// after the destination took the whole change.
    /// </summary>
    public static async Task CommitAsync(DuckDBConnection db, int syncId, long version, CancellationToken cancellationToken)
    {
        var id = Id(syncId);
        await using var tx = await db.BeginTransactionAsync(cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {Delivered} WHERE sync_id = $sync", id, cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"INSERT INTO {Delivered} SELECT $sync, member FROM {CurrentTable(syncId)}", id, cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {State} WHERE sync_id = $sync", id, cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"INSERT INTO {State} VALUES ($sync, $version, now())",
            new Dictionary<string, object?> { ["sync"] = syncId, ["version"] = version }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Drops a run's working tables.</summary>
    public static async Task DropWorkAsync(DuckDBConnection db, int syncId)
    {
        foreach (var table in new[] { CurrentTable(syncId), EnteredTable(syncId), LeftTable(syncId) })
        {
            await WarehouseCommand.ExecuteAsync(db, $"DROP TABLE IF EXISTS {table}", null, CancellationToken.None);
        }
    }

    /// <summary>Forgets what a deleted sync delivered.</summary>
    public async Task ForgetAsync(int syncId, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {Delivered} WHERE sync_id = $sync", Id(syncId), cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {State} WHERE sync_id = $sync", Id(syncId), cancellationToken);
        await DropWorkAsync(db, syncId);
    }

    /// <summary>The keys last delivered successfully (for tests and the screen's counts).</summary>
    public async Task<IReadOnlyList<string>> DeliveredAsync(int syncId, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        return await WarehouseCommand.QueryAsync(db, $"SELECT member FROM {Delivered} WHERE sync_id = $sync ORDER BY member", Id(syncId), r => r.GetString(0), cancellationToken);
    }

    private static Dictionary<string, object?> Id(int syncId) => new() { ["sync"] = syncId };
}

/// <summary>What a run sends: how many members there are now, who entered, who left, and a fingerprint of the change.</summary>
internal sealed record SyncChange(long Members, long Entered, long Left, string Fingerprint);
