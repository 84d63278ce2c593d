namespace SegmentPortal.Core.Import;

public sealed class ImportOptions
{
    public const string Section = "Import";

    /// <summary>Largest file one upload may be; checked before reading the body and again while streaming it.</summary>
    public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Widest table an import may create; wider files are refused with a clear message.</summary>
    public int MaxColumns { get; set; } = 1_000;
}
