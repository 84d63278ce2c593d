namespace SegmentPortal.Core.Import.Excel;

/// <summary>
/// How much an uploaded workbook may unpack to. Checked against the zip directory before reading, and again against
/// the bytes actually read, so a workbook whose directory lies is still stopped.
/// </summary>
internal sealed record XlsxLimits
{
    /// <summary>The defaults: 1 GiB unpacked, 200:1 compression, 10,000 columns, no row limit.</summary>
    public static XlsxLimits Default { get; } = new();

    /// <summary>Most bytes all parts of the workbook may unpack to together.</summary>
    public long MaxUncompressedBytes { get; init; } = 1L << 30;

    /// <summary>
    /// Highest unpacked-to-packed ratio of a part larger than 1 MiB. Real sheets compress 5–50 times; zip bombs
    /// hundreds or a thousand times. Small parts are not checked: they compress well and cannot hurt.
    /// </summary>
    public double MaxCompressionRatio { get; init; } = 200;

    /// <summary>Most columns a sheet's heading row may have.</summary>
    public int MaxColumns { get; init; } = 10_000;

    /// <summary>Most rows of data (below the heading row) a sheet may have; null for no limit.</summary>
    public long? MaxRows { get; init; }
}
