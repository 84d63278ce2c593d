using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Net;
using Microsoft.Data.SqlClient;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// SQL Server through Microsoft.Data.SqlClient. SQL Server has no read-only transaction, so a connection's safety rests
/// on its login having read permissions only (db_datareader) and on <see cref="SelectValidator"/>; the work still runs
/// in a transaction that is always rolled back, and the connection asks for read-only intent.
/// </summary>
internal sealed class SqlServerDialect : SourceDialect
{
    public static readonly SqlServerDialect Instance = new();

    private static readonly SqlCommandBuilder Quoting = new();

    public override ConnectionKind Kind => ConnectionKind.SqlServer;

    public override string ProductName => "SQL Server";

    public override CommandBehavior ReadBehavior => CommandBehavior.SequentialAccess;

    public override DbConnection CreateConnection(SourceEndpoint endpoint, ConnectionSettings settings, string? password, int connectTimeoutSeconds, bool pooled = false)
    {
        // Connect to the checked IPv4 address; an IPv6-only host is left to the driver to resolve.
        var pinned = endpoint.Address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } address ? address : null;
        var target = pinned?.ToString() ?? endpoint.Host;
        var builder = new SqlConnectionStringBuilder
        {
            DataSource = $"tcp:{target},{endpoint.Port.ToString(CultureInfo.InvariantCulture)}",
            InitialCatalog = endpoint.Database,
            UserID = endpoint.Username,
            Password = password,
            IntegratedSecurity = false,
            Encrypt = (settings.Encrypt ?? SqlServerEncrypt.Mandatory) switch
            {
                SqlServerEncrypt.Optional => SqlConnectionEncryptOption.Optional,
                SqlServerEncrypt.Strict => SqlConnectionEncryptOption.Strict,
                _ => SqlConnectionEncryptOption.Mandatory,
            },
            TrustServerCertificate = settings.TrustServerCertificate ?? false,
            ConnectTimeout = connectTimeoutSeconds,
            CommandTimeout = settings.CommandTimeoutSeconds ?? ConnectionSettings.DefaultCommandTimeoutSeconds,
            ConnectRetryCount = 0,
            Pooling = pooled,
            MultipleActiveResultSets = false,
            ApplicationIntent = ApplicationIntent.ReadOnly,
            ApplicationName = "SegmentPortal",
        };
        if (pinned is not null && endpoint.Host is { } host && !IPAddress.TryParse(host, out _))
        {
            // Connecting to the checked address; the certificate is still checked against the name.
            builder.HostNameInCertificate = host;
        }
        return new SqlConnection(builder.ConnectionString);
    }

    public override async Task<DbTransaction?> BeginReadOnlyAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

    public override string Quote(string identifier) => Quoting.QuoteIdentifier(identifier);

    public override string SelectTable(string? schema, string table, int? limit) =>
        "SELECT " + (limit is { } n ? $"TOP ({n.ToString(CultureInfo.InvariantCulture)}) " : "") + $"* FROM {Quote(schema ?? "dbo")}.{Quote(table)}";

    // T-SQL cannot wrap a query that has a WITH or ORDER BY in a derived table; the reader stops after the rows instead.
    public override string Limit(string query, int limit) => query;

    public override bool LimitsQueries => false;

    public override async Task<IReadOnlyList<RemoteTable>> ListTablesAsync(SourceSession session, CancellationToken cancellationToken)
    {
        // sys.partitions' rows are what SQL Server maintains for the table: exact in practice, "approximate" per its docs.
        await using var command = session.Command("""
            SELECT s.name, o.name, CAST(CASE WHEN o.type = 'V' THEN 1 ELSE 0 END AS bit),
                   (SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1))
            FROM sys.objects o
            JOIN sys.schemas s ON s.schema_id = o.schema_id
            WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0
            ORDER BY s.name, o.name
            """);
        return await ReadAllAsync(command, r => new RemoteTable(
            r.GetString(0),
            r.GetString(1),
            r.GetBoolean(2),
            r.IsDBNull(3) ? null : Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture),
            RowCountIsEstimate: !r.IsDBNull(3)), cancellationToken);
    }

    public override async Task<bool> TableExistsAsync(SourceSession session, string? schema, string table, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT COUNT(*) FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id
            WHERE s.name = @schema AND o.name = @table AND o.type IN ('U', 'V')
            """);
        AddParameter(command, "@schema", schema ?? "dbo");
        AddParameter(command, "@table", table);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    public override async Task<bool> IsUniqueKeyAsync(SourceSession session, string? schema, string table, string column, CancellationToken cancellationToken)
    {
        // A unique index (or primary key) without a filter whose only key column is this NOT NULL column.
        await using var command = session.Command("""
            SELECT COUNT(*) FROM sys.indexes i
            JOIN sys.objects o ON o.object_id = i.object_id
            JOIN sys.schemas s ON s.schema_id = o.schema_id
            JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
            JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
            WHERE s.name = @schema AND o.name = @table AND c.name = @column AND c.is_nullable = 0
              AND i.is_unique = 1 AND i.has_filter = 0
              AND (SELECT COUNT(*) FROM sys.index_columns k WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.is_included_column = 0) = 1
            """);
        AddParameter(command, "@schema", schema ?? "dbo");
        AddParameter(command, "@table", table);
        AddParameter(command, "@column", column);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    protected override string? DescribeDriverError(Exception error, SourceEndpoint endpoint) => error switch
    {
        SqlException sql => sql.Number switch
        {
            18456 or 18452 => $"The server refused the user name or password (user '{endpoint.Username}').",
            4060 => $"The database '{endpoint.Database}' does not exist on {endpoint.Display}, or the login may not open it.",
            -2 => "The query was stopped: it ran longer than the connection's command timeout.",
            229 or 230 or 262 or 297 or 300 => $"The login may not do that: {FirstLine(sql.Message)}",
            3906 => "The query tried to change data. Connections only read: use a plain SELECT.",
            2 or 53 or 40 or -1 or 26 or 10060 or 10061 or 11001 or 258 =>
                $"Could not reach SQL Server at {endpoint.Display}. Check the host and port, that TCP/IP is enabled and that no firewall is in the way.",
            _ when sql.Class is >= 11 and <= 16 => $"The query failed: {FirstLine(sql.Message)}",
            _ => null,
        },
        _ => null,
    };
}
