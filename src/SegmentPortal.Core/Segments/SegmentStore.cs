using DuckDB.NET.Data;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Segments;

/// <summary>Sizes of every region of a 2- or 3-way overlap, keyed by which segments a region is in (e.g. "AB").</summary>
public sealed record SegmentOverlap(IReadOnlyList<string> Names, IReadOnlyList<long> Sizes, IReadOnlyDictionary<string, long> Regions);

/// <summary>
/// Keeps each segment's members at its last refresh, and who entered or left at each refresh, in the warehouse
/// (customer keys as text). These are the portal's own tables: never a dataset, never read by the query layer.
/// </summary>
public sealed class SegmentStore(DuckDbWarehouse warehouse)
{
    /// <summary>The table of every segment's members at its last refresh (segment_id, member): read by syncs.</summary>
    internal const string MembersTable = "portal_segment_members";
    private const string Members = MembersTable;
    private const string Changes = "portal_segment_changes";
    private readonly SemaphoreSlim _writes = new(1, 1);
    private bool _created;

    public async Task<(long Entered, long Left)> ReplaceMembersAsync(int segmentId, int snapshotId, IReadOnlyList<string> members, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            await using var db = await OpenAsync(cancellationToken);
            var staging = $"portal_segment_new_{Guid.NewGuid():N}";
            await WarehouseCommand.ExecuteAsync(db, $"CREATE TEMP TABLE {staging} (member VARCHAR)", null, cancellationToken);
            try
            {
                using (var appender = db.CreateAppender(staging))
                {
                    foreach (var member in members.Distinct())
                    {
                        appender.CreateRow().AppendValue(member).EndRow();
                    }
                }
                var id = new Dictionary<string, object?> { ["segment"] = segmentId, ["snapshot"] = snapshotId };
                await using var tx = await db.BeginTransactionAsync(cancellationToken);
                await WarehouseCommand.ExecuteAsync(db,
                    $"INSERT INTO {Changes} SELECT $segment, $snapshot, member, true FROM (SELECT member FROM {staging} EXCEPT SELECT member FROM {Members} WHERE segment_id = $segment)",
                    id, cancellationToken);
                await WarehouseCommand.ExecuteAsync(db,
                    $"INSERT INTO {Changes} SELECT $segment, $snapshot, member, false FROM (SELECT member FROM {Members} WHERE segment_id = $segment EXCEPT SELECT member FROM {staging})",
                    id, cancellationToken);
                await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {Members} WHERE segment_id = $segment",
                    new Dictionary<string, object?> { ["segment"] = segmentId }, cancellationToken);
                await WarehouseCommand.ExecuteAsync(db, $"INSERT INTO {Members} SELECT $segment, member FROM {staging}",
                    new Dictionary<string, object?> { ["segment"] = segmentId }, cancellationToken);
                await tx.CommitAsync(cancellationToken);
                var counts = await WarehouseCommand.QueryAsync(db,
                    $"SELECT count(*) FILTER (WHERE entered), count(*) FILTER (WHERE NOT entered) FROM {Changes} WHERE segment_id = $segment AND snapshot_id = $snapshot",
                    id, r => (r.GetInt64(0), r.GetInt64(1)), cancellationToken);
                return counts[0];
            }
            finally
            {
                await WarehouseCommand.ExecuteAsync(db, $"DROP TABLE IF EXISTS {staging}", null, CancellationToken.None);
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<(IReadOnlyList<string> Entered, IReadOnlyList<string> Left)> ChangesAsync(int segmentId, int snapshotId, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        var rows = await WarehouseCommand.QueryAsync(db,
            $"SELECT member, entered FROM {Changes} WHERE segment_id = $segment AND snapshot_id = $snapshot ORDER BY member",
            new Dictionary<string, object?> { ["segment"] = segmentId, ["snapshot"] = snapshotId },
            r => (Member: r.GetString(0), Entered: r.GetBoolean(1)), cancellationToken);
        return (rows.Where(r => r.Entered).Select(r => r.Member).ToList(), rows.Where(r => !r.Entered).Select(r => r.Member).ToList());
    }

    public async Task<SegmentOverlap> OverlapAsync(IReadOnlyList<int> ids, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        var parameters = ids.Select((id, i) => (Name: $"s{i}", Id: id)).ToDictionary(p => p.Name, p => (object?)p.Id);
        // One row per member with a flag per segment; then count each combination of flags.
        var flags = string.Join(", ", ids.Select((_, i) => $"bool_or(segment_id = $s{i}) AS in{i}"));
        var rows = await WarehouseCommand.QueryAsync(db,
            $"SELECT {string.Join(", ", ids.Select((_, i) => $"in{i}"))}, count(*) FROM (SELECT member, {flags} FROM {Members} " +
            $"WHERE list_contains([{string.Join(", ", ids.Select((_, i) => $"$s{i}"))}], segment_id) GROUP BY member) GROUP BY ALL",
            parameters,
            r => (Key: string.Concat(Enumerable.Range(0, ids.Count).Where(i => r.GetBoolean(i)).Select(i => (char)('A' + i))), Count: r.GetInt64(ids.Count)),
            cancellationToken);
        var regions = rows.ToDictionary(r => r.Key, r => r.Count);
        var sizes = Enumerable.Range(0, ids.Count).Select(i => regions.Where(r => r.Key.Contains((char)('A' + i))).Sum(r => r.Value)).ToList();
        return new SegmentOverlap(names, sizes, regions);
    }

    /// <summary>
    /// Counts the members kept at the segment's last refresh, and how many of them <paramref name="heldOut"/> picks
    /// (the holdout), reading the stored keys in one pass.
    /// </summary>
    public async Task<(long Members, long HeldOut)> CountHeldOutAsync(int segmentId, Func<string, bool> heldOut, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        var counts = await WarehouseCommand.QueryAsync(db, $"SELECT member FROM {Members} WHERE segment_id = $segment",
            new Dictionary<string, object?> { ["segment"] = segmentId }, r => heldOut(r.GetString(0)), cancellationToken);
        return (counts.Count, counts.LongCount(h => h));
    }

    public async Task ForgetAsync(int segmentId, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        var id = new Dictionary<string, object?> { ["segment"] = segmentId };
        await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {Members} WHERE segment_id = $segment", id, cancellationToken);
        await WarehouseCommand.ExecuteAsync(db, $"DELETE FROM {Changes} WHERE segment_id = $segment", id, cancellationToken);
    }

    /// <summary>A connection on which <see cref="MembersTable"/> exists (it is made on first use).</summary>
    internal Task<DuckDBConnection> OpenStoreAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    private async Task<DuckDBConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var db = await warehouse.OpenAsync(cancellationToken);
        if (!_created)
        {
            await WarehouseCommand.ExecuteAsync(db, $"CREATE TABLE IF NOT EXISTS {Members} (segment_id INTEGER NOT NULL, member VARCHAR NOT NULL)", null, cancellationToken);
            await WarehouseCommand.ExecuteAsync(db,
                $"CREATE TABLE IF NOT EXISTS {Changes} (segment_id INTEGER NOT NULL, snapshot_id INTEGER NOT NULL, member VARCHAR NOT NULL, entered BOOLEAN NOT NULL)",
                null, cancellationToken);
            _created = true;
        }
        return db;
    }
}
