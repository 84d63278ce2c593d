using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Benchmarks.Scenarios.SqlText;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// RFM of the orders of the <see cref="CustomerOrdersData"/> (N orders, N/10 customers; 10,000,000 and 1,000,000 by
/// default) through <see cref="RfmService.ComputeAsync"/> as the RFM page computes it (default settings: quintiles on R, F
/// and M, the standard grid; reference date the day after the last order; Monetary the sum of the amount; the results
/// saved and published as customer fields), against hand-written DuckDB SQL on the same instance computing the same R, F, M,
/// quintile scores, score code and group into a table of its own.
/// <para>
/// Each run sets the "which rows count" rule to amount at most 1,000,000 plus a thousandth per run (amounts are at most
/// 500, so every order counts and the answer cannot change), on both sides alike, so the query layer's result cache never
/// answers. After every baseline run, the app's published customer fields and the baseline's table are joined customer by
/// customer: every customer in both, R, F, M (M to 1e-9 relative), the three scores, the score code and the group equal.
/// The RFM analysis the runs saved is removed at the end, so the cached data folder keeps no trace.
/// </para>
/// </summary>
public sealed class RfmScenario : Scenario
{
    private const double AmountCeiling = 1_000_000;

    private CustomerOrdersData? _data;
    private PortalHost _host = null!;
    private DuckDbWarehouse _warehouse = null!;
    private int _ordersId;
    private string _ordersTable = null!;
    private string _customerKey = null!;
    private string _date = null!;
    private string _amount = null!;
    private readonly Dictionary<int, (string Table, int Customers)> _app = [];
    private readonly List<TimeSpan> _checks = [];
    private readonly List<string> _onEdge = [];

    public override string Name => "rfm";

    public override string BaselineName => "duckdb-sql";

    public override string Description =>
        "RFM of the orders (default settings: quintile scores on Recency, Frequency and Monetary, the standard group grid, reference " +
        "the day after the last order) through RfmService.ComputeAsync (query layer, scoring, groups, saved analysis, customer fields " +
        "written to the warehouse), as an Admin, against hand-written DuckDB SQL on the same instance computing the same R, F, M, " +
        "quintile scores (rank() window functions), score code and group into a table; both must agree customer by customer every " +
        $"run. --size N: N orders and N/10 customers (default {CustomerOrdersData.DefaultOrders:N0}), the segment-count data.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        _host = _data.Host;
        _warehouse = _data.Warehouse;
        _ordersId = _data.Orders.Id;
        _ordersTable = _data.Orders.TableName;
        var source = RfmService.SourceOf(_data.Orders) ?? throw new InvalidOperationException("The orders have no Customer ID, date and amount roles.");
        if (source.OrderId is not null)
        {
            throw new InvalidOperationException("The orders have an Order ID role; the baseline counts rows as orders.");
        }
        (_customerKey, _date, _amount) = (source.CustomerKey, source.Date, source.Amount);
        await RemoveAnalysisAsync(cancellationToken);
        context.Note($"RFM settings: the defaults (Recency, Frequency and Monetary by quintiles, {RfmGrid.Default.Groups.Count} groups on the R×F grid), " +
            $"reference date the day after the last counted order, Frequency = purchase days, distinct days with an order (no Order ID role), Monetary = sum of {_amount}; " +
            $"rows rule \"{_amount} at most {Ceiling(0)}\" (+0.001 per run, every order counts).");
        context.Note($"Baseline SQL (run 0): {BaselineSql("rfm_baseline_table", Ceiling(0))}");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var input = new RfmInput { RowsJson = RowsRule(Ceiling(run.Index)).ToJson() };
        await using var scope = _host.Services.CreateAsyncScope();
        var rfm = scope.ServiceProvider.GetRequiredService<RfmService>();
        var view = await run.MeasureAsync(() => rfm.ComputeAsync(_ordersId, input, RfmSettings.Default, cancellationToken));
        var summary = view.Result ?? throw new InvalidOperationException("The computed analysis has no result.");
        _app[run.Index] = (await AppTableAsync(cancellationToken), summary.Customers);
        if (run.Index == 1)
        {
            context.Note($"App result (run 1): {summary.Customers:N0} customers, {summary.RowsCounted:N0} orders counted, reference date {summary.ReferenceDate:yyyy-MM-dd}, " +
                $"revenue {summary.TotalRevenue:N2}; groups: {string.Join(", ", summary.Groups.Select(g => $"{g.Group.Name} {g.Customers:N0}"))}.");
        }
        return summary.Customers;
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var table = $"benchmark_rfm_{run.Index}_{Guid.NewGuid().ToString("N")[..8]}";
        var sql = BaselineSql(table, Ceiling(run.Index));
        try
        {
            var rows = await run.MeasureAsync(async () =>
            {
                await using var connection = await _warehouse.OpenAsync(cancellationToken);
                await WarehouseCommand.ExecuteAsync(connection, sql, null, cancellationToken);
                return await WarehouseCommand.ScalarAsync<long>(connection, $"SELECT count(*) FROM {Quote(table)}", null, cancellationToken);
            });
            await AgreeAsync(run.Index, table, rows, cancellationToken);
            return rows;
        }
        finally
        {
            await _warehouse.DropTableAsync(table, CancellationToken.None);
        }
    }

    public override Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        context.Note($"Checked every run (warm-up included): the app's customer fields and the baseline's table, joined on the customer, agree on every " +
            $"customer (R, F, M to 1e-9 relative, R/F/M scores, score code, group); each check took {Format.Seconds(BenchmarkRunner.Median(_checks.Order().ToList()))} (median, not timed).");
        context.Note(_onEdge.Count == 0
            ? "No customer's Monetary sat on a quintile edge with sums differing in the last bit: every score was equal."
            : "Customers whose Monetary equals a quintile edge to 1e-9 and whose M score differed by one, allowed by the check (the amounts are DOUBLE, " +
              "and DuckDB adds a customer's amounts in no fixed order, so a sum can differ in its last bit between two queries or two runs of one; a tie " +
              $"with the edge customer is then broken either way): {string.Join("; ", _onEdge)}.");
        context.Note($"Load average at the end (/proc/loadavg): {LoadAverage()}; this machine is shared with other work, so times move between runs.");
        return Task.CompletedTask;
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_data is not null)
        {
            await RemoveAnalysisAsync(CancellationToken.None);
            await _data.DisposeAsync();
        }
    }

    /// <summary>Joins the app's published fields with the baseline's table on the customer and fails on any difference.</summary>
    private async Task AgreeAsync(int index, string baselineTable, long baselineRows, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!_app.TryGetValue(index, out var app))
        {
            throw new InvalidOperationException($"Run {index} of the baseline has no app run to compare with.");
        }
        var key = $"a.{Quote(CustomerAttributeStore.KeyColumn)}";
        // Everything but the Monetary score (and so the score code) equal, M to 1e-9 relative.
        var same = """
            a.recency_days IS NOT DISTINCT FROM b.recency_days AND a.frequency IS NOT DISTINCT FROM b.frequency
            AND coalesce(abs(a.monetary - b.monetary) <= 1e-9 * greatest(1, abs(b.monetary)), false)
            AND a.r_score IS NOT DISTINCT FROM b.r_score AND a.f_score IS NOT DISTINCT FROM b.f_score
            AND a.rfm_group IS NOT DISTINCT FROM b.rfm_group
            AND a.rfm_score IS NOT DISTINCT FROM CAST(a.r_score AS VARCHAR) || CAST(a.f_score AS VARCHAR) || CAST(a.m_score AS VARCHAR)
            """;
        // The amounts are DOUBLE and DuckDB sums them in parallel, in no fixed order, so a sum can differ in its last bit
        // between two computations. A customer whose M equals a quintile edge (to 1e-9) is then scored one apart, on either
        // side; that is counted and reported, everything else must be equal.
        var compared = $"""
            WITH n AS (SELECT count(*) AS n FROM {Quote(baselineTable)}),
            edges AS (
                SELECT monetary AS edge
                FROM (SELECT monetary, row_number() OVER (ORDER BY monetary) AS position FROM {Quote(baselineTable)}), n
                WHERE position IN ((n + 4) // 5, (2 * n + 4) // 5, (3 * n + 4) // 5, (4 * n + 4) // 5)),
            compared AS (
                SELECT coalesce(CAST({key} AS VARCHAR), CAST(b.customer_id AS VARCHAR)) AS customer,
                       {key} IS NOT NULL AS in_app, b.customer_id IS NOT NULL AS in_sql,
                       ({same}) AND a.m_score = b.m_score AS equal,
                       ({same}) AND abs(a.m_score - b.m_score) = 1
                           AND EXISTS (SELECT 1 FROM edges WHERE abs(b.monetary - edge) <= 1e-9 * greatest(1, abs(edge))) AS on_edge,
                       concat_ws(' ', a.recency_days, a.frequency, a.monetary, a.rfm_score, a.rfm_group) AS app,
                       concat_ws(' ', b.recency_days, b.frequency, b.monetary, b.rfm_score, b.rfm_group) AS sql
                FROM {Quote(app.Table)} a FULL OUTER JOIN {Quote(baselineTable)} b ON {key} = b.customer_id)
            """;
        await using var connection = await _warehouse.OpenAsync(cancellationToken);
        var counts = (await WarehouseCommand.QueryAsync(connection,
            $"""
            {compared}
            SELECT count(*) FILTER (WHERE NOT in_app), count(*) FILTER (WHERE NOT in_sql),
                   count(*) FILTER (WHERE in_app AND in_sql AND NOT coalesce(equal, false) AND NOT coalesce(on_edge, false)),
                   count(*) FILTER (WHERE coalesce(on_edge, false)),
                   count(*)
            FROM compared
            """, null, r => (OnlyBaseline: r.GetInt64(0), OnlyApp: r.GetInt64(1), Differing: r.GetInt64(2), OnEdge: r.GetInt64(3), Total: r.GetInt64(4)),
            cancellationToken))[0];
        if (counts.OnlyBaseline > 0 || counts.OnlyApp > 0 || counts.Differing > 0 || app.Customers != baselineRows)
        {
            var examples = await WarehouseCommand.QueryAsync(connection,
                $"""
                {compared}
                SELECT customer, app, sql FROM compared
                WHERE NOT (in_app AND in_sql AND (coalesce(equal, false) OR coalesce(on_edge, false)))
                ORDER BY customer LIMIT 5
                """, null, r => $"{r.GetValue(0)}: app [{r.GetValue(1)}], SQL [{r.GetValue(2)}]", cancellationToken);
            throw new InvalidOperationException(
                $"The sides disagree on run {index}: the app scored {app.Customers:N0} customers, the SQL {baselineRows:N0}; " +
                $"{counts.OnlyApp:N0} only in the app's, {counts.OnlyBaseline:N0} only in the SQL's, {counts.Differing:N0} with different values. " +
                $"For example (R days, F, M, score, group): {string.Join("; ", examples)}.");
        }
        if (counts.OnEdge > 0)
        {
            var examples = await WarehouseCommand.QueryAsync(connection,
                $"{compared} SELECT customer, app, sql FROM compared WHERE on_edge ORDER BY customer LIMIT 3", null,
                r => $"{r.GetValue(0)}: app [{r.GetValue(1)}], SQL [{r.GetValue(2)}]", cancellationToken);
            _onEdge.Add($"run {index}: {counts.OnEdge:N0} ({string.Join("; ", examples)})");
        }
        _checks.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        ScenarioContext.Log($"  agreed on all {counts.Total:N0} customers ({counts.OnEdge:N0} on a Monetary quintile edge, M scored one apart)");
    }

    /// <summary>The warehouse table holding the app's RFM customer fields now (a new one after every computation).</summary>
    private async Task<string> AppTableAsync(CancellationToken cancellationToken)
    {
        await using var db = await _host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
        var runId = await db.RfmRuns.AsNoTracking().Where(r => r.DatasetId == _ordersId).Select(r => r.Id).SingleAsync(cancellationToken);
        return await db.CustomerAttributeSets.AsNoTracking().Where(s => s.Kind == AttributeSetKind.Rfm && s.SourceId == runId)
            .Select(s => s.TableName).SingleAsync(cancellationToken);
    }

    /// <summary>Removes the orders' saved RFM analysis and its customer fields (from these runs, or an interrupted earlier one).</summary>
    private async Task RemoveAnalysisAsync(CancellationToken cancellationToken)
    {
        await using var db = await _host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
        var runs = await db.RfmRuns.Where(r => r.DatasetId == _ordersId).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            await _host.Services.GetRequiredService<CustomerAttributeStore>().RemoveAsync(AttributeSetKind.Rfm, run.Id, cancellationToken);
            db.RfmRuns.Remove(run);
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    private RuleTree RowsRule(string ceiling) => new()
    {
        Root = new RuleGroup { Children = [new FieldCondition { Field = _amount, Operator = RuleOperator.LessOrEqual, Value = ceiling }] },
    };

    private static string Ceiling(int run) => (AmountCeiling + run * 0.001).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>
    /// RFM as a person would write it for DuckDB: the counted orders, the reference day after the last of them, one
    /// GROUP BY for R, F and M, then each quintile score as 1 + ⌊5 × (customers with a strictly smaller value) ÷ customers⌋
    /// (<c>rank() - 1</c> counts them; Recency turned around), the score code and the group from the grid.
    /// </summary>
    private string BaselineSql(string table, string ceiling) => Flatten(
        $"""
        CREATE TABLE {Quote(table)} AS
        WITH counted AS (
            SELECT {Quote(_customerKey)} AS customer_id, {Quote(_date)} AS order_date, {Quote(_amount)} AS amount
            FROM {Quote(_ordersTable)}
            WHERE {Quote(_customerKey)} IS NOT NULL AND {Quote(_date)} IS NOT NULL AND {Quote(_amount)} <= {ceiling}),
        reference AS (SELECT CAST(max(order_date) AS DATE) + 1 AS day FROM counted),
        per_customer AS (
            SELECT customer_id,
                   date_diff('day', CAST(max(order_date) AS DATE), (SELECT day FROM reference)) AS recency_days,
                   count(DISTINCT CAST(order_date AS DATE)) AS frequency,
                   sum(amount) AS monetary
            FROM counted
            WHERE order_date < (SELECT day FROM reference)
            GROUP BY customer_id),
        scored AS (
            SELECT *,
                   5 - 5 * (rank() OVER (ORDER BY recency_days) - 1) // count(*) OVER () AS r_score,
                   1 + 5 * (rank() OVER (ORDER BY frequency) - 1) // count(*) OVER () AS f_score,
                   1 + 5 * (rank() OVER (ORDER BY monetary) - 1) // count(*) OVER () AS m_score
            FROM per_customer)
        SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
               CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_score,
               {GroupCase()} AS rfm_group
        FROM scored
        """);

    /// <summary>The standard grid as a CASE over the R and F scores.</summary>
    private static string GroupCase() =>
        "CASE r_score * 10 + f_score " +
        string.Join(' ', RfmGrid.Default.Cells.Select(c => $"WHEN {c.R * 10 + c.F} THEN '{c.Group.Replace("'", "''", StringComparison.Ordinal)}'")) +
        " END";

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
