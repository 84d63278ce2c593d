using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Datasets;

/// <summary>A dataset related to another by the customer key, and its customer key column (the join column on its side).</summary>
internal sealed record CustomerKeyRelation(int DatasetId, string CustomerKey);

/// <summary>Which datasets are related to a dataset through the customer key: the one answer every feature uses.</summary>
internal static class DatasetRelations
{
    /// <summary>
    /// The datasets related to <paramref name="datasetId"/> by the customer key, each once, in the order the
    /// relationships were made. The rule: a relationship counts when its column on <em>each</em> side is that dataset's
    /// customer key (<see cref="Dataset.CustomerKey"/>: the Customer ID column, not left out), in either direction
    /// (orders.customer_id → customers.id and customers.id → orders.customer_id alike). A relationship on any other
    /// column (orders.referrer_id → customers.id, orders.product_id → products.id) is not a customer relation, and a
    /// dataset without a customer key has none.
    /// </summary>
    /// <remarks>
    /// Both sides are keys because every use joins on them: order facts are counted per value of the orders' key and
    /// matched to the customers' key, and an analysis's customer fields (RFM, clusters) are keyed by the customer key of
    /// the dataset they were computed for and joined on the key of the dataset that uses them. Either direction counts
    /// because the link means the same whichever page it was made from; so a dataset that gets facts or fields from
    /// another is always found from that other one too (a refresh re-places the clusters that read it, and the data
    /// rules of every input follow the results). Readability is the caller's question.
    /// </remarks>
    public static async Task<IReadOnlyList<CustomerKeyRelation>> RelatedByCustomerKeyAsync(IPortalDb db, int datasetId, CancellationToken cancellationToken = default)
    {
        var keys = db.DatasetColumns.Where(c => c.Role == FieldRole.CustomerId && !c.IsExcluded);
        var relations = await (
            from r in db.DatasetRelationships.AsNoTracking()
            where r.FromDatasetId == datasetId || r.ToDatasetId == datasetId
            join fromKey in keys on new { Id = r.FromDatasetId, Name = r.FromColumn } equals new { Id = fromKey.DatasetId, fromKey.Name }
            join toKey in keys on new { Id = r.ToDatasetId, Name = r.ToColumn } equals new { Id = toKey.DatasetId, toKey.Name }
            orderby r.Id
            select new { r.FromDatasetId, r.FromColumn, r.ToDatasetId, r.ToColumn })
            .ToListAsync(cancellationToken);
        return relations
            .Select(r => r.FromDatasetId == datasetId ? new CustomerKeyRelation(r.ToDatasetId, r.ToColumn) : new CustomerKeyRelation(r.FromDatasetId, r.FromColumn))
            .DistinctBy(r => r.DatasetId)
            .ToList();
    }
}
