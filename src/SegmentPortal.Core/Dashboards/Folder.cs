namespace SegmentPortal.Core.Dashboards;

/// <summary>A named group of dashboards. Sharing a folder shares every dashboard in it.</summary>
public class Folder
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string? OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
