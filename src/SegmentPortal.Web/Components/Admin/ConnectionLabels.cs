using SegmentPortal.Core.Connections;

namespace SegmentPortal.Web.Components.Admin;

/// <summary>How connection kinds and options read on screen.</summary>
public static class ConnectionLabels
{
    public static string Kind(ConnectionKind kind) => kind switch
    {
        ConnectionKind.PostgreSql => "PostgreSQL",
        ConnectionKind.SqlServer => "SQL Server",
        ConnectionKind.Sqlite => "SQLite",
        _ => kind.ToString(),
    };

    public static string SslMode(PostgresSslMode mode) => mode switch
    {
        PostgresSslMode.Disable => "Disable (no encryption)",
        PostgresSslMode.Prefer => "Prefer (encrypt when the server can)",
        PostgresSslMode.Require => "Require (encrypt, don't check the certificate)",
        PostgresSslMode.VerifyFull => "Verify full (encrypt, check certificate and host name)",
        _ => mode.ToString(),
    };

    public static string Encrypt(SqlServerEncrypt mode) => mode switch
    {
        SqlServerEncrypt.Optional => "Optional",
        SqlServerEncrypt.Mandatory => "Mandatory",
        SqlServerEncrypt.Strict => "Strict (TDS 8)",
        _ => mode.ToString(),
    };
}
