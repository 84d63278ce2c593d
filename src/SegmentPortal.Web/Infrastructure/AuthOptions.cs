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

    /// <summary>
    /// How many sign-in attempts (posts of the sign-in form) one client address may make per minute; the rest are
    /// answered 429 without reaching any account, so one client cannot lock many accounts or guess passwords fast.
    /// Default 20, far above what a person (or the browser tests) needs.
    /// </summary>
    public int SignInAttemptsPerMinute { get; set; } = 20;
}
