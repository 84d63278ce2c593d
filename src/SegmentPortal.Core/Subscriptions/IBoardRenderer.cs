namespace SegmentPortal.Core.Subscriptions;

/// <summary>The file a board is rendered to.</summary>
public enum BoardImageFormat
{
    Png,
    Pdf,
}

/// <summary>
/// Renders a whole board as one user sees it (their rows, their masks, the board's watermark); the web host supplies it
/// (headless Chromium). Without one, board subscriptions fail with a note and are tried again.
/// </summary>
public interface IBoardRenderer
{
    Task<byte[]> RenderAsync(int dashboardId, string userId, BoardImageFormat format, CancellationToken cancellationToken);
}

/// <summary>Settings of subscriptions (section <c>Subscriptions</c>).</summary>
public sealed class SubscriptionOptions
{
    public const string Section = "Subscriptions";

    /// <summary>A segment's member file is attached up to this many members; above it the message links to the segment.</summary>
    public int MaxMemberFileRows { get; set; } = 100_000;

    /// <summary>Attempts before a run that keeps failing is marked Failed.</summary>
    public int MaxAttempts { get; set; } = 3;
}
