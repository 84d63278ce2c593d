using System.Text.RegularExpressions;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>A question to fuse: its spec, and the conditions it has beyond the rows every member reads (null: none).</summary>
internal sealed record FusionMember(QuerySpec Spec, RuleGroup? Residual);

/// <summary>One member's place in a fused result: its column names, where each is in the fused row, and (without grouping) its measures.</summary>
internal sealed record FusedPart(IReadOnlyList<string> Names, IReadOnlyList<int> Columns, IReadOnlyList<MeasureKind>? EmptyMeasures);

/// <summary>A fused query and how to split its result back into each member's.</summary>
internal sealed record FusedQuery(CompiledQuery Query, IReadOnlyList<FusedPart> Parts);

/// <summary>
/// Query fusion: several questions asked at once (the tiles of a board as it loads, or one tile's several queries)
/// that read the same dataset are answered by one query where they can be: different groupings of the same rows as
/// <c>GROUPING SETS</c>, measures side by side, a member's own extra conditions as <c>FILTER</c>s (see
/// <see cref="QueryCompiler.CompileFused"/>), then split back into each question's own result.
/// <para>
/// Each question still goes through the whole query path for the asking user (<see cref="QueryService.CompileAsync"/>:
/// dataset grants, row and column rules), and its result is cached under its own key exactly as if it had run alone: a
/// question already cached is answered from there and not fused, and the fused answer fills each member's cache entry,
/// so no question's cache hit depends on what it was asked with. The fused query reads the dataset through the same
/// permission policy (the same derived table of the user's rows and columns). Questions that cannot be fused (row
/// lists, customer facts as groups, segments or facts in a member's own conditions) and a fused query that fails run
/// one by one as before.
/// </para>
/// </summary>
public sealed partial class QueryFusion(QueryService queries, PermissionPolicy policy, QueryExecutor executor)
{
    /// <summary>The most distinct groupings one fused query holds (its grouping-set number is a sum of powers of two).</summary>
    public const int MaxGroupings = 24;

    private int _fusedQueries;
    private int _fusedQuestions;

    /// <summary>Fused queries this instance ran, and the questions they answered (for tests and diagnostics).</summary>
    internal (int Queries, int Questions) Fused => (_fusedQueries, _fusedQuestions);

    /// <summary>
    /// Every spec's result, in order; each task ends with the spec's result or the error it would give alone. Runs
    /// what it cannot fuse concurrently beside the fused queries (the executor's per-user limit applies to all).
    /// </summary>
    public async Task<IReadOnlyList<Task<QueryResult>>> RunAsync(IReadOnlyList<QuerySpec> specs, CancellationToken cancellationToken = default)
    {
        var outcomes = new TaskCompletionSource<QueryResult>[specs.Count];
        var compiled = new (CompiledQuery Query, string User)?[specs.Count];
        for (var i = 0; i < specs.Count; i++)
        {
            outcomes[i] = new TaskCompletionSource<QueryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                compiled[i] = await queries.CompileAsync(specs[i], cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcomes[i].SetException(ex);
                continue;
            }
            if (executor.TryCached(compiled[i]!.Value.Query, out var cached))
            {
                outcomes[i].SetResult(cached!);
            }
        }

        // The same question twice is asked once.
        var pending = Enumerable.Range(0, specs.Count).Where(i => !outcomes[i].Task.IsCompleted).ToList();
        var byKey = pending.GroupBy(i => QueryExecutor.CacheKey(compiled[i]!.Value.Query)).ToList();
        var firsts = byKey.Select(g => g.First()).ToList();
        var work = new List<Task>();
        var alone = new List<int>();
        foreach (var dataset in firsts.GroupBy(i => specs[i].DatasetId))
        {
            var (groups, rest) = await PlanAsync(dataset.ToList(), specs, cancellationToken);
            alone.AddRange(rest);
            work.AddRange(groups.Select(g => RunFusedAsync(g, specs, compiled, outcomes, cancellationToken)));
        }
        work.AddRange(alone.Select(i => RunAloneAsync(i, compiled, outcomes, cancellationToken)));
        await Task.WhenAll(work);
        foreach (var group in byKey)
        {
            var first = outcomes[group.First()].Task;
            foreach (var i in group.Skip(1))
            {
                _ = first.ContinueWith(t => Copy(t, outcomes[i]), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        return outcomes.Select(o => o.Task).ToList();
    }

    /// <summary>The fused queries <see cref="RunAsync"/> would run for these specs (none cached), for diagnostics.</summary>
    internal async Task<IReadOnlyList<CompiledQuery>> FusedQueriesAsync(IReadOnlyList<QuerySpec> specs, CancellationToken cancellationToken = default)
    {
        var fused = new List<CompiledQuery>();
        foreach (var dataset in Enumerable.Range(0, specs.Count).GroupBy(i => specs[i].DatasetId))
        {
            var (groups, _) = await PlanAsync(dataset.ToList(), specs, cancellationToken);
            foreach (var group in groups)
            {
                var members = group.Members.Select((i, k) => new FusionMember(specs[i], group.Residuals[k])).ToList();
                fused.Add((await CompileFusedAsync(group.Common, members, cancellationToken)).Query);
            }
        }
        return fused;
    }

    private static void Copy(Task<QueryResult> from, TaskCompletionSource<QueryResult> to)
    {
        if (from.IsCompletedSuccessfully)
        {
            to.TrySetResult(from.Result);
        }
        else if (from.IsCanceled)
        {
            to.TrySetCanceled();
        }
        else
        {
            to.TrySetException(from.Exception!.InnerExceptions);
        }
    }

    private sealed record FusionGroup(RuleGroup Common, IReadOnlyList<int> Members, IReadOnlyList<RuleGroup?> Residuals);

    /// <summary>
    /// Which questions on one dataset fuse and which run alone: those that roll up (see <see cref="RollsUp"/>) fuse with
    /// each other, the other grouped questions with each other.
    /// </summary>
    private async Task<(List<FusionGroup> Groups, List<int> Alone)> PlanAsync(List<int> indexes, IReadOnlyList<QuerySpec> specs, CancellationToken cancellationToken)
    {
        var fusable = indexes.Where(i => Fusable(specs[i])).ToList();
        if (fusable.Count < 2)
        {
            return ([], indexes);
        }
        QueryDataset dataset;
        try
        {
            dataset = (await policy.AuthorizeAsync(new QuerySpec { DatasetId = specs[fusable[0]].DatasetId }, cancellationToken)).Context.Dataset;
        }
        catch (PortalException)
        {
            // Each question alone gives its own answer or refusal.
            return ([], indexes);
        }
        // Fused SQL is written for engines with FILTER and NULLS LAST (DuckDB, PostgreSQL); on SQL Server each question
        // runs alone.
        if (SqlDialects.For(dataset) is TSqlDialect)
        {
            return ([], indexes);
        }
        var rolling = fusable.Where(i => RollsUp(specs[i], dataset)).ToList();
        // A grouping by a customer or order key has about as many groups as rows: in GROUPING SETS it would compute every
        // other question's measures for each of them (measured slower than running it alone), so it runs alone.
        var keyed = fusable.Where(i => specs[i].GroupBy.Any(g => g.Bucket is null && g.BinWidth is null
            && dataset.Field(g.Column)?.Role is FieldRole.CustomerId or FieldRole.OrderId)).ToList();
        var (groups, alone) = Plan(rolling, specs, MaxRollupGroupings);
        alone.AddRange(keyed);
        var (more, rest) = Plan(indexes.Except(rolling).Except(keyed).ToList(), specs, MaxGroupings);
        groups.AddRange(more);
        alone.AddRange(rest);
        return (groups, alone);
    }

    /// <summary>Which questions fuse (the rows all of them read, each one's extra conditions) and which run alone.</summary>
    private static (List<FusionGroup> Groups, List<int> Alone) Plan(List<int> indexes, IReadOnlyList<QuerySpec> specs, int maxGroupings)
    {
        var fusable = indexes.Where(i => Fusable(specs[i])).ToList();
        var alone = indexes.Except(fusable).ToList();
        var groups = new List<FusionGroup>();
        while (fusable.Count >= 2)
        {
            var conjuncts = fusable.ToDictionary(i => i, i => Conjuncts(specs[i].Filter).Select(c => (Node: c, Text: Canonical(c))).ToList());
            // The rows every member reads: the conditions all of them have.
            var shared = conjuncts[fusable[0]].Where(c => fusable.All(i => conjuncts[i].Any(o => o.Text == c.Text))).DistinctBy(c => c.Text).ToList();
            var members = new List<int>();
            var residuals = new List<RuleGroup?>();
            var groupings = new HashSet<GroupBy>();
            foreach (var i in fusable)
            {
                var own = conjuncts[i].Where(c => shared.All(s => s.Text != c.Text)).Select(c => c.Node).ToList();
                var more = specs[i].GroupBy.Select(g => g with { Alias = null }).Where(g => !groupings.Contains(g)).ToList();
                // Only plain row conditions become a member's FILTER; too many groupings wait for the next round.
                if (!own.All(RowCondition) || groupings.Count + more.Count > maxGroupings)
                {
                    continue;
                }
                groupings.UnionWith(more);
                members.Add(i);
                residuals.Add(own.Count == 0 ? null : new RuleGroup { Children = own });
            }
            if (members.Count < 2)
            {
                alone.Add(fusable[0]);
                fusable.RemoveAt(0);
                continue;
            }
            groups.Add(new FusionGroup(new RuleGroup { Children = shared.Select(s => s.Node).ToList() }, members, residuals));
            fusable = fusable.Except(members).ToList();
        }
        alone.AddRange(fusable);
        return (groups, alone);
    }

    /// <summary>The most distinct groupings one rolled-up fused query groups by (their values multiply into its rows).</summary>
    public const int MaxRollupGroupings = 4;

    /// <summary>
    /// A question whose measures add up across groups (counts, sums, lowest, highest, averages; customers where each
    /// row is one) and whose groupings have few values (periods, bins, Dimension columns, yes/no): it can be answered
    /// from a finer grouping of the same rows (see <see cref="QueryCompiler.CompileFused"/>).
    /// </summary>
    internal static bool RollsUp(QuerySpec spec, QueryDataset dataset) =>
        spec.Measures.All(m => m.Kind is MeasureKind.Count or MeasureKind.Sum or MeasureKind.Min or MeasureKind.Max or MeasureKind.Average or MeasureKind.Customers)
        && spec.GroupBy.All(g => g.Bucket is not null || g.BinWidth is not null
            || dataset.Field(g.Column) is { } field && (field.Role == FieldRole.Dimension || field.Kind == FieldKind.Boolean));

    /// <summary>Grouped questions of measures; not row lists, member lists, customer facts as groups or columns.</summary>
    private static bool Fusable(QuerySpec spec) =>
        spec.Measures.Count > 0 && !spec.DistinctCustomers && spec.Facts.Count == 0 && spec.GroupBy.All(g => g.Fact is null)
        && spec.Sort.All(s => spec.GroupBy.Any(g => g.Name == s.Name) || spec.Measures.Any(m => m.Alias == s.Name));

    private static bool RowCondition(RuleNode node) =>
        node is FieldCondition || (node is RuleGroup group && group.Descendants().All(d => d is FieldCondition or RuleGroup));

    /// <summary>The parts of a filter that must all hold (nested ANDs flattened; anything else is one part).</summary>
    private static IEnumerable<RuleNode> Conjuncts(RuleGroup? filter) =>
        filter is null ? []
        : filter is { Not: false, Combinator: Combinator.And } ? filter.Children.SelectMany(c => c is RuleGroup g ? Conjuncts(g) : [c])
        : [filter];

    [GeneratedRegex("\"id\":\"[^\"]*\",?")]
    private static partial Regex NodeId();

    /// <summary>A rule node as text without its ids: two nodes that mean the same read the same.</summary>
    internal static string Canonical(RuleNode node) =>
        NodeId().Replace(new RuleTree { Root = new RuleGroup { Children = [node] } }.ToJson(), "");

    private async Task RunAloneAsync(int i, (CompiledQuery Query, string User)?[] compiled, TaskCompletionSource<QueryResult>[] outcomes, CancellationToken cancellationToken)
    {
        try
        {
            outcomes[i].TrySetResult(await executor.ExecuteAsync(compiled[i]!.Value.Query, compiled[i]!.Value.User, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcomes[i].TrySetCanceled(cancellationToken);
        }
        catch (Exception ex)
        {
            outcomes[i].TrySetException(ex);
        }
    }

    private async Task RunFusedAsync(
        FusionGroup group, IReadOnlyList<QuerySpec> specs, (CompiledQuery Query, string User)?[] compiled,
        TaskCompletionSource<QueryResult>[] outcomes, CancellationToken cancellationToken)
    {
        IReadOnlyList<QueryResult> results;
        try
        {
            var members = group.Members.Select((i, k) => new FusionMember(specs[i], group.Residuals[k])).ToList();
            var fused = await CompileFusedAsync(group.Common, members, cancellationToken);
            var result = await executor.ExecuteAsync(fused.Query, compiled[group.Members[0]]!.Value.User, cancellationToken);
            results = QueryCompiler.SplitFused(fused, result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            foreach (var i in group.Members)
            {
                outcomes[i].TrySetCanceled(cancellationToken);
            }
            return;
        }
        catch (Exception ex) when (ex is PortalException or InvalidOperationException or DuckDB.NET.Data.DuckDBException or NotSupportedException)
        {
            // Whatever kept the fused query from running, each question alone gives its own answer or error.
            await Task.WhenAll(group.Members.Select(i => RunAloneAsync(i, compiled, outcomes, cancellationToken)));
            return;
        }
        Interlocked.Increment(ref _fusedQueries);
        Interlocked.Add(ref _fusedQuestions, group.Members.Count);
        for (var k = 0; k < group.Members.Count; k++)
        {
            var (query, _) = compiled[group.Members[k]]!.Value;
            executor.Remember(query, results[k]);
            outcomes[group.Members[k]].TrySetResult(results[k]);
        }
    }

    /// <summary>
    /// The fused query for the current user: the dataset and everything its members name (their segments) authorized
    /// and restricted by the permission policy, as for any one question.
    /// </summary>
    private async Task<FusedQuery> CompileFusedAsync(RuleGroup common, IReadOnlyList<FusionMember> members, CancellationToken cancellationToken)
    {
        var spec = new QuerySpec
        {
            DatasetId = members[0].Spec.DatasetId,
            Filter = common,
            Measures = members.SelectMany(m => m.Spec.Measures.Select(x => x with { Where = Both(x.Where, m.Residual) })).ToList(),
        };
        var authorized = await policy.AuthorizeAsync(spec, cancellationToken);
        var context = authorized.Context;
        if (spec.Measures.Any(m => m.Kind == MeasureKind.Customers) && context.Dataset.WithRole(FieldRole.CustomerId) is { } key)
        {
            context = context with { CustomerKeyUnique = await executor.IsUniqueAsync(context.Dataset, key.Name, context.Dialect, cancellationToken) };
        }
        return QueryCompiler.CompileFused(common, members, context);
    }

    private static RuleNode? Both(RuleNode? a, RuleGroup? b) => a is null ? b : b is null ? a : new RuleGroup { Children = [b, a] };
}
