namespace SegmentPortal.Web.Infrastructure;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// How often an open session re-checks its user (disabled, password reset, roles changed). This is the longest a
    /// disabled user keeps a page open. Default 30 seconds.
    /// </summary>
    public int RevalidationSeconds { get; set; } = 30;

    /// <summary>
    /// Wrong passwords, from all clients together, that lock an account for <see cref="LockoutMinutes"/> (Identity's
    /// lockout). Default 50: with <see cref="MaxFailedSignInsPerClient"/> at 5, locking someone out takes ten client
    /// addresses, so one client cannot do it on its own.
    /// </summary>
    public int MaxFailedSignIns { get; set; } = 50;

    /// <summary>
    /// Wrong passwords one client address may give for one account; then that client is refused for that account for
    /// <see cref="LockoutMinutes"/> after its last failure (its attempts no longer reach the account), while every other
    /// client, the account's owner included, still signs in. Default 5.
    /// </summary>
    public int MaxFailedSignInsPerClient { get; set; } = 5;

    /// <summary>How long an account lockout, and a client's refusal for an account, last. Default 15 minutes.</summary>
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>
    /// How many sign-in attempts (posts of the sign-in form) one client address may make per minute; the rest are
    /// answered 429 without reaching any account, so one client cannot lock many accounts or guess passwords fast.
    /// Default 20, far above what a person (or the browser tests) needs.
    /// </summary>
    public int SignInAttemptsPerMinute { get; set; } = 20;
}
