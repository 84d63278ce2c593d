using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace SegmentPortal.Core;

/// <summary>
/// What a user is told when something fails: a <see cref="PortalException"/>'s message is written for them and shown
/// as it is; anything else is logged at Error under a short reference, and the user sees only that reference to quote
/// when reporting it (never an exception's message or type, which can name files, servers or internals).
/// </summary>
public static class UserErrors
{
    /// <summary>The user's message for <paramref name="exception"/>; logs it first unless it is a <see cref="PortalException"/>.</summary>
    /// <param name="doing">What failed, as it reads after "Something went wrong", e.g. "loading this tile"; null for nothing.</param>
    /// <param name="logContext">What failed as the log should say it (e.g. the job's kind and title); defaults to <paramref name="doing"/>.</param>
    public static string Describe(Exception exception, ILogger logger, string? doing = null, string? logContext = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(logger);
        if (exception is PortalException)
        {
            return exception.Message;
        }
        var reference = NewReference();
        logger.LogError(exception, "Failed: {What} (reference {ErrorReference})", logContext ?? doing ?? "an action", reference);
        return $"Something went wrong{(string.IsNullOrEmpty(doing) ? "" : " " + doing)}. Quote reference {reference} when reporting it.";
    }

    /// <summary>Eight random characters (0-9, A-F) that find the log entry.</summary>
    public static string NewReference() => Convert.ToHexString(RandomNumberGenerator.GetBytes(4));
}
