using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.SqlClient;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using SegmentPortal.Core.Connections;

namespace SegmentPortal.Core.Activation;

/// <summary>
/// Writes a change into a table of a PostgreSQL or SQL Server connection an Admin marked writable for syncs: creates the
/// table when missing (<c>customer_key</c> as primary key, the chosen columns as text or numbers, <c>synced_at</c>),
/// upserts the members who entered (all members for a full sync, which also removes every row that is not a member)
/// and deletes those who left, in one transaction. Identifiers are quoted by the connection's dialect; values travel
/// by COPY (PostgreSQL) or bulk copy (SQL Server), never in the SQL text.
/// </summary>
internal sealed class TableSyncDestination : ISyncDestination
{
    public SyncDestinationKind Kind => SyncDestinationKind.DatabaseTable;

    public async Task<SyncOutcome> DeliverAsync(SyncDeliveryWork work, IServiceProvider services, CancellationToken cancellationToken)
    {
        var connections = services.GetRequiredService<ConnectionService>();
        var (connection, kind, describe) = await connections.OpenForSyncAsync(work.Sync.ConnectionId ?? 0, cancellationToken);
        await using (connection)
        {
            try
            {
                return kind switch
                {
                    ConnectionKind.PostgreSql => await WritePostgresAsync((NpgsqlConnection)connection, work, cancellationToken),
                    ConnectionKind.SqlServer => await WriteSqlServerAsync((SqlConnection)connection, work, cancellationToken),
                    _ => throw new SyncFailedException("Segment syncs write to PostgreSQL and SQL Server connections only."),
                };
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException && !cancellationToken.IsCancellationRequested)
            {
                throw new SyncFailedException(describe(ex), ex);
            }
        }
    }

    // ---- PostgreSQL ----

    private static async Task<SyncOutcome> WritePostgresAsync(NpgsqlConnection db, SyncDeliveryWork work, CancellationToken cancellationToken)
    {
        var sql = new PostgresSyncSql(work.Sync.TableSchema, work.Sync.TableName!, work.Columns);
        await using var tx = await db.BeginTransactionAsync(cancellationToken);
        long added = 0;
        long removed = 0;
        if (await ScalarAsync(db, tx, sql.Exists(), cancellationToken) is not true)
        {
            // A new table: filled by COPY straight away, its primary key built once afterwards (faster than keeping
            // the index up to date row by row), all in the transaction.
            await ExecuteAsync(db, tx, sql.CreateTable(withKey: false), cancellationToken);
            added = Copy(db, sql.CopyIntoTable(), work, withSyncedAt: true, cancellationToken);
            await ExecuteAsync(db, tx, sql.AddKey(), cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return new SyncOutcome(added, added, 0);
        }
        foreach (var add in sql.AddMissingColumns())
        {
            await ExecuteAsync(db, tx, add, cancellationToken);
        }
        var empty = !(bool)(await ScalarAsync(db, tx, sql.AnyRow(), cancellationToken))!;
        if (work.Full && empty)
        {
            // A first delivery into an empty table: straight in with COPY, nothing to merge with.
            added = Copy(db, sql.CopyIntoTable(), work, withSyncedAt: true, cancellationToken);
        }
        else
        {
            await ExecuteAsync(db, tx, sql.CreateStage(), cancellationToken);
            added = Copy(db, sql.CopyIntoStage(), work, withSyncedAt: false, cancellationToken);
            await ExecuteAsync(db, tx, sql.Upsert(), cancellationToken, ("now", work.Now));
            if (work.Full)
            {
                removed = await ExecuteAsync(db, tx, sql.DeleteNotStaged(), cancellationToken);
            }
            else if (work.Change.Left > 0)
            {
                await ExecuteAsync(db, tx, sql.CreateLeftStage(), cancellationToken);
                using (var importer = db.BeginBinaryImport(sql.CopyIntoLeftStage()))
                {
                    foreach (var key in work.Left(ordered: false))
                    {
                        importer.StartRow();
                        importer.Write(key, NpgsqlDbType.Text);
                    }
                    importer.Complete();
                }
                removed = await ExecuteAsync(db, tx, sql.DeleteLeft(), cancellationToken);
            }
        }
        await tx.CommitAsync(cancellationToken);
        return new SyncOutcome(added + removed, added, removed);
    }

    private static long Copy(NpgsqlConnection db, string copy, SyncDeliveryWork work, bool withSyncedAt, CancellationToken cancellationToken)
    {
        long rows = 0;
        using var importer = db.BeginBinaryImport(copy);
        foreach (var member in work.Entered(ordered: false))
        {
            importer.StartRow();
            importer.Write(member.Key, NpgsqlDbType.Text);
            for (var i = 0; i < work.Columns.Count; i++)
            {
                var value = member.Values[i];
                if (value is null)
                {
                    importer.WriteNull();
                }
                else if (work.Columns[i].IsNumber)
                {
                    importer.Write(Convert.ToDouble(value, CultureInfo.InvariantCulture), NpgsqlDbType.Double);
                }
                else
                {
                    importer.Write(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", NpgsqlDbType.Text);
                }
            }
            if (withSyncedAt)
            {
                importer.Write(work.Now.UtcDateTime, NpgsqlDbType.TimestampTz);
            }
            if (++rows % 10_000 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        importer.Complete();
        return rows;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection db, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, db, tx);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection db, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, db, tx);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    // ---- SQL Server ----

    private static async Task<SyncOutcome> WriteSqlServerAsync(SqlConnection db, SyncDeliveryWork work, CancellationToken cancellationToken)
    {
        var sql = new SqlServerSyncSql(work.Sync.TableSchema, work.Sync.TableName!, work.Columns);
        await using var tx = (SqlTransaction)await db.BeginTransactionAsync(cancellationToken);
        await SqlExecuteAsync(db, tx, sql.CreateTable(), cancellationToken, ("name", sql.ObjectName));
        foreach (var add in sql.AddMissingColumns())
        {
            await SqlExecuteAsync(db, tx, add.Sql, cancellationToken, ("name", sql.ObjectName), ("column", add.Column));
        }
        await SqlExecuteAsync(db, tx, sql.CreateStage(), cancellationToken);
        using (var bulk = new SqlBulkCopy(db, SqlBulkCopyOptions.Default, tx) { DestinationTableName = SqlServerSyncSql.Stage, BulkCopyTimeout = 0 })
        {
            var table = sql.StageTable();
            foreach (var chunk in work.Entered(ordered: false).Chunk(50_000))
            {
                table.Clear();
                foreach (var member in chunk)
                {
                    var row = new object?[work.Columns.Count + 1];
                    row[0] = member.Key;
                    for (var i = 0; i < work.Columns.Count; i++)
                    {
                        row[i + 1] = member.Values[i] is { } v
                            ? work.Columns[i].IsNumber ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : Convert.ToString(v, CultureInfo.InvariantCulture)
                            : DBNull.Value;
                    }
                    table.Rows.Add(row);
                }
                await bulk.WriteToServerAsync(table, cancellationToken);
            }
        }
        var merged = await SqlExecuteAsync(db, tx, sql.Merge(work.Full), cancellationToken, ("now", work.Now));
        long removed = 0;
        if (!work.Full && work.Change.Left > 0)
        {
            await SqlExecuteAsync(db, tx, sql.CreateLeftStage(), cancellationToken);
            using var bulk = new SqlBulkCopy(db, SqlBulkCopyOptions.Default, tx) { DestinationTableName = SqlServerSyncSql.LeftStage, BulkCopyTimeout = 0 };
            var table = new DataTable();
            table.Columns.Add("customer_key", typeof(string));
            foreach (var key in work.Left(ordered: false))
            {
                table.Rows.Add(key);
            }
            await bulk.WriteToServerAsync(table, cancellationToken);
            removed = await SqlExecuteAsync(db, tx, sql.DeleteLeft(), cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        var added = work.Change.Entered;
        return new SyncOutcome(Math.Max(merged, added) + removed, added, work.Full ? Math.Max(0, merged - added) : removed);
    }

    private static async Task<int> SqlExecuteAsync(SqlConnection db, SqlTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new SqlCommand(sql, db, tx) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue("@" + name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>The SQL a PostgreSQL table sync runs; identifiers quoted by Npgsql's rules, values never in the text.</summary>
internal sealed class PostgresSyncSql(string? schema, string table, IReadOnlyList<SyncColumn> columns)
{
    public const string Stage = "portal_sync_in";
    public const string LeftStage = "portal_sync_out";

    private static string Q(string identifier) => PostgresDialect.Instance.Quote(identifier);

    public string Table => $"{Q(string.IsNullOrWhiteSpace(schema) ? "public" : schema)}.{Q(table)}";

    private static string TypeOf(SyncColumn c) => c.IsNumber ? "double precision" : "text";

    private string Names => string.Concat(columns.Select(c => ", " + Q(c.Name)));

    public string CreateTable(bool withKey = true) =>
        $"CREATE TABLE IF NOT EXISTS {Table} (customer_key text {(withKey ? "PRIMARY KEY" : "NOT NULL")}{string.Concat(columns.Select(c => $", {Q(c.Name)} {TypeOf(c)}"))}, synced_at timestamptz NOT NULL)";

    /// <summary>Whether the table exists (the name as a parameter of to_regclass, already quoted).</summary>
    public string Exists() => $"SELECT to_regclass({Literal(Table)}) IS NOT NULL";

    public string AddKey() => $"ALTER TABLE {Table} ADD PRIMARY KEY (customer_key)";

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Columns chosen after the table was made are added to it.</summary>
    public IEnumerable<string> AddMissingColumns() => columns.Select(c => $"ALTER TABLE {Table} ADD COLUMN IF NOT EXISTS {Q(c.Name)} {TypeOf(c)}");

    public string AnyRow() => $"SELECT EXISTS (SELECT 1 FROM {Table})";

    public string CopyIntoTable() => $"COPY {Table} (customer_key{Names}, synced_at) FROM STDIN (FORMAT BINARY)";

    public string CreateStage() =>
        $"CREATE TEMP TABLE {Stage} (customer_key text NOT NULL{string.Concat(columns.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $", c{i} {TypeOf(c)}")))}) ON COMMIT DROP";

    public string CopyIntoStage() =>
        $"COPY {Stage} (customer_key{string.Concat(columns.Select((_, i) => string.Create(CultureInfo.InvariantCulture, $", c{i}")))}) FROM STDIN (FORMAT BINARY)";

    public string Upsert() =>
        $"INSERT INTO {Table} (customer_key{Names}, synced_at) SELECT customer_key{string.Concat(columns.Select((_, i) => string.Create(CultureInfo.InvariantCulture, $", c{i}")))}, @now FROM {Stage} " +
        $"ON CONFLICT (customer_key) DO UPDATE SET {string.Concat(columns.Select(c => $"{Q(c.Name)} = EXCLUDED.{Q(c.Name)}, "))}synced_at = EXCLUDED.synced_at";

    public string DeleteNotStaged() => $"DELETE FROM {Table} t WHERE NOT EXISTS (SELECT 1 FROM {Stage} s WHERE s.customer_key = t.customer_key)";

    public string CreateLeftStage() => $"CREATE TEMP TABLE {LeftStage} (customer_key text NOT NULL) ON COMMIT DROP";

    public string CopyIntoLeftStage() => $"COPY {LeftStage} (customer_key) FROM STDIN (FORMAT BINARY)";

    public string DeleteLeft() => $"DELETE FROM {Table} t USING {LeftStage} o WHERE t.customer_key = o.customer_key";
}

/// <summary>The SQL a SQL Server table sync runs: bulk copy into a #temp table, then one MERGE.</summary>
internal sealed class SqlServerSyncSql(string? schema, string table, IReadOnlyList<SyncColumn> columns)
{
    public const string Stage = "#portal_sync_in";
    public const string LeftStage = "#portal_sync_out";

    private static string Q(string identifier) => SqlServerDialect.Instance.Quote(identifier);

    public string Table => $"{Q(string.IsNullOrWhiteSpace(schema) ? "dbo" : schema)}.{Q(table)}";

    /// <summary>The table's name as OBJECT_ID and COL_LENGTH take it (passed as a parameter).</summary>
    public string ObjectName => Table;

    private static string TypeOf(SyncColumn c) => c.IsNumber ? "float" : "nvarchar(max)";

    public string CreateTable() =>
        $"IF OBJECT_ID(@name, N'U') IS NULL CREATE TABLE {Table} (customer_key nvarchar(450) NOT NULL PRIMARY KEY" +
        $"{string.Concat(columns.Select(c => $", {Q(c.Name)} {TypeOf(c)} NULL"))}, synced_at datetimeoffset NOT NULL)";

    public IEnumerable<(string Sql, string Column)> AddMissingColumns() =>
        columns.Select(c => ($"IF COL_LENGTH(@name, @column) IS NULL ALTER TABLE {Table} ADD {Q(c.Name)} {TypeOf(c)} NULL", c.Name));

    public string CreateStage() =>
        $"CREATE TABLE {Stage} (customer_key nvarchar(450) NOT NULL PRIMARY KEY{string.Concat(columns.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $", c{i} {TypeOf(c)} NULL")))})";

    public DataTable StageTable()
    {
        var table = new DataTable();
        table.Columns.Add("customer_key", typeof(string));
        for (var i = 0; i < columns.Count; i++)
        {
            table.Columns.Add(string.Create(CultureInfo.InvariantCulture, $"c{i}"), columns[i].IsNumber ? typeof(double) : typeof(string));
        }
        return table;
    }

    public string Merge(bool full)
    {
        var set = string.Concat(columns.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"{Q(c.Name)} = s.c{i}, ")));
        var names = string.Concat(columns.Select(c => ", " + Q(c.Name)));
        var values = string.Concat(columns.Select((_, i) => string.Create(CultureInfo.InvariantCulture, $", s.c{i}")));
        return $"MERGE {Table} WITH (HOLDLOCK) AS t USING {Stage} AS s ON t.customer_key = s.customer_key " +
            $"WHEN MATCHED THEN UPDATE SET {set}synced_at = @now " +
            $"WHEN NOT MATCHED BY TARGET THEN INSERT (customer_key{names}, synced_at) VALUES (s.customer_key{values}, @now)" +
            (full ? " WHEN NOT MATCHED BY SOURCE THEN DELETE" : "") + ";";
    }

    public string CreateLeftStage() => $"CREATE TABLE {LeftStage} (customer_key nvarchar(450) NOT NULL PRIMARY KEY)";

    public string DeleteLeft() => $"DELETE t FROM {Table} AS t INNER JOIN {LeftStage} AS o ON t.customer_key = o.customer_key";
}
