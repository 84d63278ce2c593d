using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// Query fusion against running each question alone, on a small real DuckDB dataset with empty values in the groupings
/// (region, city, vip, category), as an owner, a row-ruled Viewer (the Viewers' rule region = {user.Region}: North; city
/// masked for Viewers) and a column-ruled Viewer (an every-row rule of their own, city masked): random sets of grouped questions (random measures, groupings, shared and own
/// conditions, sorts, limits and offsets, some matching no row) are answered by <see cref="QueryFusion"/> and compared
/// with each question's own compiled SQL run straight on DuckDB.
/// </summary>
public sealed class QueryFusionTests : IAsyncLifetime
{
    private const string CustomersCsv =
        "id,name,region,city,signup,birth_year,vip,spend\n" +
        "1,Ann,North,Oslo,2024-06-10,1980,true,120.5\n" +
        "2,Bo,South,Rome,2024-01-15,1992,false,80\n" +
        "3,Cy,North,,2023-05-01,,true,\n" +
        "4,Di,East,Bergen,2024-04-01,1975,,300\n" +
        "5,Ed,West,Madrid,2022-12-31,2001,false,45.25\n" +
        "6,Fi,,Paris,2024-06-14,1988,true,10\n" +
        "7,Gu,North,Oslo,2023-02-02,1990,false,60\n" +
        "8,Ha,,,2024-03-03,1999,,\n";

    private const string OrdersCsv =
        "order_id,customer_id,order_date,amount,category,region\n" +
        "101,1,2024-06-01,500,Toys,North\n" +
        "102,1,2024-05-20,700,Books,North\n" +
        "103,2,2024-02-10,50,Toys,South\n" +
        "104,2,2023-11-05,30,Garden,South\n" +
        "105,3,2024-06-14,2000,Electronics,North\n" +
        "106,4,2023-01-01,100,Books,East\n" +
        "107,1,2024-06-01,0,,North\n" +
        "108,7,2024-04-04,75.5,Toys,North\n" +
        "109,6,2024-01-09,12,,\n" +
        "110,8,2023-12-24,,Books,\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness _harness = null!;
    private Dataset _customers = null!;
    private Dataset _orders = null!;
    private AppUser _owner = null!;
    private AppUser _rowRuled = null!;
    private AppUser _columnRuled = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(2024, 6, 15, 12, 0, 0, TimeSpan.Zero)));
        _owner = await _harness.SignInAsNewUserAsync("owner@example.com", Roles.Analyst);
        _customers = await _harness.ImportTextAsync("customers.csv", CustomersCsv);
        _orders = await _harness.ImportTextAsync("orders.csv", OrdersCsv);
        _customers = await _harness.SetRolesAsync(_customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        _orders = await _harness.SetRolesAsync(_orders, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
        });
        await _harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(_orders.Id, "customer_id", _customers.Id, "id"));
        foreach (var dataset in new[] { _customers, _orders })
        {
            await _harness.WithAsync<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Viewer], [], Ct));
        }
        _rowRuled = await _harness.CreateUserAsync("north@example.com", "Correct-horse-9", Roles.Viewer);
        _columnRuled = await _harness.CreateUserAsync("masked@example.com", "Correct-horse-9", Roles.Viewer);

        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        db.UserAttributes.Add(new UserAttribute { UserId = _rowRuled.Id, Name = "Region", Value = "North" });
        var everyRow = new RuleTree { Root = new RuleGroup() }.ToJson();
        var north = new RuleTree
        {
            Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = DataPolicy.Token("Region") }] },
        }.ToJson();
        foreach (var dataset in new[] { _customers, _orders })
        {
            db.RowRules.AddRange(
                new RowRule { DatasetId = dataset.Id, Role = Roles.Viewer, RuleJson = north },
                new RowRule { DatasetId = dataset.Id, UserId = _columnRuled.Id, RuleJson = everyRow },
                new RowRule { DatasetId = dataset.Id, UserId = _owner.Id, RuleJson = everyRow });
        }
        db.ColumnRules.Add(new ColumnRule { DatasetId = _customers.Id, Column = "city", Role = Roles.Viewer, Treatment = ColumnTreatment.Masked });
        await db.SaveChangesAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private void SignIn(AppUser user, string role) => _harness.CurrentUser.Principal = CoreHarness.Principal(user.Id, user.Email!, [role]);

    [Fact]
    public async Task Random_sets_of_questions_fused_give_what_each_gives_alone()
    {
        var fusedQueries = 0;
        var fusedQuestions = 0;
        for (var trial = 0; trial < 150; trial++)
        {
            var random = new Random(4242 + trial);
            var (user, role) = (trial % 3) switch
            {
                0 => (_owner, Roles.Analyst),
                1 => (_rowRuled, Roles.Viewer),
                _ => (_columnRuled, Roles.Viewer),
            };
            SignIn(user, role);
            var shared = new Dictionary<int, RuleNode?>
            {
                [_customers.Id] = random.Next(3) == 0 ? Condition(random, customers: true) : null,
                [_orders.Id] = random.Next(3) == 0 ? Condition(random, customers: false) : null,
            };
            var questions = Enumerable.Range(0, random.Next(2, 7)).Select(_ => Question(random, trial, shared)).ToList();
            var label = $"trial {trial} as {user.Email}";

            var (results, fused) = await _harness.WithAsync<QueryFusion, (IReadOnlyList<Task<QueryResult>>, (int, int))>(async fusion =>
            {
                var answers = await fusion.RunAsync(questions, Ct);
                return (answers, fusion.Fused);
            });
            fusedQueries += fused.Item1;
            fusedQuestions += fused.Item2;

            for (var i = 0; i < questions.Count; i++)
            {
                var alone = await AloneAsync(questions[i]);
                Assert.True(results[i].IsCompletedSuccessfully, $"{label}, question {i}: {results[i].Exception?.InnerException?.Message}");
                var together = await results[i];
                Assert.Equal(alone.Columns, together.Columns);
                Assert.True(Show(alone.Rows).SequenceEqual(Show(together.Rows)),
                    $"{label}, question {i} ({Describe(questions[i])}):\nalone    {string.Join(" ; ", Show(alone.Rows))}\ntogether {string.Join(" ; ", Show(together.Rows))}");
            }
        }
        // Most sets had several questions on one dataset: they were fused, not just run one by one.
        Assert.True(fusedQueries > 100, $"only {fusedQueries} fused queries");
        Assert.True(fusedQuestions > 2 * fusedQueries, $"{fusedQuestions} questions in {fusedQueries} fused queries");
    }

    [Fact]
    public async Task An_empty_group_value_and_a_rolled_up_row_stay_apart()
    {
        SignIn(_owner, Roles.Analyst);
        var byRegion = new QuerySpec
        {
            DatasetId = _customers.Id,
            GroupBy = [new GroupBy("region", Alias: "d0")],
            Measures = [new Measure(MeasureKind.Count, "m0")],
            Sort = [new SortBy("d0")],
        };
        var total = new QuerySpec { DatasetId = _customers.Id, Measures = [new Measure(MeasureKind.Count, "m0"), new Measure(MeasureKind.Sum, "m1", "spend")] };
        var none = new QuerySpec
        {
            DatasetId = _customers.Id,
            Filter = new RuleGroup { Children = [new FieldCondition { Field = "spend", Operator = RuleOperator.Greater, Value = "100000" }] },
            GroupBy = [new GroupBy("vip", Alias: "d0")],
            Measures = [new Measure(MeasureKind.Count, "m0")],
            Sort = [new SortBy("d0")],
        };
        // City is not a Dimension, so its groups are not rolled up from a finer grouping but fused with GROUPING SETS.
        var byCity = byRegion with { GroupBy = [new GroupBy("city", Alias: "d0")], Measures = [new Measure(MeasureKind.CountDistinct, "m0", "region")] };
        var distinct = total with { Measures = [new Measure(MeasureKind.CountDistinct, "m0", "city")] };

        var (rolled, rolledUp) = await _harness.WithAsync<QueryFusion, (IReadOnlyList<Task<QueryResult>>, (int, int))>(async f => (await f.RunAsync([byRegion, total, none], Ct), f.Fused));
        var (sets, groupingSets) = await _harness.WithAsync<QueryFusion, (IReadOnlyList<Task<QueryResult>>, (int, int))>(async f => (await f.RunAsync([byCity, distinct], Ct), f.Fused));

        Assert.Equal((1, 3), rolledUp);
        Assert.Equal(["East|1", "North|3", "South|1", "West|1", "∅|2"], Show((await rolled[0]).Rows));
        Assert.Equal(["8|615.75"], Show((await rolled[1]).Rows));
        Assert.Empty((await rolled[2]).Rows);
        Assert.Equal((1, 2), groupingSets);
        Assert.Equal(["Bergen|1", "Madrid|1", "Oslo|1", "Paris|0", "Rome|1", "∅|1"], Show((await sets[0]).Rows));
        Assert.Equal(["5"], Show((await sets[1]).Rows));
    }

    // ----- random questions -----

    private static readonly string[] CustomerGroups = ["region", "city", "vip", "signup:month", "signup:year", "birth_year", "birth_year:bin"];
    private static readonly string[] OrderGroups = ["category", "region", "customer_id", "order_date:month", "order_date:quarter", "amount:bin"];

    private QuerySpec Question(Random random, int trial, Dictionary<int, RuleNode?> shared)
    {
        var customers = random.Next(2) == 0;
        var dataset = customers ? _customers.Id : _orders.Id;
        var pool = customers ? CustomerGroups : OrderGroups;
        var groups = pool.OrderBy(_ => random.Next()).Take(random.Next(0, 3)).Select((g, i) =>
        {
            var parts = g.Split(':');
            var alias = $"d{i}";
            return parts.Length == 1 ? new GroupBy(parts[0], Alias: alias)
                : parts[1] == "bin" ? new GroupBy(parts[0], Alias: alias) { BinWidth = parts[0] == "amount" ? 250 : 10 }
                : new GroupBy(parts[0], Enum.Parse<DateBucket>(parts[1], ignoreCase: true), alias);
        }).ToList();
        var number = customers ? "spend" : "amount";
        var text = customers ? "city" : "category";
        var measures = Enumerable.Range(0, random.Next(1, 4)).Select(i => random.Next(8) switch
        {
            0 => new Measure(MeasureKind.Count, $"m{i}"),
            1 => new Measure(MeasureKind.Sum, $"m{i}", number),
            2 => new Measure(MeasureKind.Average, $"m{i}", number),
            3 => new Measure(MeasureKind.Min, $"m{i}", number),
            4 => new Measure(MeasureKind.Max, $"m{i}", number),
            5 => new Measure(MeasureKind.CountDistinct, $"m{i}", text),
            6 => new Measure(MeasureKind.Customers, $"m{i}"),
            _ => new Measure(MeasureKind.Median, $"m{i}", number),
        }).ToList();
        var filter = new RuleGroup();
        // New to the result cache every trial, and keeps every row.
        filter.Children.Add(new FieldCondition { Field = customers ? "id" : "order_id", Operator = RuleOperator.Less, Value = (1_000_000 + trial).ToString(CultureInfo.InvariantCulture) });
        if (shared[dataset] is { } common)
        {
            filter.Children.Add(common);
        }
        if (random.Next(3) == 0)
        {
            filter.Children.Add(Condition(random, customers));
        }
        // A total order: a measure first or not, then every grouping (unique per row, empty values included).
        var sort = new List<SortBy>();
        if (groups.Count > 0 && random.Next(2) == 0)
        {
            sort.Add(new SortBy(measures[random.Next(measures.Count)].Alias, random.Next(2) == 0));
        }
        sort.AddRange(groups.Select(g => new SortBy(g.Name, random.Next(3) == 0)));
        return new QuerySpec
        {
            DatasetId = dataset,
            Filter = filter,
            GroupBy = groups,
            Measures = measures,
            Sort = sort,
            Limit = groups.Count > 0 && random.Next(3) == 0 ? random.Next(1, 4) : null,
            Offset = groups.Count > 0 && random.Next(5) == 0 ? random.Next(0, 3) : 0,
        };
    }

    /// <summary>A row condition: some keep most rows, one keeps none.</summary>
    private static RuleNode Condition(Random random, bool customers) => (customers, random.Next(5)) switch
    {
        (true, 0) => new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "North" },
        (true, 1) => new FieldCondition { Field = "spend", Operator = RuleOperator.Greater, Value = "50" },
        (true, 2) => new FieldCondition { Field = "city", Operator = RuleOperator.IsNotEmpty },
        (true, 3) => new RuleGroup { Combinator = Combinator.Or, Children = [new FieldCondition { Field = "vip", Operator = RuleOperator.IsTrue }, new FieldCondition { Field = "region", Operator = RuleOperator.IsEmpty }] },
        (true, _) => new FieldCondition { Field = "spend", Operator = RuleOperator.Greater, Value = "100000" },
        (false, 0) => new FieldCondition { Field = "category", Operator = RuleOperator.Equals, Value = "Toys" },
        (false, 1) => new FieldCondition { Field = "amount", Operator = RuleOperator.Less, Value = "600" },
        (false, 2) => new FieldCondition { Field = "order_date", Operator = RuleOperator.Between, Value = "2024-01-01", Value2 = "2024-06-30" },
        (false, 3) => new RuleGroup { Not = true, Children = [new FieldCondition { Field = "category", Operator = RuleOperator.IsEmpty }] },
        _ => new FieldCondition { Field = "amount", Operator = RuleOperator.Greater, Value = "100000" },
    };

    /// <summary>The question alone: its own compiled SQL for the current user, straight on DuckDB (no cache, no fusion).</summary>
    private async Task<QueryResult> AloneAsync(QuerySpec spec)
    {
        var (query, _) = await _harness.WithAsync<QueryService, (CompiledQuery, string)>(q => q.CompileAsync(spec, Ct));
        await using var connection = await _harness.Services.GetRequiredService<DuckDbWarehouse>().OpenAsync(Ct);
        var rows = await WarehouseCommand.QueryAsync(connection, query.Sql, query.Parameters, r =>
        {
            var values = new object?[r.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            }
            return values;
        }, Ct);
        return new QueryResult(query.Columns, rows, TimeSpan.Zero, false);
    }

    private static List<string> Show(IEnumerable<object?[]> rows) =>
        rows.Select(r => string.Join("|", r.Select(v => v switch
        {
            null or DBNull => "∅",
            string s => s,
            bool b => b ? "true" : "false",
            DateOnly or DateTime => QueryValue.ToText(v)!,
            _ => Math.Round(QueryValue.ToDouble(v)!.Value, 6).ToString(CultureInfo.InvariantCulture),
        }))).ToList();

    private static string Describe(QuerySpec spec) =>
        $"groups {string.Join(",", spec.GroupBy.Select(g => $"{g.Column}{g.Bucket}{g.BinWidth}"))}; measures {string.Join(",", spec.Measures.Select(m => $"{m.Kind}({m.Column})"))}; " +
        $"sort {string.Join(",", spec.Sort.Select(s => $"{s.Name}{(s.Descending ? " desc" : "")}"))}; limit {spec.Limit} offset {spec.Offset}; filter {new RuleTree { Root = spec.Filter! }.ToJson()}";
}
