using System.Data;
using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

namespace SegmentPortal.Core.Connections;

/// <summary>Where to connect, after the host was checked (or the SQLite file found inside its folder).</summary>
/// <param name="Address">The checked address to connect to, so a DNS change after the check cannot redirect the connection.</param>
internal sealed record SourceEndpoint(string? Host, IPAddress? Address, int Port, string Database, string? Username, string? FilePath)
{
    public string Display => FilePath is not null
        ? Database
        : $"{(Host?.Contains(':', StringComparison.Ordinal) == true ? $"[{Host}]" : Host)}:{Port}";
}

/// <summary>What differs between PostgreSQL, SQL Server and SQLite: connection strings, read-only sessions, catalog
/// queries, quoting and how their errors read to people.</summary>
internal abstract class SourceDialect
{
    public static SourceDialect For(ConnectionKind kind) => kind switch
    {
        ConnectionKind.PostgreSql => PostgresDialect.Instance,
        ConnectionKind.SqlServer => SqlServerDialect.Instance,
        ConnectionKind.Sqlite => SqliteDialect.Instance,
        _ => throw new ConnectionException($"Unknown connection kind {kind}."),
    };

    public abstract ConnectionKind Kind { get; }

    public abstract string ProductName { get; }

    /// <summary>How rows are read: SequentialAccess where the driver would otherwise buffer large values.</summary>
    public virtual CommandBehavior ReadBehavior => CommandBehavior.Default;

    /// <summary>Built with the driver's connection string builder: no field can add a keyword.</summary>
    /// <param name="pooled">
    /// Reuse the driver's pooled connections (live datasets' queries, many small ones; each still in its own read-only
    /// transaction, rolled back). Imports, previews and tests of a connection open their own.
    /// </param>
    public abstract DbConnection CreateConnection(SourceEndpoint endpoint, ConnectionSettings settings, string? password, int connectTimeoutSeconds, bool pooled = false);

    /// <summary>
    /// Whether the source's catalog guarantees that a table's column holds a value on every row and no two rows share
    /// one (a primary key, or a unique index on that column alone with NOT NULL); false where it cannot tell.
    /// </summary>
    public virtual Task<bool> IsUniqueKeyAsync(SourceSession session, string? schema, string table, string column, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    /// <summary>Starts the transaction everything on the session runs in; it is always rolled back.</summary>
    public abstract Task<DbTransaction?> BeginReadOnlyAsync(DbConnection connection, CancellationToken cancellationToken);

    public abstract string Quote(string identifier);

    /// <summary>
    /// Makes the server itself stop any statement of the session after <paramref name="seconds"/> (besides the
    /// driver's command timeout, which only gives up waiting). Nothing where the engine has no such setting.
    /// </summary>
    public virtual Task LimitStatementAsync(SourceSession session, int seconds, CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract string SelectTable(string? schema, string table, int? limit);

    /// <summary>The query limited to <paramref name="limit"/> rows, or unchanged where the reader stops instead.</summary>
    public abstract string Limit(string query, int limit);

    /// <summary>False where <see cref="Limit"/> leaves queries as they are.</summary>
    public virtual bool LimitsQueries => true;

    public abstract Task<IReadOnlyList<RemoteTable>> ListTablesAsync(SourceSession session, CancellationToken cancellationToken);

    public abstract Task<bool> TableExistsAsync(SourceSession session, string? schema, string table, CancellationToken cancellationToken);

    /// <summary>A message for people about a driver error, or null when this dialect does not recognise it.</summary>
    protected abstract string? DescribeDriverError(Exception error, SourceEndpoint endpoint);

    public string Describe(Exception error, SourceEndpoint endpoint, int connectTimeoutSeconds)
    {
        if (DescribeDriverError(error, endpoint) is { } message)
        {
            return message;
        }
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return $"Nothing is accepting connections at {endpoint.Display}. Check the host and port, and that the server accepts TCP connections.";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return $"The host name '{endpoint.Host}' could not be found.";
                case SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown }:
                    return $"There is no network path to {endpoint.Display}.";
                case SocketException { SocketErrorCode: SocketError.TimedOut }:
                case TimeoutException:
                    return $"{endpoint.Display} did not answer within {connectTimeoutSeconds} seconds. Check the host, the port and any firewall in between.";
                case AuthenticationException:
                    return $"The encrypted connection to {endpoint.Display} could not be set up ({e.Message}). Check the SSL / encryption settings.";
            }
        }
        return error is DbException db ? $"{ProductName} reported an error: {FirstLine(db.Message)}" : $"Could not use the connection: {FirstLine(error.Message)}";
    }

    protected static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    protected static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        var result = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(map(reader));
        }
        return result;
    }

    protected static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>An open connection to a source with its read-only transaction. Disposing rolls back and closes.</summary>
internal sealed class SourceSession : IAsyncDisposable
{
    private SourceSession(SourceDialect dialect, DbConnection connection, DbTransaction? transaction, int commandTimeoutSeconds)
    {
        Dialect = dialect;
        Connection = connection;
        Transaction = transaction;
        CommandTimeoutSeconds = commandTimeoutSeconds;
    }

    public SourceDialect Dialect { get; }

    public DbConnection Connection { get; }

    public DbTransaction? Transaction { get; }

    public int CommandTimeoutSeconds { get; }

    public static async Task<SourceSession> OpenAsync(
        SourceDialect dialect, SourceEndpoint endpoint, ConnectionSettings settings, string? password, int connectTimeoutSeconds,
        CancellationToken cancellationToken, bool pooled = false)
    {
        var connection = dialect.CreateConnection(endpoint, settings, password, connectTimeoutSeconds, pooled);
        try
        {
            // The drivers enforce the connect timeout; this is the backstop should one of them not.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(connectTimeoutSeconds + 5));
            try
            {
                await connection.OpenAsync(timeout.Token);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException("Connecting took too long.", ex);
            }
            var transaction = await dialect.BeginReadOnlyAsync(connection, cancellationToken);
            return new SourceSession(dialect, connection, transaction, settings.CommandTimeoutSeconds ?? ConnectionSettings.DefaultCommandTimeoutSeconds);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public DbCommand Command(string sql)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = Transaction;
        command.CommandTimeout = CommandTimeoutSeconds;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        if (Transaction is not null)
        {
            try
            {
                await Transaction.RollbackAsync();
                await Transaction.DisposeAsync();
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException or OperationCanceledException)
            {
                // The connection broke or was cancelled: closing it ends the transaction on the server anyway.
            }
        }
        await Connection.DisposeAsync();
    }
}
