using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Access;

/// <summary>
/// A counter of changes to what the data rules depend on: users, their roles and attributes, row and column rules,
/// portal settings. The metadata store bumps it after every save that touches one of them (an EF interceptor, so
/// Identity's own saves count too), which lets <see cref="AccessCache"/> keep what every query reads in memory and still
/// apply a change to the next query.
/// </summary>
public sealed class AccessChanges
{
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    public void Bump() => Interlocked.Increment(ref _version);

    /// <summary>Whether a change to an entity of this type can change what someone may see.</summary>
    public static bool Concerns(Type entity) =>
        entity == typeof(RowRule) || entity == typeof(ColumnRule) || entity == typeof(UserAttribute) || entity == typeof(PortalSetting)
        || entity == typeof(AppUser) || entity == typeof(IdentityUserRole<string>) || entity == typeof(IdentityRole);
}

/// <summary>
/// What the permission policy reads for every query (who is asking, a dataset's rules, settings), kept while
/// <see cref="AccessChanges.Version"/> stays the same and at most <see cref="MaxAge"/> (the bound for changes made
/// around the store, e.g. by hand in the database).
/// </summary>
public sealed class AccessCache(AccessChanges changes, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private sealed record Entry(long Version, DateTimeOffset LoadedAt, object? Value);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async Task<T> GetAsync<T>(string key, Func<Task<T>> load)
    {
        // Read the version before loading: a change saved while loading bumps it again, so the entry is not reused.
        var version = changes.Version;
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && entry.Version == version && now - entry.LoadedAt < MaxAge)
        {
            return (T)entry.Value!;
        }
        var value = await load();
        if (_entries.Count > 10_000)
        {
            _entries.Clear();
        }
        _entries[key] = new Entry(version, now, value);
        return value;
    }
}
