using System.Collections;
using System.Globalization;
using System.Numerics;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using DocumentFormat.OpenXml.Validation;
using SegmentPortal.Core;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Import.Excel;
using SegmentPortal.Core.Queries;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Exports;

public sealed class XlsxExportTests
{
    private const long MaxSheetBytes = XlsxTableWriter.MaxSheetBytes;

    private static readonly string[] AllTypesColumns =
        ["id", "name", "amount", "ratio", "active", "joined", "last_order", "synced", "opens_at", "session", "order_no", "note"];

    private static readonly object?[][] AllTypesRows =
    [
        [42, "Zoë 北京 😀", 12.50m, 0.1, true, new DateOnly(2024, 3, 1), new DateTime(2024, 3, 1, 12, 0, 0),
            new DateTimeOffset(2024, 3, 1, 14, 0, 0, TimeSpan.FromHours(2)), new TimeOnly(6, 0), TimeSpan.FromHours(36),
            1234567890123456789L, null],
        [-5, "", -2.5m, -1.5, false, new DateOnly(1900, 1, 1), new DateTime(1900, 3, 1, 18, 0, 0),
            new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero), new TimeOnly(23, 59, 59), TimeSpan.Zero,
            BigInteger.Parse("999999999999999", CultureInfo.InvariantCulture), "  spaced  "],
    ];

    [Fact]
    public async Task The_workbook_is_valid_Open_XML_and_opens_with_the_SDK()
    {
        using var document = Open(await ExportAsync(AllTypesColumns, AllTypesRows, "Members"));

        var errors = new OpenXmlValidator(FileFormatVersions.Office2019).Validate(document, TestContext.Current.CancellationToken)
            .Select(e => $"{e.Part?.Uri} {e.Path?.XPath}: {e.Description}").ToList();
        Assert.Empty(errors);
        var sheet = Assert.Single(document.WorkbookPart!.Workbook!.Sheets!.Elements<Sheet>());
        Assert.Equal("Members", sheet.Name?.Value);
    }

    [Fact]
    public async Task The_header_row_is_bold_and_frozen()
    {
        using var document = Open(await ExportAsync(AllTypesColumns, AllTypesRows, "Members"));
        var (worksheet, cells) = Sheet(document);

        for (var i = 0; i < AllTypesColumns.Length; i++)
        {
            var header = cells[Reference(i, 1)];
            Assert.Equal(CellValues.InlineString, header.DataType?.Value);
            Assert.Equal(AllTypesColumns[i], header.InlineString?.Text?.Text);
            Assert.True(Font(document, header).Bold is not null, $"Header {AllTypesColumns[i]} is not bold.");
        }
        Assert.Null(Font(document, cells["A2"]).Bold);

        var pane = worksheet.GetFirstChild<SheetViews>()?.GetFirstChild<SheetView>()?.GetFirstChild<Pane>();
        Assert.NotNull(pane);
        Assert.Equal(PaneStateValues.Frozen, pane.State?.Value);
        Assert.Equal(1d, pane.VerticalSplit?.Value);
        Assert.Null(pane.HorizontalSplit);
        Assert.Equal("A2", pane.TopLeftCell?.Value);
    }

    [Fact]
    public async Task Numbers_booleans_dates_and_text_get_their_own_cell_types_and_formats()
    {
        using var document = Open(await ExportAsync(AllTypesColumns, AllTypesRows, "Members"));
        var (_, cells) = Sheet(document);

        AssertNumber(cells["A2"], "42");
        AssertNumber(cells["A3"], "-5");
        AssertText(cells["B2"], "Zoë 北京 😀");
        AssertText(cells["B3"], "");
        AssertNumber(cells["C2"], "12.50");
        AssertNumber(cells["C3"], "-2.5");
        AssertNumber(cells["D2"], "0.1");
        AssertNumber(cells["D3"], "-1.5");

        Assert.Equal(CellValues.Boolean, cells["E2"].DataType?.Value);
        Assert.Equal("1", cells["E2"].CellValue?.Text);
        Assert.Equal("0", cells["E3"].CellValue?.Text);

        // 2024-03-01 is serial 45352; 1900-01-01 is 1; 1900-03-01 is 61 (Excel counts a 1900-02-29).
        AssertDate(document, cells["F2"], "45352", "yyyy-mm-dd", XlsxDateKind.Date);
        AssertDate(document, cells["F3"], "1", "yyyy-mm-dd", XlsxDateKind.Date);
        AssertDate(document, cells["G2"], "45352.5", "yyyy-mm-dd hh:mm:ss", XlsxDateKind.DateTime);
        AssertDate(document, cells["G3"], "61.75", "yyyy-mm-dd hh:mm:ss", XlsxDateKind.DateTime);
        // 14:00 at +02:00 is 12:00 UTC.
        AssertDate(document, cells["H2"], "45352.5", "yyyy-mm-dd hh:mm:ss \"UTC\"", XlsxDateKind.DateTime);
        AssertDate(document, cells["H3"], "45352", "yyyy-mm-dd hh:mm:ss \"UTC\"", XlsxDateKind.DateTime);
        AssertDate(document, cells["I2"], "0.25", "h:mm:ss", XlsxDateKind.Time);
        AssertDate(document, cells["J2"], "1.5", "[h]:mm:ss", XlsxDateKind.Elapsed);
        AssertDate(document, cells["J3"], "0", "[h]:mm:ss", XlsxDateKind.Elapsed);

        // Excel keeps 15 digits: a longer integer is text, so no digit is lost; 15 digits still fit in a number.
        AssertText(cells["K2"], "1234567890123456789");
        AssertNumber(cells["K3"], "999999999999999");

        // Null leaves no cell; spaces at the ends are kept.
        Assert.False(cells.ContainsKey("L2"));
        AssertText(cells["L3"], "  spaced  ");
        Assert.Equal(SpaceProcessingModeValues.Preserve, cells["L3"].InlineString!.Text!.Space?.Value);
    }

    [Fact]
    public async Task Text_starting_with_a_formula_character_is_prefixed_with_a_quote_but_numbers_stay_numbers()
    {
        string[] injections = ["=SUM(A1)", "+1", "-2+3", "@cmd", "\t=1", "\r=1"];
        var rows = injections.Select(text => new object?[] { text }).Append([-5]).Append(["-5"]).Append(["a=b"]).ToList();

        using var document = Open(await ExportAsync(["=evil()"], rows, "Sheet"));
        var (_, cells) = Sheet(document);

        AssertText(cells["A1"], "'=evil()");
        AssertText(cells["A2"], "'=SUM(A1)");
        AssertText(cells["A3"], "'+1");
        AssertText(cells["A4"], "'-2+3");
        AssertText(cells["A5"], "'@cmd");
        AssertText(cells["A6"], "'\t=1");
        // Excel writes a carriage return in cell text as _x000D_ (XML readers would turn a raw one into a line feed).
        AssertText(cells["A7"], "'_x000D_=1");
        AssertNumber(cells["A8"], "-5");
        AssertText(cells["A9"], "'-5");
        AssertText(cells["A10"], "a=b");
        Assert.All(cells.Values, cell => Assert.Null(cell.CellFormula));
    }

    [Theory]
    [InlineData("Members", "Members")]
    [InlineData("Q1: Sales/Returns [EU]*?", "Q1_ Sales_Returns _EU___")]
    [InlineData(@"a\b", "a_b")]
    [InlineData("'Quoted'", "Quoted")]
    [InlineData("  padded  ", "padded")]
    [InlineData("", "Sheet1")]
    [InlineData("'''", "Sheet1")]
    [InlineData("history", "history_")]
    [InlineData("Customers who bought twice in the last 90 days", "Customers who bought twice in t")]
    [InlineData("客户细分：高价值客户（最近九十天内购买两次以上的客户名单）", "客户细分：高价值客户（最近九十天内购买两次以上的客户名单）")]
    [InlineData("tab\there", "tab_here")]
    public void Sheet_names_are_made_valid_for_Excel(string name, string expected)
    {
        var sanitized = TableExport.SanitizeSheetName(name);

        Assert.Equal(expected, sanitized);
        Assert.InRange(sanitized.Length, 1, 31);
    }

    [Fact]
    public void A_sheet_name_is_not_cut_inside_an_emoji()
    {
        var sanitized = TableExport.SanitizeSheetName(new string('a', 30) + "😀 and more");

        Assert.Equal(new string('a', 30), sanitized);
        Assert.Equal("Sheet1", TableExport.SanitizeSheetName(null));
    }

    [Fact]
    public async Task The_written_sheet_name_is_the_sanitized_one()
    {
        using var document = Open(await ExportAsync(["a"], [[1]], "Q1: Sales/Returns [EU] for every region we serve"));

        var sheet = Assert.Single(document.WorkbookPart!.Workbook!.Sheets!.Elements<Sheet>());
        Assert.Equal("Q1_ Sales_Returns _EU_ for ever", sheet.Name?.Value);
    }

    [Fact]
    public async Task Rows_past_the_limit_are_refused_with_a_message_suggesting_CSV()
    {
        var ct = TestContext.Current.CancellationToken;

        // Within the limit: fine. One past it, whether among the first rows or later in the stream: refused.
        Assert.Equal(3, await TableExport.WriteXlsxAsync(["n"], Rows(3), new AsyncOnlyStream(), "s", maxDataRows: 3, MaxSheetBytes, ct));
        var early = await Assert.ThrowsAsync<PortalException>(
            () => TableExport.WriteXlsxAsync(["n"], Rows(4), new AsyncOnlyStream(), "s", maxDataRows: 3, MaxSheetBytes, ct));
        var late = await Assert.ThrowsAsync<PortalException>(
            () => TableExport.WriteXlsxAsync(["n"], Rows(151), new AsyncOnlyStream(), "s", maxDataRows: 150, MaxSheetBytes, ct));

        Assert.Equal("This export has more than 3 rows of data. Excel holds at most 4 rows; export CSV instead.", early.Message);
        Assert.Equal("This export has more than 150 rows of data. Excel holds at most 151 rows; export CSV instead.", late.Message);
        Assert.Equal(
            "This export has more than 1,048,575 rows of data. Excel holds at most 1,048,576 rows; export CSV instead.",
            TableExport.TooManyRows(TableExport.MaxXlsxDataRows).Message);
    }

    [Fact]
    public async Task A_sheet_too_large_for_a_plain_zip_entry_is_refused_with_a_message_suggesting_CSV()
    {
        var rows = Enumerable.Range(0, 5_000).Select(i => new object?[] { i, new string('x', 100) });

        var error = await Assert.ThrowsAsync<PortalException>(() => TableExport.WriteXlsxAsync(
            ["n", "text"], rows.ToAsyncEnumerable(), new AsyncOnlyStream(), "s", TableExport.MaxXlsxDataRows, maxSheetBytes: 100_000,
            TestContext.Current.CancellationToken));

        Assert.Equal("This export is too large for one Excel sheet (over 4 GB of sheet data); export CSV instead.", error.Message);
        Assert.Equal(uint.MaxValue - (16L << 20), MaxSheetBytes);
    }

    [Fact]
    public async Task A_result_with_too_many_rows_is_refused_before_anything_is_written()
    {
        // A list that says it has 1,048,576 rows without holding them: one more than a sheet takes under its header.
        var result = new QueryResult(["id"], new CountOnlyRows(1_048_576), TimeSpan.Zero, FromCache: false);
        var destination = new AsyncOnlyStream();

        var error = await Assert.ThrowsAsync<PortalException>(
            () => TableExport.WriteXlsxAsync(result, destination, "Members", TestContext.Current.CancellationToken));

        Assert.Equal("This export has 1,048,576 rows of data. Excel holds at most 1,048,576 rows; export CSV instead.", error.Message);
        Assert.Equal(0, destination.BytesWritten);
    }

    [Fact]
    public async Task More_columns_than_Excel_holds_are_refused()
    {
        var columns = Enumerable.Range(0, TableExport.MaxXlsxColumns + 1).Select(i => $"c{i}").ToList();

        var error = await Assert.ThrowsAsync<PortalException>(
            () => TableExport.WriteXlsxAsync(columns, Array.Empty<object?[]>(), new AsyncOnlyStream(), "s", TestContext.Current.CancellationToken));

        Assert.Contains("Excel holds at most 16,384 columns; export CSV instead.", error.Message);
    }

    [Fact]
    public async Task Text_Excel_cannot_hold_as_is_is_escaped_or_cut()
    {
        var longText = new string('x', 40_000);
        using var document = Open(await ExportAsync(["t"], [["bell\u0007here"], ["_x0041_"], [longText], ["a\r\nb"]], "s"));
        var (_, cells) = Sheet(document);

        AssertText(cells["A2"], "bell_x0007_here");
        AssertText(cells["A3"], "_x005F_x0041_");
        AssertText(cells["A4"], new string('x', 32_767));
        AssertText(cells["A5"], "a_x000D_\nb");
        Assert.Equal(new string('y', 32_766), XlsxTableWriter.CellText(new string('y', 32_766) + "😀"));
    }

    [Fact]
    public async Task Columns_are_wide_enough_for_their_dates()
    {
        using var document = Open(await ExportAsync(AllTypesColumns, AllTypesRows, "Members"));
        var (worksheet, _) = Sheet(document);

        var widths = worksheet.GetFirstChild<Columns>()!.Elements<Column>().Select(c => c.Width!.Value).ToList();
        Assert.Equal(AllTypesColumns.Length, widths.Count);
        Assert.True(widths[5] >= 12, $"Date column width {widths[5]}");
        Assert.True(widths[6] >= 21, $"Timestamp column width {widths[6]}");
    }

    [Fact]
    public async Task The_importer_reads_an_exported_workbook_back_to_the_same_values()
    {
        using var folder = new TempFolder();
        var path = folder.File("export.xlsx");
        await File.WriteAllBytesAsync(path, await ExportAsync(
            ["id", "name", "amount", "active", "joined", "last_order", "note"],
            [
                [1, "Zoë, 北京", 12.50m, true, new DateOnly(2024, 3, 1), new DateTime(2024, 3, 1, 14, 5, 9), "=1+1"],
                [2, null, -2.5m, false, new DateOnly(1999, 12, 31), new DateTime(2000, 1, 1), "plain"],
            ],
            "Members"), TestContext.Current.CancellationToken);

        var csvPath = folder.File("export.csv");
        await XlsxReader.ConvertToCsvAsync(path, "export.xlsx", null, csvPath, XlsxLimits.Default,
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(
            "id,name,amount,active,joined,last_order,note\r\n" +
            "1,\"Zoë, 北京\",12.50,true,2024-03-01,2024-03-01 14:05:09,'=1+1\r\n" +
            "2,,-2.5,false,1999-12-31,2000-01-01 00:00:00,plain\r\n",
            await File.ReadAllTextAsync(csvPath, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_query_result_and_an_async_source_give_the_same_sheet()
    {
        var result = new QueryResult(["n"], [[0], [1], [2]], TimeSpan.Zero, FromCache: false);
        var fromResult = new AsyncOnlyStream();
        var fromSource = new AsyncOnlyStream();

        Assert.Equal(3, await TableExport.WriteXlsxAsync(result, fromResult, "N", TestContext.Current.CancellationToken));
        Assert.Equal(3, await TableExport.WriteXlsxAsync(["n"], Rows(3), fromSource, "N", TestContext.Current.CancellationToken));

        using var a = Open(fromResult.ToArray());
        using var b = Open(fromSource.ToArray());
        Assert.Equal(Sheet(a).Worksheet.OuterXml, Sheet(b).Worksheet.OuterXml);
    }

    private static async Task<byte[]> ExportAsync(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows, string sheetName)
    {
        // AsyncOnlyStream throws on synchronous writes and cannot seek, as an HTTP response body.
        var destination = new AsyncOnlyStream();
        var written = await TableExport.WriteXlsxAsync(columns, rows, destination, sheetName, TestContext.Current.CancellationToken);
        Assert.Equal(rows.Count, written);
        return destination.ToArray();
    }

    private static SpreadsheetDocument Open(byte[] workbook) => SpreadsheetDocument.Open(new MemoryStream(workbook), isEditable: false);

    private static (Worksheet Worksheet, Dictionary<string, Cell> Cells) Sheet(SpreadsheetDocument document)
    {
        var part = Assert.Single(document.WorkbookPart!.WorksheetParts);
        var worksheet = part.Worksheet!;
        var cells = worksheet.Descendants<Cell>().ToDictionary(c => c.CellReference!.Value!);
        return (worksheet, cells);
    }

    private static string Reference(int column, int row) => $"{(char)('A' + column)}{row}";

    private static CellFormat Format(SpreadsheetDocument document, Cell cell) =>
        document.WorkbookPart!.WorkbookStylesPart!.Stylesheet!.CellFormats!.Elements<CellFormat>()
            .ElementAt((int)(cell.StyleIndex?.Value ?? 0));

    private static Font Font(SpreadsheetDocument document, Cell cell) =>
        document.WorkbookPart!.WorkbookStylesPart!.Stylesheet!.Fonts!.Elements<Font>()
            .ElementAt((int)(Format(document, cell).FontId?.Value ?? 0));

    private static void AssertNumber(Cell cell, string value)
    {
        Assert.True(cell.DataType is null || cell.DataType.Value == CellValues.Number, $"{cell.CellReference} is {cell.DataType?.Value}");
        Assert.Equal(value, cell.CellValue?.Text);
        Assert.True(double.TryParse(cell.CellValue?.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
    }

    private static void AssertText(Cell cell, string text)
    {
        Assert.Equal(CellValues.InlineString, cell.DataType?.Value);
        Assert.Equal(text, cell.InlineString?.Text?.Text ?? "");
    }

    private static void AssertDate(SpreadsheetDocument document, Cell cell, string serial, string formatCode, XlsxDateKind kind)
    {
        AssertNumber(cell, serial);
        var formatId = Format(document, cell).NumberFormatId?.Value ?? 0;
        var code = document.WorkbookPart!.WorkbookStylesPart!.Stylesheet!.NumberingFormats?.Elements<NumberingFormat>()
            .FirstOrDefault(f => f.NumberFormatId?.Value == formatId)?.FormatCode?.Value;
        if (code is null)
        {
            // A built-in format: 21 is h:mm:ss.
            Assert.Equal(21u, formatId);
            code = "h:mm:ss";
            Assert.Equal(kind, XlsxValueFormatter.ClassifyBuiltIn(formatId));
        }
        else
        {
            // The importer's own reading of number formats agrees that this is a date.
            Assert.Equal(kind, XlsxValueFormatter.ClassifyFormatCode(code));
        }
        Assert.Equal(formatCode, code);
    }

    private static async IAsyncEnumerable<object?[]> Rows(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return [i];
        }
    }

    /// <summary>Claims a row count without holding the rows; enumerating it is a test failure.</summary>
    private sealed class CountOnlyRows(int count) : IReadOnlyList<object?[]>
    {
        public int Count => count;

        public object?[] this[int index] => throw new InvalidOperationException("The rows were read.");

        public IEnumerator<object?[]> GetEnumerator() => throw new InvalidOperationException("The rows were read.");

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
