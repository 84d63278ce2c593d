namespace SegmentPortal.Core.Datasets;

/// <summary>Lets a role or a user use a dataset (read its rows through every feature). Owners and Admins need none.</summary>
public class DatasetGrant
{
    public int Id { get; set; }

    public int DatasetId { get; set; }

    /// <summary>A role name, when the grant is for everyone in a role.</summary>
    public string? Role { get; set; }

    /// <summary>A user id, when the grant is for one person.</summary>
    public string? UserId { get; set; }
}
