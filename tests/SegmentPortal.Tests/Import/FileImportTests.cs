using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.TestData;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Import;

public sealed class FileImportTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync(new Dictionary<string, string?> { ["Import:MaxColumns"] = "1000" });
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task A_csv_becomes_a_dataset_with_detected_types()
    {
        var dataset = await _harness.ImportTextAsync("sales.csv", "id,region,amount,day\n1,North,12.5,2024-01-02\n2,South,7,2024-02-03\n");

        Assert.Equal("sales", dataset.Name);
        Assert.Equal(DatasetStatus.Ready, dataset.Status);
        Assert.Equal(2, dataset.RowCount);
        Assert.Equal(["id", "region", "amount", "day"], dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Name));
        Assert.Equal([ColumnType.Integer, ColumnType.Text, ColumnType.Decimal, ColumnType.Date], dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Type));
        Assert.Equal(12.5, (double)(await _harness.RowsAsync($"SELECT amount FROM \"{dataset.TableName}\" WHERE id = 1"))[0][0]!);
        Assert.Equal(2L, (await _harness.RowsAsync($"SELECT count(*) FROM \"{dataset.RawTableName}\""))[0][0]);
    }

    [Theory]
    [InlineData("orders.tsv", "a\tb\n1\t2\n")]
    [InlineData("orders.txt", "a;b\n1;2\n")]
    [InlineData("orders.csv", "a|b\n1|2\n")]
    public async Task Delimiters_are_detected(string fileName, string text)
    {
        var dataset = await _harness.ImportTextAsync(fileName, text);

        Assert.Equal(["a", "b"], dataset.Columns.Select(c => c.Name));
        Assert.Equal(1, dataset.RowCount);
    }

    [Fact]
    public async Task Empty_and_duplicate_headers_are_renamed_and_reported()
    {
        var notes = new List<string>();
        var upload = await _harness.UploadAsync("dupes.csv", "a,a,,b\n1,2,3,4\n");
        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]), new SyncProgress(p => notes.Add(p.Message)));

        Assert.Equal(["a", "a_2", "column_3", "b"], dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Name));
        Assert.Contains(notes, n => n.Contains("repeats the header \"a\"") && n.Contains("column_3"));
    }

    [Fact]
    public async Task A_value_that_breaks_the_sniffed_type_late_in_the_file_keeps_the_column_as_text()
    {
        var text = "id,val\n" + string.Concat(Enumerable.Range(0, 30_000).Select(i => $"{i},{i * 2}\n")) + "30000,oops\n";
        var notes = new List<string>();
        var upload = await _harness.UploadAsync("late.csv", text);

        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]), new SyncProgress(p => notes.Add(p.Message)));

        Assert.Equal(30_001, dataset.RowCount);
        Assert.Equal(ColumnType.Text, dataset.Columns.Single(c => c.Name == "val").Type);
        Assert.Equal(ColumnType.Integer, dataset.Columns.Single(c => c.Name == "id").Type);
        Assert.Contains(notes, n => n.Contains("line 30,002") || n.Contains("line 30002"));
    }

    [Theory]
    [InlineData("empty.csv", "", "empty.csv is empty.")]
    [InlineData("ragged.csv", "a,b\n1,2\n3\n", "ragged.csv line 3: expected 2 values but found 1; column \"b\" onwards is missing.")]
    [InlineData("too-many.csv", "a,b\n1,2\n3,4,5\n", "too-many.csv line 3: expected 2 values but found 3")]
    [InlineData("quote.csv", "a,b\n1,\"2\n3,4\n", "quote.csv line 2: a quoted value in column \"b\" is never closed")]
    [InlineData("blank-header.csv", "\n1,2\n", "blank-header.csv has no header row")]
    [InlineData("notes.docx", "hello", "notes.docx is not a file type the portal reads")]
    public async Task Bad_files_are_refused_with_the_file_line_and_column(string fileName, string text, string message)
    {
        var upload = await _harness.UploadAsync(fileName, text);

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([upload.Id])));

        Assert.StartsWith(message, error.Message);
        Assert.Equal(0, await _harness.DatasetCountAsync());
    }

    [Fact]
    public async Task A_binary_file_renamed_to_csv_is_refused()
    {
        var upload = await _harness.UploadAsync("photo.csv", new MemoryStream([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48]));

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([upload.Id])));

        Assert.Contains("photo.csv is not a text file", error.Message);
    }

    [Fact]
    public async Task Too_many_columns_are_refused()
    {
        var header = string.Join(",", Enumerable.Range(1, 10_000).Select(i => $"c{i}"));
        var row = string.Join(",", Enumerable.Range(1, 10_000));
        var upload = await _harness.UploadAsync("wide.csv", header + "\n" + row + "\n");

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([upload.Id])));

        Assert.Equal("wide.csv has 10,000 columns; the limit is 1,000.", error.Message);
    }

    [Theory]
    [InlineData("people.ndjson", "{\"id\":1,\"name\":\"Ann\",\"tags\":[\"a\"]}\n{\"id\":2,\"name\":\"Bo\",\"tags\":[]}\n")]
    [InlineData("people.json", "[{\"id\":1,\"name\":\"Ann\",\"tags\":[\"a\"]},{\"id\":2,\"name\":\"Bo\",\"tags\":[]}]")]
    public async Task Json_and_ndjson_import_with_nested_values_as_text(string fileName, string text)
    {
        var dataset = await _harness.ImportTextAsync(fileName, text);

        Assert.Equal(2, dataset.RowCount);
        Assert.Equal(ColumnType.Text, dataset.Columns.Single(c => c.Name == "tags").Type);
        Assert.Equal("[\"a\"]", (await _harness.RowsAsync($"SELECT tags FROM \"{dataset.TableName}\" WHERE id = 1"))[0][0]);
    }

    [Fact]
    public async Task Invalid_json_is_refused()
    {
        var upload = await _harness.UploadAsync("broken.json", "{\"id\": 1,");

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([upload.Id])));

        Assert.StartsWith("broken.json is not valid JSON", error.Message);
    }

    [Fact]
    public async Task Parquet_imports()
    {
        var file = _harness.Folder.File("source.parquet");
        using (var scratch = new DuckDBConnection("Data Source=:memory:"))
        {
            scratch.Open();
            using var command = scratch.CreateCommand();
            command.CommandText = $"COPY (SELECT range AS id, 'x' || range AS label FROM range(1000)) TO '{file}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }
        await using var content = File.OpenRead(file);
        var upload = await _harness.UploadAsync("numbers.parquet", content);

        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));

        Assert.Equal(1000, dataset.RowCount);
        Assert.Equal(["id", "label"], dataset.Columns.Select(c => c.Name));
    }

    [Fact]
    public async Task A_csv_renamed_to_parquet_is_refused()
    {
        var upload = await _harness.UploadAsync("fake.parquet", "a,b\n1,2\n");

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([upload.Id])));

        Assert.StartsWith("fake.parquet is not a readable Parquet file", error.Message);
    }

    [Fact]
    public async Task Several_files_append_into_one_dataset_when_their_columns_match()
    {
        var jan = await _harness.UploadAsync("jan.csv", "id,amount\n1,10\n2,20\n");
        var feb = await _harness.UploadAsync("feb.csv", "amount,id\n30,3\n");

        var dataset = await _harness.ImportAsync(new FileImportRequest([jan.Id, feb.Id], Append: true, Name: "Orders"));

        Assert.Equal("Orders", dataset.Name);
        Assert.Equal(3, dataset.RowCount);
        Assert.Equal(60.0, Convert.ToDouble((await _harness.RowsAsync($"SELECT sum(amount)::DOUBLE FROM \"{dataset.TableName}\""))[0][0]));
    }

    [Fact]
    public async Task Appending_files_with_other_columns_is_refused_and_leaves_nothing()
    {
        var jan = await _harness.UploadAsync("jan.csv", "id,amount\n1,10\n");
        var feb = await _harness.UploadAsync("feb.csv", "id,total\n3,30\n");

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([jan.Id, feb.Id], Append: true)));

        Assert.Equal("feb.csv cannot be appended to jan.csv: the columns differ (missing \"amount\"; extra \"total\").", error.Message);
        Assert.Equal(0, await _harness.DatasetCountAsync());
        Assert.Empty(await _harness.RowsAsync("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'ds_%'"));
    }

    [Fact]
    public async Task A_failed_refresh_keeps_the_previous_version_and_records_the_error()
    {
        var first = await _harness.ImportTextAsync("customers.csv", "id,name\n1,Ann\n2,Bo\n");
        var broken = await _harness.UploadAsync("customers.csv", "id,name\n1,Ann\n2\n");

        await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([broken.Id], RefreshDatasetId: first.Id)));

        Assert.Equal(2L, (await _harness.RowsAsync($"SELECT count(*) FROM \"{first.TableName}\""))[0][0]);
        var refreshes = await _harness.RefreshesAsync();
        Assert.Equal([RefreshOutcome.Succeeded, RefreshOutcome.Failed], refreshes.Select(r => r.Outcome));
        Assert.Contains("line 3", refreshes[1].Error);
    }

    [Fact]
    public async Task A_refresh_replaces_the_rows_and_keeps_column_settings()
    {
        var first = await _harness.ImportTextAsync("customers.csv", "id,name\n1,Ann\n");
        var next = await _harness.UploadAsync("customers-v2.csv", "id,name\n1,Ann\n2,Bo\n3,Cy\n");

        var refreshed = await _harness.ImportAsync(new FileImportRequest([next.Id], RefreshDatasetId: first.Id));

        Assert.Equal(first.TableName, refreshed.TableName);
        Assert.Equal(3, refreshed.RowCount);
        Assert.Equal(1, await _harness.DatasetCountAsync());
    }

    [Fact]
    public async Task Uploads_belong_to_the_user_who_sent_them()
    {
        var upload = await _harness.UploadAsync("mine.csv", "a\n1\n");
        await _harness.SignInAsNewUserAsync("other@example.com", Roles.Analyst);

        var error = await Assert.ThrowsAsync<PortalException>(() =>
            _harness.WithAsync<DatasetImportService, IReadOnlyList<Core.Jobs.JobSnapshot>>(s => s.StartFileImportAsync(new FileImportRequest([upload.Id]))));

        Assert.Contains("no longer available", error.Message);
    }

    [Fact]
    public async Task Uploads_over_the_limit_are_refused_while_streaming()
    {
        await using var harness = await CoreHarness.CreateAsync(new Dictionary<string, string?> { ["Import:MaxUploadBytes"] = "1000" });
        await harness.SignInAsNewUserAsync("a@example.com", Roles.Analyst);

        var error = await Assert.ThrowsAsync<PortalException>(() => harness.UploadAsync("big.csv", new string('x', 5000)));

        Assert.Equal("big.csv is larger than the 1000 bytes upload limit.", error.Message);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(harness.Folder.Path, "uploads")));
    }

    [Fact]
    public async Task The_online_retail_file_imports_with_all_its_rows()
    {
        await using var content = File.OpenRead(TestDatasets.Path(TestDatasets.OnlineRetail));
        var upload = await _harness.UploadAsync("online-retail.csv", content);

        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));

        Assert.Equal(541_909, dataset.RowCount);
        Assert.Equal(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
            dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Name));
        var missingCustomer = await _harness.RowsAsync($"SELECT count(*) FROM \"{dataset.TableName}\" WHERE CustomerID IS NULL");
        Assert.Equal(135_080L, missingCustomer[0][0]);
    }

    [Fact]
    public async Task A_gb18030_file_with_chinese_headers_imports_with_the_right_text()
    {
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        var bytes = System.Text.Encoding.GetEncoding("GB18030").GetBytes("客户编号,城市,金额\n1001,北京,12.50\n1002,上海,8.00\n");
        var upload = await _harness.UploadAsync("客户.csv", new MemoryStream(bytes));

        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));

        Assert.Equal(["客户编号", "城市", "金额"], dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Name));
        Assert.Equal("北京", (await _harness.RowsAsync($"SELECT 城市 FROM \"{dataset.TableName}\" WHERE 客户编号 = 1001"))[0][0]);
    }

    [Theory]
    [InlineData("utf-16le")]
    [InlineData("windows-1252")]
    public async Task Other_encodings_are_detected_and_transcoded(string encodingName)
    {
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        var encoding = System.Text.Encoding.GetEncoding(encodingName);
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes("name,city\nMüller,Köln\nCafé,Besançon\n")).ToArray();
        var upload = await _harness.UploadAsync("names.csv", new MemoryStream(bytes));

        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));

        Assert.Equal(2, dataset.RowCount);
        Assert.Equal("Besançon", (await _harness.RowsAsync($"SELECT city FROM \"{dataset.TableName}\" WHERE name = 'Café'"))[0][0]);
    }

    [Fact]
    public async Task A_wrong_chosen_encoding_is_refused_with_the_byte_offset()
    {
        var upload = await _harness.UploadAsync("names.csv", new MemoryStream([.. "name\n"u8.ToArray(), 0xC3, 0x28, 0x0A]));

        var error = await Assert.ThrowsAsync<PortalException>(() =>
            _harness.ImportAsync(new FileImportRequest([upload.Id], Options: new FileImportOptions(Encoding: Core.Import.Text.TextEncodingChoice.Utf8))));

        Assert.StartsWith("names.csv", error.Message);
    }

    [Fact]
    public async Task An_excel_workbook_imports_its_chosen_sheet()
    {
        var path = _harness.Folder.File("book.xlsx");
        var book = new Excel.XlsxBuilder();
        book.Sheet("Summary", Excel.XlsxBuilder.Row(book.Shared("x")), Excel.XlsxBuilder.Row(Excel.XlsxBuilder.Number("1")))
            .Sheet("Orders",
                Excel.XlsxBuilder.Row(book.Shared("id"), book.Shared("amount"), book.Shared("region")),
                Excel.XlsxBuilder.Row(Excel.XlsxBuilder.Number("1"), Excel.XlsxBuilder.Number("10.5"), book.Shared("North")),
                Excel.XlsxBuilder.Row(Excel.XlsxBuilder.Number("2"), Excel.XlsxBuilder.Number("7"), book.Shared("South")))
            .Save(path);
        await using var content = File.OpenRead(path);
        var upload = await _harness.UploadAsync("book.xlsx", content);

        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id], Options: new FileImportOptions(Sheet: "Orders")));

        Assert.Equal(2, dataset.RowCount);
        Assert.Equal(["id", "amount", "region"], dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Name));
        Assert.Equal(ColumnType.Decimal, dataset.Columns.Single(c => c.Name == "amount").Type);
    }

    [Fact]
    public async Task A_csv_renamed_to_xlsx_is_refused()
    {
        var upload = await _harness.UploadAsync("orders.xlsx", "a,b\n1,2\n");

        var error = await Assert.ThrowsAsync<PortalException>(() => _harness.ImportAsync(new FileImportRequest([upload.Id])));

        Assert.StartsWith("orders.xlsx is not an Excel workbook", error.Message);
        Assert.Equal(0, await _harness.DatasetCountAsync());
    }

    [Fact]
    public async Task Abandoned_uploads_are_removed_after_a_day()
    {
        var old = await _harness.UploadAsync("old.csv", "a\n1\n");
        var fresh = await _harness.UploadAsync("fresh.csv", "a\n1\n");
        var uploadsFolder = Path.Combine(_harness.Folder.Path, "uploads");
        foreach (var file in Directory.EnumerateFiles(uploadsFolder, old.Id.ToString("N") + "*"))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddDays(-2));
        }

        var removed = _harness.Services.GetRequiredService<UploadStore>().DeleteAbandoned(UploadCleanup.MaxAge);

        Assert.Equal(2, removed); // the file and its description
        Assert.All(Directory.EnumerateFiles(uploadsFolder), f => Assert.StartsWith(fresh.Id.ToString("N"), Path.GetFileName(f)));
    }

    private sealed class SyncProgress(Action<Core.Jobs.JobProgress> report) : IProgress<Core.Jobs.JobProgress>
    {
        public void Report(Core.Jobs.JobProgress value) => report(value);
    }
}
