using System.Buffers;
using System.Globalization;
using System.Text;

namespace SegmentPortal.Core.Import.Text;

/// <summary>
/// Detects the encoding of uploaded text files and rewrites them as UTF-8 (without BOM), the only encoding the
/// warehouse's CSV reader is given. Supports UTF-8, UTF-16 (both byte orders), Windows-1252 and GB18030.
/// </summary>
public static class TextEncodings
{
    /// <summary>How many bytes from the start of a file detection looks at.</summary>
    public const int SampleSize = 1 << 20;

    internal const int DefaultBufferSize = 1 << 16;

    // More than this share of control characters (other than tab, CR, LF, form feed and the old DOS end-of-file
    // mark) means binary data: real exports have none or a stray one.
    private const double MaxControlShare = 0.01;

    private const int Windows1252CodePage = 1252;
    private const int Gb18030CodePage = 54936;

    static TextEncodings()
    {
        // Windows-1252 and GB18030 are not built into .NET; the provider ships in the shared framework.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    /// <summary>A name for people, e.g. for the encoding picker.</summary>
    public static string DisplayName(TextEncodingChoice encoding) => encoding switch
    {
        TextEncodingChoice.Auto => "Detect automatically",
        TextEncodingChoice.Utf8 => "UTF-8",
        TextEncodingChoice.Utf16LittleEndian => "UTF-16 (little-endian)",
        TextEncodingChoice.Utf16BigEndian => "UTF-16 (big-endian)",
        TextEncodingChoice.Windows1252 => "Windows-1252 (Western European)",
        TextEncodingChoice.Gb18030 => "GB18030 (Chinese)",
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null),
    };

    /// <summary>
    /// The .NET encoding for a choice, strict: decoding invalid bytes throws <see cref="DecoderFallbackException"/>
    /// instead of producing U+FFFD, so bad input is reported rather than silently changed.
    /// </summary>
    public static Encoding GetStrictEncoding(TextEncodingChoice encoding) => encoding switch
    {
        TextEncodingChoice.Utf8 => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true),
        TextEncodingChoice.Utf16LittleEndian => new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true),
        TextEncodingChoice.Utf16BigEndian => new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true),
        TextEncodingChoice.Windows1252 => Encoding.GetEncoding(Windows1252CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback),
        TextEncodingChoice.Gb18030 => Encoding.GetEncoding(Gb18030CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback),
        TextEncodingChoice.Auto => throw new ArgumentException("Auto is not an encoding; detect one first.", nameof(encoding)),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null),
    };

    /// <summary>
    /// Detects the encoding from up to <see cref="SampleSize"/> bytes read from the stream's current position. A
    /// seekable stream is put back where it was; a non-seekable one is left after the sample.
    /// </summary>
    public static async Task<TextEncodingDetection> DetectAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var start = stream.CanSeek ? stream.Position : 0;
        var sample = new byte[SampleSize];
        var read = await stream.ReadAtLeastAsync(sample, sample.Length, throwOnEndOfStream: false, cancellationToken);
        if (stream.CanSeek)
        {
            stream.Position = start;
        }
        return Detect(sample.AsSpan(0, read), isWholeFile: read < sample.Length);
    }

    /// <summary>
    /// Detects the encoding of a sample from the start of a file. <paramref name="isWholeFile"/> says whether the
    /// sample is the whole file; when it is not, a multi-byte character cut off at its end is not held against it.
    /// </summary>
    /// <remarks>
    /// In order: a byte order mark; UTF-16 without BOM, recognised by zero bytes in every other position (the high
    /// byte of ASCII characters); binary data (NUL bytes, or many control characters); strict UTF-8; and otherwise a
    /// choice between GB18030 and Windows-1252 (see <see cref="LegacyCodePageHeuristic"/>).
    /// </remarks>
    public static TextEncodingDetection Detect(ReadOnlySpan<byte> sample, bool isWholeFile)
    {
        if (sample.IsEmpty)
        {
            return new(TextEncodingChoice.Utf8, TextEncodingConfidence.Certain, "Empty file");
        }

        if (sample.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return BinaryBytes(sample[3..])
                ?? new(TextEncodingChoice.Utf8, TextEncodingConfidence.Certain, "UTF-8 with BOM");
        }
        if (sample.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return BinaryUtf16(sample[2..], bigEndian: false)
                ?? new(TextEncodingChoice.Utf16LittleEndian, TextEncodingConfidence.Certain, "UTF-16 little-endian with BOM");
        }
        if (sample.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return BinaryUtf16(sample[2..], bigEndian: true)
                ?? new(TextEncodingChoice.Utf16BigEndian, TextEncodingConfidence.Certain, "UTF-16 big-endian with BOM");
        }
        if (sample.StartsWith((ReadOnlySpan<byte>)[0x84, 0x31, 0x95, 0x33]))
        {
            return BinaryBytes(sample[4..])
                ?? new(TextEncodingChoice.Gb18030, TextEncodingConfidence.Certain, "GB18030 (Chinese) with BOM");
        }

        if (LooksLikeBomlessUtf16(sample, out var bigEndian)
            && BinaryUtf16(sample, bigEndian) is null
            && IsValidUtf16(sample, bigEndian, isWholeFile))
        {
            return bigEndian
                ? new(TextEncodingChoice.Utf16BigEndian, TextEncodingConfidence.Likely, "UTF-16 big-endian without BOM, recognised by its zero bytes")
                : new(TextEncodingChoice.Utf16LittleEndian, TextEncodingConfidence.Likely, "UTF-16 little-endian without BOM, recognised by its zero bytes");
        }

        if (BinaryBytes(sample) is { } binary)
        {
            return binary;
        }

        switch (CheckUtf8(sample, isWholeFile))
        {
            case Utf8Check.Ascii:
                return new(TextEncodingChoice.Utf8, TextEncodingConfidence.Certain, "UTF-8 (plain ASCII text)");
            case Utf8Check.Valid:
                return new(TextEncodingChoice.Utf8, TextEncodingConfidence.Likely, "UTF-8 without BOM");
        }

        return LegacyCodePageHeuristic.Guess(sample, isWholeFile) == TextEncodingChoice.Gb18030
            ? new(TextEncodingChoice.Gb18030, TextEncodingConfidence.Guess, "GB18030 (Chinese), guessed from byte patterns")
            : new(TextEncodingChoice.Windows1252, TextEncodingConfidence.Guess, "Windows-1252 (Western European), guessed from byte patterns");
    }

    /// <summary>
    /// Streams <paramref name="source"/> into <paramref name="destination"/> as UTF-8 without BOM, dropping a BOM at
    /// the start of the source. With <see cref="TextEncodingChoice.Auto"/> the encoding is detected from the first
    /// <see cref="SampleSize"/> bytes, and binary data is refused. Memory use does not grow with the file.
    /// </summary>
    /// <exception cref="InvalidTextEncodingException">The source has bytes that are invalid in the encoding.</exception>
    /// <exception cref="PortalException">Detection found binary data.</exception>
    public static Task<TextTranscodeResult> TranscodeToUtf8Async(
        Stream source,
        TextEncodingChoice encoding,
        Stream destination,
        IProgress<long>? bytesRead = null,
        CancellationToken cancellationToken = default) =>
        TranscodeToUtf8Async(source, encoding, destination, bytesRead, DefaultBufferSize, cancellationToken);

    /// <summary>As the public overload, with the read buffer size chosen (tests use tiny buffers to split characters).</summary>
    internal static async Task<TextTranscodeResult> TranscodeToUtf8Async(
        Stream source,
        TextEncodingChoice encoding,
        Stream destination,
        IProgress<long>? bytesRead,
        int bufferSize,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);

        TextEncodingDetection? detection = null;
        byte[]? sample = null;
        var sampleLength = 0;
        if (encoding == TextEncodingChoice.Auto)
        {
            // The sample is decoded like any other chunk afterwards, so a non-seekable upload is read only once.
            sample = new byte[SampleSize];
            sampleLength = await source.ReadAtLeastAsync(sample, sample.Length, throwOnEndOfStream: false, cancellationToken);
            detection = Detect(sample.AsSpan(0, sampleLength), isWholeFile: sampleLength < sample.Length);
            if (detection.IsBinary)
            {
                throw new PortalException(detection.Explanation);
            }
            encoding = detection.Encoding;
        }

        var transcoder = new Utf8Transcoder(encoding, destination, bufferSize);
        if (sample is not null)
        {
            await transcoder.WriteAsync(sample, sampleLength, cancellationToken);
            bytesRead?.Report(transcoder.BytesRead);
        }

        var buffer = new byte[bufferSize];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await transcoder.WriteAsync(buffer, read, cancellationToken);
            bytesRead?.Report(transcoder.BytesRead);
        }
        await transcoder.CompleteAsync(cancellationToken);
        return new TextTranscodeResult(encoding, detection, transcoder.BytesRead, transcoder.BytesWritten);
    }

    private static TextEncodingDetection? BinaryBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Contains((byte)0))
        {
            return Binary("it contains NUL bytes");
        }
        var controls = 0;
        foreach (var b in bytes)
        {
            if (IsSuspiciousControl(b))
            {
                controls++;
            }
        }
        return controls > bytes.Length * MaxControlShare ? Binary("it has many control characters") : null;
    }

    private static TextEncodingDetection? BinaryUtf16(ReadOnlySpan<byte> bytes, bool bigEndian)
    {
        var units = bytes.Length / 2;
        var controls = 0;
        for (var i = 0; i + 1 < bytes.Length; i += 2)
        {
            var unit = bigEndian ? bytes[i] << 8 | bytes[i + 1] : bytes[i + 1] << 8 | bytes[i];
            if (unit == 0)
            {
                return Binary("it contains NUL characters");
            }
            if (unit < 0x80 && IsSuspiciousControl((byte)unit))
            {
                controls++;
            }
        }
        return controls > units * MaxControlShare ? Binary("it has many control characters") : null;
    }

    private static TextEncodingDetection Binary(string reason) =>
        new(TextEncodingChoice.Auto, TextEncodingConfidence.Certain, $"This looks like a binary file, not text: {reason}.", IsBinary: true);

    private static bool IsSuspiciousControl(byte b) =>
        b == 0x7F || (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C or 0x1A));

    /// <summary>
    /// UTF-16 text without BOM has a zero byte in every other position wherever it holds ASCII (digits, commas, line
    /// breaks: most of any CSV file, whatever its language): the odd positions for little-endian, the even ones for
    /// big-endian, and hardly any zero in the other positions. Binary files have zeros in both.
    /// </summary>
    private static bool LooksLikeBomlessUtf16(ReadOnlySpan<byte> sample, out bool bigEndian)
    {
        bigEndian = false;
        var units = sample.Length / 2;
        if (units < 2)
        {
            return false;
        }
        int evenZeros = 0, oddZeros = 0;
        for (var i = 0; i + 1 < sample.Length; i += 2)
        {
            if (sample[i] == 0)
            {
                evenZeros++;
            }
            if (sample[i + 1] == 0)
            {
                oddZeros++;
            }
        }
        // A tenth is low enough for Chinese text with few ASCII characters; decoding checks follow, so binary data
        // that happens to fit is still caught (unpaired surrogates, control characters).
        static bool Pattern(int zeros, int otherZeros, int units) => zeros >= units * 0.1 && otherZeros <= units * 0.02;
        if (Pattern(oddZeros, evenZeros, units))
        {
            return true;
        }
        if (Pattern(evenZeros, oddZeros, units))
        {
            bigEndian = true;
            return true;
        }
        return false;
    }

    private static bool IsValidUtf16(ReadOnlySpan<byte> sample, bool bigEndian, bool isWholeFile)
    {
        var decoder = GetStrictEncoding(bigEndian ? TextEncodingChoice.Utf16BigEndian : TextEncodingChoice.Utf16LittleEndian).GetDecoder();
        var chars = new char[Math.Max(16, sample.Length / 2 + 2)];
        try
        {
            decoder.GetChars(sample, chars, flush: isWholeFile);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private enum Utf8Check
    {
        Ascii,
        Valid,
        Invalid,
    }

    private static Utf8Check CheckUtf8(ReadOnlySpan<byte> sample, bool isWholeFile)
    {
        var firstNonAscii = sample.IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
        if (firstNonAscii < 0)
        {
            return Utf8Check.Ascii;
        }
        var rest = sample[firstNonAscii..];
        while (!rest.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(rest, out _, out var consumed);
            if (status == OperationStatus.NeedMoreData)
            {
                // A character cut off by the end of the sample, not by the end of the file, is fine.
                return isWholeFile ? Utf8Check.Invalid : Utf8Check.Valid;
            }
            if (status != OperationStatus.Done)
            {
                return Utf8Check.Invalid;
            }
            rest = rest[consumed..];
        }
        return Utf8Check.Valid;
    }

    /// <summary>
    /// Decodes chunks with a stateful decoder (so characters split across chunks survive) and encodes to UTF-8 with a
    /// stateful encoder (so surrogate pairs split across decoded blocks survive). Buffers are sized once.
    /// </summary>
    private sealed class Utf8Transcoder
    {
        // Enough bytes before a chunk to find an invalid sequence that began in an earlier chunk.
        private const int TailSize = 8;

        private readonly TextEncodingChoice _encoding;
        private readonly Stream _destination;
        private readonly Decoder _decoder;
        private readonly Encoder _encoder;
        private readonly char[] _chars;
        private readonly byte[] _output;
        private readonly byte[] _tail = new byte[TailSize];
        private int _tailLength;
        private bool _atStart = true;

        public Utf8Transcoder(TextEncodingChoice encoding, Stream destination, int bufferSize)
        {
            _encoding = encoding;
            _destination = destination;
            var sourceEncoding = GetStrictEncoding(encoding);
            _decoder = sourceEncoding.GetDecoder();
            var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
            _encoder = utf8.GetEncoder();
            _chars = new char[Math.Max(16, sourceEncoding.GetMaxCharCount(bufferSize))];
            _output = new byte[utf8.GetMaxByteCount(_chars.Length)];
        }

        public long BytesRead { get; private set; }

        public long BytesWritten { get; private set; }

        public Task WriteAsync(byte[] buffer, int count, CancellationToken cancellationToken)
        {
            BytesRead += count;
            return DecodeAsync(buffer, count, flush: false, cancellationToken);
        }

        public Task CompleteAsync(CancellationToken cancellationToken) => DecodeAsync([], 0, flush: true, cancellationToken);

        private async Task DecodeAsync(byte[] buffer, int count, bool flush, CancellationToken cancellationToken)
        {
            var offset = 0;
            var completed = false;
            // Offset in the source of buffer[0].
            var bufferStart = BytesRead - count;
            while (offset < count || (flush && !completed))
            {
                int bytesUsed, charsUsed;
                try
                {
                    _decoder.Convert(buffer, offset, count - offset, _chars, 0, _chars.Length, flush, out bytesUsed, out charsUsed, out completed);
                }
                catch (DecoderFallbackException ex)
                {
                    throw Invalid(ex, buffer.AsSpan(offset, count - offset), bufferStart + offset);
                }
                RememberTail(buffer.AsSpan(offset, bytesUsed));
                offset += bytesUsed;

                var first = 0;
                if (_atStart && charsUsed > 0)
                {
                    _atStart = false;
                    if (_chars[0] == '\uFEFF')
                    {
                        first = 1;
                    }
                }
                await EncodeAsync(first, charsUsed - first, flush && completed, cancellationToken);
            }
        }

        private async Task EncodeAsync(int start, int length, bool flush, CancellationToken cancellationToken)
        {
            var completed = false;
            while (length > 0 || (flush && !completed))
            {
                _encoder.Convert(_chars, start, length, _output, 0, _output.Length, flush, out var charsUsed, out var bytesUsed, out completed);
                start += charsUsed;
                length -= charsUsed;
                if (bytesUsed > 0)
                {
                    await _destination.WriteAsync(_output.AsMemory(0, bytesUsed), cancellationToken);
                    BytesWritten += bytesUsed;
                }
            }
        }

        private void RememberTail(ReadOnlySpan<byte> consumed)
        {
            if (consumed.Length >= TailSize)
            {
                consumed[^TailSize..].CopyTo(_tail);
                _tailLength = TailSize;
                return;
            }
            var keep = Math.Min(_tailLength, TailSize - consumed.Length);
            _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
            consumed.CopyTo(_tail.AsSpan(keep));
            _tailLength = keep + consumed.Length;
        }

        /// <summary>
        /// Decoders disagree on how they count bytes carried over from the previous chunk (UTF-8 gives a negative
        /// index, GB18030 gives 0, UTF-16 points past the bad unit), so the offset is found by looking for the
        /// reported bytes at or before the index the decoder gives, in the last few bytes plus this chunk.
        /// </summary>
        private InvalidTextEncodingException Invalid(DecoderFallbackException ex, ReadOnlySpan<byte> chunk, long chunkStart)
        {
            var unknown = ex.BytesUnknown ?? [];
            var offset = Math.Max(0, chunkStart + ex.Index);
            if (unknown.Length > 0)
            {
                var window = new byte[_tailLength + Math.Min(chunk.Length, Math.Max(0, ex.Index) + unknown.Length)];
                _tail.AsSpan(0, _tailLength).CopyTo(window);
                chunk[..(window.Length - _tailLength)].CopyTo(window.AsSpan(_tailLength));
                for (var i = Math.Min(_tailLength + ex.Index, window.Length - unknown.Length); i >= 0; i--)
                {
                    if (window.AsSpan(i).StartsWith(unknown))
                    {
                        offset = chunkStart - _tailLength + i;
                        break;
                    }
                }
            }
            var what = unknown.Length > 0
                ? string.Create(CultureInfo.InvariantCulture, $"the byte 0x{unknown[0]:X2} at offset {offset:N0}")
                : string.Create(CultureInfo.InvariantCulture, $"the bytes at offset {offset:N0}");
            var message = $"The text is not valid {DisplayName(_encoding)}: {what} cannot be read in that encoding. Choose the file's encoding and try again.";
            return new InvalidTextEncodingException(_encoding, offset, message);
        }
    }
}
