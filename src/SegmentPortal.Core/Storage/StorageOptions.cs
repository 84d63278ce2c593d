namespace SegmentPortal.Core.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>
    /// Folder for the metadata database, the warehouse and uploads. A relative path is resolved against the
    /// repository root when the app runs from a clone (so <c>dotnet run</c> from any folder finds the same data),
    /// otherwise against the current directory.
    /// </summary>
    public string DataDirectory { get; set; } = "data";
}
