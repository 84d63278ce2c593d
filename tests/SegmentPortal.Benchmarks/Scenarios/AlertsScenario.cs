using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Benchmarks.Scenarios.SqlText;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// 1,000 alerts on 100 metrics over the orders of <see cref="CustomerOrdersData"/> checked after a refresh of the data,
/// as an Admin: the metrics (revenue, orders, customers, average and median order value, shares and other ratios;
/// unfiltered, by category, by order size, by the customers of a region or tier segment; by day, week, month, quarter
/// and year) are created through <see cref="MetricService"/>, ten alerts each (above, below, outside a band, change,
/// unusual, missing the target, at different thresholds). The timed step is <see cref="CheckAllAsync"/>: one
/// <see cref="MetricService.ValuesManyAsync"/> over the alerts' metrics and each alert's condition evaluated by
/// <see cref="AlertConditions.Evaluate"/>. Against it: each metric's SQL written by hand (its trend, and its same-days
/// comparison where the current period is partial), run one after another on one connection to the same DuckDB instance.
/// <para>
/// Before each run (untimed) the orders and customers datasets are marked refreshed (their version moves on, as an
/// import's does), so no query of any run is answered from the result cache, as after a real refresh. After each run
/// (untimed) every metric's values from the portal must equal the hand-written SQL's: each point of the trend (to
/// 1e-9), the current period, its last day with data and the same-days value.
/// </para>
/// </summary>
public sealed class AlertsScenario : Scenario
{
    private const string Prefix = "Benchmark alerts: ";

    /// <summary>The trend an alert reads: the current period and the 12 before it (the unusual-value band's history).</summary>
    private const int TrendPeriods = AlertConditions.DefaultHistory + 1;

    private static readonly DateOnly Today = CustomerOrdersData.Today;

    private CustomerOrdersData? _data;
    private string _ordersTable = null!;
    private string _customersTable = null!;
    private readonly List<BenchMetric> _metrics = [];
    private readonly List<BenchAlert> _alerts = [];
    private readonly List<int> _segments = [];
    private readonly Dictionary<int, IReadOnlyDictionary<int, MetricValues>> _appValues = [];
    private readonly Dictionary<int, CheckSummary> _appChecks = [];
    private readonly Dictionary<int, IReadOnlyDictionary<int, double?>> _checkValues = [];

    public override string Name => "alerts";

    public override string BaselineName => "duckdb-sql";

    public override string Description =>
        "1,000 alerts on 100 metrics of the orders (revenue, orders, customers, average and median order value, shares; " +
        "by category, order size, region and tier segments; day, week, month, quarter and year) checked after a refresh, " +
        "as an Admin: one MetricService.ValuesManyAsync over the alerts' metrics (metrics of the same dataset, date column and " +
        "grain share one scan) and AlertConditions.Evaluate per alert, against each metric's hand-written DuckDB SQL (trend, " +
        "and same days where the current period is partial) run one after another on the same DuckDB instance. --size N: " +
        $"N orders and N/10 customers (default {CustomerOrdersData.DefaultOrders:N0}), prepared once and cached under results/cache.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        _ordersTable = _data.Orders.TableName;
        _customersTable = _data.Customers.TableName;
        await RemoveLeftoversAsync(cancellationToken);

        // Segments of the customer list (by region, and the top tiers), which segment metrics count the orders of.
        var segmentSql = new Dictionary<string, (int Id, string Sql)>(StringComparer.Ordinal);
        await using (var scope = _data.Host.Services.CreateAsyncScope())
        {
            var segments = scope.ServiceProvider.GetRequiredService<SegmentService>();
            foreach (var (key, rule, sql) in SegmentDefinitions())
            {
                var id = await segments.CreateAsync(new SegmentDraft(Prefix + key, _data.Customers.Id, new RuleTree { Root = new RuleGroup { Children = [rule] } }),
                    cancellationToken);
                _segments.Add(id);
                segmentSql[key] = (id, $"customer_id IN (SELECT customer_id FROM {Quote(_customersTable)} WHERE {sql})");
            }
        }

        // Each metric's current value by its hand-written SQL sets its target and its alerts' thresholds.
        var definitions = Definitions();
        await using (var connection = await _data.Warehouse.OpenAsync(cancellationToken))
        await using (var scope = _data.Host.Services.CreateAsyncScope())
        {
            var metrics = scope.ServiceProvider.GetRequiredService<MetricService>();
            foreach (var definition in definitions)
            {
                var segment = definition.Segment is { } key ? segmentSql[key] : ((int Id, string Sql)?)null;
                var probe = new BenchMetric(0, definition, segment?.Sql, null);
                var values = await HandValuesAsync(connection, probe, cancellationToken);
                var current = values.Trend.Count > 0 ? values.Trend[^1].Value : null;
                var target = current is { } c ? Math.Round(c * 1.05, 4) : (double?)null;
                var id = await metrics.CreateAsync(new MetricDefinition
                {
                    Name = Prefix + definition.Name,
                    DatasetId = _data.Orders.Id,
                    SegmentId = segment?.Id,
                    Measure = definition.Denominator is { } denominator
                        ? new MetricMeasure(MetricMeasureKind.Ratio, Numerator: Measure(definition.Value), Denominator: Measure(denominator))
                        : Measure(definition.Value),
                    RuleJson = definition.Filter is { } filter ? new RuleTree { Root = new RuleGroup { Children = [filter.Rule()] } }.ToJson() : null,
                    TimeColumn = "order_date",
                    Grain = definition.Grain,
                    Format = definition.Denominator is null ? MetricFormat.Number : MetricFormat.Percent,
                    Decimals = 2,
                    Direction = MetricDirection.HigherIsBetter,
                    Target = target,
                }, cancellationToken);
                var metric = new BenchMetric(id, definition, segment?.Sql, target);
                _metrics.Add(metric);
                _alerts.AddRange(Alerts(metric, current ?? 0));
            }
        }

        // The alerts themselves, through AlertService as the editor saves them: checked after each refresh, telling the
        // benchmark's user in the portal (no e-mail: the outbox is not what is measured).
        await using (var scope = _data.Host.Services.CreateAsyncScope())
        {
            var alerts = scope.ServiceProvider.GetRequiredService<AlertService>();
            var me = _data.Host.User.UserId()!;
            foreach (var (alert, index) in _alerts.Select((a, i) => (a, i)))
            {
                await alerts.CreateAsync(new AlertDraft
                {
                    Name = $"{Prefix}{index + 1:0000} {alert.Metric.Definition.Name}",
                    Subject = AlertSubject.Metric,
                    MetricId = alert.Metric.Id,
                    Condition = alert.Condition,
                    Recipients = new AlertRecipients { UserIds = [me], Email = false },
                }, cancellationToken);
            }
        }

        var byGrain = _metrics.GroupBy(m => m.Definition.Grain).OrderBy(g => g.Key).Select(g => $"{g.Count()} by {g.Key.ToString().ToLowerInvariant()}");
        context.Note($"Metrics ({_metrics.Count}, created through MetricService.CreateAsync on {_data.Orders.Name}, along order_date): {string.Join(", ", byGrain)}; " +
            $"{_metrics.Count(m => m.Definition.Denominator is not null)} ratios, {_metrics.Count(m => m.Definition.Filter is not null)} filtered, " +
            $"{_metrics.Count(m => m.Definition.Segment is not null)} of a segment's customers ({string.Join(", ", SegmentDefinitions().Select(s => s.Key))}, " +
            $"segments of {_data.Customers.Name}). Names: {string.Join("; ", _metrics.Select(m => m.Definition.Name))}.");
        context.Note($"Alerts: {_alerts.Count}, {_alerts.Count / _metrics.Count} per metric (above 1.1x and 0.9x the current value, below 0.9x and 1.1x, " +
            "outside 0.8x–1.2x and 0.95x–0.99x, change of more than 10% either way and 5% down, unusual against the last 12 periods " +
            "(median ± 3 robust deviations; the same weekday for daily metrics), missing the target of 1.05x the current value).");
        context.Note($"App: CheckAllAsync = AlertChecker.EnqueueForDatasetAsync (a check due for each of the {_alerts.Count:N0} alerts, as a refresh makes them) " +
            "then AlertChecker.RunDueAsync: the owner's metrics read with MetricService.ValuesBatchAsync, AlertConditions.Evaluate per alert, and each check's " +
            "result, the alert's state and its notification saved in one transaction; metrics of the same dataset, date column, grain and segment (or none) share one grouped query over the periods up to " +
            "today's (and one for their same-days comparisons). " +
            "Baseline: one connection, each metric's trend query (grouped by period, latest 13 periods with data) and, where the current period is " +
            "not over, its same-days query, one after another, rows read into memory.");
        var sample = _metrics.First(m => m.Definition.Denominator is not null && m.Definition.Filter is null);
        context.Note($"Baseline SQL, e.g. {sample.Definition.Name}: {TrendSql(sample)}");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        await MarkRefreshedAsync(cancellationToken);
        var checker = _data!.Host.Services.GetRequiredService<AlertChecker>();
        var ran = await run.MeasureAsync(() => CheckAllAsync(checker, _data.Orders.Id, cancellationToken));
        // Untimed: what the checks recorded, and the values they read, for the comparison with the hand-written SQL.
        var (summary, checkedValues) = await LastChecksAsync(cancellationToken);
        if (ran != _alerts.Count || summary.Checked != _alerts.Count)
        {
            throw new InvalidOperationException($"{ran:N0} checks ran and {summary.Checked:N0} were recorded for {_alerts.Count:N0} alerts.");
        }
        await using var scope = _data.Host.Services.CreateAsyncScope();
        var metrics = scope.ServiceProvider.GetRequiredService<MetricService>();
        _appValues[run.Index] = await metrics.ValuesManyAsync(_metrics.Select(m => m.Id).ToList(), TrendPeriods, cancellationToken);
        _appChecks[run.Index] = summary;
        _checkValues[run.Index] = checkedValues;
        if (run.IsWarmup)
        {
            context.Note($"Checks (every run alike): {summary.Firing:N0} firing, {summary.Clear:N0} clear, {summary.NotEvaluable:N0} not evaluable.");
        }
        return summary.Checked;
    }

    /// <summary>
    /// Checks every alert as the portal does after a refresh: the refresh makes a check due for each alert on the
    /// dataset's metrics, and the alert checker runs them — all of an owner's metrics read together (metrics of one
    /// dataset, date column, grain and segment share their scan), each alert's condition evaluated, and each check's
    /// result, the alert's state and its notifications saved in one transaction.
    /// </summary>
    private static async Task<int> CheckAllAsync(AlertChecker checker, int ordersId, CancellationToken cancellationToken)
    {
        var due = await checker.EnqueueForDatasetAsync(ordersId, cancellationToken);
        while (await checker.RunDueAsync(cancellationToken) > 0)
        {
        }
        return due;
    }

    /// <summary>The checks of the last run: how many met their condition, and each alert's checked value by metric.</summary>
    private async Task<(CheckSummary Summary, IReadOnlyDictionary<int, double?> Values)> LastChecksAsync(CancellationToken cancellationToken)
    {
        await using var db = await _data!.Host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
        var latest = await db.AlertChecks.AsNoTracking().GroupBy(c => c.AlertId).Select(g => g.Max(c => c.Id)).ToListAsync(cancellationToken);
        var checks = await (from c in db.AlertChecks.AsNoTracking()
                            join a in db.Alerts.AsNoTracking() on c.AlertId equals a.Id
                            where latest.Contains(c.Id) && a.Name.StartsWith(Prefix)
                            select new { c.Status, c.Met, c.Value, c.Reason, a.MetricId }).ToListAsync(cancellationToken);
        if (checks.FirstOrDefault(c => c.Status != AlertCheckStatus.Done) is { } failed)
        {
            throw new InvalidOperationException($"A check did not finish: {failed.Status}, {failed.Reason}");
        }
        var values = checks.GroupBy(c => c.MetricId!.Value).ToDictionary(g => g.Key, g => g.First().Value);
        var notEvaluable = checks.Count(c => c.Value is null || (c.Reason ?? "").StartsWith("Too little history", StringComparison.Ordinal)
            || (c.Reason ?? "").StartsWith("There is no", StringComparison.Ordinal) || (c.Reason ?? "").StartsWith("The previous value is 0", StringComparison.Ordinal));
        return (new CheckSummary(checks.Count, checks.Count(c => c.Met), checks.Count - checks.Count(c => c.Met) - notEvaluable, notEvaluable), values);
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var hand = await run.MeasureAsync(async () =>
        {
            var result = new Dictionary<int, HandValues>();
            await using var connection = await _data!.Warehouse.OpenAsync(cancellationToken);
            foreach (var metric in _metrics)
            {
                result[metric.Id] = await HandValuesAsync(connection, metric, cancellationToken);
            }
            return result;
        });
        Agree(run.Index, _appValues[run.Index], hand);
        // Each alert's recorded check read its metric's current value as the hand-written SQL gives it.
        foreach (var metric in _metrics)
        {
            var expected = hand[metric.Id].Trend.Count > 0 ? hand[metric.Id].Trend[^1].Value : null;
            var recorded = _checkValues[run.Index].GetValueOrDefault(metric.Id);
            if (expected is { } e && (recorded is not { } r || Math.Abs(e - r) > 1e-9 * Math.Max(1, Math.Abs(e))))
            {
                throw new InvalidOperationException($"Run {run.Index}: the checks of {metric.Definition.Name} recorded {recorded} against {e} by hand.");
            }
        }
        if (_appChecks[run.Index] != _appChecks[0])
        {
            throw new InvalidOperationException($"Run {run.Index} checked differently from the warm-up: {_appChecks[run.Index]} against {_appChecks[0]}.");
        }
        return hand.Count;
    }

    public override async Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var partial = _metrics.Count(m => _appValues[1][m.Id].Partial);
        var groups = _metrics.Select(m => (m.Definition.Grain, m.Definition.Segment)).Distinct().Count();
        var sameDays = _metrics.Where(m => _appValues[1][m.Id].Partial).Select(m => (m.Definition.Grain, m.Definition.Segment)).Distinct().Count();
        var older = _metrics.Count(m => _appValues[1][m.Id].Current?.Start != Periods.Start(Today, m.Definition.Grain));
        context.Note($"Queries per check: the app {groups} grouped queries (one per grain and segment, the metrics of each sharing it, over the " +
            $"{TrendPeriods} periods up to today's; {older} metrics have no rows in today's period and need the second query over all their periods) and {sameDays} for the same-days comparisons (the " +
            "groups whose current period is not over), plus, after each refresh, the executor's one check whether the orders' customer keys " +
            $"are unique; the baseline {_metrics.Count + partial} ({_metrics.Count} trends and {partial} same-days queries).");
        context.Note("Every run the portal's values equalled the hand-written SQL's for every metric (each trend point to 1e-9, current period, " +
            "its last day with data, same-days value).");

        // Diagnostics (not in the table): the check by part, and the month metrics at other sizes of shared query. Each
        // after a refresh of its own, so nothing comes from the cache.
        var parts = new List<string>();
        foreach (var group in _metrics.GroupBy(m => (m.Definition.Grain, Segmented: m.Definition.Segment is not null)).OrderBy(g => g.Key))
        {
            var took = await TimeValuesAsync(group.Select(m => m.Id).ToList(), null, cancellationToken);
            parts.Add($"{group.Count()} {group.Key.Grain.ToString().ToLowerInvariant()}{(group.Key.Segmented ? " of segments" : "")} {Format.Seconds(took)}");
        }
        var unique = Stopwatch.StartNew();
        await using (var connection = await _data!.Warehouse.OpenAsync(cancellationToken))
        {
            await WarehouseCommand.ScalarAsync<bool>(connection, $"SELECT count(*) = count(DISTINCT customer_id) FROM {Quote(_ordersTable)}", cancellationToken: cancellationToken);
        }
        context.Note($"Diagnostic, the check by part (ValuesManyAsync of each part alone, after a refresh each; each part with customers counts also " +
            $"pays the executor's check of unique customer keys, {Format.Seconds(unique.Elapsed)} on its own): {string.Join(", ", parts)}.");
        var month = _metrics.Where(m => m.Definition.Grain == DateBucket.Month && m.Definition.Segment is null).Select(m => m.Id).ToList();
        var sizes = new List<string>();
        foreach (var size in new[] { 1000, 120, MetricService.MaxMeasuresPerQuery, 30 })
        {
            sizes.Add($"{size}: {Format.Seconds(await TimeValuesAsync(month, size, cancellationToken))}");
        }
        context.Note($"Diagnostic, shared query size: the {month.Count} month metrics without a segment at limits of aggregates per query " +
            $"(MaxMeasuresPerQuery, default {MetricService.MaxMeasuresPerQuery}; a distinct count or median counts {MetricService.HeavyWeight}; " +
            $"1000 is one query): {string.Join(", ", sizes)}.");
    }

    /// <summary>ValuesManyAsync of some metrics right after a refresh, timed; optionally with another limit of aggregates per query.</summary>
    private async Task<TimeSpan> TimeValuesAsync(IReadOnlyList<int> ids, int? measuresPerQuery, CancellationToken cancellationToken)
    {
        await MarkRefreshedAsync(cancellationToken);
        await using var scope = _data!.Host.Services.CreateAsyncScope();
        var metrics = scope.ServiceProvider.GetRequiredService<MetricService>();
        if (measuresPerQuery is { } size)
        {
            metrics.MeasuresPerQuery = size;
        }
        var watch = Stopwatch.StartNew();
        var values = await metrics.ValuesManyAsync(ids, TrendPeriods, cancellationToken);
        watch.Stop();
        if (values.Count != ids.Count)
        {
            throw new InvalidOperationException($"{ids.Count - values.Count} metrics were left out.");
        }
        return watch.Elapsed;
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_data is null)
        {
            return;
        }
        try
        {
            await RemoveLeftoversAsync(CancellationToken.None);
        }
        finally
        {
            await _data.DisposeAsync();
        }
    }

    /// <summary>Deletes this scenario's metrics and segments (from this run, or one stopped before its cleanup).</summary>
    private async Task RemoveLeftoversAsync(CancellationToken cancellationToken)
    {
        await using var scope = _data!.Host.Services.CreateAsyncScope();
        // Alerts first: a metric an alert watches is not deleted.
        var alerts = scope.ServiceProvider.GetRequiredService<AlertService>();
        foreach (var alert in (await alerts.ListAsync(cancellationToken: cancellationToken)).Where(a => a.Name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            await alerts.DeleteAsync(alert.Id, cancellationToken);
        }
        var metrics = scope.ServiceProvider.GetRequiredService<MetricService>();
        foreach (var metric in (await metrics.ListAsync(cancellationToken)).Where(m => m.Name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            await metrics.DeleteAsync(metric.Id, cancellationToken);
        }
        var segments = scope.ServiceProvider.GetRequiredService<SegmentService>();
        foreach (var segment in (await segments.ListAsync(cancellationToken)).Where(s => s.Name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            await segments.DeleteAsync(segment.Id, cancellationToken);
        }
    }

    /// <summary>What a refresh does to the datasets' metadata: a new version, so results cached before it are not used.</summary>
    private async Task MarkRefreshedAsync(CancellationToken cancellationToken)
    {
        await using var db = await _data!.Host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
        var ids = new[] { _data.Orders.Id, _data.Customers.Id };
        var now = DateTimeOffset.UtcNow;
        foreach (var dataset in await db.Datasets.Where(d => ids.Contains(d.Id)).ToListAsync(cancellationToken))
        {
            dataset.RefreshedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    // ---- The metrics, their alerts, and their SQL by hand ----

    private enum Agg
    {
        Sum,
        Count,
        Customers,
        Average,
        Median,
    }

    /// <summary>A condition on the orders: as a rule for the portal and as SQL for the baseline.</summary>
    private sealed record Cond(string Label, Func<RuleNode> Rule, string Sql);

    /// <summary>An aggregate, limited to its own condition (a ratio's numerator).</summary>
    private sealed record Part(Agg Agg, Cond? Filter = null);

    private sealed record Definition(string Name, DateBucket Grain, Part Value, Part? Denominator = null, Cond? Filter = null, string? Segment = null);

    private sealed record BenchMetric(int Id, Definition Definition, string? SegmentSql, double? Target);

    private sealed record BenchAlert(BenchMetric Metric, AlertCondition Condition);

    private sealed record CheckSummary(int Checked, int Firing, int Clear, int NotEvaluable);

    /// <summary>A metric's figures as the hand-written SQL gives them: the trend (oldest first), the last day with data, the same days.</summary>
    private sealed record HandValues(IReadOnlyList<(DateOnly Start, double? Value)> Trend, DateOnly? Through, double? SameDays, bool Partial);

    private static IEnumerable<(string Key, RuleNode Rule, string Sql)> SegmentDefinitions() =>
    [
        .. CustomerOrdersCsvGenerator.Regions.Select(r => ($"region {r}", (RuleNode)new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = r },
            $"region = '{r}'")),
        ("tier Gold or Platinum", new FieldCondition { Field = "tier", Operator = RuleOperator.In, Values = ["Gold", "Platinum"] }, "tier IN ('Gold', 'Platinum')"),
    ];

    private static Cond Category(string category) =>
        new(category, () => new FieldCondition { Field = "category", Operator = RuleOperator.Equals, Value = category }, $"category = '{category.Replace("'", "''", StringComparison.Ordinal)}'");

    private static readonly Cond Large = new("orders over 250", () => new FieldCondition { Field = "amount", Operator = RuleOperator.Greater, Value = "250" }, "amount > 250");

    private static readonly Cond Small = new("orders up to 20", () => new FieldCondition { Field = "amount", Operator = RuleOperator.LessOrEqual, Value = "20" }, "amount <= 20");

    private static readonly Cond ElectronicsOrToys = new("Electronics or Toys",
        () => new FieldCondition { Field = "category", Operator = RuleOperator.In, Values = ["Electronics", "Toys"] }, "category IN ('Electronics', 'Toys')");

    /// <summary>The 100 metrics: most by month, as key figures are; some by day, week, quarter and year.</summary>
    private static List<Definition> Definitions()
    {
        var categories = CustomerOrdersCsvGenerator.Categories;
        var list = new List<Definition>();
        var m = DateBucket.Month;
        foreach (var filter in new Cond?[] { null }.Concat(categories.Select(Category)))
        {
            var of = filter is null ? "" : $" ({filter.Label})";
            list.Add(new($"Revenue{of}", m, new(Agg.Sum), Filter: filter));
            list.Add(new($"Orders{of}", m, new(Agg.Count), Filter: filter));
            list.Add(new($"Average order value{of}", m, new(Agg.Average), Filter: filter));
        }
        foreach (var filter in new Cond?[] { null }.Concat(categories.Take(4).Select(Category)))
        {
            list.Add(new($"Customers{(filter is null ? "" : $" ({filter.Label})")}", m, new(Agg.Customers), Filter: filter));
        }
        foreach (var (key, _, _) in SegmentDefinitions())
        {
            list.Add(new($"Revenue ({key})", m, new(Agg.Sum), Segment: key));
            if (key.StartsWith("region", StringComparison.Ordinal))
            {
                list.Add(new($"Orders ({key})", m, new(Agg.Count), Segment: key));
            }
            else
            {
                list.Add(new($"Customers ({key})", m, new(Agg.Customers), Segment: key));
            }
        }
        foreach (var category in categories.Take(6))
        {
            list.Add(new($"Share of revenue ({category})", m, new(Agg.Sum, Category(category)), new(Agg.Sum)));
        }
        list.Add(new("Share of orders over 250", m, new(Agg.Count, Large), new(Agg.Count)));
        list.Add(new("Orders per customer", m, new(Agg.Count), new(Agg.Customers)));
        list.Add(new("Median order value", m, new(Agg.Median)));
        list.Add(new("Median order value (Electronics)", m, new(Agg.Median), Filter: Category("Electronics")));
        list.Add(new("Median order value (orders over 250)", m, new(Agg.Median), Filter: Large));
        foreach (var filter in new[] { Large, Small })
        {
            list.Add(new($"Revenue ({filter.Label})", m, new(Agg.Sum), Filter: filter));
            list.Add(new($"Orders ({filter.Label})", m, new(Agg.Count), Filter: filter));
        }
        list.Add(new($"Revenue ({ElectronicsOrToys.Label})", m, new(Agg.Sum), Filter: ElectronicsOrToys));
        list.Add(new($"Customers ({ElectronicsOrToys.Label})", m, new(Agg.Customers), Filter: ElectronicsOrToys));

        var d = DateBucket.Day;
        list.Add(new("Daily revenue", d, new(Agg.Sum)));
        list.Add(new("Daily orders", d, new(Agg.Count)));
        list.Add(new("Daily customers", d, new(Agg.Customers)));
        list.Add(new("Daily average order value", d, new(Agg.Average)));
        foreach (var category in categories.Take(6))
        {
            list.Add(new($"Daily revenue ({category})", d, new(Agg.Sum), Filter: Category(category)));
        }
        list.Add(new($"Daily orders ({Large.Label})", d, new(Agg.Count), Filter: Large));
        list.Add(new("Daily share of revenue (Electronics)", d, new(Agg.Sum, Category("Electronics")), new(Agg.Sum)));

        var w = DateBucket.Week;
        list.Add(new("Weekly revenue", w, new(Agg.Sum)));
        list.Add(new("Weekly orders", w, new(Agg.Count)));
        list.Add(new("Weekly customers", w, new(Agg.Customers)));
        foreach (var category in categories.Take(3))
        {
            list.Add(new($"Weekly revenue ({category})", w, new(Agg.Sum), Filter: Category(category)));
        }
        list.Add(new($"Weekly orders ({Small.Label})", w, new(Agg.Count), Filter: Small));

        var q = DateBucket.Quarter;
        list.Add(new("Quarterly revenue", q, new(Agg.Sum)));
        list.Add(new("Quarterly orders", q, new(Agg.Count)));
        list.Add(new("Quarterly customers", q, new(Agg.Customers)));
        list.Add(new("Quarterly revenue (Electronics)", q, new(Agg.Sum), Filter: Category("Electronics")));

        var y = DateBucket.Year;
        list.Add(new("Yearly revenue", y, new(Agg.Sum)));
        list.Add(new("Yearly orders", y, new(Agg.Count)));
        list.Add(new("Yearly customers", y, new(Agg.Customers)));
        list.Add(new("Yearly average order value", y, new(Agg.Average)));
        return list;
    }

    private static MetricMeasure Measure(Part part) => new(part.Agg switch
    {
        Agg.Sum => MetricMeasureKind.Sum,
        Agg.Count => MetricMeasureKind.Count,
        Agg.Customers => MetricMeasureKind.Customers,
        Agg.Average => MetricMeasureKind.Average,
        _ => MetricMeasureKind.Median,
    }, part.Agg is Agg.Sum or Agg.Average or Agg.Median ? "amount" : null,
        FilterJson: part.Filter is { } filter ? new RuleTree { Root = new RuleGroup { Children = [filter.Rule()] } }.ToJson() : null);

    /// <summary>Ten alerts around the metric's current value.</summary>
    private static IEnumerable<BenchAlert> Alerts(BenchMetric metric, double current)
    {
        var daily = metric.Definition.Grain == DateBucket.Day;
        AlertCondition[] conditions =
        [
            new() { Kind = AlertConditionKind.Above, Threshold = current * 1.1 },
            new() { Kind = AlertConditionKind.Above, Threshold = current * 0.9 },
            new() { Kind = AlertConditionKind.Below, Threshold = current * 0.9 },
            new() { Kind = AlertConditionKind.Below, Threshold = current * 1.1 },
            new() { Kind = AlertConditionKind.OutsideBand, Low = current * 0.8, High = current * 1.2 },
            new() { Kind = AlertConditionKind.OutsideBand, Low = current * 0.95, High = current * 0.99 },
            new() { Kind = AlertConditionKind.Change, ChangePercent = 10 },
            new() { Kind = AlertConditionKind.Change, ChangePercent = 5, Direction = ChangeDirection.Down },
            new() { Kind = AlertConditionKind.Unusual, Method = daily ? UnusualMethod.SameWeekday : UnusualMethod.MedianMad },
            new() { Kind = AlertConditionKind.MissesTarget },
        ];
        return conditions.Select(c => new BenchAlert(metric, c));
    }

    private static string Trunc(DateBucket grain) => grain.ToString().ToLowerInvariant();

    private static string Aggregate(Part part)
    {
        var aggregate = part.Agg switch
        {
            Agg.Sum => "sum(amount)",
            Agg.Count => "count(*)",
            Agg.Customers => "count(DISTINCT customer_id)",
            Agg.Average => "avg(amount)",
            _ => "median(amount)",
        };
        return part.Filter is { } filter ? $"{aggregate} FILTER (WHERE {filter.Sql})" : aggregate;
    }

    private static string Conditions(BenchMetric metric, string dates) =>
        string.Join(" AND ", new[] { dates, metric.Definition.Filter?.Sql, metric.SegmentSql }.OfType<string>());

    private string Values(BenchMetric metric) =>
        metric.Definition.Denominator is { } denominator ? $"{Aggregate(metric.Definition.Value)} AS n, {Aggregate(denominator)} AS d" : $"{Aggregate(metric.Definition.Value)} AS n";

    /// <summary>The latest 13 periods with data up to today, each with its value(s) and last order date.</summary>
    private string TrendSql(BenchMetric metric) =>
        $"SELECT date_trunc('{Trunc(metric.Definition.Grain)}', order_date)::DATE AS period, {Values(metric)}, max(order_date) AS last " +
        $"FROM {Quote(_ordersTable)} WHERE {Conditions(metric, $"order_date < TIMESTAMP '{Today.AddDays(1):yyyy-MM-dd}'")} " +
        $"GROUP BY 1 ORDER BY 1 DESC LIMIT {TrendPeriods}";

    private string SameDaysSql(BenchMetric metric, DateOnly from, DateOnly through) =>
        $"SELECT {Values(metric)} FROM {Quote(_ordersTable)} " +
        $"WHERE {Conditions(metric, $"order_date >= TIMESTAMP '{from:yyyy-MM-dd}' AND order_date < TIMESTAMP '{through.AddDays(1):yyyy-MM-dd}'")}";

    /// <summary>A measure over no rows: counts and sums 0, the rest empty.</summary>
    private static double? None(Agg agg) => agg is Agg.Sum or Agg.Count or Agg.Customers ? 0 : null;

    private static double? Value(Definition definition, object? n, object? d)
    {
        static double? Number(object? value) => value is null ? null : Convert.ToDouble(value, CultureInfo.InvariantCulture);
        var numerator = Number(n) ?? None(definition.Value.Agg);
        if (definition.Denominator is not { } denominator)
        {
            return numerator;
        }
        var over = Number(d) ?? None(denominator.Agg);
        return numerator is { } x && over is { } y && y != 0 ? x / y : null;
    }

    private async Task<HandValues> HandValuesAsync(DuckDBConnection connection, BenchMetric metric, CancellationToken cancellationToken)
    {
        var definition = metric.Definition;
        var ratio = definition.Denominator is not null;
        static object? At(DuckDBDataReader r, int i) => r.IsDBNull(i) ? null : r.GetValue(i);
        var rows = await WarehouseCommand.QueryAsync(connection, TrendSql(metric), null,
            r => (Start: Periods.AsDate(At(r, 0))!.Value, Value: Value(definition, At(r, 1), ratio ? At(r, 2) : null), Last: Periods.AsDate(At(r, ratio ? 3 : 2))!.Value),
            cancellationToken);
        if (rows.Count == 0)
        {
            return new HandValues([], null, null, false);
        }
        var current = rows[0].Start;
        var through = rows[0].Last;
        var byStart = rows.ToDictionary(r => r.Start, r => r.Value);
        var trend = Enumerable.Range(0, TrendPeriods)
            .Select(i => Periods.Add(current, definition.Grain, i - TrendPeriods + 1))
            .Select(start => (start, byStart.TryGetValue(start, out var v) ? v : definition.Denominator is null ? None(definition.Value.Agg) : null))
            .ToList();
        var end = Periods.Add(current, definition.Grain, 1).AddDays(-1);
        if (through >= end)
        {
            return new HandValues(trend, through, null, false);
        }
        // The period before, up to the same day (not past its end).
        var previous = Periods.Add(current, definition.Grain, -1);
        var sameDay = previous.AddDays(through.DayNumber - current.DayNumber);
        var previousEnd = current.AddDays(-1);
        var to = sameDay > previousEnd ? previousEnd : sameDay;
        var same = await WarehouseCommand.QueryAsync(connection, SameDaysSql(metric, previous, to), null,
            r => Value(definition, At(r, 0), ratio ? At(r, 1) : null), cancellationToken);
        return new HandValues(trend, through, same[0], true);
    }

    /// <summary>The portal's values of every metric must be the hand-written SQL's.</summary>
    private void Agree(int run, IReadOnlyDictionary<int, MetricValues> app, IReadOnlyDictionary<int, HandValues> hand)
    {
        static bool Close(double? a, double? b) =>
            (a, b) switch
            {
                (null, null) => true,
                ({ } x, { } y) => x == y || Math.Abs(x - y) <= 1e-9 * Math.Max(Math.Abs(x), Math.Abs(y)),
                _ => false,
            };
        var problems = new List<string>();
        foreach (var metric in _metrics)
        {
            var name = metric.Definition.Name;
            if (!app.TryGetValue(metric.Id, out var values))
            {
                problems.Add($"{name}: no values from the portal");
                continue;
            }
            var expected = hand[metric.Id];
            if (values.Trend.Count != expected.Trend.Count)
            {
                problems.Add($"{name}: {values.Trend.Count} periods against {expected.Trend.Count}");
                continue;
            }
            for (var i = 0; i < expected.Trend.Count; i++)
            {
                if (values.Trend[i].Start != expected.Trend[i].Start || !Close(values.Trend[i].Value, expected.Trend[i].Value))
                {
                    problems.Add($"{name}: period {values.Trend[i].Start:yyyy-MM-dd} = {values.Trend[i].Value} against {expected.Trend[i].Start:yyyy-MM-dd} = {expected.Trend[i].Value}");
                }
            }
            if (values.Through != expected.Through)
            {
                problems.Add($"{name}: data through {values.Through} against {expected.Through}");
            }
            if (values.Partial != expected.Partial || !Close(values.SameDays?.Value, expected.SameDays))
            {
                problems.Add($"{name}: same days {values.SameDays?.Value} against {expected.SameDays} (partial {values.Partial} against {expected.Partial})");
            }
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"Run {run}: the portal and the hand-written SQL disagree: {string.Join("; ", problems.Take(20))}.");
        }
    }
}
