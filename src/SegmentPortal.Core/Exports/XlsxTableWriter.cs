using System.Globalization;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Spreadsheet;
using SpreadsheetText = DocumentFormat.OpenXml.Spreadsheet.Text;

namespace SegmentPortal.Core.Exports;

/// <summary>
/// Writes a one-sheet workbook, streaming. The package is a zip written front to back (ZipArchive in Create mode) and
/// every part's XML is written with the Open XML SDK's <see cref="OpenXmlWriter"/>; the worksheet one row at a time.
/// </summary>
/// <remarks>
/// The SDK's own package (SpreadsheetDocument) cannot stream: opened read-write it keeps every part in memory until
/// it is saved (ZipArchive's Update mode), and opened write-only it refuses to add parts. So the few fixed parts of
/// the package (content types, relationships) are written here directly.
/// </remarks>
internal static class XlsxTableWriter
{
    /// <summary>Characters Excel keeps in one cell.</summary>
    internal const int MaxCellText = 32_767;

    /// <summary>
    /// Most bytes of sheet XML (uncompressed). A zip entry past 4 GiB needs Zip64, which .NET writes in a form Excel
    /// refuses when the destination cannot seek (dotnet/runtime#127389); the margin covers what the XML writer holds
    /// between the checks after each row.
    /// </summary>
    internal const long MaxSheetBytes = uint.MaxValue - (16L << 20);

    // Cell formats (the "s" attribute), in the order of the stylesheet's cellXfs.
    internal const uint HeaderStyle = 1;
    internal const uint DateStyle = 2;
    internal const uint DateTimeStyle = 3;
    internal const uint InstantStyle = 4;
    internal const uint TimeStyle = 5;
    internal const uint DurationStyle = 6;

    // Rows read before the worksheet starts, to size the columns (widths come before the rows in the XML).
    private const int WidthSampleRows = 100;

    private const string ContentTypesXml =
        """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>""" +
        """<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">""" +
        """<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>""" +
        """<Default Extension="xml" ContentType="application/xml"/>""" +
        """<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>""" +
        """<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>""" +
        """<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>""" +
        """</Types>""";

    private const string PackageRelationshipsXml =
        """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>""" +
        """<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">""" +
        """<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>""" +
        """</Relationships>""";

    private const string WorkbookRelationshipsXml =
        """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>""" +
        """<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">""" +
        """<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>""" +
        """<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>""" +
        """</Relationships>""";

    public static async Task<long> WriteAsync(
        IReadOnlyList<string> columns,
        IAsyncEnumerable<object?[]> rows,
        Stream destination,
        string sheetName,
        long maxDataRows,
        long maxSheetBytes,
        CancellationToken cancellationToken)
    {
        await using var source = rows.GetAsyncEnumerator(cancellationToken);
        using var buffer = new ExportBuffer();
        long written = 0;

        // The first rows are read before anything is written, so a row source that fails at once leaves the
        // destination untouched.
        var sample = new List<object?[]>();
        var more = true;
        while (sample.Count < WidthSampleRows && (more = await source.MoveNextAsync()))
        {
            TableExport.CheckRow(source.Current, columns.Count, sample.Count + 1);
            sample.Add(source.Current);
        }
        if (sample.Count > maxDataRows)
        {
            throw TableExport.TooManyRows(maxDataRows);
        }

        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            WriteFixedPart(zip, "[Content_Types].xml", ContentTypesXml);
            WriteFixedPart(zip, "_rels/.rels", PackageRelationshipsXml);
            WritePart(zip, "xl/workbook.xml", new Workbook(
                new BookViews(new WorkbookView()),
                new Sheets(new Sheet { Name = sheetName, SheetId = 1, Id = "rId1" })));
            WriteFixedPart(zip, "xl/_rels/workbook.xml.rels", WorkbookRelationshipsXml);
            WritePart(zip, "xl/styles.xml", Stylesheet());

            var entry = zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.Fastest);
            using (var part = new CountingStream(entry.Open()))
            using (var writer = OpenXmlWriter.Create(part))
            {
                var sheet = new SheetWriter(writer, columns.Count);
                writer.WriteStartDocument(true);
                writer.WriteStartElement(new Worksheet());
                writer.WriteElement(FrozenHeaderView());
                writer.WriteElement(ColumnWidths(columns, sample));
                writer.WriteStartElement(new SheetData());

                sheet.WriteHeader(columns);
                foreach (var row in sample)
                {
                    sheet.WriteRow(row);
                    written++;
                }
                while (more && await source.MoveNextAsync())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (written == maxDataRows)
                    {
                        throw TableExport.TooManyRows(maxDataRows);
                    }
                    var row = source.Current;
                    TableExport.CheckRow(row, columns.Count, written + 1);
                    sheet.WriteRow(row);
                    written++;
                    if (part.BytesWritten > maxSheetBytes)
                    {
                        throw new PortalException(
                            "This export is too large for one Excel sheet (over 4 GB of sheet data); export CSV instead.");
                    }
                    if (buffer.ShouldDrain)
                    {
                        await buffer.DrainAsync(destination, cancellationToken);
                    }
                }

                writer.WriteEndElement(); // sheetData
                writer.WriteEndElement(); // worksheet
                writer.Close();
            }
        }
        await buffer.DrainAsync(destination, cancellationToken);
        await destination.FlushAsync(cancellationToken);
        return written;
    }

    /// <summary>
    /// Text as a cell holds it: cut at <see cref="MaxCellText"/> characters (not inside a surrogate pair), and in
    /// Excel's escaped form (ST_Xstring): characters XML cannot carry, and CR, which XML readers turn into LF, become
    /// _xHHHH_; an underscore that would otherwise start such an escape is itself escaped as _x005F_.
    /// </summary>
    internal static string CellText(string text)
    {
        if (text.Length > MaxCellText)
        {
            text = text[..(char.IsHighSurrogate(text[MaxCellText - 1]) ? MaxCellText - 1 : MaxCellText)];
        }
        var escaped = (StringBuilder?)null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            string? replacement = null;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                escaped?.Append(c).Append(text[i]);
                continue;
            }
            if (c == '_' && LooksLikeEscape(text, i))
            {
                replacement = "_x005F_";
            }
            else if (c == '\r' || !IsXmlChar(c))
            {
                replacement = string.Create(CultureInfo.InvariantCulture, $"_x{(int)c:X4}_");
            }
            if (replacement is null)
            {
                escaped?.Append(c);
                continue;
            }
            escaped ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            escaped.Append(replacement);
        }
        return escaped?.ToString() ?? text;
    }

    private static bool LooksLikeEscape(string text, int at) =>
        at + 6 < text.Length && text[at + 1] == 'x' && text[at + 6] == '_'
        && char.IsAsciiHexDigit(text[at + 2]) && char.IsAsciiHexDigit(text[at + 3])
        && char.IsAsciiHexDigit(text[at + 4]) && char.IsAsciiHexDigit(text[at + 5]);

    // XML 1.0 characters, less surrogates (pairs are handled by the caller; a lone half is not a character).
    private static bool IsXmlChar(char c) =>
        c is '\t' or '\n' or '\r' || (c >= '\u0020' && c <= '\uD7FF') || (c >= '\uE000' && c <= '\uFFFD');

    private static void WriteFixedPart(ZipArchive zip, string name, string xml)
    {
        using var part = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        part.Write(Encoding.UTF8.GetBytes(xml));
    }

    private static void WritePart(ZipArchive zip, string name, OpenXmlElement root)
    {
        using var part = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        using var writer = OpenXmlWriter.Create(part);
        writer.WriteStartDocument(true);
        writer.WriteElement(root);
        writer.Close();
    }

    /// <summary>Fonts, fills, borders and the cell formats the "s" constants above point at.</summary>
    internal static Stylesheet Stylesheet()
    {
        static Font Font(bool bold)
        {
            var font = new Font();
            if (bold)
            {
                font.Append(new Bold());
            }
            font.Append(new FontSize { Val = 11 }, new FontName { Val = "Calibri" }, new FontFamilyNumbering { Val = 2 });
            return font;
        }

        static CellFormat NumberFormat(uint id) => new() { NumberFormatId = id, FontId = 0, FillId = 0, BorderId = 0, FormatId = 0, ApplyNumberFormat = true };

        return new Stylesheet(
            new NumberingFormats(
                new NumberingFormat { NumberFormatId = 164, FormatCode = "yyyy-mm-dd" },
                new NumberingFormat { NumberFormatId = 165, FormatCode = "yyyy-mm-dd hh:mm:ss" },
                new NumberingFormat { NumberFormatId = 166, FormatCode = "yyyy-mm-dd hh:mm:ss \"UTC\"" },
                new NumberingFormat { NumberFormatId = 167, FormatCode = "[h]:mm:ss" })
            { Count = 4 },
            new Fonts(Font(bold: false), Font(bold: true)) { Count = 2 },
            new Fills(
                new Fill(new PatternFill { PatternType = PatternValues.None }),
                new Fill(new PatternFill { PatternType = PatternValues.Gray125 }))
            { Count = 2 },
            new Borders(new Border(new LeftBorder(), new RightBorder(), new TopBorder(), new BottomBorder(), new DiagonalBorder())) { Count = 1 },
            new CellStyleFormats(new CellFormat { NumberFormatId = 0, FontId = 0, FillId = 0, BorderId = 0 }) { Count = 1 },
            new CellFormats(
                new CellFormat { NumberFormatId = 0, FontId = 0, FillId = 0, BorderId = 0, FormatId = 0 },
                new CellFormat { NumberFormatId = 0, FontId = 1, FillId = 0, BorderId = 0, FormatId = 0, ApplyFont = true },
                NumberFormat(164),
                NumberFormat(165),
                NumberFormat(166),
                NumberFormat(21), // built in: h:mm:ss
                NumberFormat(167))
            { Count = 7 },
            new CellStyles(new CellStyle { Name = "Normal", FormatId = 0, BuiltinId = 0 }) { Count = 1 });
    }

    private static SheetViews FrozenHeaderView() => new(
        new SheetView(
            new Pane { VerticalSplit = 1, TopLeftCell = "A2", ActivePane = PaneValues.BottomLeft, State = PaneStateValues.Frozen },
            new Selection { Pane = PaneValues.BottomLeft, ActiveCell = "A2", SequenceOfReferences = new ListValue<StringValue> { InnerText = "A2" } })
        {
            TabSelected = true,
            WorkbookViewId = 0,
        });

    /// <summary>Widths from the header and the first rows, so dates do not show as ##### and names are readable.</summary>
    private static Columns ColumnWidths(IReadOnlyList<string> columns, List<object?[]> sample)
    {
        var result = new Columns();
        for (var i = 0; i < columns.Count; i++)
        {
            // The bold header is a little wider than its characters.
            var characters = (columns[i]?.Length ?? 0) * 1.1;
            foreach (var row in sample)
            {
                var cell = ExportValue.Format(row[i]);
                var shown = cell.Kind switch
                {
                    ExportKind.Date => 10,
                    ExportKind.DateTime => 19,
                    ExportKind.Instant => 23,
                    ExportKind.Time => 8,
                    ExportKind.Boolean => 5,
                    _ => cell.Text.AsSpan().IndexOfAny('\r', '\n') is var end and >= 0 ? end : cell.Text.Length,
                };
                characters = Math.Max(characters, shown);
            }
            var width = Math.Round(Math.Clamp(characters + 2, 8, 60), 1);
            result.Append(new Column { Min = (uint)i + 1, Max = (uint)i + 1, Width = width, CustomWidth = true });
        }
        return result;
    }

    /// <summary>Counts what is written through it (the sheet's XML, before compression).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesWritten { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesWritten;
            set => throw new NotSupportedException();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            BytesWritten += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>Writes rows and cells, reusing one element and attribute list per kind, as the row loop is hot.</summary>
    private sealed class SheetWriter(OpenXmlWriter writer, int columnCount)
    {
        private const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";

        private static readonly string[] StyleText = ["0", "1", "2", "3", "4", "5", "6"];

        private readonly Row _row = new();
        private readonly Cell _cell = new();
        private readonly CellValue _value = new();
        private readonly InlineString _inline = new();
        private readonly SpreadsheetText _text = new();
        private readonly List<OpenXmlAttribute> _attributes = new(3);
        private readonly OpenXmlAttribute[] _rowAttribute = new OpenXmlAttribute[1];
        private readonly OpenXmlAttribute[] _preserveSpace = [new("xml", "space", XmlNamespace, "preserve")];
        private readonly string[] _columnNames = Enumerable.Range(0, columnCount).Select(ColumnName).ToArray();
        private long _rowNumber;

        public void WriteHeader(IReadOnlyList<string> columns)
        {
            StartRow();
            for (var i = 0; i < columns.Count; i++)
            {
                WriteText(i, ExportValue.Neutralize(columns[i] ?? ""), HeaderStyle);
            }
            writer.WriteEndElement();
        }

        public void WriteRow(object?[] values)
        {
            StartRow();
            for (var i = 0; i < values.Length; i++)
            {
                var cell = ExportValue.Format(values[i]);
                switch (cell.Kind)
                {
                    case ExportKind.Empty:
                        break;
                    case ExportKind.Text or ExportKind.Literal:
                        WriteText(i, cell.Text, style: 0);
                        break;
                    case ExportKind.Boolean:
                        WriteValue(i, cell.Value!, style: 0, type: "b");
                        break;
                    case ExportKind.Number:
                        WriteValue(i, cell.Value!, style: 0, type: null);
                        break;
                    default:
                        WriteValue(i, cell.Value!, StyleOf(cell.Kind), type: null);
                        break;
                }
            }
            writer.WriteEndElement();
        }

        private static uint StyleOf(ExportKind kind) => kind switch
        {
            ExportKind.Date => DateStyle,
            ExportKind.DateTime => DateTimeStyle,
            ExportKind.Instant => InstantStyle,
            ExportKind.Time => TimeStyle,
            ExportKind.Duration => DurationStyle,
            _ => 0,
        };

        private void StartRow()
        {
            _rowNumber++;
            _rowAttribute[0] = new OpenXmlAttribute("r", "", _rowNumber.ToString(CultureInfo.InvariantCulture));
            writer.WriteStartElement(_row, _rowAttribute);
        }

        private void StartCell(int column, uint style, string? type)
        {
            _attributes.Clear();
            _attributes.Add(new OpenXmlAttribute("r", "", _columnNames[column] + _rowAttribute[0].Value));
            if (style != 0)
            {
                _attributes.Add(new OpenXmlAttribute("s", "", StyleText[style]));
            }
            if (type is not null)
            {
                _attributes.Add(new OpenXmlAttribute("t", "", type));
            }
            writer.WriteStartElement(_cell, _attributes);
        }

        private void WriteValue(int column, string value, uint style, string? type)
        {
            StartCell(column, style, type);
            writer.WriteStartElement(_value);
            writer.WriteString(value);
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        private void WriteText(int column, string text, uint style)
        {
            StartCell(column, style, "inlineStr");
            writer.WriteStartElement(_inline);
            var stored = CellText(text);
            // Leading and trailing spaces are kept only when the XML says so.
            var keepSpaces = stored.Length > 0 && (char.IsWhiteSpace(stored[0]) || char.IsWhiteSpace(stored[^1]));
            writer.WriteStartElement(_text, keepSpaces ? _preserveSpace : []);
            writer.WriteString(stored);
            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        private static string ColumnName(int index)
        {
            var name = "";
            for (var n = index + 1; n > 0; n = (n - 1) / 26)
            {
                name = (char)('A' + (n - 1) % 26) + name;
            }
            return name;
        }
    }
}
