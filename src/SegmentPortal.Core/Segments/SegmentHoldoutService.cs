using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Segments;

/// <summary>
/// A segment's holdout as the segment page shows it: the share, and the treated and held-out members at the last
/// refresh (null when not refreshed yet, or withheld from a user with data rules: the stored members are the refreshing
/// user's).
/// </summary>
public sealed record HoldoutSummary(double? Share, long? Members, long? HeldOut, DateTimeOffset? RefreshedAt, bool Withheld)
{
    public long? Treated => Members - HeldOut;

    /// <summary>The held-out share of the members actually counted (near <see cref="Share"/>, not exactly it).</summary>
    public double? HeldOutShare => Members is > 0 && HeldOut is { } held ? held / (double)Members.Value : null;
}

/// <summary>
/// Holdout groups: setting a segment's holdout share, counting treated and held-out members at its last refresh, and
/// marking the held-out customers of a member page. Who is held out is <see cref="SegmentHoldout"/>'s hash of the
/// customer key and the segment's salt, so the marks depend on nothing the user does not already see.
/// </summary>
public sealed class SegmentHoldoutService(
    ICurrentUser currentUser,
    IPortalDbFactory dbFactory,
    Authorizer access,
    PermissionPolicy policy,
    SegmentService segments,
    SegmentStore store,
    TimeProvider clock)
{
    /// <summary>Why a member page has no holdout marks for a user who sees the customer key masked or hashed.</summary>
    public const string MaskedKeyMessage = "Holdout marks need the customer key as stored; your column rules mask it.";

    /// <summary>
    /// Sets (or, with null or 0, clears) the share of members kept out of every campaign. The salt is made the first
    /// time and kept for good, so changing the share later only moves customers at the margin: a larger share adds
    /// customers to the holdout, a smaller one releases some, and no one else changes side. Needs the owner's, an
    /// Editor's or an Admin's rights, as any other change to the segment.
    /// </summary>
    public async Task<HoldoutSummary> SetShareAsync(int segmentId, double? share, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var checkedShare = SegmentHoldout.CheckShare(share);
        var (_, _, canEdit) = await segments.GetAsync(segmentId, cancellationToken);
        if (!canEdit)
        {
            throw new PermissionDeniedException("Only the segment's owner, its Editors or an Admin can change it.");
        }
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var segment = await db.Segments.SingleAsync(s => s.Id == segmentId, cancellationToken);
            segment.HoldoutShare = checkedShare;
            segment.HoldoutSalt ??= SegmentHoldout.NewSalt();
            segment.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
        return await SummaryAsync(segmentId, cancellationToken);
    }

    /// <summary>
    /// The holdout share and, from the members stored at the last refresh, how many are treated and held out. Withheld
    /// (counts null) for a user with row or column rules on the segment's data, as the stored size is.
    /// </summary>
    public async Task<HoldoutSummary> SummaryAsync(int segmentId, CancellationToken cancellationToken = default)
    {
        var (segment, _, _) = await segments.GetAsync(segmentId, cancellationToken);
        if (!await segments.StoredCountsVisibleAsync(segmentId, cancellationToken))
        {
            return new HoldoutSummary(segment.HoldoutShare, null, null, segment.RefreshedAt, Withheld: true);
        }
        if (segment.RefreshedAt is null)
        {
            return new HoldoutSummary(segment.HoldoutShare, null, null, null, Withheld: false);
        }
        var (members, heldOut) = await store.CountHeldOutAsync(segmentId, key => SegmentHoldout.IsHeldOut(segment, key), cancellationToken);
        return new HoldoutSummary(segment.HoldoutShare, members, heldOut, segment.RefreshedAt, Withheld: false);
    }

    /// <summary>
    /// Which rows of a member page (from <see cref="SegmentService.MembersAsync"/> on the segment's dataset) are held
    /// out: one flag per row, or null when the segment keeps no holdout, the page has no customer key column, or the
    /// user sees the key masked or hashed (<see cref="MaskedKeyMessage"/>).
    /// </summary>
    public async Task<IReadOnlyList<bool>?> MarksAsync(int segmentId, MemberPage page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        var (segment, _, _) = await segments.GetAsync(segmentId, cancellationToken);
        if (segment.HoldoutShare is not > 0)
        {
            return null;
        }
        var key = await ClearKeyAsync(segment, cancellationToken);
        var index = key is null ? -1 : page.Columns.ToList().IndexOf(key);
        if (index < 0)
        {
            return null;
        }
        return page.Rows.Select(r => SegmentHoldout.IsHeldOut(segment, SegmentHoldout.KeyText(r[index]))).ToList();
    }

    /// <summary>The segment dataset's customer key column when the user sees it as stored; null when it is masked, hashed or hidden.</summary>
    internal async Task<string?> ClearKeyAsync(Segment segment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var dataset = await access.RequireReadableAsync(segment.DatasetId, cancellationToken);
        var view = await policy.DescribeAsync(dataset, cancellationToken);
        return view.OwnFields.FirstOrDefault(f => f.Role == Datasets.FieldRole.CustomerId && f.Treatment == ColumnTreatment.Visible)?.Name;
    }
}
