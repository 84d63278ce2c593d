using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Segments;

/// <summary>Feeds the rule builder: fields grouped by role, facts, other segments, and values offered from the data.</summary>
public sealed class RuleBuilderService(Authorizer access, PermissionPolicy policy, QueryService queries, SegmentService segments, DatasetCatalog catalog)
{
    /// <summary>Datasets a segment can be built on: readable, ready, with a Customer ID column.</summary>
    public async Task<IReadOnlyList<DatasetSummary>> SegmentableDatasetsAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<DatasetSummary>();
        foreach (var dataset in (await catalog.ListAsync(cancellationToken)).Where(d => d.Status == DatasetStatus.Ready))
        {
            if (await access.FindReadableAsync(dataset.Id, cancellationToken) is { CustomerKey: not null } full)
            {
                result.Add(dataset);
            }
        }
        // Customer lists first: segments are groups of customers.
        return result.OrderByDescending(d => d.Kind == DatasetKind.Customers).ThenBy(d => d.Name).ToList();
    }

    public const int MaxOfferedValues = 200;

    public async Task<RuleBuilderOptions> OptionsAsync(int datasetId, int? editingSegmentId = null, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var facts = await policy.FactSourceAsync(dataset, cancellationToken);
        var categories = facts?.Orders.Fields.Where(f => f.Kind is FieldKind.Category or FieldKind.Text && f.Name != facts.CustomerKey)
            .OrderByDescending(f => f.Role == FieldRole.Dimension).Select(f => f.Name).ToList() ?? [];
        var others = (await segments.ListAsync(cancellationToken)).Where(s => s.Id != editingSegmentId)
            .Select(s => new SegmentChoice(s.Id, s.Name)).ToList();
        return new RuleBuilderOptions(dataset.Id, dataset.Name, (await policy.DescribeAsync(dataset, cancellationToken)).Fields, facts?.Orders.Name, facts?.Orders.Id, categories, others);
    }

    /// <summary>The commonest values of a column (most frequent first), for category pickers.</summary>
    public async Task<IReadOnlyList<string>> ValuesAsync(int datasetId, string column, CancellationToken cancellationToken = default)
    {
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = new RuleGroup { Children = [new FieldCondition { Field = column, Operator = RuleOperator.IsNotEmpty }] },
            GroupBy = [new GroupBy(column, Alias: "value")],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("n", Descending: true), new SortBy("value")],
            Limit = MaxOfferedValues,
        }, cancellationToken);
        return result.Rows.Select(r => Convert.ToString(r[0], CultureInfo.InvariantCulture) ?? "").Where(v => v.Length > 0).ToList();
    }
}
