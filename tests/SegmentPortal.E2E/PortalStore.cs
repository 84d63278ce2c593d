using Microsoft.Data.Sqlite;

namespace SegmentPortal.E2E;

/// <summary>
/// The metadata store (portal.db) of an app under test, read and written from the test: the app is another process,
/// so its state is polled here, there is nothing to wait on.
/// </summary>
public static class PortalStore
{
    private static SqliteConnection Open(string data) => new($"Data Source={Path.Combine(data, "portal.db")};Pooling=False;Default Timeout=60");

    public static async Task ExecuteAsync(string data, string sql, CancellationToken cancellationToken)
    {
        await using var connection = Open(data);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<long> ScalarAsync(string data, string sql, CancellationToken cancellationToken)
    {
        await using var connection = Open(data);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the store answers <paramref name="count"/> (or more) to a count query.</summary>
    public static async Task WaitForAsync(string data, string sql, long count, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(5)); // only a guard against a hang
        while (await ScalarAsync(data, sql, cancellationToken) < count)
        {
            await Task.Delay(250, limit.Token);
        }
    }
}
