using System.Text.Json.Serialization;

namespace SegmentPortal.Core.Connections;

/// <summary>PostgreSQL's SSL modes the portal offers (libpq's meaning; VerifyFull checks the certificate and host name).</summary>
public enum PostgresSslMode
{
    Disable = 0,
    Prefer = 1,
    Require = 2,
    VerifyFull = 3,
}

/// <summary>SQL Server's encryption choices (Strict is TDS 8).</summary>
public enum SqlServerEncrypt
{
    Optional = 0,
    Mandatory = 1,
    Strict = 2,
}

/// <summary>
/// The allow-listed driver options of a connection, stored as <see cref="DataConnection.OptionsJson"/>. Only the ones
/// that apply to the connection's kind are kept; there is no way to pass any other keyword to a driver.
/// </summary>
public sealed class ConnectionSettings
{
    public const int DefaultCommandTimeoutSeconds = 300;
    public const int MaxCommandTimeoutSeconds = 3600;

    /// <summary>PostgreSQL only; Prefer when not set.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<PostgresSslMode>))]
    public PostgresSslMode? SslMode { get; set; }

    /// <summary>SQL Server only; Mandatory when not set.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<SqlServerEncrypt>))]
    public SqlServerEncrypt? Encrypt { get; set; }

    /// <summary>SQL Server only: accept the server's certificate without checking it.</summary>
    public bool? TrustServerCertificate { get; set; }

    /// <summary>How long one query may run, in seconds (1 to 3600; 300 when not set).</summary>
    public int? CommandTimeoutSeconds { get; set; }

    /// <summary>Queries of live datasets that may run on this connection at once (1 to 64; 4 when not set); more wait their turn.</summary>
    public int? MaxLiveQueries { get; set; }

    public const int DefaultMaxLiveQueries = 4;
    public const int MaxMaxLiveQueries = 64;

    public ConnectionSettings Clone() => (ConnectionSettings)MemberwiseClone();
}

/// <summary>What an admin types to create or change a connection. Fields only, never a connection string.</summary>
public sealed class ConnectionInput
{
    public string Name { get; set; } = "";

    public ConnectionKind Kind { get; set; }

    public string? Host { get; set; }

    /// <summary>Null means the kind's default port (5432, 1433).</summary>
    public int? Port { get; set; }

    /// <summary>The database name; for SQLite, a file name inside the sources folder.</summary>
    public string Database { get; set; } = "";

    public string? Username { get; set; }

    /// <summary>Empty when updating keeps the stored password.</summary>
    public string? Password { get; set; }

    public ConnectionSettings Settings { get; set; } = new();

    /// <summary>Segment syncs may write tables through it (PostgreSQL and SQL Server only).</summary>
    public bool WritableForSyncs { get; set; }

    public static int? DefaultPort(ConnectionKind kind) => kind switch
    {
        ConnectionKind.PostgreSql => 5432,
        ConnectionKind.SqlServer => 1433,
        _ => null,
    };
}

/// <summary>A connection as lists show it. The password itself never leaves the service.</summary>
public sealed record ConnectionSummary(
    int Id,
    string Name,
    ConnectionKind Kind,
    string? Host,
    int? Port,
    string Database,
    string? Username,
    bool HasPassword,
    string? CreatedBy,
    DateTimeOffset CreatedAt)
{
    /// <summary>Segment syncs may write tables through it.</summary>
    public bool WritableForSyncs { get; init; }

    /// <summary>"host:port/database", or the file name for SQLite.</summary>
    public string Target => Kind == ConnectionKind.Sqlite
        ? Database
        : $"{(Host?.Contains(':', StringComparison.Ordinal) == true ? $"[{Host}]" : Host)}:{Port}/{Database}";
}

/// <summary>A connection with its options, for the edit form. Still no password: only whether one is stored.</summary>
public sealed record ConnectionDetails(ConnectionSummary Summary, ConnectionSettings Settings)
{
    /// <summary>The form's starting values; the password stays empty, which keeps the stored one.</summary>
    public ConnectionInput ToInput() => new()
    {
        Name = Summary.Name,
        Kind = Summary.Kind,
        Host = Summary.Host,
        Port = Summary.Port,
        Database = Summary.Database,
        Username = Summary.Username,
        Settings = Settings.Clone(),
        WritableForSyncs = Summary.WritableForSyncs,
    };
}

/// <summary>How "Test connection" went: the server's version, or a message for people.</summary>
public sealed record ConnectionTestResult(bool Success, string Message, string? ServerVersion, TimeSpan Elapsed);

/// <summary>A table or view the connection's login can read.</summary>
/// <param name="RowCount">Null when not counted (views).</param>
/// <param name="RowCountIsEstimate">True when the count comes from the server's statistics rather than count(*).</param>
public sealed record RemoteTable(string Schema, string Name, bool IsView, long? RowCount, bool RowCountIsEstimate);

public enum ConnectionSourceKind
{
    Table = 0,
    Query = 1,
}

/// <summary>What to read from a connection: a table chosen from <c>ListTablesAsync</c>, or one read-only SELECT.</summary>
public sealed record ConnectionSource(ConnectionSourceKind Kind, string? Schema, string? Table, string? Query)
{
    public static ConnectionSource ForTable(string? schema, string table) => new(ConnectionSourceKind.Table, schema, table, null);

    public static ConnectionSource ForQuery(string query) => new(ConnectionSourceKind.Query, null, null, query);

    public string Describe() => Kind == ConnectionSourceKind.Table
        ? (string.IsNullOrEmpty(Schema) ? Table ?? "" : $"{Schema}.{Table}")
        : "query";
}

/// <summary>A column as read from a source, with the warehouse type it is imported as.</summary>
public sealed record SourceColumn(string Name, string SourceType, string WarehouseType);

/// <summary>The first rows of a source. Values are already converted the way an import stores them.</summary>
public sealed record SourcePreview(IReadOnlyList<SourceColumn> Columns, IReadOnlyList<object?[]> Rows, bool HasMoreRows);

/// <summary>What <c>ExtractAsync</c> wrote into the staging table.</summary>
public sealed record ExtractResult(long RowCount, IReadOnlyList<SourceColumn> Columns);

/// <summary>A connection could not be used; the message says why, for people (never a stack trace).</summary>
internal sealed class ConnectionException(string message, Exception? inner = null) : PortalException(message, inner);

/// <summary>A query was refused before it reached the database.</summary>
internal sealed class QueryRejectedException(string message) : PortalException(message);
