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
    private readonly ConnectionReader _reader;
    private readonly ConcurrentDictionary<(int Connection, int Slots), SemaphoreSlim> _gates = new();

    public LiveQueryRunner(
        IPortalDbFactory dbFactory,
        ISecretProtector secrets,
        HostGuard hosts,
        SqliteSourceFolder sqliteFolder,
        IOptions<ConnectionOptions> options,
        TimeProvider clock,
        ILogger<LiveQueryRunner> logger)
    {
        var connectTimeoutSeconds = Math.Clamp(options.Value.ConnectTimeoutSeconds, 1, 120);
        var store = new ConnectionStore(dbFactory, secrets, hosts, sqliteFolder, clock, logger);
        _reader = new ConnectionReader(store, new ConnectionErrors(logger, connectTimeoutSeconds), hosts, sqliteFolder, connectTimeoutSeconds, logger);
    }

    public Task<IReadOnlyList<object?[]>> QueryAsync(
        LiveSource source, string sql, IReadOnlyDictionary<string, object?> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return _reader.QueryLiveAsync(source.ConnectionId, sql, parameters,
            slots => _gates.GetOrAdd((source.ConnectionId, slots), key => new SemaphoreSlim(key.Slots)), cancellationToken);
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }
}
