using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// The generated customers and orders imported as CSV through the real import, with roles set and the orders related to
/// the customers, a few saved segments (one built on others), on a clock fixed at a leap day; and the same rows in memory
/// for <see cref="RuleEvaluator"/>.
/// </summary>
public sealed class RulePropertyFixture : IAsyncLifetime
{
    /// <summary>A Thursday and a leap day: "a year ago" is 2023-02-28, and this week (from Monday 02-26) runs into March.</summary>
    public static readonly DateOnly Today = new(2024, 2, 29);

    public const ulong DataSeed = 0x5E61_2024_0229UL;

    private const ulong SegmentSeed = 0x5E6_0001UL;

    public CoreHarness Harness { get; private set; } = null!;

    public RulePropertyData Data { get; private set; } = null!;

    public Dataset CustomerData { get; private set; } = null!;

    public Dataset OrderData { get; private set; } = null!;

    /// <summary>Saved segments by id, with their rules.</summary>
    public Dictionary<int, RuleGroup> Segments { get; } = [];

    public RuleEvaluator Evaluator { get; private set; } = null!;

    public RuleTreeGenerator Generator { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)));
        await Harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        Data = RulePropertyData.Generate(DataSeed, Today);

        CustomerData = await Harness.ImportTextAsync("customers.csv", Data.Customers.ToCsv());
        OrderData = await Harness.ImportTextAsync("orders.csv", Data.Orders.ToCsv());
        AssertDetected(CustomerData, Data.Customers);
        AssertDetected(OrderData, Data.Orders);
        CustomerData = await SetRolesAsync(CustomerData, Data.Customers);
        OrderData = await SetRolesAsync(OrderData, Data.Orders);
        await Harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(OrderData.Id, RulePropertyData.OrderCustomer, CustomerData.Id, RulePropertyData.CustomerKey));

        // Saved segments: random rules that select some customers but not all, and one that refers to two of them.
        var plain = new RuleEvaluator(Data);
        var generator = new RuleTreeGenerator(Data, plain, []);
        var population = plain.Customers.Count();
        for (var i = 0; Segments.Count < 4; i++)
        {
            var rule = generator.Generate(new SeededRandom(SeededRandom.Derive(SegmentSeed, i)), segments: false);
            var evaluation = plain.Evaluate(rule);
            if (evaluation.Ids.Count >= population / 10 && evaluation.Ids.Count <= population * 9 / 10 && evaluation.Reached.Count == 0)
            {
                Segments[await SaveSegmentAsync($"Random segment {Segments.Count + 1}", rule)] = RoundTrip(rule);
            }
        }
        var ids = Segments.Keys.Order().ToList();
        var nested = new RuleGroup
        {
            Combinator = Combinator.Or,
            Children =
            [
                new SegmentCondition { SegmentId = ids[0] },
                new RuleGroup { Children = [new SegmentCondition { SegmentId = ids[1], In = false }, new FieldCondition { Field = "vip", Operator = RuleOperator.IsTrue }] },
            ],
        };
        Segments[await SaveSegmentAsync("Built on segments", nested)] = RoundTrip(nested);

        Evaluator = new RuleEvaluator(Data, Segments);
        Generator = new RuleTreeGenerator(Data, Evaluator, [.. Segments.Keys.Order()]);
    }

    /// <summary>The rule as it is stored and read back, so what is printed is exactly what ran.</summary>
    public static RuleGroup RoundTrip(RuleGroup rule) => RuleTree.FromJson(new RuleTree { Root = rule }.ToJson()).Root;

    private static void AssertDetected(Dataset dataset, PropertyTable table)
    {
        var detected = dataset.Columns.OrderBy(c => c.Ordinal).Select(c => (c.Name, c.Type)).ToList();
        Assert.Equal(table.Columns.Select(c => (c.Name, c.Type)), detected);
        Assert.Equal(table.Rows.Count, dataset.RowCount);
    }

    private Task<Dataset> SetRolesAsync(Dataset dataset, PropertyTable table) =>
        Harness.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id,
            DatasetRebuilder.SettingsOf(dataset).Select(c => c with { Role = table.Column(c.Name).Role }).ToList()));

    private async Task<int> SaveSegmentAsync(string name, RuleGroup rule)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        // Owned by the signed-in user: segments are private to their owner until shared.
        var segment = new Segment { Name = name, DatasetId = CustomerData.Id, RuleJson = new RuleTree { Root = rule }.ToJson(), OwnerId = Harness.CurrentUser.Principal.UserId() };
        db.Segments.Add(segment);
        await db.SaveChangesAsync();
        return segment.Id;
    }

    /// <summary>The ids of the customers a rule selects through the query layer (policy, compiler, warehouse), ascending.</summary>
    public async Task<IReadOnlyList<long>> IdsAsync(RuleGroup rule, CancellationToken cancellationToken)
    {
        var result = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = CustomerData.Id,
            Filter = rule,
            Columns = [RulePropertyData.CustomerKey],
            DistinctCustomers = true,
        }, cancellationToken));
        return result.Rows.Select(r => Convert.ToInt64(r[0], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
    }

    /// <summary>How many customers the rule selects, counted in the warehouse (the segment count's path).</summary>
    public async Task<long> CountAsync(RuleGroup rule, CancellationToken cancellationToken)
    {
        var result = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = CustomerData.Id,
            Filter = rule,
            Measures = [new Measure(MeasureKind.Customers, "n")],
        }, cancellationToken));
        return Convert.ToInt64(result.Scalar("n"), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A spec compiled as the query layer does for DuckDB (permission policy, resolved facts and segments, the key's
    /// uniqueness), but with every dataset live on <paramref name="engine"/>: the customers and orders as the source's
    /// tables <paramref name="customers"/> and <paramref name="orders"/> (in <paramref name="schema"/>).
    /// </summary>
    public async Task<CompiledQuery> CompileLiveAsync(QuerySpec spec, SqlEngine engine, string? schema, string customers, string orders, CancellationToken cancellationToken)
    {
        var authorized = await Harness.WithAsync<PermissionPolicy, AuthorizedQuery>(p => p.AuthorizeAsync(spec, cancellationToken));
        var context = authorized.Context;
        var unique = context.Dataset.WithRole(FieldRole.CustomerId) is { } key
            && await Harness.Services.GetRequiredService<QueryExecutor>().IsUniqueAsync(context.Dataset, key.Name, context.Dialect, cancellationToken);
        SegmentPortal.Core.Access.QueryDataset Live(SegmentPortal.Core.Access.QueryDataset dataset) => dataset with
        {
            Live = new LiveSource(0, engine, schema,
                dataset.Id == CustomerData.Id ? customers : dataset.Id == OrderData.Id ? orders : throw new InvalidOperationException($"No table for dataset {dataset.Id}."),
                null, 0),
        };
        FactSource? LiveFacts(FactSource? facts) => facts is null ? null : facts with { Orders = Live(facts.Orders) };
        context = context with
        {
            Dataset = Live(context.Dataset),
            Facts = LiveFacts(context.Facts),
            Segments = context.Segments.ToDictionary(s => s.Key, s => s.Value with { Dataset = Live(s.Value.Dataset), Facts = LiveFacts(s.Value.Facts) }),
            Dialect = SqlDialects.For(engine),
            CustomerKeyUnique = unique,
        };
        return QueryCompiler.Compile(authorized.Spec, context);
    }

    public ValueTask DisposeAsync() => Harness.DisposeAsync();
}
