using System.Globalization;
using System.IO.Packaging;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using SegmentPortal.Core.Common;
using SpreadsheetText = DocumentFormat.OpenXml.Spreadsheet.Text;

namespace SegmentPortal.Core.Import.Excel;

/// <summary>
/// An opened .xlsx file: its worksheets, number formats and date system. Sheets are read with the SDK's SAX reader,
/// one row in memory at a time; only the shared string table is held whole, as every cell may refer to it.
/// </summary>
internal sealed class XlsxWorkbook : IDisposable
{
    // Excel's widest sheet (column XFD); a cell beyond it means the file is damaged.
    private const int ExcelMaxColumns = 16_384;

    private const int ProgressEveryRows = 1_000;

    private readonly string _displayName;
    private readonly XlsxLimits _limits;
    private readonly IReadOnlyDictionary<string, long> _packedSizes;
    private readonly FileStream _file;
    private readonly SpreadsheetDocument _document;
    private readonly WorkbookPart _workbookPart;
    private readonly List<(string Name, OpenXmlPart? Part)> _sheets;
    private readonly bool _date1904;

    private XlsxWorkbook(
        string displayName,
        XlsxLimits limits,
        IReadOnlyDictionary<string, long> packedSizes,
        FileStream file,
        SpreadsheetDocument document,
        WorkbookPart workbookPart,
        List<(string Name, OpenXmlPart? Part)> sheets,
        bool date1904)
    {
        _displayName = displayName;
        _limits = limits;
        _packedSizes = packedSizes;
        _file = file;
        _document = document;
        _workbookPart = workbookPart;
        _sheets = sheets;
        _date1904 = date1904;
    }

    /// <summary>Worksheet names in workbook order; chart and dialog sheets hold no table, so they are left out.</summary>
    public IReadOnlyList<string> WorksheetNames => _sheets.Where(s => s.Part is WorksheetPart).Select(s => s.Name).ToList();

    public static XlsxWorkbook Open(string path, string displayName, XlsxLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var packedSizes = XlsxPackageGuard.Inspect(path, displayName, limits);

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        SpreadsheetDocument? document = null;
        try
        {
            document = SpreadsheetDocument.Open(file, isEditable: false, new OpenSettings { MaxCharactersInPart = limits.MaxUncompressedBytes });
            var workbookPart = document.WorkbookPart ?? throw XlsxPackageGuard.NotAWorkbook(displayName);
            var workbook = workbookPart.Workbook ?? throw XlsxPackageGuard.NotAWorkbook(displayName);
            var sheets = new List<(string, OpenXmlPart?)>();
            foreach (var sheet in workbook.Sheets?.Elements<Sheet>() ?? [])
            {
                var id = sheet.Id?.Value;
                var part = id is not null && workbookPart.TryGetPartById(id, out var found) ? found : null;
                sheets.Add((sheet.Name?.Value ?? "", part));
            }
            var date1904 = workbook.WorkbookProperties?.Date1904?.Value ?? false;
            return new XlsxWorkbook(displayName, limits, packedSizes, file, document, workbookPart, sheets, date1904);
        }
        catch (Exception ex) when (ex is not (PortalException or OperationCanceledException or OutOfMemoryException))
        {
            document?.Dispose();
            file.Dispose();
            // Anything the SDK or the packaging layer throws here means the parts are missing or malformed.
            throw XlsxPackageGuard.NotAWorkbook(displayName, ex);
        }
        catch
        {
            document?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writes one worksheet (the first when <paramref name="sheetName"/> is null) as CSV.</summary>
    public XlsxConversionResult ConvertToCsv(string? sheetName, string csvPath, IProgress<long>? rowsWritten, CancellationToken cancellationToken)
    {
        var (name, part) = FindSheet(sheetName);
        var budget = new XlsxReadBudget(_displayName, _limits);
        try
        {
            var sharedStrings = ReadSharedStrings(budget, cancellationToken);
            var dateKinds = ReadDateStyles();
            using var csv = CsvWriter.CreateFile(csvPath);
            return ConvertSheet(name, part, sharedStrings, dateKinds, budget, csv, rowsWritten, cancellationToken);
        }
        catch (Exception ex) when (IsDamaged(ex))
        {
            TryDelete(csvPath);
            throw XlsxPackageGuard.NotAWorkbook(_displayName, ex);
        }
        catch
        {
            TryDelete(csvPath);
            throw;
        }
    }

    public void Dispose()
    {
        _document.Dispose();
        _file.Dispose();
    }

    private (string Name, WorksheetPart Part) FindSheet(string? sheetName)
    {
        if (_sheets.Count == 0)
        {
            throw new PortalException($"{_displayName} has no worksheets.");
        }
        if (sheetName is null)
        {
            var first = _sheets.FirstOrDefault(s => s.Part is WorksheetPart);
            return first.Part is WorksheetPart worksheet
                ? (first.Name, worksheet)
                : throw new PortalException($"{_displayName} has no worksheets, only charts.");
        }
        // Excel keeps sheet names unique regardless of case.
        var match = _sheets.FirstOrDefault(s => string.Equals(s.Name, sheetName, StringComparison.OrdinalIgnoreCase));
        return match switch
        {
            { Name: null } => throw new PortalException($"{_displayName} has no sheet named '{sheetName}'."),
            { Part: WorksheetPart worksheet } => (match.Name, worksheet),
            { Part: null } => throw XlsxPackageGuard.NotAWorkbook(_displayName),
            _ => throw new PortalException($"Sheet '{match.Name}' in {_displayName} is a chart, not a table of data."),
        };
    }

    private XlsxConversionResult ConvertSheet(
        string sheetName,
        WorksheetPart part,
        List<string> sharedStrings,
        XlsxDateKind[] dateKinds,
        XlsxReadBudget budget,
        CsvWriter csv,
        IProgress<long>? rowsWritten,
        CancellationToken cancellationToken)
    {
        using var reader = OpenReader(part, budget);
        var row = new List<string?>();
        var width = -1; // unknown until the heading row (the first row with a value) has been read
        var lastFilled = -1;
        var column = -1;
        long dataRows = 0, ignored = 0;

        while (reader.Read())
        {
            if (reader.ElementType == typeof(Row))
            {
                if (reader.IsStartElement)
                {
                    row.Clear();
                    lastFilled = -1;
                    column = -1;
                    continue;
                }
                if (lastFilled < 0)
                {
                    continue; // an empty row (often one that only carries formatting)
                }
                if (width < 0)
                {
                    width = lastFilled + 1;
                    if (width > _limits.MaxColumns)
                    {
                        throw new PortalException(string.Create(CultureInfo.InvariantCulture,
                            $"Sheet '{sheetName}' has {width:N0} columns; the limit is {_limits.MaxColumns:N0}."));
                    }
                }
                else
                {
                    dataRows++;
                    if (_limits.MaxRows is { } maxRows && dataRows > maxRows)
                    {
                        throw new PortalException(string.Create(CultureInfo.InvariantCulture,
                            $"Sheet '{sheetName}' has more than {maxRows:N0} rows of data; the limit is {maxRows:N0}."));
                    }
                }
                csv.WriteRecord(row, width);
                if (dataRows % ProgressEveryRows == 0 && dataRows > 0)
                {
                    rowsWritten?.Report(dataRows);
                }
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }

            if (reader.ElementType != typeof(Cell) || !reader.IsStartElement)
            {
                continue;
            }

            string? reference = null, type = null;
            uint style = 0;
            foreach (var attribute in reader.Attributes)
            {
                switch (attribute.LocalName)
                {
                    case "r":
                        reference = attribute.Value;
                        break;
                    case "t":
                        type = attribute.Value;
                        break;
                    case "s":
                        _ = uint.TryParse(attribute.Value, NumberStyles.None, CultureInfo.InvariantCulture, out style);
                        break;
                }
            }
            // Writers may leave out cell references; a cell without one follows the previous cell.
            column = ColumnIndex(reference) ?? column + 1;
            if (column >= ExcelMaxColumns)
            {
                throw XlsxPackageGuard.NotAWorkbook(_displayName);
            }

            string? stored = null, inline = null;
            while (reader.Read() && !(reader.ElementType == typeof(Cell) && reader.IsEndElement))
            {
                if (reader.IsStartElement && reader.ElementType == typeof(CellValue))
                {
                    stored = reader.GetText();
                }
                else if (reader.IsStartElement && reader.ElementType == typeof(InlineString))
                {
                    inline = ReadRichText(reader, typeof(InlineString));
                }
            }

            var text = CellText(type, style, stored, inline, sharedStrings, dateKinds);
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }
            if (width >= 0 && column >= width)
            {
                ignored++;
                continue;
            }
            while (row.Count <= column)
            {
                row.Add(null);
            }
            row[column] = text;
            lastFilled = Math.Max(lastFilled, column);
        }

        if (width < 0)
        {
            throw new PortalException($"Sheet '{sheetName}' in {_displayName} is empty.");
        }
        if (dataRows == 0)
        {
            throw new PortalException($"Sheet '{sheetName}' in {_displayName} has a heading row but no rows of data below it.");
        }
        rowsWritten?.Report(dataRows);
        return new XlsxConversionResult(sheetName, dataRows, width, ignored);
    }

    private string? CellText(string? type, uint style, string? stored, string? inline, List<string> sharedStrings, XlsxDateKind[] dateKinds)
    {
        switch (type)
        {
            case "s":
                if (stored is null)
                {
                    return null;
                }
                if (!int.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= sharedStrings.Count)
                {
                    throw XlsxPackageGuard.NotAWorkbook(_displayName);
                }
                return sharedStrings[index];
            case "inlineStr":
                return inline ?? stored;
            case "str":
                return stored;
            case "b":
                return stored switch
                {
                    "1" => "true",
                    "0" => "false",
                    _ => stored,
                };
            case "e":
                // #N/A, #DIV/0! and friends: no value.
                return null;
            case "d":
                return stored is null ? null : XlsxValueFormatter.FormatIsoDate(stored);
        }
        if (string.IsNullOrEmpty(stored))
        {
            return null;
        }
        var kind = style < dateKinds.Length ? dateKinds[style] : XlsxDateKind.None;
        if (kind != XlsxDateKind.None
            && double.TryParse(stored, NumberStyles.Float, CultureInfo.InvariantCulture, out var serial)
            && XlsxValueFormatter.FormatSerial(serial, kind, _date1904) is { } date)
        {
            return date;
        }
        return XlsxValueFormatter.FormatNumber(stored);
    }

    private List<string> ReadSharedStrings(XlsxReadBudget budget, CancellationToken cancellationToken)
    {
        var strings = new List<string>();
        var part = _workbookPart.SharedStringTablePart;
        if (part is null)
        {
            return strings;
        }
        using var reader = OpenReader(part, budget);
        while (reader.Read())
        {
            if (reader.ElementType == typeof(SharedStringItem) && reader.IsStartElement)
            {
                strings.Add(ReadRichText(reader, typeof(SharedStringItem)));
                if (strings.Count % 10_000 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
        return strings;
    }

    /// <summary>The date kind of each cell style (the "s" index of a cell), from its number format.</summary>
    private XlsxDateKind[] ReadDateStyles()
    {
        var stylesheet = _workbookPart.WorkbookStylesPart?.Stylesheet;
        if (stylesheet?.CellFormats is null)
        {
            return [];
        }
        var codes = new Dictionary<uint, string?>();
        foreach (var format in stylesheet.NumberingFormats?.Elements<NumberingFormat>() ?? [])
        {
            if (format.NumberFormatId?.Value is { } id)
            {
                codes[id] = format.FormatCode?.Value;
            }
        }
        return stylesheet.CellFormats.Elements<CellFormat>()
            .Select(xf => xf.NumberFormatId?.Value ?? 0)
            .Select(id => codes.TryGetValue(id, out var code) ? XlsxValueFormatter.ClassifyFormatCode(code) : XlsxValueFormatter.ClassifyBuiltIn(id))
            .ToArray();
    }

    private OpenXmlReader OpenReader(OpenXmlPart part, XlsxReadBudget budget)
    {
        var entryName = Uri.UnescapeDataString(part.Uri.OriginalString.TrimStart('/'));
        long? packedSize = _packedSizes.TryGetValue(entryName, out var size) ? size : null;
        var stream = budget.Wrap(part.GetStream(FileMode.Open, FileAccess.Read), packedSize);
        return new OpenXmlPartReader(stream, part.Features, new OpenXmlPartReaderOptions
        {
            IgnoreWhitespace = true,
            CloseStream = true,
            MaxCharactersInPart = _limits.MaxUncompressedBytes,
        });
    }

    /// <summary>
    /// The text of a rich-text element (a shared string item or an inline string): its runs joined, without the
    /// phonetic guides (furigana) that Excel does not show in the cell.
    /// </summary>
    private static string ReadRichText(OpenXmlReader reader, Type endType)
    {
        var text = new StringBuilder();
        var phonetic = 0;
        while (reader.Read())
        {
            var type = reader.ElementType;
            if (type == endType && reader.IsEndElement)
            {
                break;
            }
            if (type == typeof(PhoneticRun))
            {
                phonetic += reader.IsStartElement ? 1 : -1;
            }
            else if (type == typeof(SpreadsheetText) && reader.IsStartElement && phonetic == 0)
            {
                text.Append(reader.GetText());
            }
        }
        return DecodeEscapes(text.ToString());
    }

    /// <summary>
    /// Excel writes characters XML cannot carry (and CR in some versions) as _xHHHH_, and a literal "_x" as _x005F_x.
    /// </summary>
    internal static string DecodeEscapes(string text)
    {
        if (!text.Contains("_x", StringComparison.Ordinal))
        {
            return text;
        }
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '_' && i + 6 < text.Length && text[i + 1] == 'x' && text[i + 6] == '_'
                && ushort.TryParse(text.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                result.Append((char)code);
                i += 6;
                continue;
            }
            result.Append(text[i]);
        }
        return result.ToString();
    }

    /// <summary>The zero-based column of a reference such as "AB12", or null when it has no column letters.</summary>
    internal static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }
        var column = 0;
        var letters = 0;
        foreach (var c in reference)
        {
            if (!char.IsAsciiLetter(c))
            {
                break;
            }
            // Three letters reach XFD; more would overflow and cannot be a real reference.
            if (++letters > 3)
            {
                return ExcelMaxColumns;
            }
            column = column * 26 + (char.ToUpperInvariant(c) - 'A' + 1);
        }
        return letters == 0 ? null : column - 1;
    }

    private static bool IsDamaged(Exception ex) =>
        ex is XmlException or InvalidDataException or OpenXmlPackageException or FileFormatException;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for the caller's temp-folder cleanup.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
