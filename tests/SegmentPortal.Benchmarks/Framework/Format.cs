using System.Globalization;

namespace SegmentPortal.Benchmarks.Framework;

/// <summary>Numbers as the report prints them: invariant culture, fixed decimals.</summary>
public static class Format
{
    public static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    public static string Milliseconds(TimeSpan elapsed) => elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Megabytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0", CultureInfo.InvariantCulture);

    public static string Ratio(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Rows(long rows) => rows.ToString("N0", CultureInfo.InvariantCulture);
}
