using System.Collections.Concurrent;

namespace SegmentPortal.Core.Delivery;

/// <summary>
/// Tells the open pages of this process that a user's notifications changed (one was added, or read), so the bell's
/// count updates live. Raised after the change is saved; each Blazor circuit subscribes for its own user only.
/// </summary>
public sealed class NotificationSignals
{
    private readonly ConcurrentDictionary<string, Action?> _handlers = new(StringComparer.Ordinal);

    /// <summary>Calls <paramref name="handler"/> (on any thread) whenever <paramref name="userId"/>'s notifications change; dispose to stop.</summary>
    public IDisposable Subscribe(string userId, Action handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.AddOrUpdate(userId, handler, (_, existing) => existing + handler);
        return new Subscription(this, userId, handler);
    }

    /// <summary>Tells <paramref name="userId"/>'s subscribers that their notifications changed.</summary>
    public void Raise(string userId)
    {
        if (_handlers.TryGetValue(userId, out var handlers) && handlers is not null)
        {
            foreach (var handler in handlers.GetInvocationList().Cast<Action>())
            {
                // One page's failure never keeps the others from hearing.
                try
                {
                    handler();
                }
                catch (Exception)
                {
                }
            }
        }
    }

    public void Raise(IEnumerable<string> userIds)
    {
        foreach (var userId in userIds.Distinct(StringComparer.Ordinal))
        {
            Raise(userId);
        }
    }

    private void Unsubscribe(string userId, Action handler)
    {
        while (_handlers.TryGetValue(userId, out var existing))
        {
            var remaining = existing - handler;
            if (remaining is null
                ? ((ICollection<KeyValuePair<string, Action?>>)_handlers).Remove(new KeyValuePair<string, Action?>(userId, existing))
                : _handlers.TryUpdate(userId, remaining, existing))
            {
                return;
            }
        }
    }

    private sealed class Subscription(NotificationSignals signals, string userId, Action handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                signals.Unsubscribe(userId, handler);
            }
        }
    }
}
