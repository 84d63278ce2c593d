using System.Globalization;
using System.Numerics;
using System.Text;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Tests.Exports;

public sealed class CsvExportTests
{
    private const string Bom = "\uFEFF";

    [Fact]
    public async Task Fields_with_commas_quotes_and_line_breaks_are_quoted_and_quotes_doubled()
    {
        var csv = await ExportAsync(["id", "name", "note"],
        [
            [1, "Smith, John", "He said \"hi\""],
            [2, "Line 1\nLine 2", "a\r\nb"],
            [3, "plain", ""],
            [4, null, "\"quoted\""],
        ]);

        Assert.Equal(
            Bom + "id,name,note\r\n" +
            "1,\"Smith, John\",\"He said \"\"hi\"\"\"\r\n" +
            "2,\"Line 1\nLine 2\",\"a\r\nb\"\r\n" +
            "3,plain,\"\"\r\n" +
            "4,,\"\"\"quoted\"\"\"\r\n",
            csv);
    }

    [Fact]
    public async Task Chinese_accents_and_emoji_round_trip_as_UTF8_with_a_byte_order_mark()
    {
        const string text = "北京市朝阳区 · Zoë Ünïcödé · 😀🎉";
        var destination = new AsyncOnlyStream();
        await TableExport.WriteCsvAsync(["城市"], [[text]], destination, TestContext.Current.CancellationToken);
        var bytes = destination.ToArray();

        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        Assert.Equal("城市\r\n" + text + "\r\n", strict.GetString(bytes, 3, bytes.Length - 3));
    }

    public static TheoryData<object?, string> Values => new()
    {
        { null, "" },
        { 42, "42" },
        { -5, "-5" },
        { (byte)7, "7" },
        { 1234567890123456789L, "1234567890123456789" },
        { ulong.MaxValue, "18446744073709551615" },
        { 12.50m, "12.50" },
        { -2.5m, "-2.5" },
        { 1234567.891m, "1234567.891" },
        { decimal.MaxValue, "79228162514264337593543950335" },
        { 0.1, "0.1" },
        { 1234567.891, "1234567.891" },
        { -0.000125, "-0.000125" },
        { 1.5f, "1.5" },
        { double.NaN, "NaN" },
        { double.NegativeInfinity, "-Infinity" },
        { true, "true" },
        { false, "false" },
        { new DateOnly(2024, 3, 1), "2024-03-01" },
        { new DateTime(2024, 3, 1, 14, 5, 9), "2024-03-01 14:05:09" },
        { new DateTime(2024, 3, 1, 14, 5, 9, 500), "2024-03-01 14:05:09.5" },
        { new DateTime(2024, 3, 1), "2024-03-01 00:00:00" },
        { new DateTimeOffset(2024, 3, 1, 14, 5, 9, TimeSpan.FromHours(2)), "2024-03-01 14:05:09+02:00" },
        { new DateTimeOffset(2024, 3, 1, 14, 5, 9, TimeSpan.FromMinutes(-330)), "2024-03-01 14:05:09-05:30" },
        { new TimeOnly(9, 30), "09:30:00" },
        { TimeSpan.FromHours(36), "36:00:00" },
        { TimeSpan.FromMinutes(-90), "-1:30:00" },
        { new byte[] { 1, 2, 3, 250 }, "AQID+g==" },
        { new Guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"), "3f2504e0-4f89-11d3-9a0c-0305e82c3301" },
        { DayOfWeek.Monday, "Monday" },
        { 'x', "x" },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Values_are_formatted_invariantly(object? value, string expected)
    {
        // A culture with a decimal comma, dotted thousands and its own date order must change nothing.
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var csv = await ExportAsync(["value"], [[value]]);
            Assert.Equal(Bom + "value\r\n" + expected + "\r\n", csv);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public async Task BigInteger_decimal_lists_and_blobs_are_written_exactly()
    {
        var big = BigInteger.Parse("-123456789012345678901234567890", CultureInfo.InvariantCulture);
        using var blob = new MemoryStream([0xDE, 0xAD, 0xBE, 0xEF]);
        var csv = await ExportAsync(["big", "money", "list", "map", "blob"],
        [
            [big, 0.0000000001m, new List<int> { 1, 2 }, new Dictionary<string, object?> { ["a"] = 1, ["b"] = "x" }, blob],
        ]);

        Assert.Equal(Bom + "big,money,list,map,blob\r\n-123456789012345678901234567890,0.0000000001,\"[1, 2]\",\"{a: 1, b: x}\",3q2+7w==\r\n", csv);
    }

    [Fact]
    public async Task Text_starting_with_a_formula_character_is_prefixed_with_a_quote_but_numbers_are_not()
    {
        var csv = await ExportAsync(["value"],
        [
            ["=SUM(A1)"],
            ["+1"],
            ["-2+3"],
            ["@cmd"],
            ["\t=1"],
            ["\r=1"],
            ["=HYPERLINK(\"http://evil\",\"click\")"],
            [-5],
            [-2.5m],
            [-1.5],
            ["-5"],
            ["a=b"],
            [" =1"],
        ]);

        Assert.Equal(
            Bom + "value\r\n" +
            "'=SUM(A1)\r\n" +
            "'+1\r\n" +
            "'-2+3\r\n" +
            "'@cmd\r\n" +
            "'\t=1\r\n" +
            "\"'\r=1\"\r\n" +
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\"\r\n" +
            "-5\r\n" +
            "-2.5\r\n" +
            "-1.5\r\n" +
            "'-5\r\n" +
            "a=b\r\n" +
            " =1\r\n",
            csv);
    }

    [Fact]
    public async Task Column_names_are_text_and_escaped_too()
    {
        var csv = await ExportAsync(["=cmd|' /C calc'!A0", "name, full"], [[1, "x"]]);

        Assert.StartsWith(Bom + "'=cmd|' /C calc'!A0,\"name, full\"\r\n", csv);
    }

    [Fact]
    public async Task A_query_result_is_written_like_its_rows()
    {
        var result = new QueryResult(["id", "city"], [[1L, "上海"], [2L, null]], TimeSpan.Zero, FromCache: false);
        var destination = new AsyncOnlyStream();

        var rows = await TableExport.WriteCsvAsync(result, destination, TestContext.Current.CancellationToken);

        Assert.Equal(2, rows);
        Assert.Equal(Bom + "id,city\r\n1,上海\r\n2,\r\n", Encoding.UTF8.GetString(destination.ToArray()));
    }

    [Fact]
    public async Task Rows_from_an_async_source_are_written_and_counted()
    {
        var destination = new AsyncOnlyStream();

        var rows = await TableExport.WriteCsvAsync(["n"], Numbers(3), destination, TestContext.Current.CancellationToken);

        Assert.Equal(3, rows);
        Assert.Equal(Bom + "n\r\n0\r\n1\r\n2\r\n", Encoding.UTF8.GetString(destination.ToArray()));
    }

    [Fact]
    public async Task An_empty_table_still_has_its_header()
    {
        Assert.Equal(Bom + "a,b\r\n", await ExportAsync(["a", "b"], []));
    }

    [Fact]
    public async Task A_row_with_the_wrong_number_of_values_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => ExportAsync(["a", "b"], [[1, 2], [3]]));

        Assert.Contains("Row 2 has 1 values; the export has 2 columns.", error.Message);
    }

    [Fact]
    public async Task Cancellation_stops_the_export()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => TableExport.WriteCsvAsync(["n"], Numbers(10), new AsyncOnlyStream(), cancel.Token));
    }

    private static async Task<string> ExportAsync(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        // AsyncOnlyStream throws on synchronous writes, as an HTTP response body does.
        var destination = new AsyncOnlyStream();
        await TableExport.WriteCsvAsync(columns, rows, destination, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(destination.ToArray());
    }

    private static async IAsyncEnumerable<object?[]> Numbers(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return [i];
        }
    }
}
