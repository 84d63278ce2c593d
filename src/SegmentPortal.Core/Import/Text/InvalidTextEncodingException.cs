namespace SegmentPortal.Core.Import.Text;

/// <summary>
/// The source has bytes that are not valid in the encoding it is read with. The message is for people; the caller
/// may prefix the file name, or build its own message from <see cref="Encoding"/> and <see cref="ByteOffset"/>.
/// </summary>
internal sealed class InvalidTextEncodingException(TextEncodingChoice encoding, long byteOffset, string message)
    : PortalException(message)
{
    public TextEncodingChoice Encoding { get; } = encoding;

    /// <summary>Zero-based offset in the source of the first byte that could not be decoded.</summary>
    public long ByteOffset { get; } = byteOffset;
}
