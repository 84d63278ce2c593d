using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// A board's tiles loaded together, so that their queries over the same rows are answered by one fused query
/// (<see cref="QueryFusion"/>). Every tile runs its own code as when it loads alone; each time every tile still loading
/// waits for a query, the queries they wait for are run together: first the tiles' first queries, then what those
/// answers lead to (a histogram's bins, a top N's "Other"). Each tile keeps its own result or error.
/// </summary>
public sealed partial class TileDataService
{
    /// <summary>The board load the current tile belongs to (null when a tile loads alone).</summary>
    private static readonly AsyncLocal<BoardBatch?> CurrentBatch = new();

    /// <summary>
    /// Starts loading <paramref name="tiles"/> of a board together and returns at once, with one task per tile id that
    /// ends with that tile's data or its error (each as <see cref="LoadAsync"/> would give it). The board is checked once
    /// (<see cref="ServeAsync"/>); every query still goes through the permission policy for the current user, and every
    /// tile's results are cached under the same keys as when it loads alone.
    /// </summary>
    public IReadOnlyDictionary<string, Task<TileData>> LoadBoard(
        DashboardView dashboard, IReadOnlyList<TileDefinition> tiles, DashboardState state, CancellationToken cancellationToken = default)
    {
        var unique = tiles.DistinctBy(t => t.Id).ToList();
        var outcomes = unique.ToDictionary(t => t.Id, _ => new TaskCompletionSource<TileData>(TaskCreationOptions.RunContinuationsAsynchronously));
        _ = LoadTogetherAsync(dashboard, unique, state, outcomes, cancellationToken);
        return outcomes.ToDictionary(o => o.Key, o => o.Value.Task);
    }

    /// <summary><see cref="LoadBoard"/>, awaited: every tile's data, or the first tile's error.</summary>
    public async Task<IReadOnlyDictionary<string, TileData>> LoadBoardAsync(
        DashboardView dashboard, IReadOnlyList<TileDefinition> tiles, DashboardState state, CancellationToken cancellationToken = default)
    {
        var loads = LoadBoard(dashboard, tiles, state, cancellationToken);
        await Task.WhenAll(loads.Values);
        return loads.ToDictionary(l => l.Key, l => l.Value.Result);
    }

    private async Task LoadTogetherAsync(
        DashboardView dashboard, IReadOnlyList<TileDefinition> tiles, DashboardState state,
        Dictionary<string, TaskCompletionSource<TileData>> outcomes, CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(dashboard, async _ =>
            {
                var batch = new BoardBatch(fusion, tiles.Count, cancellationToken);
                CurrentBatch.Value = batch;
                await Task.WhenAll(tiles.Select(tile => LoadInBatchAsync(dashboard, tile, state, batch, outcomes[tile.Id], cancellationToken)));
                return true;
            }, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            foreach (var outcome in outcomes.Values)
            {
                outcome.TrySetCanceled(cancellationToken);
            }
        }
        catch (Exception ex)
        {
            // The board check failed: no tile is served.
            foreach (var outcome in outcomes.Values)
            {
                outcome.TrySetException(ex);
            }
        }
    }

    private async Task LoadInBatchAsync(
        DashboardView dashboard, TileDefinition tile, DashboardState state, BoardBatch batch, TaskCompletionSource<TileData> outcome, CancellationToken cancellationToken)
    {
        try
        {
            // Each tile starts on its own, so the tiles reach their first queries side by side.
            await Task.Yield();
            outcome.TrySetResult(await LoadCheckedAsync(dashboard, tile, state, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome.TrySetCanceled(cancellationToken);
        }
        catch (Exception ex)
        {
            outcome.TrySetException(ex);
        }
        finally
        {
            batch.Leave();
        }
    }

    /// <summary>Several queries of one tile at once (a table's page and totals): fused with each other, and with other tiles' on a board load.</summary>
    private async Task<IReadOnlyList<QueryResult>> RunManyAsync(IReadOnlyList<QuerySpec> specs, CancellationToken cancellationToken)
    {
        _ = Checked;
        if (specs.Count == 0)
        {
            return [];
        }
        var results = CurrentBatch.Value is { } batch ? await batch.AskAsync(specs) : await fusion.RunAsync(specs, cancellationToken);
        var answers = new List<QueryResult>();
        foreach (var result in results)
        {
            answers.Add(await result);
        }
        return answers;
    }

    /// <summary>
    /// The queries of a board's tiles loading together: a tile that needs query results waits here; once every tile
    /// still loading waits, everything asked is run at once through <see cref="QueryFusion"/>.
    /// </summary>
    private sealed class BoardBatch(QueryFusion fusion, int tiles, CancellationToken cancellationToken)
    {
        private readonly Lock _lock = new();
        private readonly List<(IReadOnlyList<QuerySpec> Specs, TaskCompletionSource<IReadOnlyList<Task<QueryResult>>> Done)> _waiting = [];
        private int _running = tiles;

        public Task<IReadOnlyList<Task<QueryResult>>> AskAsync(IReadOnlyList<QuerySpec> specs)
        {
            var done = new TaskCompletionSource<IReadOnlyList<Task<QueryResult>>>(TaskCreationOptions.RunContinuationsAsynchronously);
            bool flush;
            lock (_lock)
            {
                _waiting.Add((specs, done));
                flush = --_running == 0;
            }
            if (flush)
            {
                _ = FlushAsync();
            }
            return done.Task;
        }

        /// <summary>A tile is done (with data or an error): the others may be all waiting now.</summary>
        public void Leave()
        {
            bool flush;
            lock (_lock)
            {
                flush = --_running == 0 && _waiting.Count > 0;
            }
            if (flush)
            {
                _ = FlushAsync();
            }
        }

        private async Task FlushAsync()
        {
            List<(IReadOnlyList<QuerySpec> Specs, TaskCompletionSource<IReadOnlyList<Task<QueryResult>>> Done)> asked;
            lock (_lock)
            {
                asked = [.. _waiting];
                _waiting.Clear();
            }
            var specs = asked.SelectMany(a => a.Specs).ToList();
            IReadOnlyList<Task<QueryResult>> results;
            try
            {
                results = await fusion.RunAsync(specs, cancellationToken);
            }
            catch (Exception ex)
            {
                results = specs.Select(_ => Task.FromException<QueryResult>(ex)).ToList();
            }
            lock (_lock)
            {
                _running += asked.Count;
            }
            var offset = 0;
            foreach (var (wanted, done) in asked)
            {
                done.SetResult(results.Skip(offset).Take(wanted.Count).ToList());
                offset += wanted.Count;
            }
        }
    }
}
