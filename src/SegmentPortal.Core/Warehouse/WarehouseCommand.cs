using DuckDB.NET.Data;

namespace SegmentPortal.Core.Warehouse;

/// <summary>
/// Runs one warehouse statement off the calling thread, so a circuit or job never blocks on it; cancellation interrupts
/// DuckDB mid-query. (DuckDB's own progress estimate is off in this configuration: its progress bar is a per-connection
/// setting the locked configuration does not allow, so long statements report "working" rather than a percentage.)
/// </summary>
internal static class WarehouseCommand
{
    public static Task<int> ExecuteAsync(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(connection, sql, parameters, command => command.ExecuteNonQuery(), cancellationToken);

    public static Task<T> ScalarAsync<T>(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(connection, sql, parameters, command => (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T)), cancellationToken);

    /// <summary>Reads every row with <paramref name="read"/>; for small results (previews, profiles).</summary>
    public static Task<List<T>> QueryAsync<T>(
        DuckDBConnection connection,
        string sql,
        IReadOnlyDictionary<string, object?>? parameters,
        Func<DuckDBDataReader, T> read,
        CancellationToken cancellationToken = default) =>
        RunAsync(connection, sql, parameters, command =>
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
