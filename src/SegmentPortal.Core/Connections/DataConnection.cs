namespace SegmentPortal.Core.Connections;

public enum ConnectionKind
{
    PostgreSql = 0,
    SqlServer = 1,
    Sqlite = 2,
}

/// <summary>
/// A database the portal may read from, described by fields (never a free connection string). Admins create them;
/// Analysts import from them. The password is stored encrypted and never shown again.
/// </summary>
public class DataConnection
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public ConnectionKind Kind { get; set; }

    public string? Host { get; set; }

    public int? Port { get; set; }

    /// <summary>Database name; for SQLite, the file name inside the allow-listed folder.</summary>
    public required string Database { get; set; }

    public string? Username { get; set; }

    /// <summary>Encrypted with ASP.NET Data Protection; null when the connection has no password.</summary>
    public string? ProtectedPassword { get; set; }

    /// <summary>Allow-listed driver options (e.g. SSL mode), as JSON.</summary>
    public string? OptionsJson { get; set; }

    /// <summary>
    /// An Admin allowed segment syncs to write tables through this connection (create one, upsert and delete its rows).
    /// Imports and previews stay read-only either way.
    /// </summary>
    public bool WritableForSyncs { get; set; }

    public string? CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
