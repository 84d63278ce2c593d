using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Queries;

public sealed class QueryOptions
{
    public const string Section = "Query";

    /// <summary>A query running longer is stopped with a clear message.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Queries one user may run at once; more wait their turn, so one person cannot fill the warehouse.</summary>
    public int MaxConcurrentPerUser { get; set; } = 4;

    /// <summary>Result rows the cache may hold in all.</summary>
    public int CacheRows { get; set; } = 500_000;

    public int CacheMinutes { get; set; } = 10;
}

public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, TimeSpan Elapsed, bool FromCache)
{
    public object? Scalar(string column) => Rows.Count == 0 ? null : Rows[0][Index(column)];

    public int Index(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i] == column)
            {
                return i;
            }
        }
        throw new ArgumentException($"No column {column} in the result.", nameof(column));
    }
}

/// <summary>
/// Runs compiled queries on the warehouse: off the caller's thread, with a timeout, cancellation, a per-user limit on
/// concurrent queries, and a result cache keyed by the effective query (SQL with the user's permission filters, the
/// parameters, and the version of every dataset read, so a refresh invalidates it). A query over a live dataset runs in
/// its connection's database through <see cref="ILiveQueryRunner"/> (read-only, the connection's statement timeout and
/// cap on concurrent queries), cached for the dataset's <see cref="LiveSource.CacheMinutes"/> (0: never).
/// </summary>
public sealed class QueryExecutor(DuckDbWarehouse warehouse, IOptions<QueryOptions> options, ILiveQueryRunner? liveRunner = null) : IDisposable
{
    /// <summary>The live runner (the Connections module's), or a clear refusal where a host registered none.</summary>
    private ILiveQueryRunner Live => liveRunner ?? throw new PortalException("Live datasets cannot be read here: no database connections are set up.");

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _perUser = new();
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.Value.CacheRows) });
    private readonly ConcurrentDictionary<string, bool> _uniqueColumns = new();

    /// <summary>
    /// Whether every row of a dataset has a value of a column and no two rows share one (so each row is one customer, and
    /// a list of customers needs no de-duplication); asked of the warehouse once per dataset
    /// version, so a refresh asks again.
    /// </summary>
    public async Task<bool> IsUniqueAsync(QueryDataset dataset, string column, ISqlDialect dialect, CancellationToken cancellationToken = default)
    {
        if (dataset.Live is { } source)
        {
            return await IsUniqueLiveAsync(dataset, source, column, dialect, cancellationToken);
        }
        var key = $"{dataset.Table}\u001f{column}\u001f{dataset.Version.UtcTicks}";
        if (_uniqueColumns.TryGetValue(key, out var unique))
        {
            return unique;
        }
        var quoted = dialect.Quote(column);
        await using (var connection = await warehouse.OpenAsync(cancellationToken))
        {
            unique = await WarehouseCommand.ScalarAsync<bool>(connection,
                $"SELECT count(*) = count(DISTINCT {quoted}) FROM {dialect.Quote(dataset.Table)}", cancellationToken: cancellationToken);
        }
        return _uniqueColumns[key] = unique;
    }

    /// <summary>
    /// <see cref="IsUniqueAsync"/> asked of a live dataset's database: true where the source's constraints make the
    /// column a key (a primary key, or unique and NOT NULL). Otherwise, with "always live" (0 cache minutes) nothing is
    /// assumed: false, so customers are counted as distinct keys (one scan, right whatever the source holds now);
    /// with a freshness the data is asked and the answer kept as long as the dataset's results are.
    /// </summary>
    private async Task<bool> IsUniqueLiveAsync(QueryDataset dataset, LiveSource source, string column, ISqlDialect dialect, CancellationToken cancellationToken)
    {
        // A primary key or unique NOT NULL column holds at every moment, "always live" included; the catalog is asked
        // once per dataset version (reading the columns again asks again).
        var constraintKey = $"live\u001f{dataset.Id}\u001f{column}\u001f{dataset.Version.UtcTicks}";
        if (!_uniqueColumns.TryGetValue(constraintKey, out var keyed))
        {
            keyed = _uniqueColumns[constraintKey] = await Live.IsUniqueKeyAsync(source, column, cancellationToken);
        }
        if (keyed)
        {
            return true;
        }
        if (source.CacheMinutes <= 0)
        {
            return false;
        }
        var relation = QueryCompiler.Relation(dataset, dialect);
        var quoted = dialect.Quote(column);
        var sql = $"SELECT CASE WHEN count(*) = count(DISTINCT {quoted}) THEN 1 ELSE 0 END AS u FROM {relation} AS t";
        var key = "unique\u001f" + CacheKey(new CompiledQuery(sql, new Dictionary<string, object?>(), ["u"], [dataset]));
        if (_cache.TryGetValue(key, out bool known))
        {
            return known;
        }
        var rows = await Live.QueryAsync(source, sql, new Dictionary<string, object?>(), cancellationToken);
        var unique = rows.Count > 0 && Convert.ToInt64(rows[0][0], CultureInfo.InvariantCulture) == 1;
        _cache.Set(key, unique, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(source.CacheMinutes) });
        return unique;
    }

    /// <summary>The live dataset a query reads (all its live reads are of one connection: the policy refuses mixing).</summary>
    private static LiveSource? LiveSourceOf(CompiledQuery query) => query.Reads.Select(r => r.Live).FirstOrDefault(l => l is not null);

    public async Task<QueryResult> ExecuteAsync(CompiledQuery query, string userKey, CancellationToken cancellationToken = default)
    {
        if (TryCached(query, out var cached))
        {
            return cached!;
        }
        if (LiveSourceOf(query) is { } source)
        {
            var live = await ExecuteLiveAsync(query, source, userKey, cancellationToken);
            Remember(query, live);
            return live;
        }

        var gate = _perUser.GetOrAdd(userKey, _ => new SemaphoreSlim(Math.Max(1, options.Value.MaxConcurrentPerUser)));
        await gate.WaitAsync(cancellationToken);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, options.Value.TimeoutSeconds)));
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            List<object?[]> rows;
            try
            {
                await using var connection = await warehouse.OpenAsync(linked.Token);
                rows = await WarehouseCommand.QueryAsync(connection, query.Sql, query.Parameters, r =>
                {
                    var values = new object?[r.FieldCount];
                    for (var i = 0; i < values.Length; i++)
                    {
                        // BLOBs come as streams over DuckDB's memory, gone once the reader closes: copy them now. Each
                        // value is read once (a million-row result reads millions of them).
                        values[i] = r.IsDBNull(i) ? null : r.GetValue(i) switch { Stream blob => ReadAll(blob), var value => value };
                    }
                    return values;
                }, linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new PortalException($"The query took longer than {options.Value.TimeoutSeconds} seconds and was stopped. Narrow it down and try again.");
            }
            var result = new QueryResult(query.Columns, rows, System.Diagnostics.Stopwatch.GetElapsedTime(started), FromCache: false);
            Remember(query, result);
            return result;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Runs a compiled query under the same per-user limit and time limit as <see cref="ExecuteAsync"/>, but hands each
    /// row to <paramref name="read"/> as it comes instead of keeping boxed values, and caches nothing: for results of a
    /// million rows that the caller turns straight into arrays (clustering's feature matrix).
    /// </summary>
    public async Task ReadAsync(CompiledQuery query, string userKey, Action<DuckDB.NET.Data.DuckDBDataReader> read, CancellationToken cancellationToken = default)
    {
        if (LiveSourceOf(query) is not null)
        {
            throw new PortalException(
                "This analysis reads its input from the portal's warehouse and cannot run on a live dataset yet. Import the dataset to use it here.");
        }
        var gate = _perUser.GetOrAdd(userKey, _ => new SemaphoreSlim(Math.Max(1, options.Value.MaxConcurrentPerUser)));
        await gate.WaitAsync(cancellationToken);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, options.Value.TimeoutSeconds)));
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await using var connection = await warehouse.OpenAsync(linked.Token);
                await WarehouseCommand.QueryAsync(connection, query.Sql, query.Parameters, r =>
                {
                    read(r);
                    return 0;
                }, linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new PortalException($"The query took longer than {options.Value.TimeoutSeconds} seconds and was stopped. Narrow it down and try again.");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A query over live datasets, run in the source under the same per-user limit.</summary>
    private async Task<QueryResult> ExecuteLiveAsync(CompiledQuery query, LiveSource source, string userKey, CancellationToken cancellationToken)
    {
        var gate = _perUser.GetOrAdd(userKey, _ => new SemaphoreSlim(Math.Max(1, options.Value.MaxConcurrentPerUser)));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var rows = await Live.QueryAsync(source, query.Sql, query.Parameters, cancellationToken);
            return new QueryResult(query.Columns, rows, System.Diagnostics.Stopwatch.GetElapsedTime(started), FromCache: false);
        }
        finally
        {
            gate.Release();
        }
    }

    private static byte[] ReadAll(Stream blob)
    {
        using var copy = new MemoryStream();
        blob.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The effective query: SQL (with permission filters), typed parameter values, and dataset versions.</summary>
    public static string CacheKey(CompiledQuery query)
    {
        var text = new StringBuilder(query.Sql);
        foreach (var (name, value) in query.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append(name).Append('=').Append(value?.GetType().Name).Append(':');
            text.Append(value is System.Collections.IEnumerable list and not string
                ? string.Join('\u001f', list.Cast<object?>().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))
                : Convert.ToString(value, CultureInfo.InvariantCulture));
        }
        foreach (var read in query.Reads.OrderBy(r => r.Id))
        {
            text.Append("\nread ").Append(read.Id).Append('@').Append(read.Version.UtcTicks);
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// How long a query's result may be served from the cache, the one rule for queries run alone and fused: a warehouse
    /// result for <see cref="QueryOptions.CacheMinutes"/> since last used; a live result for the shortest freshness of the
    /// live datasets it read, counted from when it was read; never where one of them is always live (0).
    /// </summary>
    private MemoryCacheEntryOptions? CacheEntry(CompiledQuery query, int rows)
    {
        var live = query.Reads.Where(r => r.Live is not null).Select(r => r.Live!.CacheMinutes).DefaultIfEmpty(-1).Min();
        return live switch
        {
            < 0 => new MemoryCacheEntryOptions { Size = Math.Max(1, rows), SlidingExpiration = TimeSpan.FromMinutes(Math.Max(1, options.Value.CacheMinutes)) },
            0 => null,
            _ => new MemoryCacheEntryOptions { Size = Math.Max(1, rows), AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(live) },
        };
    }

    /// <summary>A query's result if the cache holds it (and may serve it: see <see cref="CacheEntry"/>), without running anything; query fusion asks too.</summary>
    public bool TryCached(CompiledQuery query, out QueryResult? result)
    {
        result = CacheEntry(query, 0) is not null && _cache.TryGetValue(CacheKey(query), out QueryResult? cached) && cached is not null
            ? cached with { FromCache = true, Elapsed = TimeSpan.Zero }
            : null;
        return result is not null;
    }

    /// <summary>Keeps a query's result under its own key as <see cref="CacheEntry"/> allows; query fusion keeps each question's share of a fused result this way.</summary>
    public void Remember(CompiledQuery query, QueryResult result)
    {
        if (CacheEntry(query, result.Rows.Count) is { } entry)
        {
            _cache.Set(CacheKey(query), result, entry);
        }
    }

    public void Dispose()
    {
        _cache.Dispose();
        foreach (var gate in _perUser.Values)
        {
            gate.Dispose();
        }
    }
}
