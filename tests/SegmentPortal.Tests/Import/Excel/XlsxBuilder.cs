using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using SpreadsheetText = DocumentFormat.OpenXml.Spreadsheet.Text;

namespace SegmentPortal.Tests.Import.Excel;

/// <summary>
/// Builds .xlsx files for tests with the Open XML SDK, the way Excel lays them out: a shared string table, a
/// stylesheet whose cell styles carry the number formats below, and one worksheet part per sheet.
/// </summary>
internal sealed class XlsxBuilder
{
    // Cell style indexes (the "s" attribute), one per number format under test.
    public const uint General = 0;
    public const uint BuiltInDate = 1;          // id 14, m/d/yyyy
    public const uint BuiltInDateTime = 2;      // id 22, m/d/yyyy h:mm
    public const uint BuiltInTime = 3;          // id 20, h:mm
    public const uint CustomDateTime = 4;       // yyyy-mm-dd hh:mm:ss
    public const uint CustomChineseDate = 5;    // yyyy"年"m"月"d"日"
    public const uint Elapsed = 6;              // [h]:mm:ss
    public const uint TwoDecimals = 7;          // 0.00: a number, not a date
    public const uint QuotedDays = 8;           // #,##0 "days": the d is quoted text
    public const uint ColouredDate = 9;         // [Red][$-409]d-mmm-yy
    public const uint BuiltInChineseDate = 10;  // id 31, the Chinese long date, written by id only

    private static readonly (uint Id, string? Code)[] StyleFormats =
    [
        (0, null),
        (14, null),
        (22, null),
        (20, null),
        (164, "yyyy-mm-dd hh:mm:ss"),
        (165, "yyyy\"年\"m\"月\"d\"日\""),
        (166, "[h]:mm:ss"),
        (2, null),
        (167, "#,##0 \"days\""),
        (168, "[Red][$-409]d-mmm-yy"),
        (31, null),
    ];

    private readonly List<(string Name, IReadOnlyList<Row>? Rows, Action<Stream>? Xml)> _sheets = [];
    private readonly List<SharedStringItem> _sharedStrings = [];

    public bool Date1904 { get; init; }

    public XlsxBuilder Sheet(string name, params Row[] rows)
    {
        _sheets.Add((name, rows, null));
        return this;
    }

    /// <summary>A sheet whose part is written as raw XML, for sheets too large or too odd to build as objects.</summary>
    public XlsxBuilder RawSheet(string name, Action<Stream> writeXml)
    {
        _sheets.Add((name, null, writeXml));
        return this;
    }

    /// <summary>A cell holding an index into the shared string table.</summary>
    public Cell Shared(string text, string? reference = null) => SharedRich([new SpreadsheetText(text) { Space = SpaceProcessingModeValues.Preserve }], reference);

    public Cell SharedRich(OpenXmlElement[] content, string? reference = null)
    {
        _sharedStrings.Add(new SharedStringItem(content));
        return new Cell
        {
            CellReference = reference,
            DataType = CellValues.SharedString,
            CellValue = new CellValue((_sharedStrings.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
    }

    public static Row Row(params Cell[] cells) => new(cells);

    public static Cell Number(string stored, string? reference = null, uint style = General) => new()
    {
        CellReference = reference,
        StyleIndex = style == General ? null : style,
        CellValue = new CellValue(stored),
    };

    public static Cell Inline(string text, string? reference = null) => new()
    {
        CellReference = reference,
        DataType = CellValues.InlineString,
        InlineString = new InlineString(new SpreadsheetText(text) { Space = SpaceProcessingModeValues.Preserve }),
    };

    public static Cell Bool(bool value, string? reference = null) => new()
    {
        CellReference = reference,
        DataType = CellValues.Boolean,
        CellValue = new CellValue(value ? "1" : "0"),
    };

    public static Cell Error(string value, string? reference = null) => new()
    {
        CellReference = reference,
        DataType = CellValues.Error,
        CellValue = new CellValue(value),
    };

    public static Cell FormulaText(string formula, string result, string? reference = null) => new()
    {
        CellReference = reference,
        DataType = CellValues.String,
        CellFormula = new CellFormula(formula),
        CellValue = new CellValue(result),
    };

    /// <summary>A styled cell without a value, as Excel writes for formatted but empty cells.</summary>
    public static Cell Blank(string? reference = null, uint style = TwoDecimals) => new() { CellReference = reference, StyleIndex = style };

    public void Save(string path)
    {
        using var document = SpreadsheetDocument.Create(path, SpreadsheetDocumentType.Workbook);
        var workbookPart = document.AddWorkbookPart();
        workbookPart.Workbook = new Workbook(new Sheets());
        if (Date1904)
        {
            workbookPart.Workbook.InsertAt(new WorkbookProperties { Date1904 = true }, 0);
        }

        var stylesPart = workbookPart.AddNewPart<WorkbookStylesPart>();
        stylesPart.Stylesheet = new Stylesheet(
            new NumberingFormats(StyleFormats.Where(f => f.Code is not null)
                .Select(f => new NumberingFormat { NumberFormatId = f.Id, FormatCode = f.Code })),
            new Fonts(new Font()),
            new Fills(new Fill()),
            new Borders(new Border()),
            new CellFormats(StyleFormats.Select(f => new CellFormat { NumberFormatId = f.Id, ApplyNumberFormat = f.Id != 0 })));

        var sheets = workbookPart.Workbook.Sheets!;
        uint sheetId = 1;
        foreach (var (name, rows, xml) in _sheets)
        {
            var worksheetPart = workbookPart.AddNewPart<WorksheetPart>();
            if (xml is not null)
            {
                using var stream = worksheetPart.GetStream(FileMode.Create, FileAccess.Write);
                xml(stream);
            }
            else
            {
                worksheetPart.Worksheet = new Worksheet(new SheetData(rows!));
            }
            sheets.Append(new Sheet { Name = name, SheetId = sheetId++, Id = workbookPart.GetIdOfPart(worksheetPart) });
        }

        if (_sharedStrings.Count > 0)
        {
            var sharedStringPart = workbookPart.AddNewPart<SharedStringTablePart>();
            sharedStringPart.SharedStringTable = new SharedStringTable(_sharedStrings);
        }
    }

    /// <summary>Writes a worksheet part's XML: the worksheet element around what <paramref name="sheetData"/> writes.</summary>
    public static Action<Stream> SheetXml(Action<StreamWriter> sheetData) => stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        writer.Write("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>");
        writer.Write("<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>");
        sheetData(writer);
        writer.Write("</sheetData></worksheet>");
    };
}
