using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// The one entry point features call to ask a question of the warehouse. A spec goes through the stages of the query
/// path: authorize, resolve and restrict (<see cref="PermissionPolicy"/>, <see cref="QueryResolver"/>, asking
/// <see cref="Access.Authorizer"/>), compile (<see cref="QueryCompiler"/>, for a <see cref="ISqlDialect"/>), then
/// cache and execute (<see cref="QueryExecutor"/>).
/// </summary>
public sealed class QueryService(PermissionPolicy policy, QueryExecutor executor)
{
    public async Task<QueryResult> RunAsync(QuerySpec spec, CancellationToken cancellationToken = default)
    {
        var (compiled, user) = await CompileAsync(spec, cancellationToken);
        return await executor.ExecuteAsync(compiled, user, cancellationToken);
    }

    /// <summary>
    /// <see cref="RunAsync"/> over at most <paramref name="maxRows"/> rows of a live dataset (the first rows its source
    /// returns, for profiles of large tables); the user's row and column rules apply to those rows as always. An
    /// imported dataset is read whole.
    /// </summary>
    public async Task<QueryResult> RunSampledAsync(QuerySpec spec, int maxRows, CancellationToken cancellationToken = default)
    {
        var (compiled, user) = await CompileAsync(spec, maxRows, cancellationToken);
        return await executor.ExecuteAsync(compiled, user, cancellationToken);
    }

    /// <summary>
    /// <see cref="RunAsync"/> for big results: the same permission policy and compiled SQL, each row handed to
    /// <paramref name="read"/> (with the result's column names) instead of being kept as boxed values; nothing is cached.
    /// </summary>
    public async Task ReadAsync(QuerySpec spec, Action<IReadOnlyList<string>, DuckDB.NET.Data.DuckDBDataReader> read, CancellationToken cancellationToken = default)
    {
        var (compiled, user) = await CompileAsync(spec, cancellationToken);
        await executor.ReadAsync(compiled, user, reader => read(compiled.Columns, reader), cancellationToken);
    }

    /// <summary>The SQL <see cref="RunAsync"/> would run for the current user, and the user key it runs under.</summary>
    public Task<(CompiledQuery Query, string User)> CompileAsync(QuerySpec spec, CancellationToken cancellationToken = default) =>
        CompileAsync(spec, sampleRows: null, cancellationToken);

    private async Task<(CompiledQuery Query, string User)> CompileAsync(QuerySpec spec, int? sampleRows, CancellationToken cancellationToken)
    {
        var authorized = await policy.AuthorizeAsync(spec, cancellationToken);
        var context = authorized.Context;
        if (sampleRows is { } rows && context.Dataset.Live is { } live)
        {
            context = context with { Dataset = context.Dataset with { Live = LiveMixing.Sampled(live, rows) } };
        }
        // Customers are counted as distinct keys; where the keys are unique a plain count gives the same and is cheaper.
        // The same holds for one row per customer (a member list): unique keys need no de-duplication.
        if ((spec.DistinctCustomers || spec.Measures.Any(m => m.Kind == MeasureKind.Customers)) && context.Dataset.WithRole(FieldRole.CustomerId) is { } key)
        {
            context = context with { CustomerKeyUnique = await executor.IsUniqueAsync(context.Dataset, key.Name, context.Dialect, cancellationToken) };
        }
        return (QueryCompiler.Compile(authorized.Spec, context), authorized.User.Identity?.Name ?? "anonymous");
    }

    /// <summary>What is incomplete in a rule over a dataset, by node id (for marking it in the builder).</summary>
    public async Task<IReadOnlyList<RuleProblem>> CheckAsync(int datasetId, Rules.RuleGroup rule, CancellationToken cancellationToken = default)
    {
        var authorized = await policy.AuthorizeAsync(new QuerySpec { DatasetId = datasetId, Filter = rule }, cancellationToken);
        return QueryCompiler.Check(rule, authorized.Context);
    }
}
