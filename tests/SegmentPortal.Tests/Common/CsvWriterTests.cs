using System.Text;
using SegmentPortal.Core.Common;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Common;

public sealed class CsvWriterTests
{
    private static string Write(Action<CsvWriter> write)
    {
        var text = new StringWriter();
        using (var csv = new CsvWriter(text))
        {
            write(csv);
        }
        return text.ToString();
    }

    [Fact]
    public void Fields_holding_a_comma_quote_or_line_break_are_quoted_with_quotes_doubled_and_records_end_in_CRLF()
    {
        var csv = Write(w =>
        {
            w.WriteRecord(["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere"], 5);
            w.WriteRecord(["x"], 1);
        });

        Assert.Equal("plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\"\r\nx\r\n", csv);
    }

    [Fact]
    public void Null_and_empty_are_empty_fields_unless_an_empty_text_is_to_differ_from_null()
    {
        var csv = Write(w =>
        {
            w.WriteField(null);
            w.WriteField("");
            w.WriteField(null, quoteEmpty: true);
            w.WriteField("", quoteEmpty: true);
            w.EndRecord();
        });

        Assert.Equal(",,,\"\"\r\n", csv);
    }

    [Fact]
    public void A_short_record_is_filled_to_its_width_with_empty_fields() =>
        Assert.Equal("a,,\r\n", Write(w => w.WriteRecord(["a"], 3)));

    [Fact]
    public void Text_is_written_as_given_without_the_export_formula_guard() =>
        Assert.Equal("=SUM(A1),-5,@x\r\n", Write(w => w.WriteRecord(["=SUM(A1)", "-5", "@x"], 3)));

    [Fact]
    public void A_file_is_UTF8_without_a_byte_order_mark()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "out.csv");

        using (var csv = CsvWriter.CreateFile(path))
        {
            csv.WriteRecord(["Zoë", "北京"], 2);
        }

        var bytes = File.ReadAllBytes(path);
        Assert.Equal("Zoë,北京\r\n", Encoding.UTF8.GetString(bytes));
        Assert.NotEqual(0xEF, bytes[0]);
    }
}
