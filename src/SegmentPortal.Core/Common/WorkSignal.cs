using System.Threading.Channels;

namespace SegmentPortal.Core.Common;

/// <summary>
/// Wakes a background worker when work was made due: <see cref="Notify"/> after saving the work, the worker waits on
/// <see cref="WaitAsync(CancellationToken)"/> (or until a timeout, for its scheduled rounds). Notices given while the worker
/// is busy collapse into one, so it runs one more round, never one per notice. One subclass per worker, so each is its
/// own singleton.
/// </summary>
public abstract class WorkSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _channel.Writer.TryWrite(true);

    public async Task WaitAsync(CancellationToken cancellationToken) => await _channel.Reader.ReadAsync(cancellationToken);

    /// <summary>Waits for a notice or for <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await _channel.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The time passed without a notice.
        }
    }
}
