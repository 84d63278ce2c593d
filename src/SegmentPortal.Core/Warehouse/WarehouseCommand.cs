using DuckDB.NET.Data;

namespace SegmentPortal.Core.Warehouse;

/// <summary>
/// Runs one warehouse statement off the calling thread, so a circuit or job never blocks on it: cancellation interrupts
/// DuckDB mid-query, and long statements report DuckDB's own progress estimate.
/// </summary>
public static class WarehouseCommand
{
    public static Task<int> ExecuteAsync(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters = null,
        Action<double>? progress = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(connection, sql, parameters, progress, command => command.ExecuteNonQuery(), cancellationToken);

    public static Task<T> ScalarAsync<T>(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(connection, sql, parameters, null, command => (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T)), cancellationToken);

    /// <summary>Reads every row with <paramref name="read"/>; for small results (previews, profiles).</summary>
    public static Task<List<T>> QueryAsync<T>(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters,
        Func<DuckDBDataReader, T> read,
        CancellationToken cancellationToken = default) =>
        RunAsync(connection, sql, parameters, null, command =>
        {
            using var reader = (DuckDBDataReader)command.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                rows.Add(read(reader));
            }
            return rows;
        }, cancellationToken);

    private static async Task<T> RunAsync<T>(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters,
        Action<double>? progress,
        Func<DuckDBCommand, T> run,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters ?? new Dictionary<string, object?>())
        {
            command.Parameters.Add(new DuckDBParameter(name, value));
        }
        await using var cancel = cancellationToken.Register(command.Cancel);
        var work = Task.Run(() => run(command), CancellationToken.None);
        if (progress is not null)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            while (!work.IsCompleted && await Task.WhenAny(work, timer.WaitForNextTickAsync().AsTask()) != work)
            {
                var estimate = connection.GetQueryProgress().Percentage;
                if (estimate >= 0)
                {
                    progress(Math.Clamp(estimate / 100.0, 0, 1));
                }
            }
        }
        try
        {
            return await work;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }
}
