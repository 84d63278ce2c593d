using System.Globalization;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Segments;

public sealed record SegmentRow(
    int Id,
    string Name,
    string? Description,
    IReadOnlyList<string> Tags,
    string? Owner,
    int DatasetId,
    string DatasetName,
    long? Size,
    long? Population,
    DateTimeOffset? RefreshedAt,
    DateTimeOffset UpdatedAt,
    bool CanEdit)
{
    /// <summary>The owner or an Admin: may change who has access.</summary>
    public bool CanShare { get; init; }

    /// <summary>Shared with the current user by someone else, rather than their own.</summary>
    public bool SharedWithMe { get; init; }
}

public sealed record SegmentDraft(
    string Name,
    int DatasetId,
    RuleTree Rule,
    string? Description = null,
    IReadOnlyList<string>? Tags = null);

/// <summary>The live count while a rule is being built: matches, all customers, and what each condition alone matches.</summary>
public sealed record LiveCount(long Matching, long Total, IReadOnlyDictionary<string, long> ByCondition, IReadOnlyList<RuleProblem> Problems)
{
    public double Share => Total == 0 ? 0 : Matching / (double)Total;
}

public sealed record MemberPage(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, long Total);

/// <summary>
/// One page of a saved segment's members (<see cref="SegmentService.MemberPageAsync"/>): the customer key first, then the
/// chosen fields, ordered by the key.
/// </summary>
/// <param name="Holdout">Per row, whether the segment's holdout keeps the member out of campaigns; null when the segment
/// keeps no holdout, or when the user sees the customer key masked (the holdout is decided on the key itself).</param>
/// <param name="More">Further members follow this page.</param>
/// <param name="Version">Changes when the segment's rule or its dataset's rows change, so a caller paging by offset can
/// tell that the pages no longer line up.</param>
public sealed record SegmentMemberPage(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, IReadOnlyList<bool>? Holdout, bool More, string Version);

/// <summary>
/// Segments: saved rules over a dataset. Counting, previewing and listing members all go through the query layer
/// (<see cref="QueryService"/>), so the permission policy applies to every one of them.
/// </summary>
public sealed class SegmentService(
    ICurrentUser currentUser,
    IPortalDbFactory dbFactory,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    SegmentStore store,
    TimeProvider clock,
    IEnumerable<ISegmentRefreshListener>? refreshListeners = null)
{
    public async Task<IReadOnlyList<SegmentRow>> ListAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var map = await access.MapAsync(cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await (from s in db.Segments.AsNoTracking()
                          join d in db.Datasets on s.DatasetId equals d.Id
                          join u in db.Users on s.OwnerId equals u.Id into owners
                          from owner in owners.DefaultIfEmpty()
                          select new { Segment = s, d.Name, d.OwnerId, Owner = owner == null ? null : owner.Email })
            .ToListAsync(cancellationToken);
        var readable = await access.ReadableAsync(rows.Select(r => r.Segment.DatasetId).Distinct().ToList(),
            rows.GroupBy(r => r.Segment.DatasetId).ToDictionary(g => g.Key, g => (string?)g.First().OwnerId), cancellationToken);
        var restricted = new HashSet<int>();
        foreach (var datasetId in readable)
        {
            if (await access.FindReadableAsync(datasetId, cancellationToken) is { } dataset && !await SeesStoredCountsAsync(dataset, cancellationToken))
            {
                restricted.Add(datasetId);
            }
        }
        // Private until shared: the owner's, Admins', and those shared with the user, on datasets they may read.
        return rows.Select(r => (Row: r, Access: map.Of(SharedItem.Segment, r.Segment.Id, r.Segment.OwnerId)))
            .Where(r => r.Access.CanView && readable.Contains(r.Row.Segment.DatasetId))
            .Select(r => new SegmentRow(r.Row.Segment.Id, r.Row.Segment.Name, r.Row.Segment.Description, SplitTags(r.Row.Segment.Tags), r.Row.Owner,
                r.Row.Segment.DatasetId, r.Row.Name,
                restricted.Contains(r.Row.Segment.DatasetId) ? null : r.Row.Segment.Size,
                restricted.Contains(r.Row.Segment.DatasetId) ? null : r.Row.Segment.Population, r.Row.Segment.RefreshedAt, r.Row.Segment.UpdatedAt,
                r.Access.CanEdit)
            {
                CanShare = r.Access.CanShare,
                SharedWithMe = !r.Access.IsOwner && !r.Access.CanShare,
            })
            .OrderBy(r => r.Name, StringComparer.CurrentCultureIgnoreCase)
            .ToList();
    }

    public async Task<(Segment Segment, RuleTree Rule, bool CanEdit)> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var shared = await access.AccessAsync(SharedItem.Segment, id, cancellationToken);
        if (!shared.CanView)
        {
            throw Missing();
        }
        var segment = await LoadAsync(id, cancellationToken);
        var dataset = await access.RequireReadableAsync(segment.DatasetId, cancellationToken);
        if (!await SeesStoredCountsAsync(dataset, cancellationToken))
        {
            segment.Size = null;
            segment.Population = null;
        }
        return (segment, RuleTree.FromJson(segment.RuleJson), shared.CanEdit);
    }

    /// <summary>
    /// One scan counts everything the builder shows: customers matching the whole rule, all customers, and each
    /// condition on its own ("narrows to"). Incomplete conditions are skipped and listed.
    /// </summary>
    public async Task<LiveCount> CountAsync(int datasetId, RuleGroup rule, CancellationToken cancellationToken = default)
    {
        var problems = await queries.CheckAsync(datasetId, rule, cancellationToken);
        var broken = problems.Select(p => p.NodeId).ToHashSet();
        var conditions = rule.Descendants().Where(n => n is not RuleGroup && !broken.Contains(n.Id)).ToList();
        var measures = new List<Measure>
        {
            new(MeasureKind.Customers, "total"),
            new(MeasureKind.Customers, "matching", Where: rule),
        };
        measures.AddRange(conditions.Select(c => new Measure(MeasureKind.Customers, "c_" + c.Id, Where: c)));
        var result = await queries.RunAsync(new QuerySpec { DatasetId = datasetId, Measures = measures }, cancellationToken);
        long Value(string alias) => Convert.ToInt64(result.Scalar(alias) ?? 0L, CultureInfo.InvariantCulture);
        return new LiveCount(Value("matching"), Value("total"), conditions.ToDictionary(c => c.Id, c => Value("c_" + c.Id)), problems);
    }

    /// <summary>A page of the customers a rule matches, sorted by any column.</summary>
    public async Task<MemberPage> MembersAsync(
        int datasetId, RuleGroup rule, string? sortBy = null, bool descending = false, int page = 0, int pageSize = 50, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var columns = await ColumnsAsync(dataset, cancellationToken);
        var key = dataset.CustomerKey?.Name
            ?? throw new PortalException($"{dataset.Name} has no Customer ID column. Set one on the dataset's Columns & roles tab.");
        var sort = sortBy is not null && columns.Contains(sortBy) ? sortBy : key;
        var rows = await queries.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = rule,
            Columns = columns,
            DistinctCustomers = true,
            Sort = [new SortBy(sort, descending)],
            Limit = Math.Clamp(pageSize, 1, 1000),
            Offset = Math.Max(0, page) * Math.Clamp(pageSize, 1, 1000),
        }, cancellationToken);
        return new MemberPage(rows.Columns, rows.Rows, await CustomersAsync(datasetId, rule, cancellationToken));
    }

    /// <summary>The most members <see cref="MemberPageAsync"/> returns at once.</summary>
    public const int MaxMemberPage = 1000;

    /// <summary>
    /// A page of a saved segment's members as the current user may see them (for the REST API): the customer key, then
    /// <paramref name="columns"/> (every column the user may see when none are named; a hidden one is refused as in any
    /// query), one row per customer, ordered by the key so that pages by <paramref name="offset"/> never overlap; each
    /// member marked when the segment's holdout keeps them out (<see cref="SegmentHoldout"/>).
    /// </summary>
    public async Task<SegmentMemberPage> MemberPageAsync(
        int segmentId, IReadOnlyList<string>? columns, int offset, int limit, CancellationToken cancellationToken = default)
    {
        var (segment, rule, _) = await GetAsync(segmentId, cancellationToken);
        var dataset = await access.RequireReadableAsync(segment.DatasetId, cancellationToken);
        var view = await policy.DescribeAsync(dataset, cancellationToken);
        var key = dataset.CustomerKey?.Name
            ?? throw new PortalException($"{dataset.Name} has no Customer ID column. Set one on the dataset's Columns & roles tab.");
        var chosen = columns is { Count: > 0 } ? columns.Select(c => c.Trim()) : view.OwnFields.Select(f => f.Name);
        var size = Math.Clamp(limit, 1, MaxMemberPage);
        var spec = new QuerySpec
        {
            DatasetId = segment.DatasetId,
            Filter = rule.Root,
            Columns = [key, .. chosen.Where(c => c.Length > 0 && c != key).Distinct(StringComparer.Ordinal)],
            DistinctCustomers = true,
            Sort = [new SortBy(key)],
        };
        var result = await queries.RunAsync(spec with { Limit = size + 1, Offset = Math.Max(0, offset) }, cancellationToken);
        var rows = result.Rows.Take(size).ToList();
        // The holdout is decided on the stored key: a masked or hashed key cannot say who is held out.
        var holdout = segment.HoldoutShare is > 0 && view.Field(key) is { Treatment: ColumnTreatment.Visible }
            ? rows.Select(r => SegmentHoldout.IsHeldOut(segment, Convert.ToString(r[0], CultureInfo.InvariantCulture) ?? "")).ToList()
            : null;
        // What the whole list is made of: the effective query (the rule, the user's data rules, every dataset read at its
        // version) and the holdout, so any change that could move a member from one page to another changes it.
        var (whole, _) = await queries.CompileAsync(spec, cancellationToken);
        var version = QueryExecutor.CacheKey(whole) + ":" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{segment.HoldoutShare?.ToString("R", CultureInfo.InvariantCulture)}:{segment.HoldoutSalt}")))[..16];
        return new SegmentMemberPage(result.Columns, rows, holdout, result.Rows.Count > size, version);
    }

    /// <summary>All members' rows, for export (the same permission path as everything else).</summary>
    public async Task<QueryResult> AllMembersAsync(int segmentId, CancellationToken cancellationToken = default)
    {
        var (segment, rule, _) = await GetAsync(segmentId, cancellationToken);
        var dataset = await access.RequireReadableAsync(segment.DatasetId, cancellationToken);
        var columns = await ColumnsAsync(dataset, cancellationToken);
        return await queries.RunAsync(new QuerySpec
        {
            DatasetId = segment.DatasetId,
            Filter = rule.Root,
            Columns = columns,
            DistinctCustomers = true,
        }, cancellationToken);
    }

    public async Task<int> CreateAsync(SegmentDraft draft, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await access.RequireReadableAsync(draft.DatasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var name = await CheckNameAsync(db, draft.Name, user.UserId(), null, cancellationToken);
        var now = clock.GetUtcNow();
        var segment = new Segment
        {
            Name = name,
            Description = Clean(draft.Description),
            Tags = JoinTags(draft.Tags),
            DatasetId = draft.DatasetId,
            RuleJson = draft.Rule.ToJson(),
            OwnerId = user.UserId(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Segments.Add(segment);
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            await RecountAsync(segment.Id, cancellationToken);
        }
        catch
        {
            // A rule that cannot run (a loop, a vanished segment) is not saved.
            await db.Segments.Where(s => s.Id == segment.Id).ExecuteDeleteAsync(CancellationToken.None);
            throw;
        }
        return segment.Id;
    }

    public async Task UpdateAsync(int id, SegmentDraft draft, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await access.RequireReadableAsync(draft.DatasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var segment = await db.Segments.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw Missing();
        await RequireEditorAsync(id, cancellationToken);
        var previousRule = segment.RuleJson;
        segment.Name = await CheckNameAsync(db, draft.Name, segment.OwnerId, id, cancellationToken);
        segment.Description = Clean(draft.Description);
        segment.Tags = JoinTags(draft.Tags);
        segment.DatasetId = draft.DatasetId;
        segment.RuleJson = draft.Rule.ToJson();
        segment.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            await RecountAsync(id, cancellationToken);
        }
        catch
        {
            segment.RuleJson = previousRule;
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
    }

    public async Task<int> DuplicateAsync(int id, CancellationToken cancellationToken = default)
    {
        var (segment, rule, _) = await GetAsync(id, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var name = $"Copy of {segment.Name}";
        // The copy is the current user's: only their own names can be taken.
        var owner = (await currentUser.GetPrincipalAsync()).UserId();
        for (var n = 2; await db.Segments.AnyAsync(s => s.Name == name && s.OwnerId == owner, cancellationToken); n++)
        {
            name = $"Copy of {segment.Name} ({n})";
        }
        return await CreateAsync(new SegmentDraft(name, segment.DatasetId, rule.Clone(), segment.Description, SplitTags(segment.Tags)), cancellationToken);
    }

    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var segment = await db.Segments.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw Missing();
        if (!(await RequireEditorAsync(id, cancellationToken)).CanShare)
        {
            throw new PermissionDeniedException("Only the segment's owner or an Admin can delete it.");
        }
        var others = await db.Segments.AsNoTracking().Where(s => s.Id != id).Select(s => new { s.Name, s.RuleJson }).ToListAsync(cancellationToken);
        var users = others.Where(o => RuleTree.FromJson(o.RuleJson).Root.Descendants().OfType<SegmentCondition>().Any(c => c.SegmentId == id))
            .Select(o => o.Name).ToList();
        if (users.Count > 0)
        {
            throw new PortalException($"{segment.Name} is used by {string.Join(", ", users.Select(n => $"“{n}”"))}; change those segments first.");
        }
        db.Segments.Remove(segment);
        await db.SaveChangesAsync(cancellationToken);
        await db.Shares.Where(s => s.Item == SharedItem.Segment && s.ItemId == id).ExecuteDeleteAsync(cancellationToken);
        await store.ForgetAsync(id, cancellationToken);
    }

    /// <summary>
    /// Recounts a segment, records a snapshot (size, who entered and who left) and keeps the members. It overwrites what
    /// everyone sees, so it needs the owner's or an Editor's rights (or an Admin's).
    /// </summary>
    public async Task<SegmentSnapshot> RefreshAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireWriterAsync();
        await RequireEditorAsync(id, cancellationToken);
        return await RecountAsync(id, cancellationToken);
    }

    /// <summary>The work of <see cref="RefreshAsync"/>, for callers that checked the user may change the segment.</summary>
    private async Task<SegmentSnapshot> RecountAsync(int id, CancellationToken cancellationToken)
    {
        var (segment, rule, _) = await GetAsync(id, cancellationToken);
        var dataset = await access.RequireReadableAsync(segment.DatasetId, cancellationToken);
        var key = dataset.CustomerKey?.Name
            ?? throw new PortalException($"{dataset.Name} has no Customer ID column. Set one on the dataset's Columns & roles tab.");
        var members = await queries.RunAsync(new QuerySpec
        {
            DatasetId = segment.DatasetId,
            Filter = rule.Root,
            Columns = [key],
            DistinctCustomers = true,
        }, cancellationToken);
        var population = await CustomersAsync(segment.DatasetId, null, cancellationToken);
        var now = clock.GetUtcNow();

        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var snapshot = new SegmentSnapshot { SegmentId = id, TakenAt = now, Size = members.Rows.Count };
        db.SegmentSnapshots.Add(snapshot);
        await db.SaveChangesAsync(cancellationToken);
        var (entered, left) = await store.ReplaceMembersAsync(id, snapshot.Id,
            members.Rows.Select(r => Convert.ToString(r[0], CultureInfo.InvariantCulture) ?? "").ToList(), cancellationToken);
        snapshot.Entered = entered;
        snapshot.Left = left;
        var entity = await db.Segments.SingleAsync(s => s.Id == id, cancellationToken);
        entity.Size = members.Rows.Count;
        entity.Population = population;
        entity.RefreshedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        foreach (var listener in refreshListeners ?? [])
        {
            try
            {
                await listener.SegmentRefreshedAsync(id, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The refresh itself is done; a listener reports its own trouble (syncs keep a run history).
            }
        }
        return snapshot;
    }

    public async Task<IReadOnlyList<SegmentSnapshot>> HistoryAsync(int id, CancellationToken cancellationToken = default)
    {
        if (!await StoredCountsVisibleAsync(id, cancellationToken))
        {
            return [];
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var snapshots = await db.SegmentSnapshots.AsNoTracking().Where(s => s.SegmentId == id).ToListAsync(cancellationToken);
        return snapshots.OrderBy(s => s.TakenAt).ToList();
    }

    /// <summary>The customers who entered or left at a snapshot (keys as text).</summary>
    public async Task<(IReadOnlyList<string> Entered, IReadOnlyList<string> Left)> ChangesAsync(int id, int snapshotId, CancellationToken cancellationToken = default)
    {
        if (!await StoredCountsVisibleAsync(id, cancellationToken))
        {
            return ([], []);
        }
        return await store.ChangesAsync(id, snapshotId, cancellationToken);
    }

    /// <summary>How two or three segments overlap, by their members at their last refresh.</summary>
    public async Task<SegmentOverlap> CompareAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken = default)
    {
        if (ids.Distinct().Count() is < 2 or > 3)
        {
            throw new PortalException("Compare two or three different segments.");
        }
        var names = new List<string>();
        foreach (var id in ids)
        {
            if (!await StoredCountsVisibleAsync(id, cancellationToken))
            {
                throw new PortalException(RestrictedCountsMessage);
            }
            var (segment, _, _) = await GetAsync(id, cancellationToken);
            if (segment.RefreshedAt is null)
            {
                await RefreshAsync(id, cancellationToken);
            }
            names.Add(segment.Name);
        }
        return await store.OverlapAsync(ids, names, cancellationToken);
    }

    /// <summary>Why stored sizes, history and overlaps are not shown to a user with row or column rules on the segment's data.</summary>
    public const string RestrictedCountsMessage =
        "Stored sizes and history count the rows of whoever refreshed the segment, so under your data rules you see today's size counted over your rows.";

    /// <summary>
    /// Stored sizes, snapshots, entered/left lists and overlaps were counted by whoever refreshed the segment, over the
    /// rows they see. A user with row or column rules on the data gets live counts through the query layer instead.
    /// </summary>
    public async Task<bool> StoredCountsVisibleAsync(int id, CancellationToken cancellationToken = default)
    {
        var (segment, _, _) = await GetAsync(id, cancellationToken);
        return await SeesStoredCountsAsync(await access.RequireReadableAsync(segment.DatasetId, cancellationToken), cancellationToken);
    }

    private async Task<bool> SeesStoredCountsAsync(Dataset dataset, CancellationToken cancellationToken) =>
        !(await policy.DescribeAsync(dataset, cancellationToken)).IsRestricted;

    /// <summary>The dataset's own columns the current user may see, in order (hidden ones left out).</summary>
    private async Task<List<string>> ColumnsAsync(Dataset dataset, CancellationToken cancellationToken) =>
        (await policy.DescribeAsync(dataset, cancellationToken)).OwnFields.Select(f => f.Name).ToList();

    private async Task<long> CustomersAsync(int datasetId, RuleGroup? rule, CancellationToken cancellationToken)
    {
        var result = await queries.RunAsync(new QuerySpec { DatasetId = datasetId, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] }, cancellationToken);
        return Convert.ToInt64(result.Scalar("n") ?? 0L, CultureInfo.InvariantCulture);
    }

    private async Task<ItemAccess> RequireEditorAsync(int id, CancellationToken cancellationToken)
    {
        var shared = await access.AccessAsync(SharedItem.Segment, id, cancellationToken);
        if (!shared.CanView)
        {
            throw Missing();
        }
        return shared.CanEdit ? shared : throw new PermissionDeniedException("Only the segment's owner, its Editors or an Admin can change it.");
    }

    private async Task<Segment> LoadAsync(int id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Segments.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw Missing();
    }

    private static PortalException Missing() => new("That segment does not exist or you do not have access to it.");

    /// <summary>
    /// A segment's name is unique among its owner's segments only, so saving never tells anyone whether another user
    /// has a (private) segment of that name.
    /// </summary>
    private async Task<string> CheckNameAsync(IPortalDb db, string name, string? ownerId, int? except, CancellationToken cancellationToken)
    {
        var clean = name.Trim();
        if (clean.Length == 0)
        {
            throw new PortalException("Give the segment a name.");
        }
        if (clean.Length > 200)
        {
            throw new PortalException("A segment name has at most 200 characters.");
        }
        var taken = await db.Segments.Where(s => s.OwnerId == ownerId && s.Id != except).Select(s => s.Name).ToListAsync(cancellationToken);
        if (UniqueNames.IsTaken(clean, taken))
        {
            throw new PortalException(UniqueNames.TakenMessage("segment", clean,
                ownerId == (await currentUser.GetPrincipalAsync()).UserId() ? "You" : "Its owner"));
        }
        return clean;
    }

    private static string? Clean(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string? JoinTags(IReadOnlyList<string>? tags)
    {
        var clean = (tags ?? []).Select(t => t.Trim().Replace(",", " ", StringComparison.Ordinal)).Where(t => t.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return clean.Count == 0 ? null : string.Join(",", clean);
    }

    public static IReadOnlyList<string> SplitTags(string? tags) =>
        string.IsNullOrWhiteSpace(tags) ? [] : tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
