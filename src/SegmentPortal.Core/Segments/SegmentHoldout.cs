using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SegmentPortal.Core.Segments;

/// <summary>
/// Who of a segment's members is in its holdout (control) group: the first four bytes of SHA-256(salt ":" customer key)
/// read as a number in [0, 1) fall below the holdout share. It depends on nothing but the key and the segment's salt,
/// so a customer stays in or out across refreshes, and a larger share only adds customers to the holdout.
/// </summary>
public static class SegmentHoldout
{
    /// <summary>The largest holdout a segment may keep.</summary>
    public const double MaxShare = 0.5;

    /// <summary>A new random salt for a segment's holdout.</summary>
    public static string NewSalt() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    /// <summary>Where <paramref name="customerKey"/> falls in [0, 1) for this salt.</summary>
    public static double Position(string salt, string customerKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(salt + ":" + customerKey), hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash) / 4294967296.0;
    }

    /// <summary>True when the customer is held out of the segment's campaigns.</summary>
    public static bool IsHeldOut(Segment segment, string customerKey) =>
        segment.HoldoutShare is > 0 and var share && segment.HoldoutSalt is { Length: > 0 } salt && Position(salt, customerKey) < share;

    /// <summary>
    /// A customer key value as the holdout hashes it: the text the segment's stored members keep
    /// (<see cref="SegmentService.RefreshAsync"/>), so a key read from a query and the stored member agree.
    /// </summary>
    public static string KeyText(object? value) => value is null or DBNull ? "" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    /// <summary>
    /// The share a segment may keep, checked: null or 0 means no holdout; otherwise above 0 and at most
    /// <see cref="MaxShare"/>.
    /// </summary>
    public static double? CheckShare(double? share) => share switch
    {
        null or 0 => null,
        double s when double.IsFinite(s) && s > 0 && s <= MaxShare => s,
        _ => throw new PortalException($"A holdout is between 0% and {MaxShare * 100:0}% of the segment's members."),
    };

    /// <summary>The members a campaign may reach: every member not held out.</summary>
    public static IEnumerable<string> Treated(Segment segment, IEnumerable<string> members) =>
        segment.HoldoutShare is > 0 ? members.Where(m => !IsHeldOut(segment, m)) : members;
}
