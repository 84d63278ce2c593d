using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Benchmarks.Scenarios.SqlText;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// The count of a segment whose rule mixes customer fields with order facts, through the app's query layer
/// (<see cref="QueryService"/>: <see cref="PermissionPolicy"/> → <see cref="QueryCompiler"/> → <see cref="QueryExecutor"/>,
/// the spec <see cref="SegmentService"/> counts a segment's customers with), against the same question as hand-written
/// DuckDB SQL on the same warehouse tables (one GROUP BY over the orders of the customers the field conditions leave),
/// through the same DuckDB instance (same file, threads and memory_limit; a connection of its own per run, as the
/// executor opens one).
/// <para>
/// The data (a customer list and its orders, N orders and N/10 customers) is <see cref="CustomerOrdersData"/>: generated
/// once, imported through the app's own import job, given its roles and related, cached under results/cache and shared
/// with the dashboard scenario. Import time is not part of this scenario.
/// </para>
/// <para>
/// Every run asks with a slightly different spend threshold (1000.005 plus a hundred-thousandth per run; amounts have
/// two decimals, so the answer cannot change), on both sides alike, so the executor's result cache never answers; the
/// sides must agree on the count every run. After the timed runs, the builder's whole live count
/// (<see cref="SegmentService.CountAsync"/>: matching, all customers and what each condition alone matches) is timed
/// against hand-written SQL for the same figures, and pandas answers the question on the same generated files when a
/// Python with pandas is available; both are reported as extra rows.
/// </para>
/// </summary>
public sealed class SegmentCountScenario : Scenario
{
    // The question, in one place for all sides.
    private static readonly string[] Regions = ["North", "East"];
    private const int SpendDays = 90;
    private const double SpendThreshold = 1000.005;
    private const int OrderDays = 365;
    private const int MinOrders = 5;
    private const int RecentDays = 30;
    private const string BoughtCategory = "Electronics";

    // Run indexes (and so thresholds) of the three series, apart so no two runs ask the very same question.
    private const int LiveCountSeries = 101;
    private const int PandasSeries = 202;

    private CustomerOrdersData? _data;
    private PortalHost _host = null!;
    private DuckDbWarehouse _warehouse = null!;
    private int _customersId;
    private string _customersTable = null!;
    private string _ordersTable = null!;
    private string _customersCsv = null!;
    private string _ordersCsv = null!;
    private readonly Dictionary<int, long> _appCounts = [];

    public override string Name => "segment-count";

    public override string BaselineName => "duckdb-sql";

    public override string Description =>
        "The count of customers matching a 6-condition nested rule with order facts (region in North/East, is active, " +
        "(spent > 1000 in the last 90 days or at least 5 orders in the last 365 days), not (days since last order < 30), " +
        "bought Electronics), through the app's query layer (QueryService: PermissionPolicy, QueryCompiler, QueryExecutor, as " +
        "SegmentService counts a segment), as an Admin, against hand-written DuckDB SQL for the same question (one GROUP BY " +
        "over the candidate customers' orders) on the same DuckDB instance; then the builder's full live count " +
        "(SegmentService.CountAsync) against SQL for the same " +
        "figures, and pandas on the same data where python3 has pandas. --size N: N orders and N/10 customers (default " +
        $"{CustomerOrdersData.DefaultOrders:N0}), generated, imported through the app and cached under results/cache.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        _host = _data.Host;
        _warehouse = _data.Warehouse;
        _customersId = _data.Customers.Id;
        _customersTable = _data.Customers.TableName;
        _ordersTable = _data.Orders.TableName;
        _customersCsv = _data.CustomersCsv;
        _ordersCsv = _data.OrdersCsv;

        var rule = Rule(Threshold(0));
        context.Note($"Rule: {RuleSummary.Describe(new RuleTree { Root = rule }, _ => null)}");
        context.Note($"Rule JSON: {new RuleTree { Root = rule }.ToJson()}");
        var compiled = await CompileAsync(CountSpec(rule), cancellationToken);
        context.Note($"App SQL (QueryCompiler, run 0): {compiled.Sql}");
        context.Note($"App parameters: {SqlText.Parameters(compiled)}");
        context.Note($"Baseline SQL (run 0): {BaselineSql(Threshold(0))}");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var spec = CountSpec(Rule(Threshold(run.Index)));
        await using var scope = _host.Services.CreateAsyncScope();
        var queries = scope.ServiceProvider.GetRequiredService<QueryService>();
        var result = await run.MeasureAsync(() => queries.RunAsync(spec, cancellationToken));
        if (result.FromCache)
        {
            throw new InvalidOperationException("The app's count came from the result cache; the run measured nothing.");
        }
        run.RecordExtra("sql", result.Elapsed);
        var count = Convert.ToInt64(result.Scalar("n"), CultureInfo.InvariantCulture);
        _appCounts[run.Index] = count;
        return count;
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var sql = BaselineSql(Threshold(run.Index));
        var count = await run.MeasureAsync(async () =>
        {
            await using var connection = await _warehouse.OpenAsync(cancellationToken);
            return await WarehouseCommand.ScalarAsync<long>(connection, sql, null, cancellationToken);
        });
        if (!_appCounts.TryGetValue(run.Index, out var app) || app != count)
        {
            throw new InvalidOperationException(
                $"The sides disagree on run {run.Index}: the app counted {(_appCounts.TryGetValue(run.Index, out var a) ? a.ToString("N0", CultureInfo.InvariantCulture) : "nothing")}, " +
                $"the hand-written SQL {count:N0}.");
        }
        return count;
    }

    public override async Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var appRuns = measurements.Where(m => m.Side == Side.App).ToList();
        var appMedian = Median(appRuns.Select(m => m.Elapsed));
        var sql = Median(appRuns.Select(m => m.Extras["sql"]));
        context.Note($"App count by part (medians): the compiled SQL on the warehouse (QueryExecutor's own stopwatch) {Format.Seconds(sql)}; " +
            $"everything else (permission policy and its metadata reads, compiling, cache key, connection) {Format.Seconds(Median(appRuns.Select(m => m.Elapsed - m.Extras["sql"])))}.");
        var count = _appCounts[1];
        await LiveCountAsync(context, cancellationToken);
        await PandasAsync(context, appMedian, count, cancellationToken);
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_data is not null)
        {
            await _data.DisposeAsync();
        }
    }

    /// <summary>
    /// The builder's whole live count (<see cref="SegmentService.CountAsync"/>: the rule, all customers and each condition
    /// on its own, one query) against hand-written SQL for the same eight figures; a warm-up and as many runs as the main
    /// comparison, alternating.
    /// </summary>
    private async Task LiveCountAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var rule = Rule(Threshold(LiveCountSeries));
        var conditions = rule.Descendants().Where(n => n is not RuleGroup).ToList();
        var liveSpec = new QuerySpec
        {
            DatasetId = _customersId,
            Measures =
            [
                new(MeasureKind.Customers, "total"),
                new(MeasureKind.Customers, "matching", Where: rule),
                .. conditions.Select(c => new Measure(MeasureKind.Customers, "c_" + c.Id, Where: c)),
            ],
        };
        var compiled = await CompileAsync(liveSpec, cancellationToken);
        context.Note($"Live count: the app's SQL (as SegmentService.CountAsync builds it) has {Ctes(compiled.Sql)} CTEs over the orders " +
            $"and {Occurrences(compiled.Sql, "LEFT JOIN")} LEFT JOINs: {compiled.Sql}");
        context.Note($"Live count: baseline SQL: {LiveCountSql(Threshold(LiveCountSeries))}");

        var app = new List<RunMeasurement>();
        var baseline = new List<RunMeasurement>();
        for (var i = 0; i <= context.Runs; i++)
        {
            var threshold = Threshold(LiveCountSeries + i);
            var appRun = new RunContext(context.Paths, Side.App, i, isWarmup: i == 0);
            await using var scope = _host.Services.CreateAsyncScope();
            var segments = scope.ServiceProvider.GetRequiredService<SegmentService>();
            var tree = Rule(threshold);
            var live = await appRun.MeasureAsync(() => segments.CountAsync(_customersId, tree, cancellationToken));
            if (live.Problems.Count > 0)
            {
                throw new InvalidOperationException($"The live count skipped conditions: {string.Join("; ", live.Problems.Select(p => p.Message))}");
            }

            var baselineRun = new RunContext(context.Paths, Side.Baseline, i, isWarmup: i == 0);
            var sql = LiveCountSql(threshold);
            var figures = await baselineRun.MeasureAsync(async () =>
            {
                await using var connection = await _warehouse.OpenAsync(cancellationToken);
                return (await WarehouseCommand.QueryAsync(connection, sql, null, r =>
                    Enumerable.Range(0, r.FieldCount).ToDictionary(r.GetName, c => Convert.ToInt64(r.GetValue(c), CultureInfo.InvariantCulture)), cancellationToken))[0];
            });
            var expected = live.ByCondition.ToDictionary(c => "c_" + c.Key, c => c.Value);
            expected["matching"] = live.Matching;
            expected["total"] = live.Total;
            var differing = expected.Where(e => figures.GetValueOrDefault(e.Key, -1) != e.Value).Select(e => $"{e.Key}: app {e.Value:N0}, SQL {figures.GetValueOrDefault(e.Key, -1):N0}").ToList();
            if (differing.Count > 0 || figures.Count != expected.Count)
            {
                throw new InvalidOperationException($"The live counts disagree on run {i}: {string.Join("; ", differing)}.");
            }
            var a = appRun.Complete(live.Matching);
            var b = baselineRun.Complete(figures["matching"]);
            ScenarioContext.Log($"live count {(i == 0 ? "warm-up" : $"run {i}/{context.Runs}")}: app {Format.Seconds(a.Elapsed)}, duckdb-sql {Format.Seconds(b.Elapsed)}");
            if (i > 0)
            {
                app.Add(a);
                baseline.Add(b);
            }
            if (i == 1)
            {
                context.Note($"Live count figures: matching {live.Matching:N0} of {live.Total:N0} customers ({live.Share:P1}); each condition alone: " +
                    string.Join(", ", conditions.Select(c => $"{c.Id} {live.ByCondition[c.Id]:N0}")) + ".");
            }
        }
        var ratio = Median(app.Select(m => m.Elapsed)).TotalMilliseconds / Median(baseline.Select(m => m.Elapsed)).TotalMilliseconds;
        context.AddExtra(Extra("app live count", app, ratio));
        context.AddExtra(Extra("duckdb-sql live count", baseline, ratio));
        context.Note($"Live count (rows \"app live count\" and \"duckdb-sql live count\"; results.csv ratio = their quotient): " +
            $"app {Format.Seconds(Median(app.Select(m => m.Elapsed)))} against {Format.Seconds(Median(baseline.Select(m => m.Elapsed)))}, {Format.Ratio(ratio)}x.");
    }

    /// <summary>The same question in pandas on the same generated files, in a Python process of its own; query time only.</summary>
    private async Task PandasAsync(ScenarioContext context, TimeSpan appMedian, long expected, CancellationToken cancellationToken)
    {
        var python = await Python.FindAsync("import pandas", cancellationToken);
        if (python is null)
        {
            context.Note("pandas: not measured (no python3 with pandas here; on Debian: apt-get install python3-pandas).");
            return;
        }
        var script = Path.Combine(context.Paths.RepositoryRoot, "tests", "SegmentPortal.Benchmarks", "Scenarios", "segment_count_pandas.py");
        var question = JsonSerializer.Serialize(new
        {
            today = CustomerOrdersCsvGenerator.Today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            regions = Regions,
            spendDays = SpendDays,
            orderDays = OrderDays,
            minOrders = MinOrders,
            recentDays = RecentDays,
            category = BoughtCategory,
        });
        var thresholds = string.Join(',', Enumerable.Range(0, context.Runs + 1).Select(i => Threshold(PandasSeries + i)));
        ScenarioContext.Log($"pandas ({python}): loading the files and answering {context.Runs + 1} times");
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, "--customers", _customersCsv, "--orders", _ordersCsv, "--question", question, "--thresholds", thresholds })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The pandas script failed ({process.ExitCode}): {await stderr}");
        }
        using var json = JsonDocument.Parse(await stdout);
        var root = json.RootElement;
        var runs = root.GetProperty("runs").EnumerateArray()
            .Select(r => (Count: r.GetProperty("count").GetInt64(), Elapsed: TimeSpan.FromSeconds(r.GetProperty("seconds").GetDouble()))).ToList();
        var wrong = runs.Where(r => r.Count != expected).ToList();
        if (wrong.Count > 0)
        {
            throw new InvalidOperationException($"pandas counted {wrong[0].Count:N0}, the app {expected:N0}.");
        }
        var timed = runs.Skip(1).Select(r => r.Elapsed).ToList();
        var median = Median(timed);
        var ratio = appMedian.TotalMilliseconds / median.TotalMilliseconds;
        var peak = root.GetProperty("peakRssBytes").GetInt64();
        context.AddExtra(new ExtraSide("pandas", median, timed.Min(), timed.Max(), expected, ratio, PeakWorkingSet: peak));
        context.Note($"pandas {root.GetProperty("pandas").GetString()} (numpy {root.GetProperty("numpy").GetString()}, Python {root.GetProperty("python").GetString()}, " +
            $"one thread) on the same CSV files: question only {Format.Seconds(median)} median of {timed.Count} runs after a warm-up (loading excluded: " +
            $"{root.GetProperty("loadSeconds").GetDouble():0.0} s from {root.GetProperty("loadedFrom").GetString()}); the app is {Format.Ratio(ratio)}x pandas " +
            $"(results.csv ratio on the pandas row = app ÷ pandas). Peak MB on that row is the Python process's peak RSS, loading included.");
    }

    /// <summary>The rule, with the spend threshold of one run.</summary>
    private static RuleGroup Rule(string threshold) => new()
    {
        Combinator = Combinator.And,
        Children =
        [
            new FieldCondition { Id = "region", Field = "region", Operator = RuleOperator.In, Values = [.. Regions] },
            new RuleGroup
            {
                Id = "value",
                Combinator = Combinator.Or,
                Children =
                [
                    new FactCondition { Id = "spent", Fact = CustomerFact.TotalAmount, WindowDays = SpendDays, Operator = RuleOperator.Greater, Value = threshold },
                    new FactCondition
                    {
                        Id = "orders", Fact = CustomerFact.OrderCount, WindowDays = OrderDays, Operator = RuleOperator.GreaterOrEqual,
                        Value = MinOrders.ToString(CultureInfo.InvariantCulture),
                    },
                ],
            },
            new RuleGroup
            {
                Id = "lapsed",
                Not = true,
                Children =
                [
                    new FactCondition
                    {
                        Id = "recent", Fact = CustomerFact.DaysSinceLastOrder, Operator = RuleOperator.Less,
                        Value = RecentDays.ToString(CultureInfo.InvariantCulture),
                    },
                ],
            },
            new FactCondition { Id = "bought", Fact = CustomerFact.BoughtCategory, Column = "category", Operator = RuleOperator.In, Values = [BoughtCategory] },
            new FieldCondition { Id = "active", Field = "is_active", Operator = RuleOperator.IsTrue },
        ],
    };

    /// <summary>The spec SegmentService counts a segment's customers with (its CustomersAsync).</summary>
    private QuerySpec CountSpec(RuleGroup rule) => new() { DatasetId = _customersId, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")] };

    /// <summary>1000.005 plus a hundred-thousandth per run: a new question each run with the same answer (amounts have cents).</summary>
    private static string Threshold(int run) => (SpendThreshold + run * 0.00001).ToString("0.00000", CultureInfo.InvariantCulture);

    private DateOnly Today => CustomerOrdersCsvGenerator.Today;

    /// <summary>The window "in the last N days" as the app means it (the order's day from today - N to today), on the timestamp itself.</summary>
    private string Since(int days) => $"TIMESTAMP '{Today.AddDays(-days):yyyy-MM-dd}'";

    private string End => $"TIMESTAMP '{Today.AddDays(1):yyyy-MM-dd}'";

    /// <summary>Per-customer facts of every customer with orders, in one pass over the orders (for the live count).</summary>
    private string FactsCte() =>
        $"""
        facts AS (
            SELECT customer_id,
                   sum(amount) FILTER (WHERE order_date >= {Since(SpendDays)} AND order_date < {End}) AS spent,
                   count(*) FILTER (WHERE order_date >= {Since(OrderDays)} AND order_date < {End}) AS orders,
                   date_diff('day', max(order_date)::DATE, DATE '{Today:yyyy-MM-dd}') AS days_since,
                   bool_or(category = '{BoughtCategory}') AS bought
            FROM {Quote(_ordersTable)}
            GROUP BY customer_id)
        """;

    private string RegionList => string.Join(", ", Regions.Select(r => $"'{r}'"));

    /// <summary>
    /// The question as a person would write it for DuckDB: the orders of the customers in those regions who are active,
    /// one GROUP BY with the facts as filtered aggregates, the order conditions in HAVING. (Only customers with orders can
    /// have bought the category, so the inner join loses no one the rule could match.)
    /// </summary>
    private string BaselineSql(string threshold) => Flatten(
        $"""
        SELECT count(*) FROM (
            SELECT c.customer_id
            FROM {Quote(_customersTable)} c JOIN {Quote(_ordersTable)} o USING (customer_id)
            WHERE c.region IN ({RegionList}) AND c.is_active
            GROUP BY c.customer_id
            HAVING (coalesce(sum(o.amount) FILTER (WHERE o.order_date >= {Since(SpendDays)} AND o.order_date < {End}), 0) > {threshold}
                    OR count(*) FILTER (WHERE o.order_date >= {Since(OrderDays)} AND o.order_date < {End}) >= {MinOrders})
               AND NOT coalesce(date_diff('day', max(o.order_date)::DATE, DATE '{Today:yyyy-MM-dd}') < {RecentDays}, false)
               AND bool_or(o.category = '{BoughtCategory}'))
        """);

    /// <summary>The builder's eight figures: the rule, all customers and each condition alone (customers without orders included).</summary>
    private string LiveCountSql(string threshold) => Flatten(
        $"""
        WITH {FactsCte()}
        SELECT count(*) AS total,
               count(*) FILTER (WHERE c.region IN ({RegionList}) AND c.is_active
                   AND (coalesce(f.spent, 0) > {threshold} OR coalesce(f.orders, 0) >= {MinOrders})
                   AND NOT coalesce(f.days_since < {RecentDays}, false) AND coalesce(f.bought, false)) AS matching,
               count(*) FILTER (WHERE c.region IN ({RegionList})) AS c_region,
               count(*) FILTER (WHERE coalesce(f.spent, 0) > {threshold}) AS c_spent,
               count(*) FILTER (WHERE coalesce(f.orders, 0) >= {MinOrders}) AS c_orders,
               count(*) FILTER (WHERE f.days_since < {RecentDays}) AS c_recent,
               count(*) FILTER (WHERE f.bought) AS c_bought,
               count(*) FILTER (WHERE c.is_active) AS c_active
        FROM {Quote(_customersTable)} c LEFT JOIN facts f USING (customer_id)
        """);

    private async Task<CompiledQuery> CompileAsync(QuerySpec spec, CancellationToken cancellationToken)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var (query, _) = await scope.ServiceProvider.GetRequiredService<QueryService>().CompileAsync(spec, cancellationToken);
        return query;
    }

    private static int Ctes(string sql) => System.Text.RegularExpressions.Regex.Matches(sql, @"\bf\d+ AS \(").Count;

    private static int Occurrences(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values) => BenchmarkRunner.Median(values.Order().ToList());

    private static ExtraSide Extra(string label, IReadOnlyList<RunMeasurement> runs, double ratio)
    {
        var times = runs.Select(r => r.Elapsed).Order().ToList();
        return new ExtraSide(label, BenchmarkRunner.Median(times), times[0], times[^1], runs[0].Rows, ratio,
            runs.Max(r => r.PeakWorkingSet), runs.Min(r => r.StartWorkingSet), runs.Max(r => r.PeakManagedHeap));
    }
}
