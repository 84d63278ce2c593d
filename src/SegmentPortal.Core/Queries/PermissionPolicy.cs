using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
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
/// the user may not use (dataset grants), and adds the user's row filters to the compile context. Row rules and column
/// masks plug in here; nothing reaches the compiler without passing through <see cref="AuthorizeAsync"/>.
/// </summary>
public sealed class PermissionPolicy(ICurrentUser currentUser, DatasetAccess access, IPortalDbFactory dbFactory, CustomerAttributeStore attributes, TimeProvider clock)
{
    public async Task<AuthorizedQuery> AuthorizeAsync(QuerySpec spec, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(spec.DatasetId, cancellationToken);
        var query = await DescribeAsync(dataset, cancellationToken);
        var facts = await FactSourceAsync(dataset, cancellationToken);
        var segments = new Dictionary<int, SegmentReference>();
        foreach (var rule in new[] { spec.Filter }.Concat(spec.Measures.Select(m => m.Where)).OfType<RuleNode>())
        {
            await CollectSegmentsAsync(rule, segments, cancellationToken);
        }
        var context = new CompileContext
        {
            Dataset = query,
            Facts = facts,
            Today = DateOnly.FromDateTime(clock.GetLocalNow().DateTime),
            Segments = segments,
            RowFilters = RowFiltersFor(user, dataset),
        };
        return new AuthorizedQuery(spec, context, user);
    }

    /// <summary>
    /// A readable dataset as the compiler and the rule builder see it: its columns, plus the customer fields of analyses
    /// (RFM, clusters) on it or on datasets related to it, when the user may read the analysed dataset.
    /// </summary>
    public async Task<QueryDataset> DescribeAsync(Dataset dataset, CancellationToken cancellationToken = default)
    {
        var fields = await attributes.FieldsForAsync(dataset,
            async id => id == dataset.Id || await access.FindReadableAsync(id, cancellationToken) is not null, cancellationToken);
        return QueryDataset.From(dataset).WithAttributes(fields);
    }

    /// <summary>Row rules for this user on this dataset. None yet: every row of a granted dataset is visible.</summary>
    private static IReadOnlyList<RuleGroup> RowFiltersFor(ClaimsPrincipal user, Dataset dataset) => [];

    /// <summary>
    /// Where a dataset's customer facts come from: the dataset itself when it is a transaction log (Customer ID, date and
    /// amount roles), otherwise a readable dataset related to its Customer ID column that has a date.
    /// </summary>
    public async Task<FactSource?> FactSourceAsync(Dataset dataset, CancellationToken cancellationToken)
    {
        // A transaction log (customer, date and amount) is its own source; a customer list with a date (e.g. signup) is not.
        if (dataset.Kind == DatasetKind.Transactions && FromOrders(dataset, customerKey: null) is { } own)
        {
            return own;
        }
        var key = dataset.Columns.FirstOrDefault(c => c.Role == FieldRole.CustomerId && !c.IsExcluded);
        if (key is null)
        {
            return null;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var relations = await db.DatasetRelationships.AsNoTracking()
            .Where(r => r.ToDatasetId == dataset.Id && r.ToColumn == key.Name)
            .ToListAsync(cancellationToken);
        foreach (var relation in relations)
        {
            if (await access.FindReadableAsync(relation.FromDatasetId, cancellationToken) is { } orders
                && FromOrders(orders, relation.FromColumn) is { } source)
            {
                return source;
            }
        }
        return null;
    }

    private static FactSource? FromOrders(Dataset orders, string? customerKey)
    {
        string? Role(FieldRole role) => orders.Columns.FirstOrDefault(c => c.Role == role && !c.IsExcluded)?.Name;
        var key = customerKey ?? Role(FieldRole.CustomerId);
        var date = Role(FieldRole.EventDate);
        return key is null || date is null ? null : new FactSource(QueryDataset.From(orders), key, date, Role(FieldRole.Amount), Role(FieldRole.OrderId));
    }

    /// <summary>Loads every segment a rule refers to (and the ones those refer to), each only if its dataset is readable.</summary>
    private async Task CollectSegmentsAsync(RuleNode rule, Dictionary<int, SegmentReference> found, CancellationToken cancellationToken)
    {
        var ids = (rule is RuleGroup g ? g.Descendants() : [rule]).OfType<SegmentCondition>().Select(s => s.SegmentId)
            .Where(id => id > 0 && !found.ContainsKey(id)).Distinct().ToList();
        if (ids.Count == 0)
        {
            return;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var segments = await db.Segments.AsNoTracking().Where(s => ids.Contains(s.Id)).ToListAsync(cancellationToken);
        foreach (var segment in segments)
        {
            if (await access.FindReadableAsync(segment.DatasetId, cancellationToken) is not { } dataset)
            {
                continue;
            }
            var tree = RuleTree.FromJson(segment.RuleJson);
            found[segment.Id] = new SegmentReference(segment.Id, segment.Name, tree.Root, await DescribeAsync(dataset, cancellationToken),
                await FactSourceAsync(dataset, cancellationToken));
            await CollectSegmentsAsync(tree.Root, found, cancellationToken);
        }
    }
}
