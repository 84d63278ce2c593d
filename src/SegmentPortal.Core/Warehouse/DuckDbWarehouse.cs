using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Warehouse;

public sealed record WarehouseColumn(string Name, string WarehouseType, ColumnType Type);

/// <summary>Work that must happen inside a swap's transaction, after the new tables have their final names.</summary>
public delegate Task SwapStep(DuckDBConnection connection, CancellationToken cancellationToken);

/// <summary>
/// The one owner of the embedded DuckDB warehouse. It opens the file read-write (DuckDB's file lock keeps any
/// second process out), applies thread and memory limits, turns off extension loading and file access outside
/// the folders the import pipeline reads, then locks the configuration so no later statement can undo that.
/// Every other connection is opened through <see cref="OpenAsync"/> and shares this database instance.
/// </summary>
public sealed class DuckDbWarehouse : IDisposable
{
    private readonly DuckDBConnection _owner;
    private readonly string _connectionString;

    public DuckDbWarehouse(IOptions<WarehouseOptions> options, StoragePaths paths, ILogger<DuckDbWarehouse> logger)
    {
        var settings = options.Value;
        settings.Validate();
        paths.EnsureCreated();

        FilePath = Path.IsPathRooted(settings.File) ? settings.File : Path.Combine(paths.DataDirectory, settings.File);
        Threads = settings.Threads == 0 ? Environment.ProcessorCount : settings.Threads;
        _connectionString = $"Data Source={FilePath}";
        _owner = new DuckDBConnection(_connectionString);
        try
        {
            _owner.Open();
        }
        catch (DuckDBException ex) when (ex.Message.Contains("lock", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"The warehouse '{FilePath}' is in use by another process. Only one SegmentPortal process may open it; " +
                "stop the other one or point Storage:DataDirectory elsewhere.", ex);
        }

        // SET does not take parameters; every value below is a validated number, a validated size, or a path
        // the portal built itself (quoted as a string literal).
        var allowed = string.Join(", ", new[] { paths.UploadsDirectory, paths.TempDirectory }
            .Select(dir => StringLiteral(dir.TrimEnd('/') + "/")));
        Execute(_owner,
            $"SET threads = {Threads}",
            $"SET memory_limit = {StringLiteral(settings.MemoryLimit)}",
            $"SET temp_directory = {StringLiteral(paths.TempDirectory)}",
            "SET autoinstall_known_extensions = false",
            "SET autoload_known_extensions = false",
            "SET allow_community_extensions = false",
            $"SET allowed_directories = [{allowed}]",
            "SET enable_external_access = false",
            "SET lock_configuration = true");
        logger.LogInformation("Warehouse {File} opened with {Threads} threads, memory limit {MemoryLimit}",
            FilePath, Threads, settings.MemoryLimit);
    }

    public string FilePath { get; }

    public int Threads { get; }

    /// <summary>A new connection to the warehouse. Dispose it when the operation ends.</summary>
    public async Task<DuckDBConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new DuckDBConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// Builds a table under a staging name with <paramref name="fill"/> and swaps it in for <paramref name="table"/>
    /// in one transaction. If filling fails or is cancelled, the staging table is dropped and the live table is untouched.
    /// </summary>
    public Task ReplaceTableAsync(
        string table,
        Func<DuckDBConnection, string, CancellationToken, Task> fill,
        CancellationToken cancellationToken = default) =>
        ReplaceTablesAsync([table], async (connection, staging, ct) =>
        {
            await fill(connection, staging[0], ct);
            return null;
        }, cancellationToken);

    /// <summary>
    /// As <see cref="ReplaceTableAsync"/> for tables that belong together: <paramref name="fill"/> gets one staging name
    /// per table, in order, and all of them are swapped in by one transaction, so readers see all old or all new.
    /// A relation whose staging table <paramref name="fill"/> did not create is dropped, and the <see cref="SwapStep"/>
    /// it returns runs inside the same transaction after the renames (e.g. to create a view over the new tables).
    /// </summary>
    public async Task ReplaceTablesAsync(
        IReadOnlyList<string> tables,
        Func<DuckDBConnection, IReadOnlyList<string>, CancellationToken, Task<SwapStep?>> fill,
        CancellationToken cancellationToken = default)
    {
        foreach (var table in tables)
        {
            WarehouseNames.RequireSafeTableName(table);
        }
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var staging = tables.Select(t => $"{t}__staging_{suffix}").ToList();
        await using var connection = await OpenAsync(cancellationToken);
        try
        {
            var afterSwap = await fill(connection, staging, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            for (var i = 0; i < tables.Count; i++)
            {
                await DropRelationAsync(connection, tables[i], cancellationToken);
                if (await RelationTypeAsync(connection, staging[i], cancellationToken) is not null)
                {
                    Execute(connection, $"ALTER TABLE {WarehouseNames.Quote(staging[i])} RENAME TO {WarehouseNames.Quote(tables[i])}");
                }
            }
            if (afterSwap is not null)
            {
                await afterSwap(connection, cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
        }
        catch
        {
            foreach (var name in staging)
            {
                await DropRelationAsync(connection, name, CancellationToken.None);
            }
            throw;
        }
    }

    public async Task<IReadOnlyList<WarehouseColumn>> DescribeAsync(string table, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await DescribeAsync(connection, table, cancellationToken);
    }

    /// <summary>The columns of a table as this connection sees it (a staging table included).</summary>
    public static async Task<IReadOnlyList<WarehouseColumn>> DescribeAsync(DuckDBConnection connection, string table, CancellationToken cancellationToken = default) =>
        await WarehouseCommand.QueryAsync(connection,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $table ORDER BY ordinal_position",
            new Dictionary<string, object?> { ["table"] = table },
            r => new WarehouseColumn(r.GetString(0), r.GetString(1), ToColumnType(r.GetString(1))),
            cancellationToken);

    public async Task<bool> TableExistsAsync(string table, CancellationToken cancellationToken = default) =>
        (await DescribeAsync(table, cancellationToken)).Count > 0;

    public async Task<long> CountRowsAsync(string table, CancellationToken cancellationToken = default)
    {
        WarehouseNames.RequireSafeTableName(table);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {WarehouseNames.Quote(table)}";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }

    public async Task DropTableAsync(string table, CancellationToken cancellationToken = default)
    {
        WarehouseNames.RequireSafeTableName(table);
        await using var connection = await OpenAsync(cancellationToken);
        await DropRelationAsync(connection, table, cancellationToken);
    }

    /// <summary>Drops a table or a view of that name, whichever it is (DuckDB refuses DROP TABLE on a view).</summary>
    public static async Task DropRelationAsync(DuckDBConnection connection, string name, CancellationToken cancellationToken)
    {
        var type = await RelationTypeAsync(connection, name, cancellationToken);
        if (type is not null)
        {
            await WarehouseCommand.ExecuteAsync(connection,
                $"DROP {(type == "VIEW" ? "VIEW" : "TABLE")} {WarehouseNames.Quote(name)}", null, cancellationToken);
        }
    }

    internal static async Task<string?> RelationTypeAsync(DuckDBConnection connection, string name, CancellationToken cancellationToken) =>
        (await WarehouseCommand.QueryAsync(connection, "SELECT table_type FROM information_schema.tables WHERE table_name = $name",
            new Dictionary<string, object?> { ["name"] = name }, r => r.GetString(0), cancellationToken)).FirstOrDefault();

    /// <summary>Reads one setting, e.g. to show or check the limits in force.</summary>
    public async Task<string?> GetSettingAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT current_setting($name)::VARCHAR";
        command.Parameters.Add(new DuckDBParameter("name", name));
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }

    public static ColumnType ToColumnType(string warehouseType)
    {
        var t = warehouseType.ToUpperInvariant();
        if (t.StartsWith("DECIMAL", StringComparison.Ordinal) || t is "DOUBLE" or "FLOAT" or "REAL")
        {
            return ColumnType.Decimal;
        }
        if (t.EndsWith("INT", StringComparison.Ordinal) || t is "BIGINT" or "INTEGER" or "SMALLINT" or "TINYINT" or "HUGEINT"
            or "UBIGINT" or "UINTEGER" or "USMALLINT" or "UTINYINT" or "UHUGEINT")
        {
            return ColumnType.Integer;
        }
        return t switch
        {
            "BOOLEAN" => ColumnType.Boolean,
            "DATE" => ColumnType.Date,
            _ when t.StartsWith("TIMESTAMP", StringComparison.Ordinal) => ColumnType.Timestamp,
            _ => ColumnType.Text,
        };
    }

    public void Dispose() => _owner.Dispose();

    private static string StringLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Execute(DuckDBConnection connection, params string[] statements)
    {
        foreach (var sql in statements)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }
}
