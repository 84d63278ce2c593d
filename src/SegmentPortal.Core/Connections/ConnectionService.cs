using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// Database connections: Admins create, change and delete them; Analysts (and Admins) list them, test them, browse
/// their tables, preview a table or a read-only SELECT, and extract one into the warehouse. Every method checks the
/// caller's permission itself. Passwords are encrypted with <see cref="ISecretProtector"/> and never returned.
/// Hosts are checked against link-local and cloud-metadata addresses when saved and again before every connect.
/// The work is done by <see cref="ConnectionStore"/> (saved connections and their secrets), <see cref="ConnectionReader"/>
/// (sessions: test, tables, preview, extract) and <see cref="ConnectionErrors"/> (driver errors in words); this class
/// is their one door, where the permissions are checked.
/// </summary>
public sealed class ConnectionService
{
    public const int DefaultPreviewRows = 50;
    public const int MaxPreviewRows = 500;

    private readonly ICurrentUser _currentUser;
    private readonly ConnectionStore _store;
    private readonly ConnectionReader _reader;

    public ConnectionService(
        IPortalDbFactory dbFactory,
        ICurrentUser currentUser,
        ISecretProtector secrets,
        HostGuard hosts,
        SqliteSourceFolder sqliteFolder,
        IOptions<ConnectionOptions> options,
        TimeProvider clock,
        ILogger<ConnectionService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connectTimeoutSeconds = Math.Clamp(options.Value.ConnectTimeoutSeconds, 1, 120);
        _currentUser = currentUser;
        _store = new ConnectionStore(dbFactory, secrets, hosts, sqliteFolder, clock, logger);
        _reader = new ConnectionReader(_store, new ConnectionErrors(logger, connectTimeoutSeconds), hosts, sqliteFolder, connectTimeoutSeconds, logger);
    }

    // ---- Listing and administration ----

    public async Task<IReadOnlyList<ConnectionSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _store.ListAsync(cancellationToken);
    }

    public async Task<ConnectionDetails> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _store.GetAsync(id, cancellationToken);
    }

    /// <summary>Creates a connection and returns its id. The host is checked and the password encrypted.</summary>
    public async Task<int> CreateAsync(ConnectionInput input, CancellationToken cancellationToken = default)
    {
        var principal = await _currentUser.RequireAsync(Permissions.ManageConnections);
        return await _store.CreateAsync(input, principal.Identity?.Name ?? principal.UserId(), cancellationToken);
    }

    /// <summary>Changes a connection. An empty password keeps the stored one.</summary>
    public async Task UpdateAsync(int id, ConnectionInput input, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageConnections);
        await _store.UpdateAsync(id, input, cancellationToken);
    }

    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageConnections);
        await _store.DeleteAsync(id, cancellationToken);
    }

    // ---- Using a connection ----

    /// <summary>Connects with a saved connection and reports the server's version, or why it failed.</summary>
    public async Task<ConnectionTestResult> TestAsync(int id, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _reader.TestAsync(id, cancellationToken);
    }

    /// <summary>
    /// Connects with fields that are not saved yet (the edit form). With an empty password and
    /// <paramref name="existingId"/>, the stored password of that connection is used.
    /// </summary>
    public async Task<ConnectionTestResult> TestAsync(ConnectionInput input, int? existingId = null, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageConnections);
        return await _reader.TestAsync(input, existingId, cancellationToken);
    }

    /// <summary>The tables and views the connection's login can read, with row counts (exact or estimated: see <see cref="RemoteTable"/>).</summary>
    public async Task<IReadOnlyList<RemoteTable>> ListTablesAsync(int id, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _reader.ListTablesAsync(id, cancellationToken);
    }

    /// <summary>The first <paramref name="maxRows"/> rows of a table or read-only query, converted as an import would.</summary>
    public async Task<SourcePreview> PreviewAsync(
        int id, ConnectionSource source, int maxRows = DefaultPreviewRows, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _reader.PreviewAsync(id, source, maxRows, cancellationToken);
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
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _reader.ExtractAsync(connectionId, source, warehouse, stagingTable, rows, cancellationToken);
    }

    /// <summary>The connections segment syncs may write to (marked by an Admin), for the sync dialog.</summary>
    public async Task<IReadOnlyList<ConnectionSummary>> ListSyncTargetsAsync(CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return (await _store.ListAsync(cancellationToken)).Where(c => c.WritableForSyncs && c.Kind != ConnectionKind.Sqlite).ToList();
    }

    /// <summary>A read-write session for a segment sync, as its owner (who must manage data); see <see cref="ConnectionReader.OpenWritableAsync"/>.</summary>
    internal async Task<(System.Data.Common.DbConnection Connection, ConnectionKind Kind, Func<Exception, string> Describe)> OpenForSyncAsync(
        int id, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        return await _reader.OpenWritableAsync(id, cancellationToken);
    }

    /// <summary>Keeps only the options that apply to the kind, with their defaults filled in.</summary>
    internal static ConnectionSettings NormalizeSettings(ConnectionKind kind, ConnectionSettings input) =>
        ConnectionStore.NormalizeSettings(kind, input);
}
