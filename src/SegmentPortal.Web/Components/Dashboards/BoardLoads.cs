using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Web.Components.Dashboards;

/// <summary>
/// The board page's tiles load together: the tiles that ask for their data in one render (the whole board on opening,
/// after a filter, cross-filter or refresh) are loaded by one <see cref="TileDataService.LoadBoard"/>, so their queries
/// over the same rows are fused. Each tile still awaits only its own data and keeps its own spinner and error.
/// </summary>
public sealed class BoardLoads(TileDataService tiles) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<(DashboardView Board, TileDefinition Tile, DashboardState State, TaskCompletionSource<Task<TileData>> Load)> _asked = [];
    private readonly CancellationTokenSource _stop = new();

    /// <summary>A tile's data, loaded with the other tiles asking in the same render; <paramref name="cancellationToken"/> stops only this tile's wait.</summary>
    public async Task<TileData> LoadAsync(DashboardView board, TileDefinition tile, DashboardState state, CancellationToken cancellationToken)
    {
        var load = new TaskCompletionSource<Task<TileData>>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool first;
        lock (_lock)
        {
            first = _asked.Count == 0;
            _asked.Add((board, tile, state, load));
        }
        if (first)
        {
            _ = LoadAskedAsync();
        }
        var data = await load.Task.WaitAsync(cancellationToken);
        return await data.WaitAsync(cancellationToken);
    }

    private async Task LoadAskedAsync()
    {
        // After the current render: every tile it asked for is in by then.
        await Task.Yield();
        List<(DashboardView Board, TileDefinition Tile, DashboardState State, TaskCompletionSource<Task<TileData>> Load)> asked;
        lock (_lock)
        {
            asked = [.. _asked];
            _asked.Clear();
        }
        foreach (var group in asked.GroupBy(a => (a.Board, a.State)))
        {
            // A tile asking twice (changed before the first load started) is loaded as it last asked.
            var latest = group.GroupBy(a => a.Tile.Id).Select(g => g.Last().Tile).ToList();
            try
            {
                var loads = tiles.LoadBoard(group.Key.Board, latest, group.Key.State, _stop.Token);
                foreach (var a in group)
                {
                    a.Load.TrySetResult(loads[a.Tile.Id]);
                }
            }
            catch (Exception ex)
            {
                foreach (var a in group)
                {
                    a.Load.TrySetResult(Task.FromException<TileData>(ex));
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
