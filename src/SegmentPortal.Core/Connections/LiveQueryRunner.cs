using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// The query layer's door to live datasets' databases (<see cref="ILiveQueryRunner"/>): each query in its own
/// read-only session of the dataset's connection, with the connection's statement timeout, at most
/// <see cref="ConnectionSettings.MaxLiveQueries"/> at once per connection (more wait their turn), cancelled on the server
/// when the caller cancels. Who may ask was decided by the permission policy before the query was compiled; this class
/// checks nothing of the user's.
/// </summary>
internal sealed class LiveQueryRunner : ILiveQueryRunner, IDisposable
{
    private readonly Lazy<ConnectionReader> _reader;
    private readonly ConcurrentDictionary<(int Connection, int Slots), SemaphoreSlim> _gates = new();

    /// <remarks>
    /// The secret protector is the host's (it decrypts connection passwords); it is asked for at the first live query,
    /// so hosts and tests without connections can build the query layer without one.
    /// </remarks>
    public LiveQueryRunner(
        IServiceProvider services,
        IPortalDbFactory dbFactory,
        HostGuard hosts,
        SqliteSourceFolder sqliteFolder,
        IOptions<ConnectionOptions> options,
        TimeProvider clock,
        ILogger<LiveQueryRunner> logger)
    {
        var connectTimeoutSeconds = Math.Clamp(options.Value.ConnectTimeoutSeconds, 1, 120);
        _reader = new Lazy<ConnectionReader>(() =>
        {
            var secrets = services.GetService(typeof(ISecretProtector)) as ISecretProtector
                ?? throw new PortalException("Live datasets cannot be read here: this host has no way to decrypt connection passwords.");
            var store = new ConnectionStore(dbFactory, secrets, hosts, sqliteFolder, clock, logger);
            return new ConnectionReader(store, new ConnectionErrors(logger, connectTimeoutSeconds), hosts, sqliteFolder, connectTimeoutSeconds, logger);
        });
    }

    public Task<IReadOnlyList<object?[]>> QueryAsync(
        LiveSource source, string sql, IReadOnlyDictionary<string, object?> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return _reader.Value.QueryLiveAsync(source.ConnectionId, sql, parameters,
            slots => _gates.GetOrAdd((source.ConnectionId, slots), key => new SemaphoreSlim(key.Slots)), cancellationToken);
    }

    public Task<bool> IsUniqueKeyAsync(LiveSource source, string column, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Table is { } table
            ? _reader.Value.IsUniqueKeyAsync(source.ConnectionId, source.Schema, table, column, cancellationToken)
            : Task.FromResult(false);
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }
}
