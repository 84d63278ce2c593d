namespace SegmentPortal.Core.Audit;

/// <summary>One thing that happened: who, when, what, on what, and for exports how many rows.</summary>
public class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    public string? UserId { get; set; }

    /// <summary>The user's e-mail (or the name tried, for a failed sign-in) at the time.</summary>
    public string? UserName { get; set; }

    /// <summary>One of <see cref="AuditActions"/>.</summary>
    public required string Action { get; set; }

    /// <summary>What it was done to ("Dashboard 12 “Sales overview”").</summary>
    public string? Subject { get; set; }

    public string? Detail { get; set; }

    /// <summary>Rows exported, for exports.</summary>
    public long? Rows { get; set; }

    public string? Address { get; set; }
}

/// <summary>The kinds of audit entries.</summary>
public static class AuditActions
{
    public const string SignIn = "Sign-in";
    public const string SignInFailed = "Failed sign-in";
    public const string SignOut = "Sign-out";
    public const string UserChanged = "User changed";
    public const string PermissionChanged = "Permission changed";
    public const string SharingChanged = "Sharing changed";
    public const string Export = "Export";
    public const string PublicLinkUsed = "Public link used";
    public const string ViewAs = "View as user";
    public const string DeliveryChanged = "Delivery changed";
    public const string AlertChanged = "Alert changed";
    public const string SubscriptionChanged = "Subscription changed";
    public const string AccessTokenChanged = "Access token changed";
    public const string AccessTokenUsed = "Access token used";

    public static readonly IReadOnlyList<string> All = [SignIn, SignInFailed, SignOut, UserChanged, PermissionChanged, SharingChanged, Export, PublicLinkUsed, ViewAs, DeliveryChanged, AlertChanged, SubscriptionChanged, AccessTokenChanged, AccessTokenUsed];
}
