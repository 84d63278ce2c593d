namespace SegmentPortal.Core.Import.Excel;

/// <summary>
/// Reads Excel workbooks (.xlsx) for import: lists their worksheets and writes one as a UTF-8 CSV file for the
/// warehouse's CSV reader. Sheets are streamed, and a workbook that unpacks to more than <see cref="XlsxLimits"/>
/// allow is refused before and while reading. Every problem with the file is a <see cref="PortalException"/> whose
/// message names the file by <c>displayName</c> (the name the user uploaded, not the path on disk).
/// </summary>
/// <remarks>
/// The CSV's first record is the sheet's first non-empty row (the headings), and every record has that many fields:
/// shorter rows are padded, empty rows left out, and values right of the last heading left out and counted in
/// <see cref="XlsxConversionResult.IgnoredCells"/>. Numbers keep every stored digit in invariant form; dates and
/// times (by their number format) become yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or HH:mm:ss; TRUE/FALSE become true/false;
/// error values (#N/A…) become empty.
/// </remarks>
internal static class XlsxReader
{
    /// <summary>The names of the workbook's worksheets, in workbook order (for a sheet picker).</summary>
    public static Task<IReadOnlyList<string>> ListSheetsAsync(string path, string displayName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(displayName);
        // The SDK reads synchronously; keep that off the caller's thread (a Blazor circuit, say).
        return Task.Run(() =>
        {
            using var workbook = XlsxWorkbook.Open(path, displayName, XlsxLimits.Default);
            return workbook.WorksheetNames;
        }, cancellationToken);
    }

    /// <summary>
    /// Writes a worksheet (the first one when <paramref name="sheetName"/> is null) to <paramref name="csvPath"/> as
    /// RFC 4180 CSV in UTF-8. On failure no CSV file is left behind.
    /// </summary>
    /// <param name="path">The uploaded workbook on disk.</param>
    /// <param name="displayName">The file's name as the user knows it, for messages.</param>
    /// <param name="sheetName">The worksheet to convert (case-insensitive, as in Excel), or null for the first.</param>
    /// <param name="csvPath">Where to write the CSV file; it is replaced if it exists.</param>
    /// <param name="limits">Size limits; <see cref="XlsxLimits.Default"/> unless the portal is configured otherwise.</param>
    /// <param name="rowsWritten">Data rows written so far, reported every thousand rows and at the end.</param>
    /// <param name="cancellationToken">Stops the conversion between rows.</param>
    public static Task<XlsxConversionResult> ConvertToCsvAsync(
        string path,
        string displayName,
        string? sheetName,
        string csvPath,
        XlsxLimits limits,
        IProgress<long>? rowsWritten = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(displayName);
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        ArgumentNullException.ThrowIfNull(limits);
        return Task.Run(() =>
        {
            using var workbook = XlsxWorkbook.Open(path, displayName, limits);
            return workbook.ConvertToCsv(sheetName, csvPath, rowsWritten, cancellationToken);
        }, cancellationToken);
    }
}
