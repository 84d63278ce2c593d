using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Sharing;

namespace SegmentPortal.Core.Dashboards;

/// <summary>What the board check found: whether the caller is a public-link visitor, and whether their link lets them list rows.</summary>
internal sealed record BoardAccess(bool IsPublicVisitor, bool RowsAllowed)
{
    /// <summary>Underlying rows, customer lists: owners, Editors and Viewers of the board, and visitors of a link that allows them.</summary>
    public bool CanViewRows => !IsPublicVisitor || RowsAllowed;
}

public sealed partial class TileDataService
{
    /// <summary>What an open public board shows once its link was revoked, expired or public links were turned off.</summary>
    public const string LinkNoLongerValidMessage = "This link is no longer valid. It may have expired or been revoked.";

    /// <summary>What an open board shows a signed-in user once it is no longer shared with them (or was deleted).</summary>
    public const string BoardNoLongerSharedMessage = "This dashboard is no longer shared with you, or it was deleted.";

    public const string RowsNotOnPublicLinkMessage = "A public link shows the board, not the customers behind it.";

    /// <summary>The board a data request was checked for; every read of this service requires one (see <see cref="ServeAsync"/>).</summary>
    private static readonly AsyncLocal<BoardAccess?> CheckedBoard = new();

    /// <summary>Whether the current user may list the rows behind a mark of this board ("View customers").</summary>
    public Task<bool> CanViewRowsAsync(DashboardView dashboard, CancellationToken cancellationToken = default) =>
        ServeAsync(dashboard, board => Task.FromResult(board.CanViewRows), cancellationToken);

    /// <summary>
    /// The one way into this service's data: the board is checked again for every request (its share for signed-in
    /// users, the link for public visitors: revoked, expired, or public links turned off), then the request is served.
    /// The reads below refuse to run outside it, so a new kind of request cannot skip the check.
    /// </summary>
    private async Task<T> ServeAsync<T>(DashboardView dashboard, Func<BoardAccess, Task<T>> serve, CancellationToken cancellationToken)
    {
        var board = await RequireBoardAsync(dashboard, cancellationToken);
        CheckedBoard.Value = board;
        using var scope = PublicBoardScope.Enter(dashboard.Id);
        try
        {
            return await serve(board);
        }
        finally
        {
            CheckedBoard.Value = null;
        }
    }

    private async Task<BoardAccess> RequireBoardAsync(DashboardView dashboard, CancellationToken cancellationToken)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        if (PublicBoardScope.IsPublicVisitor(user))
        {
            var link = await links.CurrentLinkAsync(cancellationToken);
            return link is not null && link.DashboardId == dashboard.Id
                ? new BoardAccess(true, link.AllowRows)
                : throw new PermissionDeniedException(LinkNoLongerValidMessage);
        }
        // A board not stored (composed in code, id 0) has no shares to check: dataset grants and data rules still apply.
        if (dashboard.Id != 0 && !(await access.AccessAsync(SharedItem.Dashboard, dashboard.Id, cancellationToken)).CanView)
        {
            throw new PermissionDeniedException(BoardNoLongerSharedMessage);
        }
        return new BoardAccess(false, true);
    }

    /// <summary>The board the current request was checked for; reads outside <see cref="ServeAsync"/> are a programming error.</summary>
    private static BoardAccess Checked =>
        CheckedBoard.Value ?? throw new InvalidOperationException("A board's data is read only through ServeAsync, which checks the board first.");

    /// <summary>
    /// Rows for a public visitor whose link allows them: every column with any column rule on the dataset (for any role)
    /// is masked, the strictest treatment that still shows a row.
    /// </summary>
    private async Task<QueryResult> MaskForVisitorAsync(QueryDataset dataset, QueryResult result, CancellationToken cancellationToken)
    {
        if (!Checked.IsPublicVisitor)
        {
            return result;
        }
        var rules = await ruleStore.ForDatasetAsync(dataset.Id, cancellationToken);
        var ruled = dataset.OwnFields.Where(f => rules.ColumnRules.Any(r => DataPolicy.Names(r, f))).Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var masked = result.Columns.Select((c, i) => (c, i)).Where(x => ruled.Contains(x.c)).Select(x => x.i).ToList();
        if (masked.Count == 0)
        {
            return result;
        }
        var rows = result.Rows.Select(row =>
        {
            var copy = (object?[])row.Clone();
            foreach (var i in masked)
            {
                copy[i] = DataPolicy.Mask(copy[i] is null or DBNull ? null : Convert.ToString(copy[i], CultureInfo.InvariantCulture));
            }
            return copy;
        }).ToList();
        return result with { Rows = rows };
    }
}
