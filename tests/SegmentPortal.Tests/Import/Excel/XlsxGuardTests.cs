using System.IO.Compression;
using System.Text;
using SegmentPortal.Core;
using SegmentPortal.Core.Import.Excel;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Import.Excel.XlsxBuilder;

namespace SegmentPortal.Tests.Import.Excel;

public sealed class XlsxGuardTests : IDisposable
{
    private const string NotValid = "customers.xlsx is not a valid Excel workbook (it may be damaged or password-protected).";

    private readonly TempFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    private string CsvPath => _folder.File("out.csv");

    private string Save(XlsxBuilder builder, string name = "customers.xlsx")
    {
        var path = _folder.File(name);
        builder.Save(path);
        return path;
    }

    private async Task<PortalException> RefusedAsync(string path, XlsxLimits? limits = null, string? sheet = null)
    {
        var error = await Assert.ThrowsAsync<PortalException>(
            () => XlsxReader.ConvertToCsvAsync(path, Path.GetFileName(path), sheet, CsvPath, limits ?? XlsxLimits.Default, null, Ct));
        Assert.False(File.Exists(CsvPath), "A refused workbook leaves no CSV behind.");
        return error;
    }

    [Fact]
    public async Task A_csv_file_renamed_to_xlsx_is_refused_as_text()
    {
        var path = _folder.File("customers.xlsx");
        await File.WriteAllTextAsync(path, "id,name\n1,Ann\n", Ct);

        var error = await RefusedAsync(path);

        Assert.Equal("customers.xlsx is not an Excel workbook: it looks like a text (CSV) file. Upload it with a .csv file name instead.", error.Message);
    }

    [Fact]
    public async Task Binary_data_that_is_not_a_zip_is_not_a_valid_workbook()
    {
        var path = _folder.File("customers.xlsx");
        await File.WriteAllBytesAsync(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D], Ct);

        Assert.Equal(NotValid, (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task A_password_protected_workbook_is_refused_with_a_way_forward()
    {
        var path = _folder.File("customers.xlsx");
        byte[] compoundFile = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, .. Encoding.ASCII.GetBytes("EncryptedPackage junk")];
        await File.WriteAllBytesAsync(path, compoundFile, Ct);

        var error = await Assert.ThrowsAsync<PortalException>(() => XlsxReader.ListSheetsAsync(path, "customers.xlsx", Ct));

        Assert.Equal(
            "customers.xlsx is password-protected or saved in the old Excel 97-2003 (.xls) format, so it cannot be read. " +
            "Remove the password or save it as an Excel workbook (.xlsx), then upload it again.",
            error.Message);
    }

    [Fact]
    public async Task A_truncated_workbook_is_not_valid()
    {
        var path = Save(new XlsxBuilder().Sheet("Data", Row(Inline("id")), Row(Number("1"))));
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)], Ct);

        Assert.Equal(NotValid, (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task A_zip_that_is_not_a_workbook_is_not_valid()
    {
        var path = _folder.File("customers.xlsx");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("[Content_Types].xml").Open());
            writer.Write("<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>");
        }

        Assert.Equal(NotValid, (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task A_shared_string_index_past_the_table_is_not_valid()
    {
        var book = new XlsxBuilder();
        var header = book.Shared("id");
        var broken = book.Shared("x");
        broken.CellValue = new DocumentFormat.OpenXml.Spreadsheet.CellValue("99");
        var path = Save(book.Sheet("Data", Row(header), Row(broken)));

        Assert.Equal(NotValid, (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task A_workbook_without_worksheets_is_refused()
    {
        var path = Save(new XlsxBuilder());

        Assert.Empty(await XlsxReader.ListSheetsAsync(path, "customers.xlsx", Ct));
        Assert.Equal("customers.xlsx has no worksheets.", (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task An_empty_sheet_is_refused()
    {
        var path = Save(new XlsxBuilder().Sheet("Sheet1"));

        Assert.Equal("Sheet 'Sheet1' in customers.xlsx is empty.", (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task A_sheet_with_only_headings_is_refused()
    {
        var path = Save(new XlsxBuilder().Sheet("Data", Row(Inline("id"), Inline("name")), Row(Blank("A2"))));

        Assert.Equal("Sheet 'Data' in customers.xlsx has a heading row but no rows of data below it.", (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task A_heading_row_of_10_001_columns_is_refused_by_default()
    {
        var path = Save(new XlsxBuilder().Sheet("Data", Row([.. Enumerable.Range(0, 10_001).Select(i => Number("1"))]), Row(Number("1"))));

        var error = await RefusedAsync(path);

        Assert.Equal("Sheet 'Data' has 10,001 columns; the limit is 10,000.", error.Message);
    }

    [Fact]
    public async Task A_heading_row_of_10_000_columns_is_accepted_by_default()
    {
        var path = Save(new XlsxBuilder().Sheet("Data", Row([.. Enumerable.Range(0, 10_000).Select(i => Number("1"))]), Row(Number("2"))));

        var result = await XlsxReader.ConvertToCsvAsync(path, "customers.xlsx", null, CsvPath, XlsxLimits.Default, null, Ct);

        Assert.Equal(10_000, result.Columns);
        Assert.Equal(10_000, File.ReadLines(CsvPath).Last().Split(',').Length);
    }

    [Fact]
    public async Task A_smaller_column_limit_is_applied()
    {
        var path = Save(new XlsxBuilder().Sheet("Data", Row(Inline("a"), Inline("b"), Inline("c"), Inline("d")), Row(Number("1"))));

        var error = await RefusedAsync(path, XlsxLimits.Default with { MaxColumns = 3 });

        Assert.Equal("Sheet 'Data' has 4 columns; the limit is 3.", error.Message);
    }

    [Fact]
    public async Task More_rows_than_the_row_limit_are_refused()
    {
        var path = Save(new XlsxBuilder().Sheet("Data", Row(Inline("n")), Row(Number("1")), Row(Number("2")), Row(Number("3"))));

        var error = await RefusedAsync(path, XlsxLimits.Default with { MaxRows = 2 });

        Assert.Equal("Sheet 'Data' has more than 2 rows of data; the limit is 2.", error.Message);
    }

    [Fact]
    public async Task A_workbook_that_unpacks_past_the_limit_is_refused_before_reading()
    {
        // Five MB of ordinary rows against a 1 MB limit.
        var path = Save(new XlsxBuilder().RawSheet("Data", SheetXml(writer =>
        {
            writer.Write("<row><c t=\"inlineStr\"><is><t>id</t></is></c></row>");
            WriteNumberRows(writer, 5 << 20);
        })));
        var limits = XlsxLimits.Default with { MaxUncompressedBytes = 1 << 20 };

        var error = await RefusedAsync(path, limits);

        Assert.Equal("customers.xlsx expands to more than 1 MB when unpacked; it looks like a zip bomb and was not read.", error.Message);
    }

    [Fact]
    public async Task A_part_that_compresses_like_a_zip_bomb_is_refused_with_default_limits()
    {
        // 20 MB of whitespace packs into a few KB: a thousand to one, where real sheets reach tens to one.
        var path = Save(new XlsxBuilder().RawSheet("Data", SheetXml(writer =>
        {
            var blanks = new string(' ', 1 << 16);
            for (var i = 0; i < 320; i++)
            {
                writer.Write(blanks);
            }
            writer.Write("<row><c><v>1</v></c></row>");
        })));

        var listing = await Assert.ThrowsAsync<PortalException>(() => XlsxReader.ListSheetsAsync(path, "customers.xlsx", Ct));
        var converting = await RefusedAsync(path);

        Assert.Matches("^customers\\.xlsx unpacks to [0-9,]+ times its packed size, far more than real workbooks do; it looks like a zip bomb and was not read\\.$", converting.Message);
        Assert.Equal(converting.Message, listing.Message);
    }

    [Fact]
    public async Task A_zip_directory_that_understates_a_part_does_not_get_past_the_limit()
    {
        // The sheet unpacks to about 3 MB, but the zip directory and local header say 100 bytes, so the check before
        // reading passes. The zip layer then unpacks only the 100 bytes it was told of, and the cut-off XML marks the
        // file as damaged. (The byte count while reading, tested below, stops any layer that would unpack more.)
        var path = Save(new XlsxBuilder().RawSheet("Data", SheetXml(writer =>
        {
            writer.Write("<row><c t=\"inlineStr\"><is><t>id</t></is></c></row>");
            WriteNumberRows(writer, 3 << 20);
        })));
        ZipTampering.UnderstateUncompressedSize(path, "xl/worksheets/", 100);
        var limits = XlsxLimits.Default with { MaxUncompressedBytes = 1 << 20 };

        var error = await RefusedAsync(path, limits);

        Assert.Equal(NotValid, error.Message);
        Assert.IsType<System.Xml.XmlException>(error.InnerException);
    }

    private static void WriteNumberRows(StreamWriter writer, long characters)
    {
        long written = 0;
        for (var i = 1; written < characters; i++)
        {
            var row = $"<row><c><v>{i}</v></c></row>";
            writer.Write(row);
            written += row.Length;
        }
    }

    [Fact]
    public void The_read_budget_stops_a_stream_that_unpacks_past_the_limit()
    {
        var budget = new XlsxReadBudget("customers.xlsx", XlsxLimits.Default with { MaxUncompressedBytes = 1 << 20 });
        using var stream = budget.Wrap(new MemoryStream(new byte[2 << 20]), packedSize: null);

        var error = Assert.Throws<PortalException>(() => stream.CopyTo(Stream.Null));

        Assert.Equal("customers.xlsx expands to more than 1 MB when unpacked; it looks like a zip bomb and was not read.", error.Message);
        Assert.InRange(budget.BytesRead, (1 << 20) + 1, (1 << 20) + (1 << 17));
    }

    [Fact]
    public void The_read_budget_stops_a_part_that_unpacks_far_beyond_its_packed_size()
    {
        var budget = new XlsxReadBudget("customers.xlsx", XlsxLimits.Default);
        using var stream = budget.Wrap(new MemoryStream(new byte[4 << 20]), packedSize: 1_000);

        var error = Assert.Throws<PortalException>(() => stream.CopyTo(Stream.Null));

        Assert.StartsWith("customers.xlsx unpacks to ", error.Message);
    }
}
