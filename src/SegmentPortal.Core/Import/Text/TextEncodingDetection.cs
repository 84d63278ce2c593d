namespace SegmentPortal.Core.Import.Text;

/// <summary>
/// What <see cref="TextEncodings.DetectAsync"/> found. When <see cref="IsBinary"/> is true the file is not text at all,
/// <see cref="Encoding"/> is <see cref="TextEncodingChoice.Auto"/>, and <see cref="Explanation"/> says why.
/// </summary>
/// <param name="Encoding">The encoding to read the file with.</param>
/// <param name="Confidence">How sure the detection is.</param>
/// <param name="Explanation">A short line for people, e.g. "UTF-8 with BOM".</param>
/// <param name="IsBinary">True when the file is binary data (an image, a program, a zip…), not text.</param>
public sealed record TextEncodingDetection(
    TextEncodingChoice Encoding,
    TextEncodingConfidence Confidence,
    string Explanation,
    bool IsBinary = false);

/// <summary>What <see cref="TextEncodings.TranscodeToUtf8Async"/> did.</summary>
/// <param name="Encoding">The encoding the source was read with (the detected one when asked for <see cref="TextEncodingChoice.Auto"/>).</param>
/// <param name="Detection">The detection, when the encoding was detected; otherwise null.</param>
/// <param name="BytesRead">Bytes read from the source.</param>
/// <param name="BytesWritten">UTF-8 bytes written to the destination.</param>
public sealed record TextTranscodeResult(
    TextEncodingChoice Encoding,
    TextEncodingDetection? Detection,
    long BytesRead,
    long BytesWritten);
