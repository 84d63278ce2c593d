using System.Text;
using SegmentPortal.Core.Import.Text;

namespace SegmentPortal.Tests.Import.Text;

public sealed class TextEncodingDetectionTests
{
    private const string ChineseCsv = "客户编号,城市,金额\n1001,北京,12.50\n1002,上海,8.00\n";
    private const string WesternCsv = "Name,Note\nMüller,Café\nnaïve,5€\n";

    private static readonly Encoding Gb18030 = TextEncodings.GetStrictEncoding(TextEncodingChoice.Gb18030);
    private static readonly Encoding Windows1252 = TextEncodings.GetStrictEncoding(TextEncodingChoice.Windows1252);

    private static TextEncodingDetection Detect(byte[] bytes) => TextEncodings.Detect(bytes, isWholeFile: true);

    [Fact]
    public void Utf8_with_bom_is_certain()
    {
        var detection = Detect([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(ChineseCsv)]);

        Assert.Equal(new TextEncodingDetection(TextEncodingChoice.Utf8, TextEncodingConfidence.Certain, "UTF-8 with BOM"), detection);
    }

    [Fact]
    public void Utf8_without_bom_is_recognised_by_its_valid_sequences()
    {
        var detection = Detect(Encoding.UTF8.GetBytes(WesternCsv + ChineseCsv));

        Assert.Equal(TextEncodingChoice.Utf8, detection.Encoding);
        Assert.Equal(TextEncodingConfidence.Likely, detection.Confidence);
        Assert.Equal("UTF-8 without BOM", detection.Explanation);
    }

    [Fact]
    public void Plain_ascii_is_read_as_utf8_with_certainty()
    {
        var detection = Detect("id,name\n1,Ann\n"u8.ToArray());

        Assert.Equal(TextEncodingChoice.Utf8, detection.Encoding);
        Assert.Equal(TextEncodingConfidence.Certain, detection.Confidence);
    }

    [Fact]
    public void An_empty_file_is_utf8()
    {
        Assert.Equal(TextEncodingChoice.Utf8, Detect([]).Encoding);
    }

    [Fact]
    public void A_utf8_character_cut_off_by_the_end_of_the_sample_is_not_held_against_it()
    {
        var bytes = Encoding.UTF8.GetBytes("city\n北京\n");
        var cut = bytes.AsSpan(0, bytes.Length - 3); // ends inside 京

        Assert.Equal(TextEncodingChoice.Utf8, TextEncodings.Detect(cut, isWholeFile: false).Encoding);
        Assert.NotEqual(TextEncodingChoice.Utf8, TextEncodings.Detect(cut, isWholeFile: true).Encoding);
    }

    [Theory]
    [InlineData(false, TextEncodingChoice.Utf16LittleEndian, "UTF-16 little-endian with BOM")]
    [InlineData(true, TextEncodingChoice.Utf16BigEndian, "UTF-16 big-endian with BOM")]
    public void Utf16_with_bom_is_certain(bool bigEndian, TextEncodingChoice expected, string explanation)
    {
        var encoding = new UnicodeEncoding(bigEndian, byteOrderMark: true);

        var detection = Detect([.. encoding.GetPreamble(), .. encoding.GetBytes(ChineseCsv)]);

        Assert.Equal(new TextEncodingDetection(expected, TextEncodingConfidence.Certain, explanation), detection);
    }

    [Theory]
    [InlineData(false, TextEncodingChoice.Utf16LittleEndian)]
    [InlineData(true, TextEncodingChoice.Utf16BigEndian)]
    public void Utf16_without_bom_is_recognised_by_its_zero_bytes(bool bigEndian, TextEncodingChoice expected)
    {
        var detection = Detect(new UnicodeEncoding(bigEndian, byteOrderMark: false).GetBytes(ChineseCsv + WesternCsv));

        Assert.Equal(expected, detection.Encoding);
        Assert.Equal(TextEncodingConfidence.Likely, detection.Confidence);
        Assert.Contains("without BOM", detection.Explanation);
    }

    [Fact]
    public void Utf16_without_bom_is_recognised_when_most_of_the_text_is_chinese()
    {
        const string addresses = "姓名,城市名称,详细地址\n张三,北京市朝阳区,建国路八十八号\n李四,上海市浦东新区,世纪大道一百号\n";

        var detection = Detect(new UnicodeEncoding(bigEndian: false, byteOrderMark: false).GetBytes(addresses));

        Assert.Equal(TextEncodingChoice.Utf16LittleEndian, detection.Encoding);
    }

    [Fact]
    public void Gb18030_with_chinese_headers_is_guessed_as_gb18030()
    {
        var detection = Detect(Gb18030.GetBytes(ChineseCsv));

        Assert.Equal(
            new TextEncodingDetection(TextEncodingChoice.Gb18030, TextEncodingConfidence.Guess, "GB18030 (Chinese), guessed from byte patterns"),
            detection);
    }

    [Fact]
    public void Gb18030_with_single_character_values_is_still_gb18030()
    {
        // 男/女 columns: each character stands alone between commas.
        var detection = Detect(Gb18030.GetBytes("id,性别\n1,男\n2,女\n3,男\n"));

        Assert.Equal(TextEncodingChoice.Gb18030, detection.Encoding);
    }

    [Fact]
    public void Windows1252_with_accented_names_is_guessed_as_windows1252()
    {
        var detection = Detect(Windows1252.GetBytes(WesternCsv));

        Assert.Equal(
            new TextEncodingDetection(TextEncodingChoice.Windows1252, TextEncodingConfidence.Guess, "Windows-1252 (Western European), guessed from byte patterns"),
            detection);
    }

    [Fact]
    public void Western_words_that_are_also_valid_gb18030_are_still_windows1252()
    {
        // Each accented letter here is followed by a byte GBK accepts as a second byte, so the whole file is valid
        // GB18030; only the shape of the text tells the two apart.
        var bytes = Windows1252.GetBytes("Stadt,Name\nDüsseldorf,Müller\nMünchen,Größe\nKöln,Informação\n");
        Assert.NotNull(LegacyCodePageHeuristic.CountStandaloneCjk(bytes, isWholeFile: true));

        Assert.Equal(TextEncodingChoice.Windows1252, Detect(bytes).Encoding);
    }

    [Fact]
    public void The_bytes_of_a_program_are_binary()
    {
        var program = File.ReadAllBytes(File.Exists("/bin/ls") ? "/bin/ls" : Environment.ProcessPath!);

        var detection = Detect(program);

        Assert.True(detection.IsBinary);
        Assert.Equal(TextEncodingChoice.Auto, detection.Encoding);
        Assert.StartsWith("This looks like a binary file, not text", detection.Explanation);
    }

    [Fact]
    public void Random_bytes_with_nul_bytes_are_binary()
    {
        var bytes = new byte[64 * 1024];
        new Random(42).NextBytes(bytes);
        bytes[100] = 0;

        Assert.True(Detect(bytes).IsBinary);
    }

    [Fact]
    public void Many_control_characters_without_nul_are_binary()
    {
        var bytes = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("ab\u0001\u0002cd\u0003", 100)));

        var detection = Detect(bytes);

        Assert.True(detection.IsBinary);
        Assert.Contains("control characters", detection.Explanation);
    }

    [Fact]
    public void Tabs_line_breaks_and_a_trailing_ctrl_z_are_text()
    {
        Assert.False(Detect("a\tb\r\nc\td\r\n\f\u001A"u8.ToArray()).IsBinary);
    }

    [Fact]
    public async Task Detection_reads_one_sample_and_rewinds_a_seekable_stream()
    {
        var text = string.Concat(Enumerable.Repeat("id,city\n1,北京\n", 200_000));
        using var stream = new MemoryStream(Gb18030.GetBytes(text));
        stream.Position = 3;

        var detection = await TextEncodings.DetectAsync(stream, TestContext.Current.CancellationToken);

        Assert.Equal(TextEncodingChoice.Gb18030, detection.Encoding);
        Assert.Equal(3, stream.Position);
    }
}
