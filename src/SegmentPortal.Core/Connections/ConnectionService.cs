using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using DuckDB.NET.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// Database connections: Admins create, change and delete them; Analysts (and Admins) list them, test them, browse
/// their tables, preview a table or a read-only SELECT, and extract one into the warehouse. Every method checks the
/// caller's permission itself. Passwords are encrypted with <see cref="ISecretProtector"/> and never returned.
/// Hosts are checked against link-local and cloud-metadata addresses when saved and again before every connect.
/// </summary>
public sealed class ConnectionService(
    IPortalDbFactory dbFactory,
    ICurrentUser currentUser,
    ISecretProtector secrets,
    HostGuard hosts,
    SqliteSourceFolder sqliteFolder,
    IOptions<ConnectionOptions> options,
    TimeProvider clock,
    ILogger<ConnectionService> logger)
{
    public const int DefaultPreviewRows = 50;
    public const int MaxPreviewRows = 500;
    private const int ProgressEvery = 10_000;
    private const int MaxPasswordLength = 1024;

    private static readonly JsonSerializerOptions SettingsJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private int ConnectTimeoutSeconds => Math.Clamp(options.Value.ConnectTimeoutSeconds, 1, 120);

    // ---- Listing and administration ----

    public async Task<IReadOnlyList<ConnectionSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var connections = await db.Connections.AsNoTracking().ToListAsync(cancellationToken);
        return connections.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Select(ToSummary).ToList();
    }

    public async Task<ConnectionDetails> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var connection = await LoadAsync(id, cancellationToken);
        return new ConnectionDetails(ToSummary(connection), ReadSettings(connection));
    }

    /// <summary>Creates a connection and returns its id. The host is checked and the password encrypted.</summary>
    public async Task<int> CreateAsync(ConnectionInput input, CancellationToken cancellationToken = default)
    {
        var principal = await currentUser.RequireAsync(Permissions.ManageConnections);
        var connection = await BuildAsync(input, existing: null, cancellationToken);
        connection.CreatedBy = principal.Identity?.Name ?? principal.UserId();
        connection.CreatedAt = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await EnsureUniqueNameAsync(db, connection.Name, null, cancellationToken);
        db.Connections.Add(connection);
        await SaveAsync(db, connection.Name, cancellationToken);
        logger.LogInformation("Connection {Name} ({Kind}) created by {User}", connection.Name, connection.Kind, connection.CreatedBy);
        return connection.Id;
    }

    /// <summary>Changes a connection. An empty password keeps the stored one.</summary>
    public async Task UpdateAsync(int id, ConnectionInput input, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageConnections);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var existing = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw NotFound();
        var updated = await BuildAsync(input, existing, cancellationToken);
        await EnsureUniqueNameAsync(db, updated.Name, id, cancellationToken);
        existing.Name = updated.Name;
        existing.Kind = updated.Kind;
        existing.Host = updated.Host;
        existing.Port = updated.Port;
        existing.Database = updated.Database;
        existing.Username = updated.Username;
        existing.ProtectedPassword = updated.ProtectedPassword;
        existing.OptionsJson = updated.OptionsJson;
        await SaveAsync(db, updated.Name, cancellationToken);
    }

    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageConnections);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var existing = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw NotFound();
        db.Connections.Remove(existing);
        await db.SaveChangesAsync(cancellationToken);
    }

    // ---- Using a connection ----

    /// <summary>Connects with a saved connection and reports the server's version, or why it failed.</summary>
    public async Task<ConnectionTestResult> TestAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var connection = await LoadAsync(id, cancellationToken);
        return await TestAsync(connection, () => Reveal(connection), cancellationToken);
    }

    /// <summary>
    /// Connects with fields that are not saved yet (the edit form). With an empty password and
    /// <paramref name="existingId"/>, the stored password of that connection is used.
    /// </summary>
    public async Task<ConnectionTestResult> TestAsync(ConnectionInput input, int? existingId = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageConnections);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var existing = existingId is { } id ? await LoadAsync(id, cancellationToken) : null;
            var connection = await BuildAsync(input, existing, cancellationToken);
            var password = string.IsNullOrEmpty(input.Password) ? null : input.Password;
            return await TestAsync(connection, () => password ?? Reveal(connection), cancellationToken);
        }
        catch (Exception ex) when (ex is PortalException and not PermissionDeniedException)
        {
            return new ConnectionTestResult(false, ex.Message, null, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The tables and views the connection's login can read, with row counts (exact or estimated: see <see cref="RemoteTable"/>).</summary>
    public async Task<IReadOnlyList<RemoteTable>> ListTablesAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var connection = await LoadAsync(id, cancellationToken);
        return await WithSessionAsync(connection, Reveal(connection),
            session => session.Dialect.ListTablesAsync(session, cancellationToken), cancellationToken);
    }

    /// <summary>The first <paramref name="maxRows"/> rows of a table or read-only query, converted as an import would.</summary>
    public async Task<SourcePreview> PreviewAsync(
        int id, ConnectionSource source, int maxRows = DefaultPreviewRows, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var connection = await LoadAsync(id, cancellationToken);
        var query = CheckSource(source, connection.Kind);
        var limit = Math.Clamp(maxRows, 1, MaxPreviewRows);
        return await WithSessionAsync(connection, Reveal(connection), async session =>
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
        IProgress<long>? rows = null,
        CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        ArgumentNullException.ThrowIfNull(warehouse);
        ArgumentException.ThrowIfNullOrWhiteSpace(stagingTable);
        var connection = await LoadAsync(connectionId, cancellationToken);
        var query = CheckSource(source, connection.Kind);
        return await WithSessionAsync(connection, Reveal(connection), async session =>
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

    // ---- Validation ----

    private async Task<DataConnection> BuildAsync(ConnectionInput input, DataConnection? existing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = input.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            throw new ConnectionException("Give the connection a name.");
        }
        if (name.Length > 200)
        {
            throw new ConnectionException("The name is longer than 200 characters.");
        }
        if (!Enum.IsDefined(input.Kind))
        {
            throw new ConnectionException("Choose PostgreSQL, SQL Server or SQLite.");
        }
        var settings = NormalizeSettings(input.Kind, input.Settings ?? new ConnectionSettings());
        var connection = new DataConnection
        {
            Name = name,
            Kind = input.Kind,
            Database = "",
            OptionsJson = JsonSerializer.Serialize(settings, SettingsJson),
        };

        if (input.Kind == ConnectionKind.Sqlite)
        {
            var file = (input.Database ?? "").Trim().Replace('\\', '/');
            sqliteFolder.Resolve(file);
            connection.Database = file;
            return connection;
        }

        connection.Host = HostGuard.NormalizeHost(input.Host);
        await hosts.CheckAsync(connection.Host, cancellationToken);
        var port = input.Port ?? ConnectionInput.DefaultPort(input.Kind);
        if (port is not (>= 1 and <= 65535))
        {
            throw new ConnectionException("The port must be a number from 1 to 65535.");
        }
        connection.Port = port;
        connection.Database = RequireField(input.Database, "the database name", 128);
        connection.Username = RequireField(input.Username, "the user name", 128);

        if (!string.IsNullOrEmpty(input.Password))
        {
            if (input.Password.Length > MaxPasswordLength || input.Password.Any(char.IsControl))
            {
                throw new ConnectionException("The password is too long or contains control characters.");
            }
            connection.ProtectedPassword = secrets.Protect(input.Password);
        }
        else if (existing?.ProtectedPassword is { } kept && existing.Kind != ConnectionKind.Sqlite)
        {
            connection.ProtectedPassword = kept;
        }
        else
        {
            // Without one the drivers would fall back to the portal server's own credentials (~/.pgpass, PGPASSWORD...).
            throw new ConnectionException("Enter the password of the database login.");
        }
        return connection;
    }

    private static string RequireField(string? value, string what, int maxLength)
    {
        var trimmed = value?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            throw new ConnectionException($"Enter {what}.");
        }
        if (trimmed.Length > maxLength || trimmed.Any(char.IsControl))
        {
            throw new ConnectionException($"{char.ToUpperInvariant(what[0])}{what[1..]} is too long or contains control characters.");
        }
        return trimmed;
    }

    /// <summary>Keeps only the options that apply to the kind, with their defaults filled in.</summary>
    internal static ConnectionSettings NormalizeSettings(ConnectionKind kind, ConnectionSettings input)
    {
        var timeout = input.CommandTimeoutSeconds ?? ConnectionSettings.DefaultCommandTimeoutSeconds;
        if (timeout is < 1 or > ConnectionSettings.MaxCommandTimeoutSeconds)
        {
            throw new ConnectionException($"The command timeout must be from 1 to {ConnectionSettings.MaxCommandTimeoutSeconds} seconds.");
        }
        var result = new ConnectionSettings { CommandTimeoutSeconds = timeout };
        switch (kind)
        {
            case ConnectionKind.PostgreSql:
                result.SslMode = input.SslMode ?? PostgresSslMode.Prefer;
                if (!Enum.IsDefined(result.SslMode.Value))
                {
                    throw new ConnectionException("Choose an SSL mode: Disable, Prefer, Require or VerifyFull.");
                }
                break;
            case ConnectionKind.SqlServer:
                result.Encrypt = input.Encrypt ?? SqlServerEncrypt.Mandatory;
                if (!Enum.IsDefined(result.Encrypt.Value))
                {
                    throw new ConnectionException("Choose an encryption mode: Optional, Mandatory or Strict.");
                }
                result.TrustServerCertificate = input.TrustServerCertificate ?? false;
                break;
        }
        return result;
    }

    private static async Task EnsureUniqueNameAsync(IPortalDb db, string name, int? exceptId, CancellationToken cancellationToken)
    {
        var names = await db.Connections.AsNoTracking().Where(c => c.Id != exceptId).Select(c => c.Name).ToListAsync(cancellationToken);
        UniqueNames.Require(name, names, "connection", who: null, error: message => new ConnectionException(message));
    }

    private static async Task SaveAsync(IPortalDb db, string name, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two admins saving the same name at once: the unique index decides.
            throw new ConnectionException(UniqueNames.TakenMessage("connection", name, who: null));
        }
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

    // ---- Connecting ----

    private async Task<DataConnection> LoadAsync(int id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw NotFound();
    }

    private string? Reveal(DataConnection connection)
    {
        if (connection.ProtectedPassword is null)
        {
            return null;
        }
        try
        {
            return secrets.Unprotect(connection.ProtectedPassword);
        }
        catch (CryptographicException ex)
        {
            logger.LogWarning(ex, "The stored password of connection {Name} cannot be decrypted", connection.Name);
            throw new ConnectionException(
                "The stored password can no longer be decrypted (the portal's keys changed). Edit the connection and enter the password again.");
        }
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
    /// closes it. Driver errors become a <see cref="ConnectionException"/> with a message for people; the details go to
    /// the log.
    /// </summary>
    private async Task<T> WithSessionAsync<T>(
        DataConnection connection, string? password, Func<SourceSession, Task<T>> work, CancellationToken cancellationToken)
    {
        var dialect = SourceDialect.For(connection.Kind);
        var settings = ReadSettings(connection);
        var endpoint = await EndpointAsync(connection, cancellationToken);
        SourceSession session;
        try
        {
            session = await SourceSession.OpenAsync(dialect, endpoint, settings, password, ConnectTimeoutSeconds, cancellationToken);
        }
        catch (Exception ex) when (ex is not PortalException)
        {
            throw Translate(ex, connection, dialect, endpoint, connecting: true, cancellationToken);
        }
        await using (session)
        {
            try
            {
                return await work(session);
            }
            catch (Exception ex) when (ex is not PortalException)
            {
                throw Translate(ex, connection, dialect, endpoint, connecting: false, cancellationToken);
            }
        }
    }

    private Exception Translate(
        Exception error, DataConnection connection, SourceDialect dialect, SourceEndpoint endpoint, bool connecting, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return error as OperationCanceledException ?? new OperationCanceledException("Cancelled.", error, cancellationToken);
        }
        string message;
        switch (error)
        {
            case InvalidCastException or FormatException or OverflowException or NotSupportedException when error.Data["portal.column"] is string column:
                message = $"Row {error.Data["portal.row"]:N0}, column '{column}': {error.Message}";
                break;
            case DuckDBException duck:
                message = $"The warehouse could not store the rows: {duck.Message.Split('\n', 2)[0]}";
                break;
            case var _ when !connecting && Chain(error).Any(e => e is TimeoutException or OperationCanceledException):
                message = "The query was stopped: it ran longer than the connection's command timeout.";
                break;
            default:
                message = dialect.Describe(error, endpoint, ConnectTimeoutSeconds);
                break;
        }
        logger.LogWarning(error, "Connection {Name} ({Kind}) failed: {Message}", connection.Name, connection.Kind, message);
        return new ConnectionException(message, error);
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
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

    private static ConnectionSettings ReadSettings(DataConnection connection)
    {
        var stored = string.IsNullOrEmpty(connection.OptionsJson)
            ? new ConnectionSettings()
            : JsonSerializer.Deserialize<ConnectionSettings>(connection.OptionsJson, SettingsJson) ?? new ConnectionSettings();
        return NormalizeSettings(connection.Kind, stored);
    }

    private static ConnectionSummary ToSummary(DataConnection c) => new(
        c.Id, c.Name, c.Kind, c.Host, c.Port, c.Database, c.Username, c.ProtectedPassword is not null, c.CreatedBy, c.CreatedAt);

    private static ConnectionException NotFound() => new("That connection no longer exists.");
}
