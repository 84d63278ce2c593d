using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// The resolve stage of the query path: what a spec's names refer to for one subject — the dataset's fields (with the
/// analysis fields of <see cref="IAnalysisFields"/>), where its customer facts come from, and the saved segments its
/// rules name. Every dataset it describes passes the restrict stage (<see cref="Authorizer.RestrictAsync"/>: row and
/// column rules) before the compiler sees it.
/// </summary>
public sealed class QueryResolver(Authorizer access, IPortalDbFactory dbFactory, IAnalysisFields analysisFields, ISegmentDefinitions segmentDefinitions)
{
    /// <remarks>
    /// Analysis fields (RFM scores, clusters, lifetime value, churn risk) were computed over the rows and columns of
    /// whoever ran the analysis: a user with data rules on any dataset the analysis was computed from (the analysed
    /// one, the orders its features came from, the analyses it used as features) does not get them (their own RFM,
    /// counted live over their rows, is on the RFM page and tile). Rules on the dataset being read withhold the fields
    /// computed from it, but not those computed only from other datasets the user sees whole: a row rule on a customer
    /// list then decides which customers' scores (computed from orders the user sees in full) they read.
    /// </remarks>
    public async Task<QueryDataset> DescribeAsync(Dataset dataset, DataSubject subject, CancellationToken cancellationToken = default)
    {
        var own = await access.RestrictAsync(QueryDataset.From(dataset), subject, cancellationToken);
        if (dataset.Storage == DatasetStorage.Live)
        {
            // Analysis results are warehouse tables: a query in a live dataset's database cannot join them.
            return own;
        }
        var fields = await analysisFields.FieldsForAsync(dataset,
            async inputs => (!own.IsRestricted || !inputs.Contains(dataset.Id)) && await access.SeesWholeAsync(inputs, subject, cancellationToken),
            cancellationToken);
        if (own.IsRestricted && fields.Count == 0)
        {
            return own;
        }
        return await access.RestrictAsync(QueryDataset.From(dataset).WithAttributes(fields), subject, cancellationToken);
    }

    /// <summary>
    /// Where a dataset's customer facts come from: the dataset itself when it is a transaction log (Customer ID, date and
    /// amount roles), otherwise a readable dataset related to it by the customer key
    /// (<see cref="DatasetRelations.RelatedByCustomerKeyAsync"/>) that has a date, transaction logs first.
    /// </summary>
    public async Task<FactSource?> FactSourceAsync(Dataset dataset, DataSubject subject, CancellationToken cancellationToken = default)
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
            // Facts join in the same database only: two live datasets of one connection, or two imported ones.
            if (await access.FindReadableAsync(relation.DatasetId, cancellationToken) is { } orders && LiveMixing.SameStore(orders.Live, dataset.Live))
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

    /// <summary>
    /// Every segment the rules refer to (and the ones those refer to), each only if the user may see the segment
    /// (owner, Admin or shared) and read its dataset; any other is missing to the compiler.
    /// </summary>
    public async Task<IReadOnlyDictionary<int, SegmentReference>> SegmentsAsync(IEnumerable<RuleNode> rules, DataSubject subject, CancellationToken cancellationToken = default)
    {
        var found = new Dictionary<int, SegmentReference>();
        foreach (var rule in rules)
        {
            await CollectSegmentsAsync(rule, found, subject, cancellationToken);
        }
        return found;
    }

    /// <summary>A dataset's own columns as the user may see them (no analysis fields): what customer facts are computed from.</summary>
    private Task<QueryDataset> DescribeOwnAsync(Dataset dataset, DataSubject subject, CancellationToken cancellationToken) =>
        access.RestrictAsync(QueryDataset.From(dataset), subject, cancellationToken);

    /// <summary>Facts from an orders dataset as the user sees it: a hidden key or date means no facts; a masked amount is not an amount.</summary>
    private static FactSource? FromOrders(QueryDataset orders, string? customerKey)
    {
        string? Role(FieldRole role) => orders.OwnFields.FirstOrDefault(f => f.Role == role)?.Name;
        var key = customerKey is null ? Role(FieldRole.CustomerId) : orders.Field(customerKey)?.Name;
        var date = orders.OwnFields.FirstOrDefault(f => f.Role == FieldRole.EventDate && f.Kind == FieldKind.Date)?.Name;
        var amount = orders.OwnFields.FirstOrDefault(f => f.Role == FieldRole.Amount && f.Kind == FieldKind.Number)?.Name;
        return key is null || date is null ? null : new FactSource(orders, key, date, amount, Role(FieldRole.OrderId));
    }

    private async Task CollectSegmentsAsync(RuleNode rule, Dictionary<int, SegmentReference> found, DataSubject subject, CancellationToken cancellationToken)
    {
        var ids = (rule is RuleGroup g ? g.Descendants() : [rule]).OfType<SegmentCondition>().Select(s => s.SegmentId)
            .Where(id => id > 0 && !found.ContainsKey(id)).Distinct().ToList();
        if (ids.Count == 0)
        {
            return;
        }
        var segments = await segmentDefinitions.FindAsync(ids, cancellationToken);
        var visible = await access.MapAsync(cancellationToken);
        foreach (var segment in segments)
        {
            if (!visible.Of(SharedItem.Segment, segment.Id, segment.OwnerId).CanView
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
