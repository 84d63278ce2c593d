using System.Collections.Concurrent;

namespace SegmentPortal.Core.Identity;

/// <summary>
/// Failed sign-ins counted per client address and account: a client that gets an account's password wrong
/// <c>failuresPerClient</c> times is refused for that account for <c>window</c> after its last failure, without its
/// attempts reaching the account. Every other client (the account's owner included) keeps signing in. The account-wide
/// lockout (Identity's) stays, at a threshold one client cannot reach on its own, so locking someone out takes many
/// addresses instead of five guesses.
/// </summary>
public sealed class SignInThrottle
{
    /// <summary>Stale entries are swept once this many are held (each sign-in form post is rate limited per address too).</summary>
    private const int SweepAbove = 1024;

    private readonly ConcurrentDictionary<(string Address, string Account), Entry> _entries = new();
    private readonly TimeProvider _clock;

    public SignInThrottle(TimeProvider clock, int failuresPerClient, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failuresPerClient, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _clock = clock;
        FailuresPerClient = failuresPerClient;
        Window = window;
    }

    /// <summary>How many wrong passwords one client may give for one account before it is refused for that account.</summary>
    public int FailuresPerClient { get; }

    /// <summary>How long a client stays refused after its last failure, and how long a failure counts.</summary>
    public TimeSpan Window { get; }

    /// <summary>Whether this client is refused for this account: it may not even have its password checked.</summary>
    public bool IsRefused(string? address, string account)
    {
        var key = Key(address, account);
        if (!_entries.TryGetValue(key, out var entry))
        {
            return false;
        }
        lock (entry)
        {
            return !IsStale(entry) && entry.Failures >= FailuresPerClient;
        }
    }

    /// <summary>Counts a failed sign-in of this client for this account (unknown accounts count alike, so refusals tell nothing).</summary>
    public void RecordFailure(string? address, string account)
    {
        if (_entries.Count > SweepAbove)
        {
            foreach (var (key, stale) in _entries.Where(e => IsStale(e.Value)).ToList())
            {
                _entries.TryRemove(new KeyValuePair<(string, string), Entry>(key, stale));
            }
        }
        var entry = _entries.GetOrAdd(Key(address, account), _ => new Entry());
        lock (entry)
        {
            if (IsStale(entry))
            {
                entry.Failures = 0;
            }
            entry.Failures++;
            entry.Last = _clock.GetUtcNow();
        }
    }

    /// <summary>A successful sign-in clears this client's failures for the account.</summary>
    public void RecordSuccess(string? address, string account) => _entries.TryRemove(Key(address, account), out _);

    private bool IsStale(Entry entry) => _clock.GetUtcNow() - entry.Last >= Window;

    private static (string, string) Key(string? address, string account) =>
        (address ?? "unknown", account.Trim().ToUpperInvariant());

    private sealed class Entry
    {
        public int Failures { get; set; }

        public DateTimeOffset Last { get; set; }
    }
}
