namespace SegmentPortal.Web.Components.Data;

public enum UploadState
{
    Uploading,
    Uploaded,
    Failed,
    Cancelled,
}

/// <summary>One file on its way to the server, as the drop zone shows it.</summary>
public sealed class UploadItem(string key, string name, long size)
{
    public string Key { get; } = key;

    public string Name { get; } = name;

    public long Size { get; } = size;

    public long Sent { get; set; }

    public UploadState State { get; set; } = UploadState.Uploading;

    public string? Error { get; set; }

    public Guid? UploadId { get; set; }

    public double Percent => Size == 0 ? 100 : Math.Min(100, 100.0 * Sent / Size);
}
