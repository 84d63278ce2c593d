using System.Buffers;
using System.Text;

namespace SegmentPortal.Core.Import.Text;

/// <summary>
/// Chooses between GB18030 and Windows-1252 for a sample that is not valid UTF-8, by asking which reading looks like
/// real text.
/// </summary>
/// <remarks>
/// <para>Every byte sequence is valid Windows-1252, and much Western text is also valid GB18030 (an accented letter
/// followed by an ASCII letter, as in "Müller", is a valid GBK pair), so validity alone cannot decide. What differs is
/// the shape of the text each reading produces:</para>
/// <list type="bullet">
/// <item>Read as Windows-1252, Western text has accented letters inside words, next to ASCII letters
/// ("M<b>ü</b>ller", "Caf<b>é</b>"). Chinese bytes read as Windows-1252 give runs of accented letters and symbols
/// with no ASCII letter beside them ("ÇÍ»§±àºÅ").</item>
/// <item>Read as GB18030, Chinese text has Chinese characters beside each other or beside digits, punctuation and
/// delimiters ("客户编号,城市"). Western bytes read as GB18030 give single rare characters wedged between ASCII
/// letters ("Müller" reads as "M", a rare ideograph, "ller").</item>
/// </list>
/// <para>So the sample is GB18030 when it decodes as strict GB18030 and it has more CJK characters without an ASCII
/// letter on either side than it has Windows-1252 accented letters with an ASCII letter on at least one side.
/// Otherwise it is Windows-1252, which also reads anything (its five unassigned bytes decode to C1 controls).</para>
/// </remarks>
internal static class LegacyCodePageHeuristic
{
    public static TextEncodingChoice Guess(ReadOnlySpan<byte> sample, bool isWholeFile)
    {
        var latin = CountLatinLettersInWords(sample);
        var cjk = CountStandaloneCjk(sample, isWholeFile);
        return cjk is { } count && count > latin ? TextEncodingChoice.Gb18030 : TextEncodingChoice.Windows1252;
    }

    /// <summary>Non-ASCII letters in Windows-1252 (À–ÿ except × and ÷, and Š Œ Ž š œ ž Ÿ) beside an ASCII letter.</summary>
    internal static int CountLatinLettersInWords(ReadOnlySpan<byte> sample)
    {
        var count = 0;
        for (var i = 0; i < sample.Length; i++)
        {
            var b = sample[i];
            if (b >= 0x80 && IsWindows1252Letter(b)
                && ((i > 0 && char.IsAsciiLetter((char)sample[i - 1])) || (i + 1 < sample.Length && char.IsAsciiLetter((char)sample[i + 1]))))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>CJK characters with no ASCII letter on either side, or null when the sample is not valid GB18030.</summary>
    internal static int? CountStandaloneCjk(ReadOnlySpan<byte> sample, bool isWholeFile)
    {
        var decoder = TextEncodings.GetStrictEncoding(TextEncodingChoice.Gb18030).GetDecoder();
        var chars = ArrayPool<char>.Shared.Rent(sample.Length + 2);
        try
        {
            int length;
            try
            {
                // Without flush a sequence cut off by the end of the sample is held back, not reported.
                length = decoder.GetChars(sample, chars, flush: isWholeFile);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
            var text = chars.AsSpan(0, length);
            var count = 0;
            for (var i = 0; i < text.Length; i++)
            {
                if (IsCjk(text[i])
                    && (i == 0 || !char.IsAsciiLetter(text[i - 1]))
                    && (i + 1 == text.Length || !char.IsAsciiLetter(text[i + 1])))
                {
                    count++;
                }
            }
            return count;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private static bool IsWindows1252Letter(byte b) =>
        (b >= 0xC0 && b != 0xD7 && b != 0xF7) || b is 0x8A or 0x8C or 0x8E or 0x9A or 0x9C or 0x9E or 0x9F;

    // Ideographs (with extension A), CJK punctuation, and full-width forms such as the full-width comma.
    private static bool IsCjk(char c) =>
        c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or (>= '\u3000' and <= '\u303F') or (>= '\uFF00' and <= '\uFFEF');
}
