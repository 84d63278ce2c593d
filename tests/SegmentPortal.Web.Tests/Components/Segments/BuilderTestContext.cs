using System.Collections.Concurrent;
using Bunit;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Web.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// Renders the rule builder (<see cref="RuleGroupEditor"/> over a <see cref="BuilderState"/>, hosted as the editor page
/// hosts it) for a dataset with one field of every kind, and values for category fields from an in-memory "data".
/// </summary>
public abstract class BuilderTestContext : PortalTestContext
{
    public const int DatasetId = 7;
    public const int OrdersDatasetId = 8;

    /// <summary>One field of each kind: customer id, category (a dimension), text, date, number, decimal, yes/no.</summary>
    public static readonly IReadOnlyList<QueryField> Fields =
    [
        new("customer_id", ColumnType.Integer, FieldRole.CustomerId),
        new("region", ColumnType.Text, FieldRole.Dimension),
        new("city", ColumnType.Text, FieldRole.None),
        new("signup", ColumnType.Date, FieldRole.EventDate),
        new("birth_year", ColumnType.Integer, FieldRole.Measure),
        new("balance", ColumnType.Decimal, FieldRole.None),
        new("vip", ColumnType.Boolean, FieldRole.None),
    ];

    /// <summary>The builder's options: no orders and no other segments unless a test says otherwise.</summary>
    protected static RuleBuilderOptions Options(bool facts = false, params SegmentChoice[] segments) => new(
        DatasetId, "Customers", Fields, facts ? "Orders" : null, facts ? OrdersDatasetId : null, facts ? ["category"] : [], segments);

    /// <summary>What the "data" holds per (dataset, column), most frequent first.</summary>
    protected Dictionary<(int, string), string[]> Data { get; } = new()
    {
        [(DatasetId, "region")] = ["North", "East", "South", "West"],
        [(DatasetId, "city")] = ["Oslo", "Rome"],
        [(OrdersDatasetId, "category")] = ["Toys", "Books"],
    };

    /// <summary>Every request for offered values, in order.</summary>
    protected ConcurrentQueue<(int Dataset, string Column)> ValueLoads { get; } = new();

    protected BuilderState State { get; private set; } = null!;

    protected RuleGroup Root => State.Tree.Root;

    protected IRenderedComponent<BuilderHost> RenderBuilder(RuleGroup root, RuleBuilderOptions? options = null, bool readOnly = false)
    {
        State = new BuilderState(new RuleTree { Root = root }, options ?? Options(), LoadValues) { ReadOnly = readOnly };
        return Render<BuilderHost>(p => p.Add(h => h.State, State));
    }

    private Task<IReadOnlyList<string>> LoadValues(int dataset, string column)
    {
        ValueLoads.Enqueue((dataset, column));
        return Task.FromResult<IReadOnlyList<string>>(Data.GetValueOrDefault((dataset, column)) ?? []);
    }

    protected static RuleGroup All(params RuleNode[] children) => new() { Children = [.. children] };

    protected static RuleGroup Any(params RuleNode[] children) => new() { Combinator = Combinator.Or, Children = [.. children] };

    protected static FieldCondition Field(string field, RuleOperator op = RuleOperator.Equals, string? value = null, string? value2 = null) =>
        new() { Field = field, Operator = op, Value = value, Value2 = value2 };
}
