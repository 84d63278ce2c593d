using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Spreadsheet;
using SegmentPortal.Core;
using SegmentPortal.Core.Import.Excel;
using SegmentPortal.Tests.Import.Text;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Import.Excel.XlsxBuilder;
using SpreadsheetText = DocumentFormat.OpenXml.Spreadsheet.Text;

namespace SegmentPortal.Tests.Import.Excel;

public sealed class XlsxConversionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    private string Save(XlsxBuilder builder, string name = "book.xlsx")
    {
        var path = _folder.File(name);
        builder.Save(path);
        return path;
    }

    private async Task<(string Csv, XlsxConversionResult Result)> ConvertAsync(
        string path, string? sheet = null, XlsxLimits? limits = null, IProgress<long>? progress = null)
    {
        var csvPath = _folder.File(Guid.NewGuid().ToString("N") + ".csv");
        var result = await XlsxReader.ConvertToCsvAsync(path, Path.GetFileName(path), sheet, csvPath, limits ?? XlsxLimits.Default, progress, Ct);
        var bytes = await File.ReadAllBytesAsync(csvPath, Ct);
        Assert.False(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]), "The CSV must not start with a BOM.");
        return (new UTF8Encoding(false, true).GetString(bytes), result);
    }

    [Fact]
    public async Task Cells_of_every_kind_become_csv_text()
    {
        var book = new XlsxBuilder();
        book.Sheet("Data",
            Row(book.Shared("id"), book.Shared("name"), Inline("amount"), Inline("active"), book.Shared("note")),
            Row(Number("1"), book.Shared("Ann"), Number("12.5"), Bool(true), Error("#N/A")),
            Row(Number("2"), Inline("Bob, Jr."), Number("-0.25"), Bool(false), FormulaText("\"say \"\"hi\"\"\"", "say \"hi\"")),
            Row(Number("3"), book.Shared("line1\nline2"), Number("1.2345678901234567E+20"), Bool(true), book.Shared("北京 😀 Café")),
            Row(Number("4"), Inline(""), Number("1E-3"), Error("#DIV/0!"), Number("12345678901234567890")));

        var (csv, result) = await ConvertAsync(Save(book));

        Assert.Equal(
            "id,name,amount,active,note\r\n" +
            "1,Ann,12.5,true,\r\n" +
            "2,\"Bob, Jr.\",-0.25,false,\"say \"\"hi\"\"\"\r\n" +
            "3,\"line1\nline2\",123456789012345670000,true,北京 😀 Café\r\n" +
            "4,,0.001,,12345678901234567890\r\n",
            csv);
        Assert.Equal(new XlsxConversionResult("Data", DataRows: 4, Columns: 5, IgnoredCells: 0), result);
    }

    [Fact]
    public async Task Dates_and_times_become_iso_text_by_their_number_format()
    {
        var book = new XlsxBuilder().Sheet("Dates",
            Row(Inline("kind"), Inline("value")),
            Row(Inline("built-in date"), Number("45306", style: BuiltInDate)),
            Row(Inline("built-in date and time"), Number("45306.5", style: BuiltInDateTime)),
            Row(Inline("built-in time"), Number("0.75", style: BuiltInTime)),
            Row(Inline("custom date and time"), Number("45306.000011574", style: CustomDateTime)),
            Row(Inline("custom chinese date"), Number("45306", style: CustomChineseDate)),
            Row(Inline("coloured date with locale"), Number("45306", style: ColouredDate)),
            Row(Inline("built-in chinese date"), Number("45306", style: BuiltInChineseDate)),
            Row(Inline("duration"), Number("1.5", style: Elapsed)),
            Row(Inline("two decimals"), Number("45306", style: TwoDecimals)),
            Row(Inline("quoted days"), Number("12", style: QuotedDays)),
            Row(Inline("before the invented leap day"), Number("59", style: BuiltInDate)),
            Row(Inline("the invented leap day"), Number("60", style: BuiltInDate)),
            Row(Inline("after the invented leap day"), Number("61", style: BuiltInDate)),
            Row(Inline("negative"), Number("-1", style: BuiltInDate)));

        var (csv, _) = await ConvertAsync(Save(book));

        Assert.Equal(
            "kind,value\r\n" +
            "built-in date,2024-01-15\r\n" +
            "built-in date and time,2024-01-15 12:00:00\r\n" +
            "built-in time,18:00:00\r\n" +
            "custom date and time,2024-01-15 00:00:01\r\n" +
            "custom chinese date,2024-01-15\r\n" +
            "coloured date with locale,2024-01-15\r\n" +
            "built-in chinese date,2024-01-15\r\n" +
            "duration,36:00:00\r\n" +
            "two decimals,45306\r\n" +
            "quoted days,12\r\n" +
            "before the invented leap day,1900-02-28\r\n" +
            "the invented leap day,60\r\n" +
            "after the invented leap day,1900-03-01\r\n" +
            "negative,-1\r\n",
            csv);
    }

    [Fact]
    public async Task A_workbook_in_the_1904_date_system_counts_from_1904()
    {
        var book = new XlsxBuilder { Date1904 = true }.Sheet("Mac",
            Row(Inline("day")),
            Row(Number("0", style: BuiltInDate)),
            Row(Number("43844", style: BuiltInDate)));

        var (csv, _) = await ConvertAsync(Save(book));

        Assert.Equal("day\r\n1904-01-01\r\n2024-01-15\r\n", csv);
    }

    [Fact]
    public async Task Sparse_cells_land_in_their_columns_and_short_rows_are_padded()
    {
        var book = new XlsxBuilder().Sheet("Sparse",
            new Row(Inline("a", "A1"), Inline("b", "B1"), Inline("d", "D1"), Blank("E1")) { RowIndex = 1 },
            // No references at all: one cell after another from column A.
            Row(Number("1"), Number("2"), Number("4", "D2")),
            new Row(Inline("x", "C3")) { RowIndex = 3 },
            new Row(Blank("A4"), Blank("B4")) { RowIndex = 4 },
            new Row(Number("5", "A6"), Inline("right of the headings", "F6")) { RowIndex = 6 },
            // A cell without a reference follows the one before it.
            Row(Inline("b", "B7"), Inline("c")));

        var (csv, result) = await ConvertAsync(Save(book));

        Assert.Equal("a,b,,d\r\n1,2,,4\r\n,,x,\r\n5,,,\r\n,b,c,\r\n", csv);
        Assert.Equal(new XlsxConversionResult("Sparse", DataRows: 4, Columns: 4, IgnoredCells: 1), result);
    }

    [Fact]
    public async Task Leading_empty_rows_are_skipped_and_the_first_row_with_values_is_the_heading()
    {
        var book = new XlsxBuilder().Sheet("Data",
            new Row(Blank("A1")) { RowIndex = 1 },
            new Row(Inline("id", "A3"), Inline("city", "B3")) { RowIndex = 3 },
            new Row(Number("1", "A4"), Inline("Paris", "B4")) { RowIndex = 4 });

        var (csv, _) = await ConvertAsync(Save(book));

        Assert.Equal("id,city\r\n1,Paris\r\n", csv);
    }

    [Fact]
    public async Task Rich_text_is_joined_without_phonetic_guides_and_escapes_are_decoded()
    {
        var book = new XlsxBuilder();
        book.Sheet("Text",
            Row(book.Shared("greeting"), book.Shared("escaped"), book.Shared("literal")),
            Row(
                book.SharedRich([
                    new Run(new SpreadsheetText("Hello ") { Space = SpaceProcessingModeValues.Preserve }),
                    new Run(new RunProperties(new Bold()), new SpreadsheetText("world")),
                    new PhoneticRun(new SpreadsheetText("ハロー")) { BaseTextStartIndex = 0, EndingBaseIndex = 5 },
                ]),
                book.Shared("a_x000D_b"),
                book.Shared("_x005F_x000D_")));

        var (csv, _) = await ConvertAsync(Save(book));

        Assert.Equal("greeting,escaped,literal\r\nHello world,\"a\rb\",_x000D_\r\n", csv);
    }

    [Fact]
    public async Task Unicode_text_from_chinese_and_european_workbooks_survives()
    {
        var book = new XlsxBuilder();
        book.Sheet("客户",
            Row(book.Shared("客户编号"), book.Shared("城市"), book.Shared("金额")),
            Row(Number("1001"), book.Shared("北京"), Number("12.5")),
            Row(Number("1002"), Inline("Zürich – Café"), Number("8")));

        var (csv, result) = await ConvertAsync(Save(book));

        Assert.Equal("客户编号,城市,金额\r\n1001,北京,12.5\r\n1002,Zürich – Café,8\r\n", csv);
        Assert.Equal("客户", result.SheetName);
    }

    [Fact]
    public async Task Sheets_are_listed_in_workbook_order()
    {
        var path = Save(ThreeSheets());

        var sheets = await XlsxReader.ListSheetsAsync(path, "book.xlsx", Ct);

        Assert.Equal(["Summary", "Customers", "数据"], sheets);
    }

    [Fact]
    public async Task The_first_sheet_is_converted_when_none_is_named()
    {
        var (csv, result) = await ConvertAsync(Save(ThreeSheets()));

        Assert.Equal("Summary", result.SheetName);
        Assert.Equal("total\r\n3\r\n", csv);
    }

    [Fact]
    public async Task A_sheet_is_found_by_name_regardless_of_case()
    {
        var (csv, result) = await ConvertAsync(Save(ThreeSheets()), "customers");

        Assert.Equal("Customers", result.SheetName);
        Assert.Equal("id,name\r\n1,Ann\r\n2,Bob\r\n", csv);
    }

    [Fact]
    public async Task An_unknown_sheet_name_is_refused()
    {
        var error = await Assert.ThrowsAsync<PortalException>(() => ConvertAsync(Save(ThreeSheets()), "Orders"));

        Assert.Equal("book.xlsx has no sheet named 'Orders'.", error.Message);
    }

    [Fact]
    public async Task Progress_reports_rows_written()
    {
        var rows = new List<Row> { Row(Inline("n")) };
        rows.AddRange(Enumerable.Range(1, 2_500).Select(i => Row(Number(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))));
        var reports = new List<long>();

        var (_, result) = await ConvertAsync(Save(new XlsxBuilder().Sheet("Numbers", [.. rows])),
            progress: new TextTranscodingTests.SynchronousProgress(reports.Add));

        Assert.Equal(2_500, result.DataRows);
        Assert.Equal([1_000, 2_000, 2_500], reports);
    }

    private static XlsxBuilder ThreeSheets()
    {
        var book = new XlsxBuilder();
        return book
            .Sheet("Summary", Row(Inline("total")), Row(Number("3")))
            .Sheet("Customers", Row(book.Shared("id"), book.Shared("name")), Row(Number("1"), book.Shared("Ann")), Row(Number("2"), book.Shared("Bob")))
            .Sheet("数据", Row(Inline("x")), Row(Number("1")));
    }
}
