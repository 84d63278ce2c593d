namespace SegmentPortal.Web.Infrastructure;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// How often an open session re-checks its user (disabled, password reset, roles changed). This is the longest a
    /// disabled user keeps a page open. Default 30 seconds.
    /// </summary>
    public int RevalidationSeconds { get; set; } = 30;

    public int MaxFailedSignIns { get; set; } = 5;

    public int LockoutMinutes { get; set; } = 15;
}
