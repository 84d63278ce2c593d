using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// PostgreSQL through Npgsql. All work on a session runs inside <c>BEGIN; SET TRANSACTION READ ONLY</c>, which is
/// rolled back at the end; the transaction also fixes <c>standard_conforming_strings</c> on, so the server reads string
/// literals the way <see cref="SelectValidator"/> does. Both are set inside the transaction (not as startup options) so
/// they also hold behind a pooler such as PgBouncer.
/// </summary>
internal sealed class PostgresDialect : SourceDialect
{
    public static readonly PostgresDialect Instance = new();

    /// <summary>Tables up to this size on disk are counted exactly; bigger ones report the planner's estimate.</summary>
    public const long ExactCountMaxBytes = 16 * 1024 * 1024;

    private const int MaxExactCounts = 200;

    private static readonly NpgsqlCommandBuilder Quoting = new();

    public override ConnectionKind Kind => ConnectionKind.PostgreSql;

    public override string ProductName => "PostgreSQL";

    public override DbConnection CreateConnection(SourceEndpoint endpoint, ConnectionSettings settings, string? password, int connectTimeoutSeconds, bool pooled = false)
    {
        var sslMode = settings.SslMode ?? PostgresSslMode.Prefer;
        var builder = new NpgsqlConnectionStringBuilder
        {
            // VerifyFull checks the certificate against the name, so it needs the name; otherwise connect to the
            // address that was checked.
            Host = sslMode == PostgresSslMode.VerifyFull || endpoint.Address is null ? endpoint.Host : endpoint.Address.ToString(),
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.Username,
            Password = password,
            SslMode = sslMode switch
            {
                PostgresSslMode.Disable => SslMode.Disable,
                PostgresSslMode.Require => SslMode.Require,
                PostgresSslMode.VerifyFull => SslMode.VerifyFull,
                _ => SslMode.Prefer,
            },
            GssEncryptionMode = GssEncryptionMode.Disable,
            Timeout = connectTimeoutSeconds,
            CommandTimeout = settings.CommandTimeoutSeconds ?? ConnectionSettings.DefaultCommandTimeoutSeconds,
            CancellationTimeout = 5000,
            Pooling = pooled,
            ApplicationName = "SegmentPortal",
        };
        return new NpgsqlConnection(builder.ConnectionString);
    }

    public override async Task<DbTransaction?> BeginReadOnlyAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SET TRANSACTION READ ONLY; SET LOCAL standard_conforming_strings = on";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    public override string Quote(string identifier) => Quoting.QuoteIdentifier(identifier);

    public override async Task LimitStatementAsync(SourceSession session, int seconds, CancellationToken cancellationToken)
    {
        // A whole number of the portal's own, never a user's text; LOCAL ends with the session's transaction.
        await using var command = session.Command($"SET LOCAL statement_timeout = {checked(seconds * 1000).ToString(CultureInfo.InvariantCulture)}");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override string SelectTable(string? schema, string table, int? limit) =>
        $"SELECT * FROM {Quote(schema ?? "public")}.{Quote(table)}" + (limit is { } n ? $" LIMIT {n.ToString(CultureInfo.InvariantCulture)}" : "");

    // The query goes on its own lines, so a trailing -- comment cannot swallow the closing parenthesis.
    public override string Limit(string query, int limit) =>
        $"SELECT * FROM (\n{query}\n) AS portal_source LIMIT {limit.ToString(CultureInfo.InvariantCulture)}";

    public override async Task<IReadOnlyList<RemoteTable>> ListTablesAsync(SourceSession session, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT n.nspname, c.relname, c.relkind = 'v' OR c.relkind = 'f' AS is_view,
                   CASE WHEN c.relkind = 'p'
                        THEN (SELECT sum(greatest(pc.reltuples, 0))::bigint FROM pg_catalog.pg_partition_tree(c.oid) pt
                              JOIN pg_catalog.pg_class pc ON pc.oid = pt.relid WHERE pt.isleaf)
                        ELSE c.reltuples::bigint END AS estimate,
                   CASE WHEN c.relkind = 'p'
                        THEN (SELECT sum(pg_catalog.pg_relation_size(pt.relid))::bigint FROM pg_catalog.pg_partition_tree(c.oid) pt WHERE pt.isleaf)
                        WHEN c.relkind IN ('r', 'm') THEN pg_catalog.pg_relation_size(c.oid)
                        END AS bytes
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND NOT c.relispartition
              AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
              AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
            ORDER BY 1, 2
            """);
        var rows = await ReadAllAsync(command, r => (
            Schema: r.GetString(0),
            Name: r.GetString(1),
            IsView: r.GetBoolean(2),
            Estimate: r.IsDBNull(3) ? (long?)null : r.GetInt64(3),
            Bytes: r.IsDBNull(4) ? (long?)null : r.GetInt64(4)), cancellationToken);

        var tables = new List<RemoteTable>(rows.Count);
        var exactCounts = 0;
        foreach (var row in rows)
        {
            if (row.IsView)
            {
                tables.Add(new RemoteTable(row.Schema, row.Name, IsView: true, RowCount: null, RowCountIsEstimate: false));
            }
            else if (row.Bytes is { } bytes && bytes <= ExactCountMaxBytes && exactCounts++ < MaxExactCounts)
            {
                await using var count = session.Command($"SELECT count(*) FROM {Quote(row.Schema)}.{Quote(row.Name)}");
                var exact = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
                tables.Add(new RemoteTable(row.Schema, row.Name, IsView: false, exact, RowCountIsEstimate: false));
            }
            else
            {
                // reltuples is -1 until the table was first vacuumed or analyzed: then the count is unknown.
                var estimate = row.Estimate is >= 0 ? row.Estimate : null;
                tables.Add(new RemoteTable(row.Schema, row.Name, IsView: false, estimate, RowCountIsEstimate: estimate is not null));
            }
        }
        return tables;
    }

    public override async Task<bool> TableExistsAsync(SourceSession session, string? schema, string table, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relname = @table AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            """);
        AddParameter(command, "schema", schema ?? "public");
        AddParameter(command, "table", table);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    public override async Task<bool> IsUniqueKeyAsync(SourceSession session, string? schema, string table, string column, CancellationToken cancellationToken)
    {
        // A unique index of one plain column (no expression, no WHERE), on a column that is NOT NULL; partitioned
        // tables' own indexes count (a primary key of a partitioned table holds across its partitions).
        await using var command = session.Command("""
            SELECT count(*) FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE n.nspname = @schema AND c.relname = @table AND a.attname = @column AND a.attnotnull
              AND i.indisunique AND i.indnkeyatts = 1 AND i.indexprs IS NULL AND i.indpred IS NULL
            """);
        AddParameter(command, "schema", schema ?? "public");
        AddParameter(command, "table", table);
        AddParameter(command, "column", column);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    protected override string? DescribeDriverError(Exception error, SourceEndpoint endpoint) => error switch
    {
        PostgresException pg => pg.SqlState switch
        {
            PostgresErrorCodes.InvalidPassword =>
                $"The server refused the user name or password (user '{endpoint.Username}').",
            PostgresErrorCodes.InvalidAuthorizationSpecification =>
                $"The server refused the login: {pg.MessageText}",
            PostgresErrorCodes.InvalidCatalogName =>
                $"The database '{endpoint.Database}' does not exist on {endpoint.Display}.",
            PostgresErrorCodes.ReadOnlySqlTransaction =>
                "The query tried to change data. Connections only read: use a plain SELECT.",
            PostgresErrorCodes.InsufficientPrivilege =>
                $"The login may not do that: {pg.MessageText}",
            PostgresErrorCodes.QueryCanceled =>
                "The query was stopped: it ran longer than the connection's command timeout.",
            PostgresErrorCodes.TooManyConnections =>
                "The server has no free connections right now; try again later.",
            PostgresErrorCodes.CannotConnectNow =>
                "The server is starting up or shutting down; try again shortly.",
            _ when pg.SqlState.StartsWith("42", StringComparison.Ordinal) || pg.SqlState.StartsWith("22", StringComparison.Ordinal) =>
                $"The query failed: {pg.MessageText}",
            _ => $"PostgreSQL reported an error: {pg.MessageText}",
        },
        _ => null,
    };
}
