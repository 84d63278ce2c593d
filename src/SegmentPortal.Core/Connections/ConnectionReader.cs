using System.Data.Common;
using System.Diagnostics;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// Reading through a connection: testing it, listing its tables, previewing a table or a read-only query, and
/// extracting one into the warehouse. Every session checks the host again (or finds the SQLite file) and is read-only;
/// driver errors go through <see cref="ConnectionErrors"/>. Permission checks are the caller's
/// (<see cref="ConnectionService"/>).
/// </summary>
internal sealed class ConnectionReader(
    ConnectionStore store,
    ConnectionErrors errors,
    HostGuard hosts,
    SqliteSourceFolder sqliteFolder,
    int connectTimeoutSeconds,
    ILogger logger)
{
    private const int ProgressEvery = 10_000;

    /// <summary>Connects with a saved connection and reports the server's version, or why it failed.</summary>
    public async Task<ConnectionTestResult> TestAsync(int id, CancellationToken cancellationToken)
    {
        var connection = await store.LoadAsync(id, cancellationToken);
        return await TestAsync(connection, () => store.Reveal(connection), cancellationToken);
    }

    /// <summary>
    /// Connects with fields that are not saved yet (the edit form). With an empty password and
    /// <paramref name="existingId"/>, the stored password of that connection is used.
    /// </summary>
    public async Task<ConnectionTestResult> TestAsync(ConnectionInput input, int? existingId, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var existing = existingId is { } id ? await store.LoadAsync(id, cancellationToken) : null;
            var connection = await store.BuildAsync(input, existing, cancellationToken);
            var password = string.IsNullOrEmpty(input.Password) ? null : input.Password;
            return await TestAsync(connection, () => password ?? store.Reveal(connection), cancellationToken);
        }
        catch (Exception ex) when (ex is PortalException and not PermissionDeniedException)
        {
            return new ConnectionTestResult(false, ex.Message, null, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The tables and views the connection's login can read, with row counts (exact or estimated: see <see cref="RemoteTable"/>).</summary>
    public async Task<IReadOnlyList<RemoteTable>> ListTablesAsync(int id, CancellationToken cancellationToken)
    {
        var connection = await store.LoadAsync(id, cancellationToken);
        return await WithSessionAsync(connection, store.Reveal(connection),
            session => session.Dialect.ListTablesAsync(session, cancellationToken), cancellationToken);
    }

    /// <summary>The first <paramref name="maxRows"/> rows of a table or read-only query, converted as an import would.</summary>
    public async Task<SourcePreview> PreviewAsync(int id, ConnectionSource source, int maxRows, CancellationToken cancellationToken)
    {
        var connection = await store.LoadAsync(id, cancellationToken);
        var query = CheckSource(source, connection.Kind);
        var limit = Math.Clamp(maxRows, 1, ConnectionService.MaxPreviewRows);
        return await WithSessionAsync(connection, store.Reveal(connection), async session =>
        {
            var sql = await SourceSqlAsync(session, source, query, limit + 1, cancellationToken);
            await using var command = session.Command(sql);
            await using var reader = await command.ExecuteReaderAsync(session.Dialect.ReadBehavior, cancellationToken);
            var hasRow = await reader.ReadAsync(cancellationToken);
            var plans = ColumnPlanner.Plan(reader, connection.Kind, hasRow);
            var rows = new List<object?[]>();
            while (hasRow && rows.Count < limit)
            {
                rows.Add(ReadRow(reader, plans, rows.Count + 1));
                hasRow = await reader.ReadAsync(cancellationToken);
            }
            if (hasRow && !session.Dialect.LimitsQueries)
            {
                // The query was not limited: stop the server's work on rows nobody will look at.
                TryCancel(command);
            }
            return new SourcePreview(plans.Select(p => p.ToSourceColumn()).ToList(), rows, hasRow);
        }, cancellationToken);
    }

    /// <summary>
    /// Streams a table or read-only query into a new warehouse table <paramref name="stagingTable"/> on
    /// <paramref name="warehouse"/>: creates it from the source's columns (types chosen per column, names made unique),
    /// then appends the rows with DuckDB's appender. Meant to run inside <see cref="DuckDbWarehouse.ReplaceTableAsync"/>,
    /// which swaps the table in (or drops it on failure); this method never touches any other table. Cancelling stops
    /// the query on the source server too.
    /// </summary>
    public async Task<ExtractResult> ExtractAsync(
        int connectionId,
        ConnectionSource source,
        DuckDBConnection warehouse,
        string stagingTable,
        IProgress<long>? rows,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(warehouse);
        ArgumentException.ThrowIfNullOrWhiteSpace(stagingTable);
        var connection = await store.LoadAsync(connectionId, cancellationToken);
        var query = CheckSource(source, connection.Kind);
        return await WithSessionAsync(connection, store.Reveal(connection), async session =>
        {
            var sql = await SourceSqlAsync(session, source, query, limit: null, cancellationToken);
            await using var command = session.Command(sql);
            // Cancelling also tells the server to stop, whatever the driver is waiting on at that moment.
            await using var stopServer = cancellationToken.Register(() => TryCancel(command));
            await using var reader = await command.ExecuteReaderAsync(session.Dialect.ReadBehavior, cancellationToken);
            var hasRow = await reader.ReadAsync(cancellationToken);
            var plans = ColumnPlanner.Plan(reader, connection.Kind, hasRow);
            await CreateTableAsync(warehouse, stagingTable, plans, cancellationToken);

            long count = 0;
            var appender = warehouse.CreateAppender(stagingTable);
            var complete = false;
            try
            {
                while (hasRow)
                {
                    var values = ReadRow(reader, plans, count + 1);
                    var row = appender.CreateRow();
                    for (var i = 0; i < plans.Count; i++)
                    {
                        row = ColumnPlanner.Append(row, plans[i].Kind, values[i]);
                    }
                    row.EndRow();
                    if (++count % ProgressEvery == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        rows?.Report(count);
                    }
                    hasRow = await reader.ReadAsync(cancellationToken);
                }
                complete = true;
            }
            finally
            {
                if (complete)
                {
                    appender.Dispose(); // flushes the last rows; an error here fails the extract
                }
                else
                {
                    DisposeQuietly(appender);
                }
            }
            rows?.Report(count);
            logger.LogInformation("Extracted {Rows} rows from connection {Name} ({Source}) into {Table}",
                count, connection.Name, source.Describe(), stagingTable);
            return new ExtractResult(count, plans.Select(p => p.ToSourceColumn()).ToList());
        }, cancellationToken);
    }

    /// <summary>
    /// Runs a query of a live dataset (already in the source's dialect, parameters bound by name) in a read-only
    /// session with the connection's statement timeout (<see cref="ConnectionSettings.CommandTimeoutSeconds"/>: on
    /// PostgreSQL also <c>SET LOCAL statement_timeout</c>, so the server stops it itself) and returns its rows.
    /// Cancelling cancels the server's query. <paramref name="gate"/> is the connection's cap on concurrent queries.
    /// </summary>
    public async Task<IReadOnlyList<object?[]>> QueryLiveAsync(
        int connectionId, string sql, IReadOnlyDictionary<string, object?> parameters, Func<int, SemaphoreSlim> gate, CancellationToken cancellationToken)
    {
        var connection = await store.LoadAsync(connectionId, cancellationToken);
        if (connection.Kind == ConnectionKind.Sqlite)
        {
            throw new ConnectionException("Live datasets need a PostgreSQL or SQL Server connection.");
        }
        var settings = ConnectionStore.ReadSettings(connection);
        var slots = gate(settings.MaxLiveQueries ?? ConnectionSettings.DefaultMaxLiveQueries);
        await slots.WaitAsync(cancellationToken);
        try
        {
            return await WithSessionAsync(connection, store.Reveal(connection), async session =>
            {
                await session.Dialect.LimitStatementAsync(session, session.CommandTimeoutSeconds, cancellationToken);
                await using var command = session.Command(sql);
                foreach (var (name, value) in parameters)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = value ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }
                // Cancelling also tells the server to stop, whatever the driver is waiting on at that moment.
                await using var stopServer = cancellationToken.Register(() => TryCancel(command));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                var rows = new List<object?[]>();
                while (await reader.ReadAsync(cancellationToken))
                {
                    var values = new object?[reader.FieldCount];
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    }
                    rows.Add(values);
                }
                return (IReadOnlyList<object?[]>)rows;
            }, cancellationToken, pooled: true);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Whether a live table's column is a unique, never-empty key by the source's own constraints (see <see cref="SourceDialect.IsUniqueKeyAsync"/>).</summary>
    public async Task<bool> IsUniqueKeyAsync(int connectionId, string? schema, string table, string column, CancellationToken cancellationToken)
    {
        var connection = await store.LoadAsync(connectionId, cancellationToken);
        return await WithSessionAsync(connection, store.Reveal(connection),
            session => session.Dialect.IsUniqueKeyAsync(session, schema, table, column, cancellationToken), cancellationToken, pooled: true);
    }

    /// <summary>
    /// Opens a read-write connection for a segment sync (the host checked again); the caller owns and disposes it.
    /// Only a connection an Admin marked writable for syncs, and only PostgreSQL or SQL Server.
    /// </summary>
    public async Task<(DbConnection Connection, ConnectionKind Kind, Func<Exception, string> Describe)> OpenWritableAsync(int id, CancellationToken cancellationToken)
    {
        var connection = await store.LoadAsync(id, cancellationToken);
        if (!connection.WritableForSyncs || connection.Kind == ConnectionKind.Sqlite)
        {
            throw new ConnectionException($"The connection {connection.Name} is not marked writable for syncs; an Admin can allow it under Admin > Connections.");
        }
        var dialect = SourceDialect.For(connection.Kind);
        var settings = ConnectionStore.ReadSettings(connection);
        var endpoint = await EndpointAsync(connection, cancellationToken);
        var db = dialect.CreateConnection(endpoint, settings, store.Reveal(connection), connectTimeoutSeconds);
        try
        {
            await db.OpenAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not PortalException and not OperationCanceledException)
        {
            await db.DisposeAsync();
            throw errors.Translate(ex, connection, dialect, endpoint, connecting: true, cancellationToken);
        }
        return (db, connection.Kind, ex => errors.Translate(ex, connection, dialect, endpoint, connecting: false, cancellationToken).Message);
    }

    private static string? CheckSource(ConnectionSource source, ConnectionKind kind)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Kind switch
        {
            ConnectionSourceKind.Query => SelectValidator.Validate(source.Query, kind),
            ConnectionSourceKind.Table when string.IsNullOrWhiteSpace(source.Table) => throw new ConnectionException("Choose a table."),
            ConnectionSourceKind.Table => null,
            _ => throw new ConnectionException("Choose a table or enter a query."),
        };
    }

    /// <summary>The SQL that reads the source: a table that must exist in the catalog, or the validated query.</summary>
    private static async Task<string> SourceSqlAsync(
        SourceSession session, ConnectionSource source, string? validatedQuery, int? limit, CancellationToken cancellationToken)
    {
        if (validatedQuery is not null)
        {
            return limit is { } n ? session.Dialect.Limit(validatedQuery, n) : validatedQuery;
        }
        var table = source.Table!;
        var schema = string.IsNullOrWhiteSpace(source.Schema) ? null : source.Schema;
        if (!await session.Dialect.TableExistsAsync(session, schema, table, cancellationToken))
        {
            throw new ConnectionException($"There is no table {source.Describe()} that this connection can read.");
        }
        return session.Dialect.SelectTable(schema, table, limit);
    }

    private async Task<ConnectionTestResult> TestAsync(DataConnection connection, Func<string?> password, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var version = await WithSessionAsync(connection, password(), async session =>
            {
                await using var command = session.Command("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return session.Connection.ServerVersion;
            }, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var product = SourceDialect.For(connection.Kind).ProductName;
            return new ConnectionTestResult(true, $"Connected to {product} {version} in {elapsed.TotalMilliseconds:N0} ms.", $"{product} {version}", elapsed);
        }
        catch (Exception ex) when (ex is PortalException and not PermissionDeniedException)
        {
            return new ConnectionTestResult(false, ex.Message, null, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Checks the host again (or finds the SQLite file), opens a read-only session, runs <paramref name="work"/> and
    /// closes it. Driver errors become a <see cref="ConnectionException"/> (see <see cref="ConnectionErrors"/>).
    /// </summary>
    private async Task<T> WithSessionAsync<T>(
        DataConnection connection, string? password, Func<SourceSession, Task<T>> work, CancellationToken cancellationToken, bool pooled = false)
    {
        var dialect = SourceDialect.For(connection.Kind);
        var settings = ConnectionStore.ReadSettings(connection);
        var endpoint = await EndpointAsync(connection, cancellationToken);
        SourceSession session;
        try
        {
            session = await SourceSession.OpenAsync(dialect, endpoint, settings, password, connectTimeoutSeconds, cancellationToken, pooled);
        }
        catch (Exception ex) when (ex is not PortalException)
        {
            throw errors.Translate(ex, connection, dialect, endpoint, connecting: true, cancellationToken);
        }
        await using (session)
        {
            try
            {
                return await work(session);
            }
            catch (Exception ex) when (ex is not PortalException)
            {
                throw errors.Translate(ex, connection, dialect, endpoint, connecting: false, cancellationToken);
            }
        }
    }

    private async Task<SourceEndpoint> EndpointAsync(DataConnection connection, CancellationToken cancellationToken)
    {
        if (connection.Kind == ConnectionKind.Sqlite)
        {
            return new SourceEndpoint(null, null, 0, connection.Database, null, sqliteFolder.Resolve(connection.Database));
        }
        var host = connection.Host ?? throw new ConnectionException("The connection has no host.");
        // Again at every connect: the name may resolve somewhere else than when the connection was saved.
        var addresses = await hosts.CheckAsync(host, cancellationToken);
        return new SourceEndpoint(host, addresses[0], connection.Port ?? ConnectionInput.DefaultPort(connection.Kind) ?? 0,
            connection.Database, connection.Username, null);
    }

    private static object?[] ReadRow(DbDataReader reader, IReadOnlyList<ColumnPlan> plans, long rowNumber)
    {
        var values = new object?[plans.Count];
        for (var i = 0; i < plans.Count; i++)
        {
            try
            {
                values[i] = reader.IsDBNull(i) ? null : plans[i].Read(reader, i);
            }
            catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException or NotSupportedException)
            {
                ex.Data["portal.column"] = plans[i].Name;
                ex.Data["portal.row"] = rowNumber;
                throw;
            }
        }
        return values;
    }

    private static async Task CreateTableAsync(DuckDBConnection warehouse, string table, IReadOnlyList<ColumnPlan> plans, CancellationToken cancellationToken)
    {
        if (plans.Count == 0)
        {
            throw new ConnectionException("The source has no columns to import.");
        }
        await using var command = warehouse.CreateCommand();
        command.CommandText = $"CREATE TABLE {WarehouseNames.Quote(table)} (" +
            string.Join(", ", plans.Select(p => $"{WarehouseNames.Quote(p.Name)} {p.WarehouseType}")) + ")";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void DisposeQuietly(DuckDBAppender appender)
    {
        try
        {
            appender.Dispose();
        }
        catch (Exception ex) when (ex is DuckDBException or InvalidOperationException)
        {
            // A half-written row cannot be flushed; the caller drops the staging table.
        }
    }

    private static void TryCancel(DbCommand command)
    {
        try
        {
            command.Cancel();
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or ObjectDisposedException)
        {
            // Already finished or closed.
        }
    }
}
