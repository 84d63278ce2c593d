using System.Text;
using SegmentPortal.Core;
using SegmentPortal.Core.Import.Text;

namespace SegmentPortal.Tests.Import.Text;

public sealed class TextTranscodingTests
{
    private const string ChineseCsv = "客户编号,城市,金额\n1001,北京,12.50\n";
    private const string WesternCsv = "Name,Note\nMüller,Café\nnaïve,5€\n";

    // CJK, accented Latin, and a character outside the BMP (a surrogate pair in UTF-16, four bytes in UTF-8 and GB18030).
    private const string MixedText = "城市,note\n北京,Café 😀\n上海,ok\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(string Text, byte[] Bytes, TextTranscodeResult Result)> TranscodeAsync(
        byte[] source, TextEncodingChoice encoding, int? bufferSize = null)
    {
        using var input = new MemoryStream(source);
        using var output = new MemoryStream();
        var result = bufferSize is { } size
            ? await TextEncodings.TranscodeToUtf8Async(input, encoding, output, null, size, Ct)
            : await TextEncodings.TranscodeToUtf8Async(input, encoding, output, cancellationToken: Ct);
        var bytes = output.ToArray();
        return (new UTF8Encoding(false, true).GetString(bytes), bytes, result);
    }

    private static byte[] Encode(TextEncodingChoice encoding, string text, bool bom = false)
    {
        var bytes = TextEncodings.GetStrictEncoding(encoding).GetBytes(text);
        byte[] preamble = !bom ? [] : encoding switch
        {
            TextEncodingChoice.Utf8 => [0xEF, 0xBB, 0xBF],
            TextEncodingChoice.Utf16LittleEndian => [0xFF, 0xFE],
            TextEncodingChoice.Utf16BigEndian => [0xFE, 0xFF],
            TextEncodingChoice.Gb18030 => [0x84, 0x31, 0x95, 0x33],
            _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
        };
        return [.. preamble, .. bytes];
    }

    [Fact]
    public async Task Gb18030_file_with_chinese_headers_round_trips()
    {
        var (text, bytes, result) = await TranscodeAsync(Encode(TextEncodingChoice.Gb18030, ChineseCsv), TextEncodingChoice.Auto);

        Assert.Equal(ChineseCsv, text);
        Assert.Equal(TextEncodingChoice.Gb18030, result.Encoding);
        Assert.Equal(TextEncodingConfidence.Guess, result.Detection?.Confidence);
        Assert.Equal(bytes.Length, result.BytesWritten);
    }

    [Fact]
    public async Task Windows1252_file_with_accented_names_and_the_euro_round_trips()
    {
        var source = Encode(TextEncodingChoice.Windows1252, WesternCsv);

        var (text, _, result) = await TranscodeAsync(source, TextEncodingChoice.Auto);

        Assert.Equal(WesternCsv, text);
        Assert.Equal(TextEncodingChoice.Windows1252, result.Encoding);
        Assert.Equal(source.Length, result.BytesRead);
    }

    [Fact]
    public async Task Utf8_without_bom_is_copied_as_it_is()
    {
        var source = Encode(TextEncodingChoice.Utf8, MixedText);

        var (_, bytes, result) = await TranscodeAsync(source, TextEncodingChoice.Auto);

        Assert.Equal(source, bytes);
        Assert.Equal(TextEncodingChoice.Utf8, result.Encoding);
    }

    [Theory]
    [InlineData(TextEncodingChoice.Utf8)]
    [InlineData(TextEncodingChoice.Utf16LittleEndian)]
    [InlineData(TextEncodingChoice.Utf16BigEndian)]
    [InlineData(TextEncodingChoice.Gb18030)]
    public async Task A_file_with_bom_is_detected_and_written_without_bom(TextEncodingChoice encoding)
    {
        var (text, bytes, result) = await TranscodeAsync(Encode(encoding, MixedText, bom: true), TextEncodingChoice.Auto);

        Assert.Equal(MixedText, text);
        Assert.Equal(encoding, result.Encoding);
        Assert.Equal(TextEncodingConfidence.Certain, result.Detection?.Confidence);
        Assert.False(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]));
    }

    [Theory]
    [InlineData(TextEncodingChoice.Utf8)]
    [InlineData(TextEncodingChoice.Utf16LittleEndian)]
    [InlineData(TextEncodingChoice.Utf16BigEndian)]
    [InlineData(TextEncodingChoice.Gb18030)]
    public async Task A_chosen_encoding_strips_its_bom_too(TextEncodingChoice encoding)
    {
        var (text, _, result) = await TranscodeAsync(Encode(encoding, MixedText, bom: true), encoding);

        Assert.Equal(MixedText, text);
        Assert.Null(result.Detection);
    }

    [Theory]
    [InlineData(TextEncodingChoice.Utf8, 1)]
    [InlineData(TextEncodingChoice.Utf8, 2)]
    [InlineData(TextEncodingChoice.Utf8, 3)]
    [InlineData(TextEncodingChoice.Utf8, 5)]
    [InlineData(TextEncodingChoice.Utf16LittleEndian, 1)]
    [InlineData(TextEncodingChoice.Utf16LittleEndian, 3)]
    [InlineData(TextEncodingChoice.Utf16BigEndian, 3)]
    [InlineData(TextEncodingChoice.Gb18030, 1)]
    [InlineData(TextEncodingChoice.Gb18030, 3)]
    [InlineData(TextEncodingChoice.Windows1252, 1)]
    public async Task Characters_split_across_buffers_survive(TextEncodingChoice encoding, int bufferSize)
    {
        var text = encoding == TextEncodingChoice.Windows1252 ? WesternCsv : MixedText;

        var (result, _, _) = await TranscodeAsync(Encode(encoding, text, bom: encoding != TextEncodingChoice.Windows1252), encoding, bufferSize);

        Assert.Equal(text, result);
    }

    [Theory]
    [InlineData(65_536)]
    [InlineData(7)]
    [InlineData(1)]
    public async Task Invalid_utf8_is_refused_with_the_offset_of_the_bad_byte(int bufferSize)
    {
        var good = Encoding.UTF8.GetBytes("id,city\n1,北京\n2,");
        byte[] source = [.. good, 0xFF, .. "x\n"u8];

        var error = await Assert.ThrowsAsync<InvalidTextEncodingException>(
            () => TranscodeAsync(source, TextEncodingChoice.Utf8, bufferSize));

        Assert.Equal(good.Length, error.ByteOffset);
        Assert.Equal(TextEncodingChoice.Utf8, error.Encoding);
        Assert.Equal(
            $"The text is not valid UTF-8: the byte 0xFF at offset {good.Length} cannot be read in that encoding. Choose the file's encoding and try again.",
            error.Message);
    }

    [Theory]
    [InlineData(65_536)]
    [InlineData(11)]
    [InlineData(3)]
    [InlineData(1)]
    public async Task Invalid_gb18030_split_across_buffers_names_the_right_offset(int bufferSize)
    {
        // 0xB1 starts a two-byte character, but a comma cannot end one. With 11- or 1-byte buffers 0xB1 ends a buffer.
        var good = TextEncodings.GetStrictEncoding(TextEncodingChoice.Gb18030).GetBytes("id,城市\n1,");
        byte[] source = [.. good, 0xB1, (byte)',', (byte)'\n'];
        Assert.Equal(11, good.Length + 1);

        var error = await Assert.ThrowsAsync<InvalidTextEncodingException>(
            () => TranscodeAsync(source, TextEncodingChoice.Gb18030, bufferSize));

        Assert.Equal(good.Length, error.ByteOffset);
    }

    [Fact]
    public async Task A_character_cut_off_by_the_end_of_the_file_is_refused()
    {
        var good = Encoding.UTF8.GetBytes("id,city\n1,");
        byte[] source = [.. good, 0xE5, 0x8C]; // the first two of 北's three bytes

        var error = await Assert.ThrowsAsync<InvalidTextEncodingException>(
            () => TranscodeAsync(source, TextEncodingChoice.Utf8, 4));

        Assert.Equal(good.Length, error.ByteOffset);
    }

    [Fact]
    public async Task An_unpaired_utf16_surrogate_is_refused()
    {
        byte[] source = [.. "a,b\n"u8.ToArray().SelectMany(b => new[] { b, (byte)0 }), 0x00, 0xD8, (byte)'c', 0];

        var error = await Assert.ThrowsAsync<InvalidTextEncodingException>(
            () => TranscodeAsync(source, TextEncodingChoice.Utf16LittleEndian));

        Assert.Equal(8, error.ByteOffset);
    }

    [Fact]
    public async Task A_binary_file_is_refused_when_detecting()
    {
        var bytes = new byte[10_000];
        new Random(7).NextBytes(bytes);
        bytes[10] = 0;

        var error = await Assert.ThrowsAsync<PortalException>(() => TranscodeAsync(bytes, TextEncodingChoice.Auto));

        Assert.Equal("This looks like a binary file, not text: it contains NUL bytes.", error.Message);
    }

    [Fact]
    public async Task Progress_counts_the_bytes_read()
    {
        var source = Encode(TextEncodingChoice.Gb18030, string.Concat(Enumerable.Repeat(ChineseCsv, 1_000)));
        var reports = new List<long>();
        using var input = new MemoryStream(source);
        using var output = new MemoryStream();

        await TextEncodings.TranscodeToUtf8Async(input, TextEncodingChoice.Gb18030, output, new SynchronousProgress(reports.Add), 4_096, Ct);

        Assert.Equal(source.Length, reports[^1]);
        Assert.Equal(reports.Order(), reports);
        Assert.True(reports.Count > 1);
    }

    [Fact]
    public async Task A_source_that_cannot_seek_is_detected_and_read_once()
    {
        var source = Encode(TextEncodingChoice.Gb18030, ChineseCsv);
        using var input = new ForwardOnlyStream(source);
        using var output = new MemoryStream();

        var result = await TextEncodings.TranscodeToUtf8Async(input, TextEncodingChoice.Auto, output, cancellationToken: Ct);

        Assert.Equal(TextEncodingChoice.Gb18030, result.Encoding);
        Assert.Equal(ChineseCsv, Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so a test sees every report at once.</summary>
    internal sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    /// <summary>An upload body: readable once, front to back.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
    }
}
