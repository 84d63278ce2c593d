using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Import.Excel;
using SegmentPortal.Core.Import.Text;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Import;

public enum FileFormat
{
    Csv,
    Excel,
    Parquet,
    Json,
}

/// <summary>
/// What the user chose for a file; null (or Auto) means "work it out". <paramref name="DateFormat"/> is how dates are
/// written, as a strptime format such as <c>%d/%m/%Y</c> (see <see cref="FileImporter.DateFormats"/>); date-times are
/// read with the same day, month and year order.
/// </summary>
public sealed record FileImportOptions(char? Delimiter = null, string? Sheet = null, TextEncodingChoice Encoding = TextEncodingChoice.Auto, string? DateFormat = null);

public sealed record ImportedFile(string FileName, long Rows, int Columns, IReadOnlyList<string> Notes);

/// <summary>
/// Reads one uploaded file into a warehouse table, using DuckDB's own readers (CSV sniffing and type detection, Parquet,
/// JSON). Every failure is a <see cref="PortalException"/> that names the file, and the line and column where it can.
/// </summary>
public sealed partial class FileImporter(UploadStore uploads, IOptions<ImportOptions> options)
{
    private const int MaxTypeRetries = 50;

    /// <summary>
    /// The dialect is settled before DuckDB reads (delimiter, header, names; RFC 4180 quoting), so its sniffer only picks
    /// types. Left to guess, it may take a short file's first rows for a preamble and skip them; strict mode makes
    /// rows that do not fit an error instead of silently padded or dropped values.
    /// </summary>
    private const string StrictDialect =
        "delim = $delim, header = true, skip = 0, quote = '\"', escape = '\"', names = $names, strict_mode = true";

    public static FileFormat? FormatOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".csv" or ".tsv" or ".txt" or ".tab" => FileFormat.Csv,
        ".xlsx" => FileFormat.Excel,
        ".parquet" or ".pq" => FileFormat.Parquet,
        ".json" or ".ndjson" or ".jsonl" => FileFormat.Json,
        _ => null,
    };

    public static string SupportedExtensions => ".csv, .tsv, .txt, .xlsx, .parquet, .json, .ndjson";

    /// <summary>The date layouts the import page offers when detection guessed the order wrong, with how people write them.</summary>
    public static IReadOnlyList<(string Format, string Label)> DateFormats { get; } =
    [
        ("%d/%m/%Y", "dd/mm/yyyy"), ("%m/%d/%Y", "mm/dd/yyyy"), ("%d-%m-%Y", "dd-mm-yyyy"), ("%m-%d-%Y", "mm-dd-yyyy"),
        ("%d.%m.%Y", "dd.mm.yyyy"), ("%Y-%m-%d", "yyyy-mm-dd"), ("%Y/%m/%d", "yyyy/mm/dd"),
    ];

    /// <summary>How a strptime date format reads to people: "day-month-year (dd-mm-yyyy)".</summary>
    public static string DescribeDateFormat(string format)
    {
        var layout = format.Replace("%d", "dd").Replace("%m", "mm").Replace("%Y", "yyyy").Replace("%y", "yy")
            .Replace("%H", "HH").Replace("%M", "MM").Replace("%S", "SS").Replace("%f", "ffffff");
        int At(string token) => format.IndexOf(token, StringComparison.Ordinal) is >= 0 and var i ? i : int.MaxValue;
        var year = Math.Min(At("%Y"), At("%y"));
        var order = new[] { ("day", At("%d")), ("month", At("%m")), ("year", year) }.Where(p => p.Item2 != int.MaxValue).OrderBy(p => p.Item2).Select(p => p.Item1);
        return $"{string.Join("-", order)} ({layout})";
    }

    /// <summary>Creates <paramref name="table"/> from the upload. The caller owns the table's fate (staging and swap).</summary>
    public async Task<ImportedFile> ImportAsync(
        DuckDBConnection db,
        string table,
        StoredUpload upload,
        FileImportOptions fileOptions,
        IProgress<JobProgress>? progress,
        CancellationToken cancellationToken)
    {
        var format = FormatOf(upload.FileName)
            ?? throw Fail(upload, $"is not a file type the portal reads. Use {SupportedExtensions}.");
        if (upload.Size == 0)
        {
            throw Fail(upload, "is empty.");
        }
        var path = uploads.PathOf(upload);
        var notes = new List<string>();
        try
        {
            switch (format)
            {
                case FileFormat.Csv:
                    await ImportDelimitedAsync(db, table, upload, path, fileOptions, notes, progress, cancellationToken, describe: true);
                    break;
                case FileFormat.Parquet:
                    await CreateFromAsync(db, table, "read_parquet($path)", path, progress, cancellationToken);
                    break;
                case FileFormat.Json:
                    await CreateFromAsync(db, table, "read_json($path, format = 'auto')", path, progress, cancellationToken);
                    await FlattenNestedAsync(db, table, notes, cancellationToken);
                    break;
                case FileFormat.Excel:
                    var csv = uploads.ScratchPathOf(upload, "csv");
                    var sheet = await XlsxReader.ConvertToCsvAsync(path, upload.FileName, fileOptions.Sheet, csv,
                        XlsxLimits.Default with { MaxColumns = options.Value.MaxColumns },
                        new Progress<long>(rows => progress?.Report(new JobProgress(null, $"Reading sheet: {rows:N0} rows"))), cancellationToken);
                    if (sheet.IgnoredCells > 0)
                    {
                        notes.Add($"{sheet.IgnoredCells:N0} cells to the right of the last heading in sheet '{sheet.SheetName}' were left out.");
                    }
                    await ImportDelimitedAsync(db, table, upload, csv, fileOptions with { Delimiter = ',', Encoding = TextEncodingChoice.Utf8 },
                        notes, progress, cancellationToken, describe: false);
                    break;
            }
        }
        catch (DuckDBException ex) when (format is FileFormat.Parquet)
        {
            throw Fail(upload, $"is not a readable Parquet file ({FirstLine(ex.Message)}).");
        }
        catch (DuckDBException ex) when (format is FileFormat.Json)
        {
            throw Fail(upload, $"is not valid JSON or NDJSON ({FirstLine(ex.Message)}).");
        }

        var columns = await ColumnCountAsync(db, table, cancellationToken);
        if (columns > options.Value.MaxColumns)
        {
            throw Fail(upload, $"has {columns:N0} columns; the limit is {options.Value.MaxColumns:N0}.");
        }
        var rows = await WarehouseCommand.ScalarAsync<long>(db, $"SELECT count(*) FROM {WarehouseNames.Quote(table)}", null, cancellationToken);
        return new ImportedFile(upload.FileName, rows, columns, notes);
    }

    private async Task ImportDelimitedAsync(
        DuckDBConnection db, string table, StoredUpload upload, string path, FileImportOptions fileOptions,
        List<string> notes, IProgress<JobProgress>? progress, CancellationToken cancellationToken, bool describe)
    {
        string encodingRead;
        (path, encodingRead) = await AsUtf8Async(upload, path, fileOptions.Encoding, progress, cancellationToken);
        CsvLayout layout;
        var delimiter = fileOptions.Delimiter ?? (upload.Extension is ".tsv" or ".tab" ? '\t' : null);
        try
        {
            layout = await CsvLayoutReader.ReadAsync(path, delimiter, cancellationToken);
        }
        catch (PortalException ex)
        {
            throw Fail(upload, ex.Message);
        }
        if (layout.Columns.Count > options.Value.MaxColumns)
        {
            throw Fail(upload, $"has {layout.Columns.Count:N0} columns; the limit is {options.Value.MaxColumns:N0}.");
        }
        if (describe)
        {
            // Said every time, so a wrong guess is seen and can be corrected with the import's choices.
            var how = fileOptions.Delimiter is not null ? "as chosen" : delimiter is not null ? $"from the {upload.Extension} name" : "detected";
            notes.Add($"Read as {encodingRead}, separated by {DelimiterName(layout.Delimiter)} ({how}).");
        }
        notes.AddRange(layout.Renames);
        var dialect = StrictDialect + (fileOptions.DateFormat is null ? "" : ", dateformat = $dateformat, timestampformat = $timestampformat");

        // Column types come from DuckDB's sniffer; a column whose later rows do not fit the sniffed type is kept as text.
        List<string>? types = null;
        for (var attempt = 0; ; attempt++)
        {
            var parameters = new Dictionary<string, object?>
            {
                ["path"] = path,
                ["delim"] = layout.Delimiter.ToString(),
                ["names"] = layout.Columns.ToList(),
            };
            AddDateFormat(parameters, fileOptions.DateFormat);
            var typesClause = "";
            if (types is not null)
            {
                parameters["types"] = types;
                typesClause = ", types = $types";
            }
            var sql = $"CREATE OR REPLACE TABLE {WarehouseNames.Quote(table)} AS SELECT * FROM read_csv($path, {dialect}{typesClause})";
            try
            {
                progress?.Report(new JobProgress(null, $"Reading {upload.FileName} ({UploadStore.FormatBytes(upload.Size)})…"));
                await WarehouseCommand.ExecuteAsync(db, sql, parameters, cancellationToken);
                if (describe && await DateNoteAsync(db, table, path, layout, fileOptions.DateFormat, cancellationToken) is { } dates)
                {
                    notes.Add(dates);
                }
                return;
            }
            catch (DuckDBException ex) when (ConversionError().Match(ex.Message) is { Success: true } m && attempt < MaxTypeRetries)
            {
                var column = m.Groups["column"].Value;
                var index = layout.Columns.ToList().IndexOf(column);
                types ??= await SniffedTypesAsync(db, path, layout, fileOptions.DateFormat, cancellationToken);
                if (index < 0 || types[index] == "VARCHAR")
                {
                    throw Fail(upload, $"line {m.Groups["line"].Value}: {FirstLine(ex.Message)}");
                }
                notes.Add($"Column \"{column}\" looked like {Describe(types[index])} but line {m.Groups["line"].Value} has \"{m.Groups["value"].Value}\"; it is kept as text.");
                types[index] = "VARCHAR";
            }
            catch (DuckDBException ex)
            {
                var problem = await CsvDiagnostics.FindAsync(path, layout.Delimiter, layout.Columns, cancellationToken);
                if (problem is not null)
                {
                    throw Fail(upload, $"line {problem.Line:N0}: {problem.Message}");
                }
                var line = LineNumber().Match(ex.Message);
                throw Fail(upload, line.Success
                    ? $"line {line.Groups[1].Value}: the row could not be read ({FirstLine(ex.Message)})."
                    : $"could not be read as delimited text ({FirstLine(ex.Message)}).");
            }
        }
    }

    private static async Task<List<string>> SniffedTypesAsync(DuckDBConnection db, string path, CsvLayout layout, string? dateFormat, CancellationToken cancellationToken)
    {
        var parameters = new Dictionary<string, object?> { ["path"] = path, ["delim"] = layout.Delimiter.ToString(), ["names"] = layout.Columns.ToList() };
        AddDateFormat(parameters, dateFormat);
        var described = await WarehouseCommand.QueryAsync(db,
            $"DESCRIBE SELECT * FROM read_csv($path, {StrictDialect}{(dateFormat is null ? "" : ", dateformat = $dateformat, timestampformat = $timestampformat")})",
            parameters, r => r.GetString(1), cancellationToken);
        return described;
    }

    private static void AddDateFormat(Dictionary<string, object?> parameters, string? dateFormat)
    {
        if (dateFormat is not null)
        {
            parameters["dateformat"] = dateFormat;
            parameters["timestampformat"] = dateFormat + " %H:%M:%S";
        }
    }

    private static string DelimiterName(char delimiter) => delimiter switch
    {
        ',' => "commas",
        ';' => "semicolons",
        '\t' => "tabs",
        '|' => "pipes",
        _ => $"\"{delimiter}\"",
    };

    /// <summary>
    /// Which day, month and year order the dates were read in, and in which columns: a file of 03-04-2024 dates is
    /// 3 April or 4 March, and only the user can tell when every day is 12 or less. Null without date columns.
    /// </summary>
    private static async Task<string?> DateNoteAsync(
        DuckDBConnection db, string table, string path, CsvLayout layout, string? chosen, CancellationToken cancellationToken)
    {
        var columns = await WarehouseCommand.QueryAsync(db,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $table ORDER BY ordinal_position",
            new Dictionary<string, object?> { ["table"] = table }, r => (Name: r.GetString(0), Type: r.GetString(1)), cancellationToken);
        var dates = columns.Where(c => c.Type == "DATE" || c.Type.StartsWith("TIMESTAMP", StringComparison.Ordinal)).Select(c => $"\"{c.Name}\"").ToList();
        if (dates.Count == 0)
        {
            return null;
        }
        var format = chosen;
        if (format is null)
        {
            try
            {
                var sniffed = await WarehouseCommand.QueryAsync(db,
                    "SELECT DateFormat, TimestampFormat FROM sniff_csv($path, delim = $delim, header = true, skip = 0, quote = '\"', escape = '\"', sample_size = -1)",
                    new Dictionary<string, object?> { ["path"] = path, ["delim"] = layout.Delimiter.ToString() },
                    r => (Date: r.IsDBNull(0) ? null : r.GetString(0), Timestamp: r.IsDBNull(1) ? null : r.GetString(1)), cancellationToken);
                format = sniffed.Select(s => NonEmpty(s.Date) ?? NonEmpty(s.Timestamp)).FirstOrDefault(f => f is not null);
            }
            catch (DuckDBException)
            {
                // The sniffer could not say; the types are already settled, so the note only leaves out the order.
            }
        }
        var what = dates.Count == 1 ? $"Dates in {dates[0]}" : $"Dates in {string.Join(", ", dates)}";
        return format is null
            ? $"{what} were read in ISO order (year-month-day)."
            : $"{what} were read as {DescribeDateFormat(format)}{(chosen is null ? "" : ", as chosen")}.";
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static async Task CreateFromAsync(
        DuckDBConnection db, string table, string reader, string path, IProgress<JobProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new JobProgress(null, "Reading the file…"));
        await WarehouseCommand.ExecuteAsync(db,
            $"CREATE OR REPLACE TABLE {WarehouseNames.Quote(table)} AS SELECT * FROM {reader}",
            new Dictionary<string, object?> { ["path"] = path },
            cancellationToken);
    }

    /// <summary>Nested JSON objects and arrays are kept as JSON text, so every column is something people can filter on.</summary>
    private static async Task FlattenNestedAsync(DuckDBConnection db, string table, List<string> notes, CancellationToken cancellationToken)
    {
        var columns = await WarehouseCommand.QueryAsync(db,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $table ORDER BY ordinal_position",
            new Dictionary<string, object?> { ["table"] = table }, r => (Name: r.GetString(0), Type: r.GetString(1)), cancellationToken);
        var nested = columns.Where(c => c.Type.StartsWith("STRUCT", StringComparison.Ordinal) || c.Type.EndsWith("[]", StringComparison.Ordinal)
            || c.Type.StartsWith("MAP", StringComparison.Ordinal) || c.Type == "JSON").ToList();
        if (nested.Count == 0)
        {
            return;
        }
        var replace = string.Join(", ", nested.Select(c => $"CAST(to_json({WarehouseNames.Quote(c.Name)}) AS VARCHAR) AS {WarehouseNames.Quote(c.Name)}"));
        var quoted = WarehouseNames.Quote(table);
        await WarehouseCommand.ExecuteAsync(db, $"CREATE OR REPLACE TABLE {quoted} AS SELECT * REPLACE ({replace}) FROM {quoted}", null, cancellationToken);
        notes.Add($"Nested values in {string.Join(", ", nested.Select(c => $"\"{c.Name}\""))} are kept as JSON text.");
    }

    private static Task<int> ColumnCountAsync(DuckDBConnection db, string table, CancellationToken cancellationToken) =>
        WarehouseCommand.ScalarAsync<int>(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = $table",
            new Dictionary<string, object?> { ["table"] = table }, cancellationToken);

    /// <summary>
    /// DuckDB reads UTF-8. Anything else (UTF-16, Windows-1252, GB18030) is transcoded as a stream into a scratch copy;
    /// binary files are refused here, whatever their name says.
    /// </summary>
    private async Task<(string Path, string Description)> AsUtf8Async(
        StoredUpload upload, string path, TextEncodingChoice chosen, IProgress<JobProgress>? progress, CancellationToken cancellationToken)
    {
        var encoding = chosen;
        var description = $"{TextEncodings.DisplayName(chosen)} (as chosen)";
        if (encoding == TextEncodingChoice.Auto)
        {
            TextEncodingDetection detection;
            await using (var sample = File.OpenRead(path))
            {
                detection = await TextEncodings.DetectAsync(sample, cancellationToken);
            }
            if (detection.IsBinary)
            {
                throw Fail(upload, $"is not a text file. {detection.Explanation}");
            }
            encoding = detection.Encoding;
            description = detection.Explanation;
        }
        if (encoding == TextEncodingChoice.Utf8)
        {
            return (path, description);
        }
        var utf8 = uploads.ScratchPathOf(upload, "utf8.csv");
        try
        {
            await using var source = File.OpenRead(path);
            await using var destination = new FileStream(utf8, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
            var size = source.Length;
            await TextEncodings.TranscodeToUtf8Async(source, encoding, destination,
                new Progress<long>(read => progress?.Report(new JobProgress(0.3 * read / Math.Max(1, size), $"Converting {TextEncodings.DisplayName(encoding)} to UTF-8"))),
                cancellationToken);
        }
        catch (PortalException ex) when (ex is not InvalidTextEncodingException)
        {
            throw Fail(upload, ex.Message);
        }
        catch (InvalidTextEncodingException ex)
        {
            throw Fail(upload, $"could not be read. {ex.Message}");
        }
        return (utf8, description);
    }

    private static string Describe(string duckType) => duckType switch
    {
        "BIGINT" or "INTEGER" or "SMALLINT" or "TINYINT" or "HUGEINT" => "whole numbers",
        "DOUBLE" or "FLOAT" => "numbers",
        "DATE" => "dates",
        "BOOLEAN" => "true/false",
        _ when duckType.StartsWith("TIMESTAMP", StringComparison.Ordinal) => "date-times",
        _ when duckType.StartsWith("DECIMAL", StringComparison.Ordinal) => "numbers",
        _ => duckType.ToLowerInvariant(),
    };

    private static string FirstLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        var colon = line.IndexOf("Error: ", StringComparison.Ordinal);
        return colon >= 0 ? line[(colon + 7)..] : line;
    }

    private static PortalException Fail(StoredUpload upload, string message) => new($"{upload.FileName} {message}");

    [GeneratedRegex(@"CSV Error on Line: (?<line>\d+)[\s\S]*?converting column ""(?<column>[^""]*)""\. Could not convert string ""(?<value>[^""]*)""")]
    private static partial Regex ConversionError();

    [GeneratedRegex(@"Line: (\d+)")]
    private static partial Regex LineNumber();
}
