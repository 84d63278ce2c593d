using System.Globalization;
using System.Text;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// Property: for random rule trees, the customers the query layer selects (permission policy, compiler, DuckDB) are the
/// customers <see cref="RuleEvaluator"/> selects in memory. The trees are seeded; a failure names the base seed, the
/// tree's own seed and its JSON, and a smaller tree that still fails.
/// <para>
/// Every difference fails. <see cref="KnownDiscrepancy"/> names the compiler bugs this test once found (now fixed);
/// <see cref="Former_compiler_bugs_stay_fixed"/> keeps one example of each. Environment variables for exploring:
/// RULE_PROPERTY_SEED (base seed), RULE_PROPERTY_TREES (how many), RULE_PROPERTY_STRICT=0 (count differences in trees
/// that reach one of those former bugs instead of failing, to tell a new bug from an old one coming back).
/// </para>
/// </summary>
public sealed class RulePropertyTests(RulePropertyFixture fixture) : IClassFixture<RulePropertyFixture>
{
    internal const ulong DefaultSeed = 0x2024_0229_0001UL;
    internal const int DefaultTrees = 300;
    private const int ReportedFailures = 3;

    [Fact]
    public void Generated_data_has_every_kind_of_value()
    {
        var customers = fixture.Data.Customers;
        foreach (var column in customers.Columns.Where(c => c.Name != RulePropertyData.CustomerKey))
        {
            Assert.Contains(customers.Rows, r => customers.Value(r, column.Name) is null);
        }
        Assert.Contains(customers.Rows, r => customers.Value(r, "name") is string s && s.Length > 0 && string.IsNullOrWhiteSpace(s));
        Assert.Contains(customers.Rows, r => customers.Value(r, "score") is double d && d != Math.Floor(d));
        Assert.Contains(customers.Rows, r => customers.Value(r, "last_login") is DateTime t && t.TimeOfDay > TimeSpan.Zero);
        Assert.InRange(customers.Rows.Count, 300, 310);
        Assert.InRange(fixture.Data.Orders.Rows.Count, 1_500, 2_500);
        var facts = fixture.Evaluator.Customers.Select(c => fixture.Evaluator.FactsOf(c, null)).ToList();
        Assert.Contains(facts, f => f.OrderCount == 0);
        Assert.Contains(facts, f => f.OrderCount >= 5);
        Assert.Contains(facts, f => f.DaysSinceLastOrder < 0);
    }

    [Fact]
    public async Task Rule_trees_select_the_same_customers_in_sql_and_in_memory()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var seed = Setting("RULE_PROPERTY_SEED") is { } s ? ulong.Parse(s, CultureInfo.InvariantCulture) : DefaultSeed;
        var trees = Setting("RULE_PROPERTY_TREES") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : DefaultTrees;
        var strict = Setting("RULE_PROPERTY_STRICT") != "0";
        var population = fixture.Evaluator.Customers.Count();
        var failures = new List<string>();
        var known = new Dictionary<KnownDiscrepancy, int>();
        int none = 0, all = 0, failed = 0;
        for (var i = 0; i < trees; i++)
        {
            var treeSeed = SeededRandom.Derive(seed, i);
            var rule = RulePropertyFixture.RoundTrip(fixture.Generator.Generate(new SeededRandom(treeSeed)));
            var outcome = await CompareAsync(rule, cancellationToken);
            none += outcome.Expected.Ids.Count == 0 ? 1 : 0;
            all += outcome.Expected.Ids.Count == population ? 1 : 0;
            if (!outcome.Failed)
            {
                continue;
            }
            if (!strict && outcome.Expected.Reached.Count > 0)
            {
                foreach (var discrepancy in outcome.Expected.Reached)
                {
                    known[discrepancy] = known.GetValueOrDefault(discrepancy) + 1;
                }
                continue;
            }
            if (++failed <= ReportedFailures)
            {
                var smaller = await ShrinkAsync(rule, cancellationToken);
                failures.Add($"Tree {i} (seed {seed}, tree seed {treeSeed}):\n{outcome.Describe(fixture)}\n" +
                    $"A smaller tree that fails too:\n{(await CompareAsync(smaller, cancellationToken)).Describe(fixture)}");
            }
        }
        var summary = $"Seed {seed}: {trees} trees; {none} select nobody, {all} everybody; {failed} differ" +
            (known.Count == 0 ? "" : $"; differences from known compiler discrepancies: {string.Join(", ", known.Select(k => $"{k.Key} {k.Value}"))}") + ".";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        Assert.True(failed == 0, $"{summary}\n\n{string.Join("\n\n", failures)}");
        // The property says little if most trees select nobody or everybody, or stumble on known bugs.
        Assert.True(none + all < trees / 2, summary);
        Assert.True(known.Values.Sum() < trees / 10, summary);
    }

    /// <summary>
    /// One small example of each compiler bug the property found (see <see cref="KnownDiscrepancy"/>): the query layer
    /// selects what the rules mean.
    /// </summary>
    [Theory]
    [InlineData(KnownDiscrepancy.WholeNumberParameter, """{"kind":"condition","field":"visits","operator":"notEquals","value":"-1.01"}""")]
    [InlineData(KnownDiscrepancy.WholeNumberParameter, """{"kind":"fact","fact":"orderCount","operator":"equals","value":"4.571"}""")]
    [InlineData(KnownDiscrepancy.WholeNumberParameter, """{"kind":"condition","field":"visits","operator":"less","value":"1e20"}""")]
    [InlineData(KnownDiscrepancy.AverageWithoutAmounts, """{"kind":"fact","fact":"averageAmount","operator":"lessOrEqual","value":"0"}""")]
    [InlineData(KnownDiscrepancy.EmptinessOfNumberFact, """{"kind":"fact","fact":"daysSinceLastOrder","operator":"isEmpty"}""")]
    [InlineData(KnownDiscrepancy.TabsAreNotEmpty, """{"kind":"condition","field":"name","operator":"isEmpty"}""")]
    [InlineData(KnownDiscrepancy.DateBeforeYearOne, """{"kind":"condition","field":"signup","operator":"inLast","value":"613566757","unit":"weeks"}""")]
    [InlineData(KnownDiscrepancy.DateBeforeYearOne, """{"kind":"condition","field":"signup","operator":"inLast","value":"5000","unit":"years"}""")]
    [InlineData(KnownDiscrepancy.DateBeforeYearOne, """{"kind":"fact","fact":"orderCount","windowDays":1000000,"operator":"greater","value":"0"}""")]
    public async Task Former_compiler_bugs_stay_fixed(KnownDiscrepancy discrepancy, string condition)
    {
        var rule = RuleTree.FromJson("""{"version":1,"root":{"combinator":"and","children":[""" + condition + "]}}").Root;
        var outcome = await CompareAsync(rule, TestContext.Current.CancellationToken);

        Assert.Contains(discrepancy, outcome.Expected.Reached);
        Assert.False(outcome.Failed, outcome.Describe(fixture));
    }

    private static string? Setting(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private sealed record Outcome(RuleGroup Rule, Evaluation Expected, IReadOnlyList<long>? Actual, Exception? Error)
    {
        public bool Failed => Error is not null || !Expected.Ids.SequenceEqual(Actual!);

        public string Describe(RulePropertyFixture fixture)
        {
            var text = new StringBuilder(new RuleTree { Root = Rule }.ToIndentedJson()).Append('\n');
            if (Expected.Reached.Count > 0)
            {
                text.Append($"Reaches known discrepancies: {string.Join(", ", Expected.Reached)}.\n");
            }
            if (Error is not null)
            {
                return text.Append($"The query failed: {Error.GetType().Name}: {Error.Message}").ToString();
            }
            var missing = Expected.Ids.Except(Actual!).ToList();
            var extra = Actual!.Except(Expected.Ids).ToList();
            text.Append($"Expected {Expected.Ids.Count} customers, the query selected {Actual!.Count}. ");
            text.Append($"Only expected: [{string.Join(", ", missing.Take(10))}]; only selected: [{string.Join(", ", extra.Take(10))}].\n");
            var customers = fixture.Data.Customers;
            foreach (var id in missing.Concat(extra).Take(3))
            {
                var rows = customers.Cells.Where(c => c[0] == id.ToString(CultureInfo.InvariantCulture))
                    .Select(c => string.Join(" | ", c.Select((v, k) => $"{customers.Columns[k].Name}={(v is null ? "∅" : $"«{v}»")}")));
                text.Append($"  {string.Join(" / ", rows)}; all-time facts {fixture.Evaluator.FactsOf(id, null)}\n");
            }
            return text.ToString();
        }
    }

    private async Task<Outcome> CompareAsync(RuleGroup rule, CancellationToken cancellationToken)
    {
        var expected = fixture.Evaluator.Evaluate(rule);
        try
        {
            var ids = await fixture.IdsAsync(rule, cancellationToken);
            var count = await fixture.CountAsync(rule, cancellationToken);
            return new Outcome(rule, expected, ids, count == ids.Count ? null
                : new InvalidOperationException($"The count says {count} customers, the member list has {ids.Count}."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new Outcome(rule, expected, null, ex);
        }
    }

    /// <summary>Removes nodes, lifts children out of groups and drops NOTs while the tree still fails.</summary>
    private async Task<RuleGroup> ShrinkAsync(RuleGroup rule, CancellationToken cancellationToken)
    {
        var current = rule;
        for (var attempts = 0; attempts < 400;)
        {
            RuleGroup? next = null;
            foreach (var candidate in Smaller(current))
            {
                attempts++;
                if ((await CompareAsync(candidate, cancellationToken)).Failed)
                {
                    next = candidate;
                    break;
                }
            }
            if (next is null)
            {
                break;
            }
            current = next;
        }
        return current;
    }

    private static IEnumerable<RuleGroup> Smaller(RuleGroup group)
    {
        RuleGroup With(Func<List<RuleNode>, List<RuleNode>> children, bool? not = null) =>
            new() { Id = group.Id, Combinator = group.Combinator, Not = not ?? group.Not, Children = children([.. group.Children]) };

        if (group.Children is [RuleGroup only] && !group.Not)
        {
            yield return only;
        }
        for (var i = 0; i < group.Children.Count; i++)
        {
            var index = i;
            yield return With(c => { c.RemoveAt(index); return c; });
        }
        if (group.Not)
        {
            yield return With(c => c, not: false);
        }
        for (var i = 0; i < group.Children.Count; i++)
        {
            if (group.Children[i] is not RuleGroup child)
            {
                continue;
            }
            var index = i;
            foreach (var grandchild in child.Children)
            {
                yield return With(c => { c[index] = grandchild; return c; });
            }
            foreach (var smaller in Smaller(child))
            {
                yield return With(c => { c[index] = smaller; return c; });
            }
        }
    }
}
