using System.Text.RegularExpressions;

namespace SegmentPortal.Core.Warehouse;

public sealed partial class WarehouseOptions
{
    public const string Section = "Warehouse";

    /// <summary>The DuckDB file; relative to the data directory unless rooted.</summary>
    public string File { get; set; } = "warehouse.duckdb";

    /// <summary>Worker threads DuckDB may use; 0 means one per core.</summary>
    public int Threads { get; set; }

    /// <summary>DuckDB's memory_limit, e.g. "2GB" or "50%"... DuckDB spills to the data folder's tmp beyond it.</summary>
    public string MemoryLimit { get; set; } = "2GB";

    public void Validate()
    {
        if (Threads < 0 || Threads > 256)
        {
            throw new InvalidOperationException($"Warehouse:Threads must be between 0 and 256 (was {Threads}).");
        }
        if (!MemoryLimitPattern().IsMatch(MemoryLimit))
        {
            throw new InvalidOperationException(
                $"Warehouse:MemoryLimit must look like '2GB', '512MB' or '50%' (was '{MemoryLimit}').");
        }
    }

    [GeneratedRegex(@"^\d{1,6}(\.\d{1,3})?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$", RegexOptions.IgnoreCase)]
    private static partial Regex MemoryLimitPattern();
}
