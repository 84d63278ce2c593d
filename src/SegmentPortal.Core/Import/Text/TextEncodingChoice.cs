namespace SegmentPortal.Core.Import.Text;

/// <summary>The encoding of an uploaded text file: detected (<see cref="Auto"/>) or chosen by the user.</summary>
public enum TextEncodingChoice
{
    /// <summary>Detect from the file's first bytes (<see cref="TextEncodings.DetectAsync"/>).</summary>
    Auto,
    Utf8,
    Utf16LittleEndian,
    Utf16BigEndian,

    /// <summary>Western European Windows and Excel exports ("ANSI" on Western systems).</summary>
    Windows1252,

    /// <summary>Simplified Chinese Windows and Excel exports; a superset of GBK and GB2312.</summary>
    Gb18030,
}

/// <summary>How sure a detection is, so the UI can ask the user to check a guess.</summary>
public enum TextEncodingConfidence
{
    /// <summary>A byte order mark, or plain ASCII (which reads the same in every supported encoding).</summary>
    Certain,

    /// <summary>The sample is consistent with only this encoding in practice (valid UTF-8, UTF-16's zero bytes).</summary>
    Likely,

    /// <summary>A legacy code page chosen by a heuristic; the user should check the preview.</summary>
    Guess,
}
