using System.Globalization;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Exports;

/// <summary>
/// Writes a table (column names and rows of values) as CSV or as an Excel workbook, streaming: rows are read one at a
/// time from an <see cref="IAsyncEnumerable{T}"/> (a warehouse reader, say) and the file goes to the destination in
/// chunks of about 64 KB as it is made, so a million rows never sit in memory. The destination is only written
/// asynchronously, so it may be an HTTP response body. Every row must have one value per column.
/// </summary>
/// <remarks>
/// <para><b>Values.</b> Formatted invariantly, the same in both formats where the format allows:</para>
/// <list type="bullet">
/// <item>null (and DBNull) → an empty CSV field, no cell;</item>
/// <item>integers and decimals → every digit, no thousands separators (12.50, 123456789012345678901234567890);
/// double and float → the shortest text that reads back to the same number; NaN and infinities → NaN, Infinity,
/// -Infinity;</item>
/// <item>booleans → true/false (Excel TRUE/FALSE);</item>
/// <item>DateOnly → yyyy-MM-dd; DateTime → yyyy-MM-dd HH:mm:ss (with .fffffff only when there are fractions of a
/// second); DateTimeOffset → yyyy-MM-dd HH:mm:ss+hh:mm; TimeOnly → HH:mm:ss; TimeSpan → total hours:mm:ss
/// (36:00:00);</item>
/// <item>byte[] (and BLOB streams) → base64; Guid → its usual form; lists and maps → [a, b] and {key: value};
/// anything else → its invariant text.</item>
/// </list>
/// <para><b>CSV</b> follows RFC 4180: UTF-8 with a byte order mark (so Excel reads accents and Chinese correctly),
/// CRLF after every record, a header record of the column names, and a field in double quotes (its quotes doubled)
/// when it holds a comma, a quote, CR or LF. An empty string is written as "" so it differs from null.</para>
/// <para><b>Excel</b> (.xlsx): one worksheet with the column names in a bold, frozen first row; numbers are numbers,
/// booleans booleans, dates and times real Excel dates with a date number format (yyyy-mm-dd, yyyy-mm-dd hh:mm:ss);
/// a DateTimeOffset is shown in UTC (yyyy-mm-dd hh:mm:ss "UTC"), as Excel has no offsets. Text goes in inline
/// strings. What Excel cannot hold is handled rather than corrupted: integers of more than 15 digits (Excel would zero
/// the rest) are written as text, as are dates before 1900 and negative durations; text longer than 32,767
/// characters is cut there; characters XML cannot carry are written as Excel writes them (_xHHHH_). A sheet holds at
/// most <see cref="MaxXlsxDataRows"/> rows of data under the header; a larger table is refused with a
/// <see cref="PortalException"/> suggesting CSV — before anything is written when the row source's count is known,
/// otherwise when the row past the limit arrives. So is a sheet whose XML passes 4 GB (a million rows of about 4 KB of XML each,
/// some 70 text columns), which would need a Zip64 entry that .NET cannot write in a form Excel opens when the
/// destination cannot seek.</para>
/// <para><b>Formula injection.</b> In both formats, a text value that starts with <c>=</c>, <c>+</c>, <c>-</c>,
/// <c>@</c>, tab (0x09) or carriage return (0x0D) is written with a single quote in front (<c>'=SUM(A1)</c>), as
/// the OWASP guidance on CSV injection advises, so a spreadsheet shows it as text instead of running it. Column names
/// are text and treated the same. Only text values are touched: numbers (-5 stays -5, a number in the workbook),
/// dates and booleans never start with a formula, and neither does base64, whose alphabet cannot spell a function
/// call.</para>
/// <para>On failure (a row source error, cancellation, the row limit) the destination holds an incomplete file;
/// a caller writing to a file deletes it.</para>
/// </remarks>
public static class TableExport
{
    /// <summary>Rows of data a worksheet holds under its header row (Excel's 1,048,576 rows less one).</summary>
    public const long MaxXlsxDataRows = 1_048_575;

    /// <summary>Columns a worksheet holds (A to XFD).</summary>
    public const int MaxXlsxColumns = 16_384;

    public const string CsvContentType = "text/csv; charset=utf-8";

    public const string XlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>Writes the rows as CSV. Returns the number of data rows written.</summary>
    public static async Task<long> WriteCsvAsync(
        IReadOnlyList<string> columns,
        IAsyncEnumerable<object?[]> rows,
        Stream destination,
        CancellationToken cancellationToken = default)
    {
        CheckArguments(columns, rows, destination);
        using var buffer = new ExportBuffer();
        using var csv = new CsvWriter(buffer.Text);
        // The byte order mark: without it Excel reads UTF-8 as the local code page.
        buffer.WriteText("\uFEFF");
        foreach (var column in columns)
        {
            csv.WriteField(ExportValue.Neutralize(column ?? ""));
        }
        csv.EndRecord();

        long written = 0;
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            CheckRow(row, columns.Count, written + 1);
            foreach (var value in row)
            {
                var cell = ExportValue.Format(value);
                csv.WriteField(cell.Text, quoteEmpty: cell.Kind != ExportKind.Empty);
            }
            csv.EndRecord();
            written++;
            if (buffer.ShouldDrain)
            {
                await buffer.DrainAsync(destination, cancellationToken);
            }
        }
        await buffer.DrainAsync(destination, cancellationToken);
        await destination.FlushAsync(cancellationToken);
        return written;
    }

    /// <summary>Writes the rows as CSV. Returns the number of data rows written.</summary>
    public static Task<long> WriteCsvAsync(
        IReadOnlyList<string> columns,
        IEnumerable<object?[]> rows,
        Stream destination,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return WriteCsvAsync(columns, rows.ToAsyncEnumerable(), destination, cancellationToken);
    }

    /// <summary>Writes a query's result as CSV. Returns the number of data rows written.</summary>
    public static Task<long> WriteCsvAsync(QueryResult result, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        return WriteCsvAsync(result.Columns, result.Rows, destination, cancellationToken);
    }

    /// <summary>
    /// Writes the rows as an Excel workbook with one worksheet named <paramref name="sheetName"/> (made valid by
    /// <see cref="SanitizeSheetName"/>). Returns the number of data rows written.
    /// </summary>
    /// <exception cref="PortalException">
    /// More than <see cref="MaxXlsxDataRows"/> rows, more than <see cref="MaxXlsxColumns"/> columns, or over 4 GB of sheet data.
    /// </exception>
    public static Task<long> WriteXlsxAsync(
        IReadOnlyList<string> columns,
        IAsyncEnumerable<object?[]> rows,
        Stream destination,
        string sheetName,
        CancellationToken cancellationToken = default) =>
        WriteXlsxAsync(columns, rows, destination, sheetName, MaxXlsxDataRows, XlsxTableWriter.MaxSheetBytes, cancellationToken);

    /// <inheritdoc cref="WriteXlsxAsync(IReadOnlyList{string}, IAsyncEnumerable{object?[]}, Stream, string, CancellationToken)"/>
    public static async Task<long> WriteXlsxAsync(
        IReadOnlyList<string> columns,
        IEnumerable<object?[]> rows,
        Stream destination,
        string sheetName,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        // A count known up front is checked before anything is written.
        var count = rows switch
        {
            IReadOnlyCollection<object?[]> collection => collection.Count,
            ICollection<object?[]> collection => collection.Count,
            _ => (long?)null,
        };
        if (count > MaxXlsxDataRows)
        {
            throw TooManyRows(MaxXlsxDataRows, count);
        }
        return await WriteXlsxAsync(columns, rows.ToAsyncEnumerable(), destination, sheetName, cancellationToken);
    }

    /// <inheritdoc cref="WriteXlsxAsync(IReadOnlyList{string}, IAsyncEnumerable{object?[]}, Stream, string, CancellationToken)"/>
    public static Task<long> WriteXlsxAsync(QueryResult result, Stream destination, string sheetName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        return WriteXlsxAsync(result.Columns, result.Rows, destination, sheetName, cancellationToken);
    }

    /// <summary>
    /// A name Excel accepts for a worksheet: the characters [ ] : * ? / \ and control characters become _, leading and
    /// trailing spaces and apostrophes go, at most 31 characters are kept, an empty name becomes Sheet1, and History
    /// (reserved by Excel) becomes History_.
    /// </summary>
    public static string SanitizeSheetName(string? name)
    {
        const int MaxLength = 31;
        var chars = (name ?? "").ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            var loneSurrogate = char.IsHighSurrogate(c) ? i + 1 >= chars.Length || !char.IsLowSurrogate(chars[i + 1])
                : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(chars[i - 1]));
            if (c is '[' or ']' or ':' or '*' or '?' or '/' or '\\' || char.IsControl(c) || loneSurrogate || c is '\uFFFE' or '\uFFFF')
            {
                chars[i] = '_';
            }
        }
        var clean = new string(chars).Trim().Trim('\'').Trim();
        if (clean.Length > MaxLength)
        {
            // Not between the halves of a surrogate pair (an emoji).
            clean = clean[..(char.IsHighSurrogate(clean[MaxLength - 1]) ? MaxLength - 1 : MaxLength)].TrimEnd().TrimEnd('\'');
        }
        if (clean.Length == 0)
        {
            return "Sheet1";
        }
        return string.Equals(clean, "History", StringComparison.OrdinalIgnoreCase) ? clean + "_" : clean;
    }

    /// <summary>
    /// The workbook writer with its limits as parameters, so tests can reach them without a million rows or 4 GB.
    /// </summary>
    internal static async Task<long> WriteXlsxAsync(
        IReadOnlyList<string> columns,
        IAsyncEnumerable<object?[]> rows,
        Stream destination,
        string sheetName,
        long maxDataRows,
        long maxSheetBytes,
        CancellationToken cancellationToken)
    {
        CheckArguments(columns, rows, destination);
        ArgumentNullException.ThrowIfNull(sheetName);
        if (columns.Count > MaxXlsxColumns)
        {
            throw new PortalException(string.Create(CultureInfo.InvariantCulture,
                $"This export has {columns.Count:N0} columns. Excel holds at most {MaxXlsxColumns:N0} columns; export CSV instead."));
        }
        return await XlsxTableWriter.WriteAsync(columns, rows, destination, SanitizeSheetName(sheetName), maxDataRows, maxSheetBytes, cancellationToken);
    }

    internal static PortalException TooManyRows(long maxDataRows, long? rows = null)
    {
        var has = rows is { } count
            ? count.ToString("N0", CultureInfo.InvariantCulture)
            : "more than " + maxDataRows.ToString("N0", CultureInfo.InvariantCulture);
        return new(string.Create(CultureInfo.InvariantCulture,
            $"This export has {has} rows of data. Excel holds at most {maxDataRows + 1:N0} rows; export CSV instead."));
    }

    internal static void CheckRow(object?[]? row, int columns, long rowNumber)
    {
        if (row is null || row.Length != columns)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Row {rowNumber:N0} has {row?.Length ?? 0} values; the export has {columns} columns."), "rows");
        }
    }

    private static void CheckArguments(IReadOnlyList<string> columns, object rows, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(destination);
        if (columns.Count == 0)
        {
            throw new ArgumentException("An export needs at least one column.", nameof(columns));
        }
        if (!destination.CanWrite)
        {
            throw new ArgumentException("The destination cannot be written to.", nameof(destination));
        }
    }
}
