using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SegmentPortal.Web.Api;

/// <summary>A page of a list: its items and the cursor of the next page (null on the last).</summary>
public sealed record ApiPage<T>(IReadOnlyList<T> Items, string? Next);

/// <summary>
/// The opaque cursors of the API's paged answers: base64url of a position (the last id of a list page, or the offset of a
/// result page) and a fingerprint of what is being paged (the endpoint, the query, the data's version). A cursor given to
/// another query, or after the data changed, is refused rather than serving pages that no longer line up. A cursor only
/// moves through the caller's own answer: every page is read again through the permission layer.
/// </summary>
internal static class ApiCursor
{
    public const string InvalidMessage =
        "The cursor does not belong to this request, or the data changed since it was given. Start again without a cursor.";

    public static string Encode(long position, string scope) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(position.ToString(CultureInfo.InvariantCulture) + "." + Fingerprint(scope)));

    /// <summary>
    /// The position a cursor holds (0 without one) before its scope is known, or null when it is malformed; check it
    /// with <see cref="TryDecode"/> once the scope is known, before answering.
    /// </summary>
    public static long? Position(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return 0;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            return dot > 0 && long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var position) ? position : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The position a cursor holds: 0 without a cursor; false when the cursor is malformed or of another scope.</summary>
    public static bool TryDecode(string? cursor, string scope, out long position)
    {
        position = 0;
        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            return false;
        }
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0
            && long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out position)
            && text[(dot + 1)..] == Fingerprint(scope);
    }

    /// <summary>
    /// One page of a list ordered by id: the items after the cursor's id, at most <paramref name="limit"/> (1–100, 50 by
    /// default); null when the cursor is not one of this list's.
    /// </summary>
    public static ApiPage<T>? ById<T>(IEnumerable<T> all, Func<T, int> id, string list, string? cursor, int? limit)
    {
        if (!TryDecode(cursor, list, out var after))
        {
            return null;
        }
        var size = Math.Clamp(limit ?? 50, 1, MaxListLimit);
        var items = all.Where(i => id(i) > after).OrderBy(id).Take(size + 1).ToList();
        return items.Count > size
            ? new ApiPage<T>(items.Take(size).ToList(), Encode(id(items[size - 1]), list))
            : new ApiPage<T>(items, null);
    }

    public const int MaxListLimit = 100;

    private static string Fingerprint(string scope) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope)))[..16];
}
