using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>What the reader found: the customers (in the order of their keys), their histories and where the facts came from.</summary>
internal sealed record ChurnData(
    IReadOnlyList<object> Keys,
    ColumnType KeyType,
    IReadOnlyList<CustomerHistory> Customers,
    bool HasAmount,
    string? CategoryColumn,
    IReadOnlyList<string> Categories);

/// <summary>
/// Reads a churn run's input through the query layer, so the runner's data rules apply: one row per customer of the
/// dataset (its key and the chosen attributes), and every related order (customer, date, amount, category). Facts "as
/// of" a cut-off are then worked out in memory from the orders on or before it (<see cref="ChurnEngine.Build"/>), so one
/// read serves the training cut-off, the test cut-off and today.
/// </summary>
public sealed class ChurnDataReader(Authorizer access, PermissionPolicy policy, QueryService queries)
{
    public const int MaxCustomers = 1_000_000;
    public const int MaxOrders = 10_000_000;

    /// <summary>How many of the commonest categories become share features.</summary>
    public const int MaxCategories = 5;

    /// <param name="categories">The categories of a saved model (scoring again); null to take the commonest.</param>
    internal async Task<ChurnData> LoadAsync(int datasetId, IReadOnlyList<string> attributes, IReadOnlyList<string>? categories, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var key = dataset.CustomerKey ?? throw new PortalException($"{dataset.Name} has no Customer ID column.");
        var facts = await policy.FactSourceAsync(dataset, cancellationToken)
            ?? throw new PortalException($"{dataset.Name} has no related orders (a dataset with a Customer ID and an event date), so there is no purchase history to model.");

        var keys = new List<object>();
        var attributeValues = new List<double[]>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = dataset.Id,
            Filter = new RuleGroup { Children = [new FieldCondition { Field = key.Name, Operator = RuleOperator.IsNotEmpty }] },
            Columns = [key.Name, .. attributes],
            DistinctCustomers = true,
            Limit = MaxCustomers + 1,
        }, (_, reader) =>
        {
            var value = reader.GetValue(0);
            var text = QueryValue.ToText(value)!;
            if (index.TryAdd(text, keys.Count))
            {
                keys.Add(value);
                var values = new double[attributes.Count];
                for (var a = 0; a < values.Length; a++)
                {
                    values[a] = reader.IsDBNull(a + 1) ? double.NaN : QueryValue.ToDouble(reader.GetValue(a + 1)) ?? double.NaN;
                }
                attributeValues.Add(values);
            }
        }, cancellationToken);
        if (keys.Count > MaxCustomers)
        {
            throw new PortalException($"Churn risk takes up to {MaxCustomers:N0} customers.");
        }

        string? categoryColumn = null;
        if (categories is null)
        {
            categories = [];
            if (facts.Orders.Fields.FirstOrDefault(f => f.Role == FieldRole.Dimension && f.Kind is FieldKind.Category or FieldKind.Text) is { } category)
            {
                categoryColumn = category.Name;
                var top = await queries.RunAsync(new QuerySpec
                {
                    DatasetId = facts.Orders.Id,
                    Filter = new RuleGroup { Children = [new FieldCondition { Field = category.Name, Operator = RuleOperator.IsNotEmpty }] },
                    GroupBy = [new GroupBy(category.Name, Alias: "value")],
                    Measures = [new Measure(MeasureKind.Count, "n")],
                    Sort = [new SortBy("n", Descending: true), new SortBy("value")],
                    Limit = MaxCategories,
                }, cancellationToken);
                categories = top.Rows.Select(r => QueryValue.ToText(r[0])).OfType<string>().ToList();
            }
        }
        else if (categories.Count > 0)
        {
            categoryColumn = facts.Orders.Fields.FirstOrDefault(f => f.Role == FieldRole.Dimension && f.Kind is FieldKind.Category or FieldKind.Text)?.Name
                ?? throw new PortalException("The orders no longer have the category column the model was trained with.");
        }
        var categoryIndex = categories.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);

        // Per customer, purchase days with their spend (several orders on a day are one purchase).
        var days = new SortedDictionary<int, (double Amount, double[] Categories)>?[keys.Count];
        long orders = 0;
        var columns = new List<string> { facts.CustomerKey, facts.Date };
        if (facts.Amount is not null)
        {
            columns.Add(facts.Amount);
        }
        if (categoryColumn is not null)
        {
            columns.Add(categoryColumn);
        }
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = facts.Orders.Id,
            Filter = new RuleGroup
            {
                Children = [new FieldCondition { Field = facts.CustomerKey, Operator = RuleOperator.IsNotEmpty },
                    new FieldCondition { Field = facts.Date, Operator = RuleOperator.IsNotEmpty }],
            },
            Columns = columns,
            Limit = MaxOrders + 1,
        }, (_, reader) =>
        {
            orders++;
            if (!index.TryGetValue(QueryValue.ToText(reader.GetValue(0))!, out var row))
            {
                return;
            }
            var day = ToDate(reader.GetValue(1)).DayNumber;
            var amount = facts.Amount is null ? 1 : reader.IsDBNull(2) ? 0 : QueryValue.ToDouble(reader.GetValue(2)) ?? 0;
            var customer = days[row] ??= [];
            if (!customer.TryGetValue(day, out var entry))
            {
                entry = (0, new double[categories.Count]);
            }
            entry.Amount += amount;
            if (categoryColumn is not null && !reader.IsDBNull(columns.Count - 1)
                && categoryIndex.TryGetValue(QueryValue.ToText(reader.GetValue(columns.Count - 1))!, out var c))
            {
                entry.Categories[c] += facts.Amount is null ? 1 : amount;
            }
            customer[day] = entry;
        }, cancellationToken);
        if (orders > MaxOrders)
        {
            throw new PortalException($"Churn risk reads up to {MaxOrders:N0} orders.");
        }

        var histories = new CustomerHistory[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var customer = days[i];
            histories[i] = customer is null
                ? new CustomerHistory([], [], [], attributeValues[i])
                : new CustomerHistory(customer.Keys.ToArray(), customer.Values.Select(v => v.Amount).ToArray(), customer.Values.Select(v => v.Categories).ToArray(), attributeValues[i]);
        }
        return new ChurnData(keys, key.Type, histories, facts.Amount is not null, categoryColumn, categories);
    }

    /// <summary>The number columns of the dataset itself (not analysis fields, which are computed as of their own day) that may serve as attributes.</summary>
    internal async Task<IReadOnlyList<string>> AttributesAsync(int datasetId, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        if (dataset.Kind == DatasetKind.Transactions)
        {
            // An order's columns (its amount, its quantity) are not facts about the customer that stay put over time.
            return [];
        }
        var described = await policy.DescribeAsync(dataset, cancellationToken);
        var key = dataset.CustomerKey?.Name;
        return described.Fields.Where(f => f.Kind == FieldKind.Number && f.Source is null && f.Name != key).Select(f => f.Name).ToList();
    }

    private static DateOnly ToDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.UtcDateTime),
        _ => DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture)),
    };
}
