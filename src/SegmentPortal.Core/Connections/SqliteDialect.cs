using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace SegmentPortal.Core.Connections;

/// <summary>SQLite files from the sources folder, opened read-only (Mode=ReadOnly) with query_only on.</summary>
internal sealed class SqliteDialect : SourceDialect
{
    public static readonly SqliteDialect Instance = new();

    public override ConnectionKind Kind => ConnectionKind.Sqlite;

    public override string ProductName => "SQLite";

    public override DbConnection CreateConnection(SourceEndpoint endpoint, ConnectionSettings settings, string? password, int connectTimeoutSeconds, bool pooled = false)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = endpoint.FilePath ?? throw new ConnectionException("The SQLite file was not resolved."),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = settings.CommandTimeoutSeconds ?? ConnectionSettings.DefaultCommandTimeoutSeconds,
        };
        return new SqliteConnection(builder.ConnectionString);
    }

    public override async Task<DbTransaction?> BeginReadOnlyAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA query_only = ON";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return null;
    }

    public override string Quote(string identifier) => Common.SqlIdentifiers.DoubleQuote(identifier);

    public override string SelectTable(string? schema, string table, int? limit) =>
        $"SELECT * FROM {Quote(table)}" + (limit is { } n ? $" LIMIT {n.ToString(CultureInfo.InvariantCulture)}" : "");

    // Not wrapped: SQLite renames repeated column names inside a subquery ("name:1"), and the preview must show the
    // columns an import gets. Reading stops after the rows, which costs SQLite nothing.
    public override string Limit(string query, int limit) => query;

    public override bool LimitsQueries => false;

    public override async Task<IReadOnlyList<RemoteTable>> ListTablesAsync(SourceSession session, CancellationToken cancellationToken)
    {
        await using var command = session.Command(
            "SELECT name, type = 'view' FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
        var rows = await ReadAllAsync(command, r => (Name: r.GetString(0), IsView: r.GetBoolean(1)), cancellationToken);
        var tables = new List<RemoteTable>(rows.Count);
        foreach (var (name, isView) in rows)
        {
            long? count = null;
            if (!isView)
            {
                await using var counting = session.Command($"SELECT count(*) FROM {Quote(name)}");
                count = Convert.ToInt64(await counting.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            }
            tables.Add(new RemoteTable("main", name, isView, count, RowCountIsEstimate: false));
        }
        return tables;
    }

    public override async Task<bool> TableExistsAsync(SourceSession session, string? schema, string table, CancellationToken cancellationToken)
    {
        if (schema is not (null or "" or "main"))
        {
            return false;
        }
        await using var command = session.Command("SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view') AND name = $table");
        AddParameter(command, "$table", table);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    protected override string? DescribeDriverError(Exception error, SourceEndpoint endpoint) => error switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode switch
        {
            14 => $"The SQLite file '{endpoint.Database}' could not be opened.",
            26 => $"'{endpoint.Database}' is not a SQLite database.",
            8 => "The query tried to change data. Connections only read: use a plain SELECT.",
            5 or 6 => $"'{endpoint.Database}' is locked by another program; try again later.",
            11 => $"The SQLite file '{endpoint.Database}' is damaged.",
            _ => $"The query failed: {Unwrap(sqlite.Message)}",
        },
        _ => null,
    };

    // "SQLite Error 1: 'no such table: x'." reads better as "no such table: x".
    private static string Unwrap(string message)
    {
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = message.LastIndexOf('\'');
        return start >= 0 && end > start ? message[(start + 1)..end] : FirstLine(message);
    }
}
