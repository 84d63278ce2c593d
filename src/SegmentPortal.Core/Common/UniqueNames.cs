namespace SegmentPortal.Core.Common;

/// <summary>
/// The one rule for "is this name already used": names are compared trimmed and without regard to case (ordinal), so
/// "Top buyers" and " top BUYERS " are the same name whatever database holds them; and one message for a clash:
/// "You already have a {thing} called “{name}”." where names are unique per owner, "A {thing} called “{name}” already
/// exists." where they are unique in a whole list (connections, the clusters of a run).
/// </summary>
internal static class UniqueNames
{
    /// <summary>How names are compared: ordinal, ignoring case (after trimming both).</summary>
    public static StringComparer Comparer => StringComparer.OrdinalIgnoreCase;

    /// <summary>Whether <paramref name="name"/> is among <paramref name="taken"/>, both trimmed, ignoring case.</summary>
    public static bool IsTaken(string name, IEnumerable<string> taken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(taken);
        var clean = name.Trim();
        return taken.Any(t => Comparer.Equals(t.Trim(), clean));
    }

    /// <summary>
    /// The message for a name already used: <c>You already have a segment called “North”.</c>,
    /// <c>Its owner already has a dashboard called “Sales”.</c>, or with <paramref name="who"/> null (names unique in
    /// a whole list, not per owner) <c>A connection called “Shop” already exists.</c>. <paramref name="who"/> is "You"
    /// (have) or a third person (has).
    /// </summary>
    public static string TakenMessage(string thing, string name, string? who = "You")
    {
        ArgumentNullException.ThrowIfNull(thing);
        ArgumentNullException.ThrowIfNull(name);
        var clean = name.Trim();
        return who switch
        {
            null => $"A {thing} called “{clean}” already exists.",
            "You" => $"You already have a {thing} called “{clean}”.",
            _ => $"{who} already has a {thing} called “{clean}”.",
        };
    }

    /// <summary>
    /// Throws a <see cref="PortalException"/> (or what <paramref name="error"/> makes of the message) when
    /// <paramref name="name"/> is among <paramref name="taken"/>.
    /// </summary>
    public static void Require(string name, IEnumerable<string> taken, string thing, string? who = "You", Func<string, Exception>? error = null)
    {
        if (IsTaken(name, taken))
        {
            var message = TakenMessage(thing, name, who);
            throw error?.Invoke(message) ?? new PortalException(message);
        }
    }
}
