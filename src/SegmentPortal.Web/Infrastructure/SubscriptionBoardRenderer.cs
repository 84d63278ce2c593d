using SegmentPortal.Core.Subscriptions;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// Renders a subscribed board with <see cref="BoardSnapshots"/>: the server's Chromium signs in with a one-time print
/// ticket as the recipient, so the picture and the PDF hold their rows, their masks and the board's watermark.
/// </summary>
internal sealed class SubscriptionBoardRenderer(BoardSnapshots snapshots) : IBoardRenderer
{
    public Task<byte[]> RenderAsync(int dashboardId, string userId, BoardImageFormat format, CancellationToken cancellationToken) =>
        snapshots.RenderAsync(dashboardId, userId, format == BoardImageFormat.Pdf ? SnapshotFormat.Pdf : SnapshotFormat.Png, cancellationToken);
}
