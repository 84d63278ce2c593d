namespace SegmentPortal.Core.Common;

/// <summary>
/// The ANSI rule for quoting an SQL identifier, in one place: the name in double quotes, its own double quotes
/// doubled. DuckDB (the warehouse and its dialect) and SQLite sources follow it; PostgreSQL and SQL Server sources use
/// their drivers' quoting.
/// </summary>
internal static class SqlIdentifiers
{
    /// <summary><c>order "x"</c> becomes <c>"order ""x"""</c>.</summary>
    public static string DoubleQuote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
