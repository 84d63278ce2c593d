using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Web.Api;

/// <summary>A segment in a list. Stored sizes are null when data rules apply to you (they were counted over someone else's rows).</summary>
public sealed record ApiSegmentSummary(
    int Id, string Name, string? Description, IReadOnlyList<string> Tags, string? Owner, int DatasetId, string DatasetName,
    [property: Description("Members at the last refresh; null before the first, or when it is withheld from you.")] long? Size,
    DateTimeOffset? RefreshedAt, DateTimeOffset UpdatedAt, bool CanEdit);

/// <summary>A segment with its rule in SegmentPortal's rule JSON v1.</summary>
public sealed record ApiSegment(
    int Id, string Name, string? Description, IReadOnlyList<string> Tags, int DatasetId,
    [property: Description("The rule tree, JSON v1: {\"version\":1,\"root\":{\"kind\":\"group\",...}}.")] JsonNode Rule,
    long? Size, long? Population, DateTimeOffset? RefreshedAt, DateTimeOffset UpdatedAt,
    [property: Description("The share of members kept out of campaigns as a control group (0.1 = 10%), or null.")] double? HoldoutShare,
    bool CanEdit);

/// <summary>A segment to create or change: a name, the dataset whose customers it selects, and its rule in JSON v1.</summary>
public sealed record ApiSegmentDraft(
    string Name,
    int DatasetId,
    [property: Description("The rule tree, JSON v1, e.g. {\"version\":1,\"root\":{\"kind\":\"group\",\"combinator\":\"and\",\"children\":[{\"kind\":\"condition\",\"field\":\"region\",\"operator\":\"equals\",\"value\":\"North\"}]}}.")]
    JsonElement Rule,
    string? Description = null,
    IReadOnlyList<string>? Tags = null);

/// <summary>How many customers the rule matches now, over the rows you may see.</summary>
public sealed record ApiSegmentCount(long Matching, long Total, double Share);

/// <summary>A page of members: the customer key first, then the chosen columns; <c>holdout</c> per row when the segment keeps one.</summary>
public sealed record ApiMembers(
    IReadOnlyList<string> Columns,
    IReadOnlyList<object?[]> Rows,
    [property: Description("Per row, whether the member is in the segment's holdout (left out of every sync); null when the segment keeps no holdout.")]
    IReadOnlyList<bool>? Holdout,
    string? Next);

/// <summary>One refresh of a segment.</summary>
public sealed record ApiSnapshot(int Id, DateTimeOffset TakenAt, long Size, long Entered, long Left);

/// <summary>A customer who entered or left the segment at a refresh.</summary>
public sealed record ApiChange(
    [property: Description("The customer key, as text.")] string Customer,
    [property: Description("entered or left.")] string Change);

/// <summary>Who entered and left at one refresh (a page of them), and the segment's refreshes.</summary>
public sealed record ApiChanges(
    [property: Description("True when data rules apply to you: the stored refreshes were counted over someone else's rows and are not shown.")] bool Withheld,
    string? Notice,
    ApiSnapshot? Snapshot,
    IReadOnlyList<ApiSnapshot> Snapshots,
    IReadOnlyList<ApiChange> Changes,
    string? Next);

/// <summary>The segments endpoints of <see cref="ApiV1"/>; every read and count goes through Core's segment service.</summary>
public static class SegmentsApi
{
    public const int MaxChangesPage = 10_000;

    public static RouteGroupBuilder MapSegmentsApi(this RouteGroupBuilder v1)
    {
        var segments = v1.MapGroup("/segments").WithTags("Segments").ServedAsUser();

        segments.MapGet("/", ListAsync).RequireScope(ApiScopes.ReadSegments)
            .WithName("ListSegments")
            .WithSummary("List segments")
            .WithDescription("The segments you may see, ordered by id, 50 a page by default (`limit` up to 100); `next` is the cursor of the next page.");
        segments.MapGet("/{id:int}", GetAsync).RequireScope(ApiScopes.ReadSegments)
            .WithName("GetSegment")
            .WithSummary("A segment and its rule")
            .WithDescription("The segment with its rule in SegmentPortal's rule JSON v1 (the format of the rule builder's export).");
        segments.MapPost("/", CreateAsync).RequireScope(ApiScopes.ManageSegments)
            .WithName("CreateSegment")
            .WithSummary("Create a segment")
            .WithDescription("Creates a segment from a rule in JSON v1 and counts it. A rule that cannot be read, or with incomplete conditions, " +
                "is refused (400) with each problem listed.");
        segments.MapPut("/{id:int}", UpdateAsync).RequireScope(ApiScopes.ManageSegments)
            .WithName("UpdateSegment")
            .WithSummary("Change a segment")
            .WithDescription("Replaces the segment's name, description, tags, dataset and rule (JSON v1), and counts it again. Needs the owner's or an Editor's rights.");
        segments.MapGet("/{id:int}/count", CountAsync).RequireScope(ApiScopes.ReadSegments)
            .WithName("CountSegment")
            .WithSummary("Count a segment now")
            .WithDescription("How many customers the rule matches now, and of how many, over the rows you may see.");
        segments.MapGet("/{id:int}/members", MembersAsync).RequireScope(ApiScopes.ReadSegments)
            .WithName("ListSegmentMembers")
            .WithSummary("A segment's members")
            .WithDescription("The members as you may see them, ordered by the customer key, 1,000 a page by default (`limit` up to 1,000). " +
                "`columns` (comma-separated) chooses the columns after the key; a column hidden from you is refused. When the segment keeps a " +
                "holdout, `holdout` says per row who is in it. Pass `next` as `cursor` for the next page; a cursor stops working when the " +
                "segment or its data changes.");
        segments.MapGet("/{id:int}/changes", ChangesAsync).RequireScope(ApiScopes.ReadSegments)
            .WithName("ListSegmentChanges")
            .WithSummary("Who entered and left")
            .WithDescription("The customers who entered or left the segment at a refresh (`snapshot`, the latest by default), 1,000 a page by " +
                "default (`limit` up to 10,000), with the list of refreshes. Withheld when data rules apply to you.");
        segments.MapPost("/{id:int}/refresh", RefreshAsync).RequireScope(ApiScopes.ManageSegments)
            .WithName("RefreshSegment")
            .WithSummary("Refresh a segment")
            .WithDescription("Counts the segment now and records a refresh (size, who entered and who left), as the segment page's Refresh " +
                "button does. Needs the owner's or an Editor's rights.");
        return v1;
    }

    private static async Task<Results<Ok<ApiPage<ApiSegmentSummary>>, ProblemHttpResult>> ListAsync(
        SegmentService segments, string? cursor, int? limit, CancellationToken ct)
    {
        var all = (await segments.ListAsync(ct)).Select(s => new ApiSegmentSummary(
            s.Id, s.Name, s.Description, s.Tags, s.Owner, s.DatasetId, s.DatasetName, s.Size, s.RefreshedAt, s.UpdatedAt, s.CanEdit));
        return ApiCursor.ById(all, s => s.Id, "segments", cursor, limit) is { } page
            ? TypedResults.Ok(page)
            : ApiServing.BadRequest(ApiCursor.InvalidMessage);
    }

    private static async Task<Ok<ApiSegment>> GetAsync(int id, SegmentService segments, CancellationToken ct) =>
        TypedResults.Ok(await ViewAsync(segments, id, ct));

    private static async Task<ApiSegment> ViewAsync(SegmentService segments, int id, CancellationToken ct)
    {
        var (segment, rule, canEdit) = await segments.GetAsync(id, ct);
        return new ApiSegment(segment.Id, segment.Name, segment.Description, SegmentService.SplitTags(segment.Tags), segment.DatasetId,
            JsonNode.Parse(rule.ToJson())!, segment.Size, segment.Population, segment.RefreshedAt, segment.UpdatedAt, segment.HoldoutShare, canEdit);
    }

    private static async Task<Results<Created<ApiSegment>, ValidationProblem>> CreateAsync(
        ApiSegmentDraft draft, SegmentService segments, QueryService queries, CancellationToken ct)
    {
        var (checkedDraft, problems) = await CheckAsync(draft, queries, ct);
        if (checkedDraft is null)
        {
            return problems!;
        }
        var id = await segments.CreateAsync(checkedDraft, ct);
        return TypedResults.Created($"{ApiV1.Prefix}/segments/{id}", await ViewAsync(segments, id, ct));
    }

    private static async Task<Results<Ok<ApiSegment>, ValidationProblem>> UpdateAsync(
        int id, ApiSegmentDraft draft, SegmentService segments, QueryService queries, CancellationToken ct)
    {
        // The segment first: someone who cannot see it learns nothing from how their draft is judged.
        await segments.GetAsync(id, ct);
        var (checkedDraft, problems) = await CheckAsync(draft, queries, ct);
        if (checkedDraft is null)
        {
            return problems!;
        }
        await segments.UpdateAsync(id, checkedDraft, ct);
        return TypedResults.Ok(await ViewAsync(segments, id, ct));
    }

    /// <summary>
    /// The draft with its rule read from JSON v1 and checked over the dataset as the user sees it, or the problems: the
    /// rule's JSON (where it went wrong) or each incomplete condition, keyed <c>rule.{nodeId}</c>.
    /// </summary>
    private static async Task<(SegmentDraft? Draft, ValidationProblem? Problems)> CheckAsync(ApiSegmentDraft draft, QueryService queries, CancellationToken ct)
    {
        RuleTree tree;
        try
        {
            tree = draft.Rule.ValueKind is JsonValueKind.Object
                ? RuleTree.FromJson(draft.Rule.GetRawText())
                : throw new PortalException("The rule should be a JSON object with \"version\" and \"root\" (SegmentPortal's rule JSON v1).");
        }
        catch (PortalException ex)
        {
            return (null, Invalid(new() { ["rule"] = [ex.Message] }));
        }
        var problems = await queries.CheckAsync(draft.DatasetId, tree.Root, ct);
        if (problems.Count > 0)
        {
            return (null, Invalid(problems.GroupBy(p => "rule." + p.NodeId).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray())));
        }
        return (new SegmentDraft(draft.Name ?? "", draft.DatasetId, tree, draft.Description, draft.Tags), null);
    }

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, "The segment's rule cannot be used as it is.", title: "The rule has problems");

    private static async Task<Ok<ApiSegmentCount>> CountAsync(int id, SegmentService segments, CancellationToken ct)
    {
        var (segment, rule, _) = await segments.GetAsync(id, ct);
        var count = await segments.CountAsync(segment.DatasetId, rule.Root, ct);
        return TypedResults.Ok(new ApiSegmentCount(count.Matching, count.Total, count.Share));
    }

    private static async Task<Results<Ok<ApiMembers>, ProblemHttpResult>> MembersAsync(
        int id, SegmentService segments, string? columns, string? cursor, int? limit, CancellationToken ct)
    {
        var chosen = string.IsNullOrWhiteSpace(columns)
            ? null
            : columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var size = Math.Clamp(limit ?? SegmentService.MaxMemberPage, 1, SegmentService.MaxMemberPage);
        if (ApiCursor.Position(cursor) is not { } offset || offset > int.MaxValue - size - 1)
        {
            return ApiServing.BadRequest(ApiCursor.InvalidMessage);
        }
        var page = await segments.MemberPageAsync(id, chosen, (int)offset, size, ct);
        // The cursor belongs to one version of the segment and its data, and to the columns asked for.
        var scope = $"members:{id}:{page.Version}:{string.Join(",", page.Columns)}";
        if (!ApiCursor.TryDecode(cursor, scope, out _))
        {
            return ApiServing.BadRequest(ApiCursor.InvalidMessage);
        }
        return TypedResults.Ok(new ApiMembers(page.Columns, ApiValues.Rows(page.Rows), page.Holdout,
            page.More ? ApiCursor.Encode(offset + page.Rows.Count, scope) : null));
    }

    private static async Task<Results<Ok<ApiChanges>, ProblemHttpResult>> ChangesAsync(
        int id, SegmentService segments, int? snapshot, string? cursor, int? limit, CancellationToken ct)
    {
        await segments.GetAsync(id, ct);
        if (!await segments.StoredCountsVisibleAsync(id, ct))
        {
            return TypedResults.Ok(new ApiChanges(true, SegmentService.RestrictedCountsMessage, null, [], [], null));
        }
        var snapshots = (await segments.HistoryAsync(id, ct)).Select(s => new ApiSnapshot(s.Id, s.TakenAt, s.Size, s.Entered, s.Left)).ToList();
        var chosen = snapshot is { } wanted ? snapshots.FirstOrDefault(s => s.Id == wanted) : snapshots.LastOrDefault();
        if (chosen is null)
        {
            return snapshot is null
                ? TypedResults.Ok(new ApiChanges(false, "The segment has not been refreshed yet.", null, snapshots, [], null))
                : ApiServing.NotFound("The segment has no refresh with that id.");
        }
        var scope = $"changes:{id}:{chosen.Id}";
        if (!ApiCursor.TryDecode(cursor, scope, out var offset))
        {
            return ApiServing.BadRequest(ApiCursor.InvalidMessage);
        }
        var size = Math.Clamp(limit ?? 1000, 1, MaxChangesPage);
        var (entered, left) = await segments.ChangesAsync(id, chosen.Id, ct);
        var all = entered.Select(c => new ApiChange(c, "entered")).Concat(left.Select(c => new ApiChange(c, "left")));
        var page = all.Skip((int)Math.Min(offset, int.MaxValue)).Take(size + 1).ToList();
        return TypedResults.Ok(new ApiChanges(false, null, chosen, snapshots, page.Take(size).ToList(),
            page.Count > size ? ApiCursor.Encode(offset + size, scope) : null));
    }

    private static async Task<Ok<ApiSnapshot>> RefreshAsync(int id, SegmentService segments, CancellationToken ct)
    {
        var snapshot = await segments.RefreshAsync(id, ct);
        return TypedResults.Ok(new ApiSnapshot(snapshot.Id, snapshot.TakenAt, snapshot.Size, snapshot.Entered, snapshot.Left));
    }
}
