using Microsoft.AspNetCore.Identity;

namespace SegmentPortal.Core.Identity;

/// <summary>A person who signs in to the portal. Roles decide what they may do.</summary>
public class AppUser : IdentityUser
{
    public string DisplayName { get; set; } = "";

    /// <summary>A disabled user cannot sign in and their open sessions end.</summary>
    public bool IsDisabled { get; set; }

    /// <summary>Remembered per user so the theme follows them across browsers.</summary>
    public bool PrefersDarkMode { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }

    /// <summary>
    /// The lockout end of an account nobody signs in to (the public links' account): it is not a person, so it is never
    /// offered or told anything (shares, alerts, subscriptions).
    /// </summary>
    public static readonly DateTimeOffset LockedForGood = DateTimeOffset.MaxValue;
}
