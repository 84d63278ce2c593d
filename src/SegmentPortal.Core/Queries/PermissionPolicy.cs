using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Queries;

/// <summary>A spec the policy has allowed, with everything the compiler needs, for the user it was allowed for.</summary>
public sealed record AuthorizedQuery(QuerySpec Spec, CompileContext Context, ClaimsPrincipal User);

/// <summary>
/// The one gate between a question and the warehouse. It receives the current user and the spec, refuses datasets
/// the user may not use (dataset grants), and describes every dataset the query reads as that user may see it: their
/// row rules (with their attributes filled in) and column rules (hidden, masked, hashed), read from the metadata store
/// for every query, so a changed rule, role or attribute applies to the next one. Nothing reaches the compiler without
/// passing through <see cref="AuthorizeAsync"/>; the rule builder, tile editor and clustering pickers list fields from
/// <see cref="DescribeAsync"/>, so a hidden column is not offered anywhere.
/// </summary>
public sealed class PermissionPolicy(
    ICurrentUser currentUser, DatasetAccess access, IPortalDbFactory dbFactory, CustomerAttributeStore attributes,
    DataRuleStore rules, PortalSettings settings, Sharing.SharingService sharing, TimeProvider clock)
{
    public async Task<AuthorizedQuery> AuthorizeAsync(QuerySpec spec, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(spec.DatasetId, cancellationToken);
        var subject = await SubjectAsync(user, cancellationToken);
        var query = await DescribeAsync(dataset, subject, cancellationToken);
        var facts = await FactSourceAsync(dataset, subject, cancellationToken);
        var segments = new Dictionary<int, SegmentReference>();
        foreach (var rule in new[] { spec.Filter }.Concat(spec.Measures.Select(m => m.Where)).OfType<RuleNode>())
        {
            await CollectSegmentsAsync(rule, segments, subject, cancellationToken);
        }
        var context = new CompileContext
        {
            Dataset = query,
            Facts = facts,
            Today = DateOnly.FromDateTime(clock.GetLocalNow().DateTime),
            Segments = segments,
        };
        return new AuthorizedQuery(spec, context, user);
    }

    /// <summary>
    /// A readable dataset as the compiler and the rule builder see it for the current user: the columns they may see
    /// (masked ones as text), the rows they may see, plus the customer fields of analyses (RFM, clusters) on it or on
    /// datasets related to it, when the user may read the analysed dataset.
    /// </summary>
    public async Task<QueryDataset> DescribeAsync(Dataset dataset, CancellationToken cancellationToken = default) =>
        await DescribeAsync(dataset, await SubjectAsync(await currentUser.GetPrincipalAsync(), cancellationToken), cancellationToken);

    /// <remarks>
    /// Analysis fields (RFM scores, clusters) were computed over the rows and columns of whoever ran the analysis: a
    /// user with data rules on the dataset, or on any dataset the analysis was computed from (the analysed one, the
    /// orders its features came from, the analyses it used as features), does not get them (their own RFM, counted
    /// live over their rows, is on the RFM page and tile).
    /// </remarks>
    private async Task<QueryDataset> DescribeAsync(Dataset dataset, Subject subject, CancellationToken cancellationToken)
    {
        var own = await RestrictAsync(QueryDataset.From(dataset), subject, cancellationToken);
        if (own.IsRestricted)
        {
            return own;
        }
        var fields = await attributes.FieldsForAsync(dataset, async inputs => await SeesWholeAsync(inputs, subject, cancellationToken), cancellationToken);
        return await RestrictAsync(QueryDataset.From(dataset).WithAttributes(fields), subject, cancellationToken);
    }

    /// <summary>Whether the subject may read every one of the datasets and has no row or column rules on any.</summary>
    private async Task<bool> SeesWholeAsync(IReadOnlyCollection<int> datasetIds, Subject subject, CancellationToken cancellationToken)
    {
        foreach (var id in datasetIds)
        {
            if (await access.FindReadableAsync(id, cancellationToken) is not { } input
                || (await RestrictAsync(QueryDataset.From(input), subject, cancellationToken)).IsRestricted)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A fingerprint of how the current user sees these datasets — their row rules with their attributes filled in,
    /// their column treatments, and which they may not read at all — or null when they may read all of every one.
    /// Users with the same fingerprint see the same rows and columns; a stored result computed under one fingerprint
    /// is shown only to users with that fingerprint or to users who see everything (see the analysis services).
    /// </summary>
    public async Task<string?> ViewKeyAsync(IReadOnlyCollection<int> datasetIds, CancellationToken cancellationToken = default)
    {
        var subject = await SubjectAsync(await currentUser.GetPrincipalAsync(), cancellationToken);
        var parts = new List<string>();
        var whole = true;
        foreach (var id in datasetIds.Distinct().Order())
        {
            if (await access.FindReadableAsync(id, cancellationToken) is not { } dataset)
            {
                whole = false;
                parts.Add($"{id}:unreadable");
                continue;
            }
            var view = await RestrictAsync(QueryDataset.From(dataset), subject, cancellationToken);
            if (!view.IsRestricted)
            {
                parts.Add($"{id}:all");
                continue;
            }
            whole = false;
            var rows = view.NoRows ? "none" : view.RowFilter is { } filter ? WithoutIds(new RuleTree { Root = filter }.ToJson()) : "all";
            parts.Add($"{id}:{rows}:{string.Join(",", view.OwnFields.Select(f => $"{f.Name}={f.Treatment}"))}:{string.Join(",", view.HiddenColumns)}");
        }
        return whole ? null : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", parts))));
    }

    /// <summary>A dataset's own columns as the user may see them (no analysis fields): what customer facts are computed from.</summary>
    private Task<QueryDataset> DescribeOwnAsync(Dataset dataset, Subject subject, CancellationToken cancellationToken) =>
        RestrictAsync(QueryDataset.From(dataset), subject, cancellationToken);

    private async Task<QueryDataset> RestrictAsync(QueryDataset described, Subject subject, CancellationToken cancellationToken)
    {
        var datasetRules = await rules.ForDatasetAsync(described.Id, cancellationToken);
        var hashKey = datasetRules.ColumnRules.Any(r => r.Treatment == ColumnTreatment.Hashed) ? await settings.HashKeyAsync(cancellationToken) : "";
        return DataPolicy.Restrict(described, datasetRules, subject.Who, subject.AdminsSeeAll, hashKey);
    }

    /// <summary>A rule's JSON without the node ids (new ones on every resolve), so equal rules give equal text.</summary>
    private static string WithoutIds(string json)
    {
        static void Strip(System.Text.Json.Nodes.JsonNode? node)
        {
            switch (node)
            {
                case System.Text.Json.Nodes.JsonObject o:
                    o.Remove("id");
                    foreach (var (_, child) in o)
                    {
                        Strip(child);
                    }
                    break;
                case System.Text.Json.Nodes.JsonArray a:
                    foreach (var child in a)
                    {
                        Strip(child);
                    }
                    break;
            }
        }
        var root = System.Text.Json.Nodes.JsonNode.Parse(json);
        Strip(root);
        return root?.ToJsonString() ?? "";
    }

    /// <summary>Who is asking, as the data rules see them, and whether Admins are exempt; read once per query.</summary>
    private sealed record Subject(AccessSubject Who, bool AdminsSeeAll);

    private async Task<Subject> SubjectAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var who = await rules.SubjectAsync(user, cancellationToken) ?? throw new PermissionDeniedException("Your account is disabled or no longer exists. Sign in again.");
        // The session's roles may be older than the store's: a role taken away stops the next query, not the next sign-in.
        if (!Permissions.RolesGranted(Permissions.ViewData).Any(who.Roles.Contains))
        {
            throw new PermissionDeniedException("Your roles no longer let you see data. Sign in again or ask an Admin.");
        }
        return new(who, await settings.GetFlagAsync(PortalSettings.AdminsSeeAllData, fallback: true, cancellationToken));
    }

    /// <summary>
    /// Where a dataset's customer facts come from: the dataset itself when it is a transaction log (Customer ID, date and
    /// amount roles), otherwise a readable dataset related to it by the customer key
    /// (<see cref="DatasetRelations.RelatedByCustomerKeyAsync"/>) that has a date, transaction logs first.
    /// </summary>
    public async Task<FactSource?> FactSourceAsync(Dataset dataset, CancellationToken cancellationToken) =>
        await FactSourceAsync(dataset, await SubjectAsync(await currentUser.GetPrincipalAsync(), cancellationToken), cancellationToken);

    private async Task<FactSource?> FactSourceAsync(Dataset dataset, Subject subject, CancellationToken cancellationToken)
    {
        // A transaction log (customer, date and amount) is its own source, or has none when the user cannot see its key
        // or date: the customer list it is related to is not its orders. A customer list with a date (e.g. signup) is not a source.
        if (dataset.Kind == DatasetKind.Transactions)
        {
            return FromOrders(await DescribeOwnAsync(dataset, subject, cancellationToken), customerKey: null);
        }
        IReadOnlyList<CustomerKeyRelation> relations;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            relations = await DatasetRelations.RelatedByCustomerKeyAsync(db, dataset.Id, cancellationToken);
        }
        var candidates = new List<(Dataset Orders, string Key)>();
        foreach (var relation in relations)
        {
            if (await access.FindReadableAsync(relation.DatasetId, cancellationToken) is { } orders)
            {
                candidates.Add((orders, relation.CustomerKey));
            }
        }
        foreach (var (orders, key) in candidates.OrderByDescending(c => c.Orders.Kind == DatasetKind.Transactions))
        {
            if (FromOrders(await DescribeOwnAsync(orders, subject, cancellationToken), key) is { } source)
            {
                return source;
            }
        }
        return null;
    }

    /// <summary>Facts from an orders dataset as the user sees it: a hidden key or date means no facts; a masked amount is not an amount.</summary>
    private static FactSource? FromOrders(QueryDataset orders, string? customerKey)
    {
        string? Role(FieldRole role) => orders.OwnFields.FirstOrDefault(f => f.Role == role)?.Name;
        var key = customerKey is null ? Role(FieldRole.CustomerId) : orders.Field(customerKey)?.Name;
        var date = orders.OwnFields.FirstOrDefault(f => f.Role == FieldRole.EventDate && f.Kind == FieldKind.Date)?.Name;
        var amount = orders.OwnFields.FirstOrDefault(f => f.Role == FieldRole.Amount && f.Kind == FieldKind.Number)?.Name;
        return key is null || date is null ? null : new FactSource(orders, key, date, amount, Role(FieldRole.OrderId));
    }

    /// <summary>
    /// Loads every segment a rule refers to (and the ones those refer to), each only if the user may see the segment
    /// (owner, Admin or shared) and read its dataset; any other is missing to the compiler.
    /// </summary>
    private async Task CollectSegmentsAsync(RuleNode rule, Dictionary<int, SegmentReference> found, Subject subject, CancellationToken cancellationToken)
    {
        var ids = (rule is RuleGroup g ? g.Descendants() : [rule]).OfType<SegmentCondition>().Select(s => s.SegmentId)
            .Where(id => id > 0 && !found.ContainsKey(id)).Distinct().ToList();
        if (ids.Count == 0)
        {
            return;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var segments = await db.Segments.AsNoTracking().Where(s => ids.Contains(s.Id)).ToListAsync(cancellationToken);
        var visible = await sharing.MapAsync(cancellationToken);
        foreach (var segment in segments)
        {
            if (!visible.Of(Sharing.SharedItem.Segment, segment.Id, segment.OwnerId).CanView
                || await access.FindReadableAsync(segment.DatasetId, cancellationToken) is not { } dataset)
            {
                continue;
            }
            var tree = RuleTree.FromJson(segment.RuleJson);
            found[segment.Id] = new SegmentReference(segment.Id, segment.Name, tree.Root, await DescribeAsync(dataset, subject, cancellationToken),
                await FactSourceAsync(dataset, subject, cancellationToken));
            await CollectSegmentsAsync(tree.Root, found, subject, cancellationToken);
        }
    }
}
