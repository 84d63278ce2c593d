using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Benchmarks.Scenarios.SqlText;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// An 8-tile board over the customers and orders of <see cref="CustomerOrdersData"/>, saved through
/// <see cref="DashboardService"/>: the time until every tile has its data, the board loaded by
/// <see cref="TileDataService.LoadBoard"/> as the board page loads it (the tiles together, their queries over the same
/// rows fused by <see cref="QueryFusion"/>), as an Admin. Against it: the same eight questions as hand-written DuckDB SQL, run one after another on one connection to
/// the same DuckDB instance (same file, threads and memory_limit); where a tile takes two queries in the app (a table's
/// page and totals, a histogram's range and bins, a top N and its "Other"), the baseline runs the same two.
/// <para>
/// Cold: the board has two filters that keep every row (order amount up to 100,000 and lifetime value up to 1,000,000;
/// amounts are at most 500 and lifetime values at most 25,000), and each run raises both by a thousandth, saved on the
/// board before the run (untimed) and written into the baseline's SQL alike. So every query the tiles run is new to
/// <see cref="QueryExecutor"/>'s result cache (checked: each run's cache keys, rebuilt from the tiles' specs, were never
/// seen before), while every answer stays the same. Warm: the same board again right after its cold run, every query
/// already in the cache (checked before the warm run). The sides must agree, tile by tile and row by row, every run.
/// </para>
/// <para>
/// Two diagnostics run in each round too: the board cold again (with filter values of its own) with each tile loaded
/// alone, one after another (not fused across tiles), and the app's own compiled SQL of each question of the round,
/// unfused, straight on DuckDB, one query after another (what the app's SQL costs against the hand-written SQL, without
/// the app around it). Fused must equal unfused every run: the tile-by-tile load agrees with the fused one tile by tile,
/// and each question's share of the fused answer (as the cold load left it in the result cache) agrees row by row with
/// its own SQL run alone.
/// </para>
/// </summary>
public sealed class DashboardScenario : Scenario
{
    private const string BoardName = "Benchmark: sales overview";

    /// <summary>No-op filter ceilings: above every amount (at most 500) and every lifetime value (at most 25,000).</summary>
    private const double AmountCeiling = 100_000;
    private const double LifetimeValueCeiling = 1_000_000;

    private const int TopCustomers = 10;

    /// <summary>Run indexes of the tiles-in-series runs, apart from the main series so their filters are new too.</summary>
    private const int SeriesRuns = 101;

    private static readonly string[] TileOrder = ["kpi", "trend", "regions", "categories", "region-tier", "heat", "amounts", "top-customers"];

    private CustomerOrdersData? _data;
    private int _boardId;
    private string _customersTable = null!;
    private string _ordersTable = null!;
    private readonly HashSet<string> _seenKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<int, IReadOnlyDictionary<string, TileData>> _appData = [];
    private readonly List<RunMeasurement> _warm = [];
    private readonly List<RunMeasurement> _series = [];
    private readonly List<RunMeasurement> _appSql = [];
    private int _queriesPerLoad;
    private int _fusedChecked;
    private (int Queries, int Questions) _fused;
    private CpuTime? _cpuAtStart;

    public override string Name => "dashboard";

    public override string BaselineName => "duckdb-sql";

    public override string Description =>
        "Time to all tiles' data of an 8-tile board (KPI revenue this month vs the previous, revenue by month, customers by " +
        "region, orders by category, region x tier table, category x month heatmap, histogram of amounts, top 10 customers " +
        "with Other) over the segment-count data, the board loaded by TileDataService.LoadBoard (the tiles' queries fused), as an " +
        "Admin; cold (each run misses the result cache) and warm (right after, from the cache, reported as \"app warm\"), " +
        "against the same questions as hand-written DuckDB SQL run one after another on the same DuckDB instance. --size N: " +
        $"N orders and N/10 customers (default {CustomerOrdersData.DefaultOrders:N0}), prepared once and cached under results/cache.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        _customersTable = _data.Customers.TableName;
        _ordersTable = _data.Orders.TableName;

        await using var scope = _data.Host.Services.CreateAsyncScope();
        var dashboards = scope.ServiceProvider.GetRequiredService<DashboardService>();
        foreach (var left in (await dashboards.ListAsync(cancellationToken)).Where(d => d.Name == BoardName))
        {
            // From a run that was stopped before its cleanup.
            await dashboards.DeleteAsync(left.Id, cancellationToken);
        }
        _boardId = await dashboards.CreateAsync(BoardName, "Eight tiles over the customers and their orders (benchmark).", cancellationToken);
        foreach (var tile in Tiles(_data.Customers.Id, _data.Orders.Id))
        {
            await dashboards.AddTileAsync(_boardId, tile, cancellationToken: cancellationToken);
        }
        var board = await dashboards.SetFiltersAsync(_boardId, Filters(0), cancellationToken);
        if (board.Tiles.Select(t => t.Id).SequenceEqual(TileOrder) is false)
        {
            throw new InvalidOperationException($"The board holds tiles {string.Join(", ", board.Tiles.Select(t => t.Id))}.");
        }

        context.Note($"Board \"{BoardName}\" (DashboardService.CreateAsync, AddTileAsync; each tile checked by TileValidator): " +
            string.Join("; ", board.Tiles.Select(t => $"{t.Id} = {Describe(t)}")) + ".");
        context.Note($"Board filters (saved on the board before each run, untimed): order amount up to {AmountCeiling:N0} and lifetime value up " +
            $"to {LifetimeValueCeiling:N0}, plus 0.001 x run index; they keep every row (amounts are at most 500, lifetime values at most " +
            "25,000) but make every query of every run new to the result cache. The baseline's SQL carries the same values.");
        context.Note($"App: TileDataService.LoadBoard(board, tiles, DashboardState.Empty), as the board page loads it: the 8 tiles load together, " +
            "and whenever every tile still loading waits for a query, the queries asked are run through QueryFusion (those over the same " +
            $"rows of a dataset as one query); the executor lets one user run {Options().MaxConcurrentPerUser} queries at once (Query:MaxConcurrentPerUser), the rest wait. " +
            "Baseline: one connection, the tiles' queries one after another, rows read into memory.");
        _cpuAtStart = CpuTime.Read();
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var board = await SaveFiltersAsync(run.Index, cancellationToken);
        var readyAfter = new Dictionary<string, TimeSpan>();
        var cold = await run.MeasureAsync(() => LoadBoardAsync(board, parallel: true, readyAfter, cancellationToken));
        foreach (var (tile, after) in readyAfter)
        {
            run.RecordExtra(tile, after);
        }
        var queries = await CheckColdAsync(board, cold, $"run {run.Index}", cancellationToken);
        _queriesPerLoad = queries.Count;
        if (run.IsWarmup)
        {
            NoteSql(context, board, cold, queries);
            await NoteFusedSqlAsync(context, board, cold, cancellationToken);
        }
        _appData[run.Index] = cold;

        // Warm: the same board right after; every query it runs is in the cache now (asking the executor for each is
        // answered from the cache and changes nothing).
        var executor = _data!.Host.Services.GetRequiredService<QueryExecutor>();
        foreach (var (tile, query, user) in queries)
        {
            if (!(await executor.ExecuteAsync(query, user, cancellationToken)).FromCache)
            {
                throw new InvalidOperationException($"Tile {tile}: a query of the cold run is not in the result cache, so the warm run would not be warm.");
            }
        }
        var warm = await MeasureExtraAsync(context, run, _warm, "app warm", () => LoadBoardAsync(board, parallel: true, null, cancellationToken),
            data => Rows(data));
        AgreeBoards($"run {run.Index} warm", cold, warm);

        // Diagnostics, in the same round so drift in the machine falls on them alike: the board cold with its tiles
        // one after another, and the app's own SQL of this run straight on DuckDB, one query after another.
        var seriesBoard = await SaveFiltersAsync(SeriesRuns + run.Index, cancellationToken);
        var series = await MeasureExtraAsync(context, run, _series, "app cold, tiles in series",
            () => LoadBoardAsync(seriesBoard, parallel: false, null, cancellationToken), data => Rows(data));
        await CheckColdAsync(seriesBoard, series, $"tiles in series, run {run.Index}", cancellationToken);
        AgreeBoards($"tiles in series, run {run.Index}", cold, series);

        var took = new Dictionary<string, TimeSpan>();
        var alone = new List<List<object?[]>>();
        await MeasureExtraAsync(context, run, _appSql, "app SQL in series", async () =>
        {
            long rows = 0;
            await using var connection = await _data.Warehouse.OpenAsync(cancellationToken);
            foreach (var (tile, query, _) in queries)
            {
                var started = Stopwatch.GetTimestamp();
                var result = await WarehouseCommand.QueryAsync(connection, query.Sql, query.Parameters, ReadRow, cancellationToken);
                took[tile] = took.GetValueOrDefault(tile) + Stopwatch.GetElapsedTime(started);
                rows += result.Count;
                alone.Add(result);
            }
            return rows;
        }, rows => rows, took);
        AgreeFused($"run {run.Index}", queries, alone);

        return Rows(cold);
    }

    /// <summary>
    /// Fused as unfused, query by query: what the cold board load left in the result cache for each tile's query (the
    /// fused query's share, split back) against that query's own SQL run alone straight on DuckDB, row by row.
    /// </summary>
    private void AgreeFused(string label, List<(string Tile, CompiledQuery Query, string User)> queries, List<List<object?[]>> alone)
    {
        var executor = _data!.Host.Services.GetRequiredService<QueryExecutor>();
        for (var i = 0; i < queries.Count; i++)
        {
            var (tile, query, _) = queries[i];
            if (!executor.TryCached(query, out var cached) || cached is null)
            {
                throw new InvalidOperationException($"{label}, tile {tile}: query {i + 1} is not in the result cache.");
            }
            if (cached.Rows.Count != alone[i].Count)
            {
                throw new InvalidOperationException($"{label}, tile {tile}: the fused load gave {cached.Rows.Count} rows, the query alone {alone[i].Count}.");
            }
            for (var r = 0; r < cached.Rows.Count; r++)
            {
                var (a, b) = (cached.Rows[r], alone[i][r]);
                if (a.Length != b.Length || Enumerable.Range(0, a.Length).Any(c => !Equal(a[c], b[c])))
                {
                    throw new InvalidOperationException($"{label}, tile {tile}, query {i + 1}, row {r + 1}: fused ({string.Join(", ", a.Select(Key))}) " +
                        $"against alone ({string.Join(", ", b.Select(Key))}).");
                }
            }
        }
        _fusedChecked += queries.Count;
    }

    private static bool Equal(object? a, object? b) => Key(a) == Key(b) || (NumberOrNull(a) is { } x && NumberOrNull(b) is { } y && Same(x, y));

    private static double? NumberOrNull(object? value) =>
        value is null or DBNull or string or DateTime or DateOnly or DateTimeOffset or bool ? null : QueryValue.ToDouble(value);

    /// <summary>Times one further side of this round with a run context of its own; kept for the report unless it is the warm-up.</summary>
    private static async Task<T> MeasureExtraAsync<T>(
        ScenarioContext context, RunContext run, List<RunMeasurement> into, string label, Func<Task<T>> work, Func<T, long> rows,
        IReadOnlyDictionary<string, TimeSpan>? extras = null)
    {
        var side = new RunContext(context.Paths, Side.App, run.Index, run.IsWarmup);
        var result = await side.MeasureAsync(work);
        foreach (var (name, elapsed) in extras ?? new Dictionary<string, TimeSpan>())
        {
            side.RecordExtra(name, elapsed);
        }
        var measurement = side.Complete(rows(result));
        if (!run.IsWarmup)
        {
            into.Add(measurement);
        }
        ScenarioContext.Log($"  {label}: {Format.Seconds(measurement.Elapsed)}, peak {Format.Megabytes(measurement.PeakWorkingSet)} MB");
        return result;
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var (amount, lifetimeValue) = Ceilings(run.Index);
        var took = new Dictionary<string, TimeSpan>();
        var answers = await run.MeasureAsync(async () =>
        {
            var result = new Dictionary<string, Answer>();
            await using var connection = await _data!.Warehouse.OpenAsync(cancellationToken);
            foreach (var id in TileOrder)
            {
                var started = Stopwatch.GetTimestamp();
                result[id] = await BaselineAsync(connection, id, amount, lifetimeValue, cancellationToken);
                took[id] = Stopwatch.GetElapsedTime(started);
            }
            return result;
        });
        foreach (var (tile, elapsed) in took)
        {
            run.RecordExtra(tile, elapsed);
        }
        if (!_appData.TryGetValue(run.Index, out var app))
        {
            throw new InvalidOperationException($"The app did not load the board on run {run.Index}.");
        }
        foreach (var id in TileOrder)
        {
            Agree($"run {run.Index}, tile {id}", app[id], answers[id]);
        }
        return answers.Values.Sum(a => (long)a.Rows.Count);
    }

    public override Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var app = measurements.Where(m => m.Side == Side.App).ToList();
        var baseline = measurements.Where(m => m.Side == Side.Baseline).ToList();
        var cold = Median(app.Select(m => m.Elapsed));
        var sql = Median(baseline.Select(m => m.Elapsed));
        var warm = Median(_warm.Select(m => m.Elapsed));
        var series = Median(_series.Select(m => m.Elapsed));
        var appSql = Median(_appSql.Select(m => m.Elapsed));

        context.AddExtra(Extra("app warm", _warm, warm / sql));
        context.AddExtra(Extra("app cold, tiles in series", _series, series / sql));
        context.AddExtra(Extra("app SQL in series", _appSql, appSql / sql));

        context.Note($"Each load asks {_queriesPerLoad} questions for the 8 tiles, on both sides; the app's cold load answered {_fused.Questions} of them with " +
            $"{_fused.Queries} fused queries (QueryFusion: one scan of the rows they share, grouped once by their finest grouping and rolled up per question, " +
            "or GROUPING SETS where measures do not add up; a question's own conditions as FILTERs) and ran the other " +
            $"{_queriesPerLoad - _fused.Questions} alone, so it ran {_queriesPerLoad - _fused.Questions + _fused.Queries} queries against the baseline's {_queriesPerLoad}. " +
            "\"Cold\" is the app's result cache: DuckDB's buffer pool and the OS page cache hold the tables on both sides after the warm-up.");
        context.Note($"Fused as unfused: every run, every tile agreed with the baseline, with the board loaded tile by tile (\"app cold, tiles in series\", " +
            $"not fused across tiles) and, query by query, each tile's cached share of the fused answer with its own SQL run alone ({_fusedChecked} queries checked).");
        context.Note($"Cold (rows \"app\" and \"{BaselineName}\"): all tiles' data in {Format.Seconds(cold)} against {Format.Seconds(sql)} " +
            $"for the same questions one after another: {Format.Ratio(cold / sql)}x (goal 0.7x or less).");
        context.Note($"Warm (row \"app warm\", results.csv ratio = app warm ÷ {BaselineName}): {Format.Seconds(warm)}, " +
            $"{Format.Ratio(sql / warm)} times faster than {BaselineName} (goal 20 or more) and {Format.Ratio(cold / warm)} times faster than cold.");
        context.Note($"Diagnostics, measured in the same rounds (results.csv ratio = the row ÷ {BaselineName}): \"app cold, tiles in series\" is the " +
            $"board cold with each tile loaded alone (TileDataService.LoadAsync; only a tile's own queries fuse, the table's page and totals), awaited one " +
            $"after another, {Format.Seconds(series)} (the fused board load takes {Format.Ratio(cold / series)}x that); " +
            $"\"app SQL in series\" is the app's own compiled SQL of each question of the round, unfused, straight on DuckDB, one query after another on one connection, " +
            $"{Format.Seconds(appSql)} ({Format.Ratio(appSql / sql)}x the hand-written SQL), so the rest of the app adds {Format.Seconds(series - appSql)} " +
            "to a load of the tiles in series.");
        context.Note($"Per tile (medians): app cold, data ready after (from the start of the load) / app SQL straight on DuckDB / {BaselineName}: " +
            string.Join(", ", TileOrder.Select(id =>
                $"{id} {Format.Seconds(Median(app.Select(m => m.Extras[id])))} / {Format.Seconds(Median(_appSql.Select(m => m.Extras[id])))} / " +
                $"{Format.Seconds(Median(baseline.Select(m => m.Extras[id])))}")) + ".");
        if (_cpuAtStart is not null && CpuTime.Read() is { } now)
        {
            var (others, mine) = now.SharesSince(_cpuAtStart);
            context.Note($"CPU time during the runs (/proc/stat): other processes {Percent(others)} of the machine's {Environment.ProcessorCount} cores, this one " +
                $"{Percent(mine)}; other work above a few percent moves every side's times.");
        }
        return Task.CompletedTask;
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_data is null)
        {
            return;
        }
        try
        {
            if (_boardId != 0)
            {
                // Leave the shared prepared data folder as it was found.
                await using var scope = _data.Host.Services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<DashboardService>().DeleteAsync(_boardId);
            }
        }
        finally
        {
            await _data.DisposeAsync();
        }
    }

    // ----- the board -----

    private static IReadOnlyList<TileDefinition> Tiles(int customers, int orders)
    {
        var revenue = new TileMeasure(TileMeasureKind.Sum, "amount", "Revenue");
        var count = new TileMeasure(TileMeasureKind.Count, Label: "Orders");
        var people = new TileMeasure(TileMeasureKind.Customers);
        return
        [
            new() { Id = "kpi", Type = TileType.Kpi, Title = "Revenue this month", DatasetId = orders, Measures = [revenue], DateColumn = "order_date", Period = DateBucket.Month },
            new() { Id = "trend", Type = TileType.Line, Title = "Revenue by month", DatasetId = orders, Measures = [revenue], Dimensions = [new("order_date", DateBucket.Month)] },
            new() { Id = "regions", Type = TileType.Bar, Title = "Customers by region", DatasetId = customers, Measures = [people], Dimensions = [new("region")] },
            new() { Id = "categories", Type = TileType.Pie, Title = "Orders by category", DatasetId = orders, Measures = [count], Dimensions = [new("category")] },
            new() { Id = "region-tier", Type = TileType.Table, Title = "Customers by region and tier", DatasetId = customers, Measures = [people], Dimensions = [new("region"), new("tier")] },
            new() { Id = "heat", Type = TileType.Heatmap, Title = "Orders by category and month", DatasetId = orders, Measures = [count], Dimensions = [new("category"), new("order_date", DateBucket.Month)] },
            new() { Id = "amounts", Type = TileType.Histogram, Title = "Order amounts", DatasetId = orders, Dimensions = [new("amount")] },
            new()
            {
                Id = "top-customers", Type = TileType.Bar, Title = $"Top {TopCustomers} customers by revenue", DatasetId = orders, Measures = [revenue],
                Dimensions = [new("customer_id")], TopN = TopCustomers, OtherBucket = true, Sort = new TileSort(ByMeasure: true, Index: 0, Descending: true), Horizontal = true,
            },
        ];
    }

    private static string Describe(TileDefinition tile) => tile.Id switch
    {
        "kpi" => "KPI, sum of amount this month (by order_date) against the previous month, with the 12-month sparkline (orders)",
        "trend" => "line, sum of amount by order_date month (orders)",
        "regions" => "bar, customers by region (customers)",
        "categories" => "pie, orders by category (orders)",
        "region-tier" => "table, customers by region x tier, first page and totals (customers)",
        "heat" => "heatmap, orders by category x order_date month (orders)",
        "amounts" => "histogram of amount, bin width chosen from the range (orders)",
        "top-customers" => $"bar, top {TopCustomers} customer_id by sum of amount, the rest as Other (orders)",
        _ => tile.Title,
    };

    private static (double Amount, double LifetimeValue) Ceilings(int run) => (AmountCeiling + run * 0.001, LifetimeValueCeiling + run * 0.001);

    private static IReadOnlyList<DashboardFilter> Filters(int run)
    {
        var (amount, lifetimeValue) = Ceilings(run);
        return
        [
            new NumericRangeFilter("amount", Max: amount) { Label = "Order amount up to" },
            new NumericRangeFilter("lifetime_value", Max: lifetimeValue) { Label = "Lifetime value up to" },
        ];
    }

    private QueryOptions Options() => _data!.Host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<QueryOptions>>().Value;

    /// <summary>Saves the run's filters on the board (as a person changing them would) and opens it as the page does.</summary>
    private async Task<DashboardView> SaveFiltersAsync(int run, CancellationToken cancellationToken)
    {
        await using var scope = _data!.Host.Services.CreateAsyncScope();
        var dashboards = scope.ServiceProvider.GetRequiredService<DashboardService>();
        await dashboards.SetFiltersAsync(_boardId, Filters(run), cancellationToken);
        return await dashboards.GetAsync(_boardId, cancellationToken);
    }

    /// <summary>
    /// Every tile's data: the board loaded together as the board page loads it (<see cref="TileDataService.LoadBoard"/>,
    /// one scope, the tiles' queries fused), or each tile alone in a DI scope of its own, one after another.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, TileData>> LoadBoardAsync(
        DashboardView board, bool parallel, Dictionary<string, TimeSpan>? readyAfter, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (parallel)
        {
            await using var boardScope = _data!.Host.Services.CreateAsyncScope();
            var loads = boardScope.ServiceProvider.GetRequiredService<TileDataService>().LoadBoard(board, board.Tiles, DashboardState.Empty, cancellationToken);
            var data = new Dictionary<string, TileData>();
            foreach (var (id, load) in loads)
            {
                data[id] = await load.ContinueWith(t =>
                {
                    if (readyAfter is not null)
                    {
                        lock (readyAfter)
                        {
                            readyAfter[id] = Stopwatch.GetElapsedTime(started);
                        }
                    }
                    return t;
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
            }
            var fused = boardScope.ServiceProvider.GetRequiredService<QueryFusion>().Fused;
            if (fused.Queries > 0)
            {
                _fused = fused;
            }
            return data;
        }
        async Task<(string Id, TileData Data)> LoadAsync(TileDefinition tile)
        {
            await using var scope = _data!.Host.Services.CreateAsyncScope();
            var data = await scope.ServiceProvider.GetRequiredService<TileDataService>().LoadAsync(board, tile, DashboardState.Empty, cancellationToken);
            if (readyAfter is not null)
            {
                lock (readyAfter)
                {
                    readyAfter[tile.Id] = Stopwatch.GetElapsedTime(started);
                }
            }
            return (tile.Id, data);
        }
        var loaded = new List<(string Id, TileData Data)>();
        foreach (var tile in board.Tiles)
        {
            loaded.Add(await LoadAsync(tile));
        }
        return loaded.ToDictionary(l => l.Id, l => l.Data);
    }

    private static void AgreeBoards(string label, IReadOnlyDictionary<string, TileData> expected, IReadOnlyDictionary<string, TileData> actual)
    {
        foreach (var id in TileOrder)
        {
            Agree($"{label}, tile {id}", expected[id], actual[id]);
        }
    }

    private static long Rows(IReadOnlyDictionary<string, TileData> board) => board.Values.Sum(d => (long)d.Rows.Count);

    /// <summary>
    /// The queries the tiles ran, rebuilt from their specs (<see cref="TileQueryBuilder"/>, the way <see cref="TileDataService"/>
    /// builds them, with the values the tiles' first queries returned) and compiled for the current user; checks that none
    /// of their cache keys was seen before, so the cache could not have answered any of them.
    /// </summary>
    private async Task<List<(string Tile, CompiledQuery Query, string User)>> CheckColdAsync(
        DashboardView board, IReadOnlyDictionary<string, TileData> data, string label, CancellationToken cancellationToken)
    {
        var queries = await CompileAsync(board, data, cancellationToken);
        var keys = queries.Select(q => (q.Tile, Key: QueryExecutor.CacheKey(q.Query))).ToList();
        if (keys.FirstOrDefault(k => _seenKeys.Contains(k.Key)) is { Tile: { } repeated })
        {
            throw new InvalidOperationException($"{label}: tile {repeated} ran a query an earlier run ran too; the result cache may have answered it.");
        }
        if (keys.Select(k => k.Key).Distinct().Count() != keys.Count)
        {
            throw new InvalidOperationException($"{label}: two tiles ran the same query.");
        }
        _seenKeys.UnionWith(keys.Select(k => k.Key));
        return queries;
    }

    private async Task<List<(string Tile, CompiledQuery Query, string User)>> CompileAsync(
        DashboardView board, IReadOnlyDictionary<string, TileData> data, CancellationToken cancellationToken)
    {
        await using var scope = _data!.Host.Services.CreateAsyncScope();
        var service = scope.ServiceProvider.GetRequiredService<QueryService>();
        var result = new List<(string, CompiledQuery, string)>();
        foreach (var (tile, spec) in await SpecsAsync(board, data, cancellationToken))
        {
            var (query, user) = await service.CompileAsync(spec, cancellationToken);
            result.Add((tile, query, user));
        }
        return result;
    }

    /// <summary>The questions the tiles asked, rebuilt from their specs with the values the tiles' first queries returned.</summary>
    private async Task<List<(string Tile, QuerySpec Spec)>> SpecsAsync(
        DashboardView board, IReadOnlyDictionary<string, TileData> data, CancellationToken cancellationToken)
    {
        await using var scope = _data!.Host.Services.CreateAsyncScope();
        var access = scope.ServiceProvider.GetRequiredService<Authorizer>();
        var policy = scope.ServiceProvider.GetRequiredService<PermissionPolicy>();
        var result = new List<(string, QuerySpec)>();
        foreach (var tile in board.Tiles)
        {
            var dataset = await policy.DescribeAsync(await access.RequireReadableAsync(tile.DatasetId!.Value, cancellationToken), cancellationToken);
            var builder = new TileQueryBuilder(tile, dataset, TileContext.Of(board.Filters, tile, DashboardState.Empty, CustomerOrdersData.Today));
            var tileData = data[tile.Id];
            IReadOnlyList<QuerySpec> specs = tile.Type switch
            {
                TileType.Kpi => [builder.Kpi().Spec],
                TileType.Table => [builder.TableRows(), builder.TableTotals()],
                TileType.Histogram => [builder.BinRange(), builder.Histogram(tileData.BinWidth ?? throw new InvalidOperationException("The histogram has no bin width."))],
                _ when builder.HasTopN => tileData.HasOther
                    ? [builder.Top(), builder.Other(tileData.Rows.Where(r => !Equals(r[0], TileQueryBuilder.OtherLabel)).Select(r => MarkValue.Text(r[0])).ToList())]
                    : throw new InvalidOperationException($"Tile {tile.Id} has no Other row."),
                _ => [builder.Grouped()],
            };
            result.AddRange(specs.Select(spec => (tile.Id, spec)));
        }
        return result;
    }

    /// <summary>The fused queries of the board's questions (all at once, as if none waited for another), each timed straight on DuckDB.</summary>
    private async Task NoteFusedSqlAsync(ScenarioContext context, DashboardView board, IReadOnlyDictionary<string, TileData> data, CancellationToken cancellationToken)
    {
        var specs = await SpecsAsync(board, data, cancellationToken);
        await using var scope = _data!.Host.Services.CreateAsyncScope();
        var fusion = scope.ServiceProvider.GetRequiredService<QueryFusion>();
        var service = scope.ServiceProvider.GetRequiredService<QueryService>();
        await using var connection = await _data.Warehouse.OpenAsync(cancellationToken);
        async Task<TimeSpan> TimeAsync(CompiledQuery query)
        {
            var started = Stopwatch.GetTimestamp();
            await WarehouseCommand.QueryAsync(connection, query.Sql, query.Parameters, ReadRow, cancellationToken);
            return Stopwatch.GetElapsedTime(started);
        }
        string[][] subsets = Environment.GetEnvironmentVariable("DASHBOARD_FUSION_SUBSETS") is { Length: > 0 } wanted
            ? wanted.Split(';').Select(x => x.Split(',')).ToArray()
            : [];
        foreach (var subset in subsets)
        {
            var chosen = specs.Where((s, i) => subset.Contains(s.Tile) || subset.Contains($"{s.Tile}#{specs.Take(i).Count(t => t.Tile == s.Tile)}")).ToList();
            var fused = await fusion.FusedQueriesAsync(chosen.Select(s => s.Spec).ToList(), cancellationToken);
            var together = TimeSpan.Zero;
            foreach (var query in fused)
            {
                together += await TimeAsync(query);
            }
            var alone = TimeSpan.Zero;
            foreach (var (_, spec) in chosen)
            {
                alone += await TimeAsync((await service.CompileAsync(spec, cancellationToken)).Query);
            }
            ScenarioContext.Log($"  fused {string.Join(",", subset)}: {fused.Count} queries {Format.Seconds(together)}, alone {chosen.Count} queries {Format.Seconds(alone)}");
        }
        foreach (var query in await fusion.FusedQueriesAsync(specs.Select(s => s.Spec).ToList(), cancellationToken))
        {
            context.Note($"Fused query (QueryFusion, run 0, all questions at once, {Format.Seconds(await TimeAsync(query))} straight on DuckDB): {query.Sql} [{Parameters(query)}]");
        }
    }

    private void NoteSql(
        ScenarioContext context, DashboardView board, IReadOnlyDictionary<string, TileData> data, List<(string Tile, CompiledQuery Query, string User)> queries)
    {
        var (amount, lifetimeValue) = Ceilings(0);
        var width = data["amounts"].BinWidth;
        var top = data["top-customers"].Rows.Where(r => r[0] is not string).Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).ToList();
        foreach (var tile in board.Tiles)
        {
            var app = queries.Where(q => q.Tile == tile.Id).Select(q => $"{q.Query.Sql} [{Parameters(q.Query)}]");
            context.Note($"Tile {tile.Id}, app SQL (QueryCompiler, run 0): {string.Join(" ; then ", app)}");
            context.Note($"Tile {tile.Id}, baseline SQL (run 0): {string.Join(" ; then ", BaselineSql(tile.Id, amount, lifetimeValue, width, top))}");
        }
    }

    // ----- the baseline -----

    /// <summary>A tile's answer in comparable form: rows of groupings then measures, and a table's totals or a histogram's width.</summary>
    private sealed record Answer(IReadOnlyList<object?[]> Rows, int Groupings, double? Total = null, double? BinWidth = null);

    private string Orders => Quote(_ordersTable);

    private string Customers => Quote(_customersTable);

    private static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Literal(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string KpiFrom => $"{Periods.Add(Periods.Start(CustomerOrdersData.Today, DateBucket.Month), DateBucket.Month, 1 - TileQueryBuilder.SparkPeriods):yyyy-MM-dd}";

    private static string KpiTo => $"{Periods.Add(Periods.Start(CustomerOrdersData.Today, DateBucket.Month), DateBucket.Month, 1):yyyy-MM-dd}";

    /// <summary>The hand-written SQL of a tile; the histogram's second query and the Other query show placeholders for what the first returns.</summary>
    private IReadOnlyList<string> BaselineSql(string tile, double amount, double lifetimeValue, double? width = null, IReadOnlyList<long>? top = null)
    {
        var a = $"amount <= {Literal(amount)}";
        var l = $"lifetime_value <= {Literal(lifetimeValue)}";
        var w = width is { } x ? Literal(x) : "<width>";
        return tile switch
        {
            "kpi" =>
            [
                $"SELECT date_trunc('month', order_date) AS month, sum(amount) AS revenue FROM {Orders} " +
                $"WHERE order_date >= TIMESTAMP '{KpiFrom}' AND order_date < TIMESTAMP '{KpiTo}' AND {a} GROUP BY 1 ORDER BY 1",
            ],
            "trend" => [$"SELECT date_trunc('month', order_date) AS month, sum(amount) AS revenue FROM {Orders} WHERE {a} GROUP BY 1 ORDER BY 1"],
            "regions" => [$"SELECT region, count(*) AS customers FROM {Customers} WHERE {l} GROUP BY 1 ORDER BY 2 DESC, 1"],
            "categories" => [$"SELECT category, count(*) AS orders FROM {Orders} WHERE {a} GROUP BY 1 ORDER BY 2 DESC, 1"],
            "region-tier" =>
            [
                $"SELECT region, tier, count(*) AS customers FROM {Customers} WHERE {l} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 100",
                $"SELECT count(*) FROM {Customers} WHERE {l}",
            ],
            "heat" => [$"SELECT category, date_trunc('month', order_date) AS month, count(*) AS orders FROM {Orders} WHERE {a} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"],
            "amounts" =>
            [
                $"SELECT min(amount), max(amount) FROM {Orders} WHERE {a}",
                $"SELECT floor(amount / {w}) * {w} AS bin, count(*) AS orders FROM {Orders} WHERE {a} GROUP BY 1 ORDER BY 1",
            ],
            "top-customers" =>
            [
                $"SELECT customer_id, sum(amount) AS revenue FROM {Orders} WHERE {a} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TopCustomers}",
                $"SELECT sum(amount) AS revenue, count(*) AS orders FROM {Orders} WHERE {a} AND customer_id NOT IN " +
                $"({(top is null ? "<the top ids>" : string.Join(", ", top.Select(id => id.ToString(CultureInfo.InvariantCulture))))})",
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(tile)),
        };
    }

    private async Task<Answer> BaselineAsync(DuckDBConnection connection, string tile, double amount, double lifetimeValue, CancellationToken cancellationToken)
    {
        Task<List<object?[]>> Query(string sql) => WarehouseCommand.QueryAsync(connection, sql, null, ReadRow, cancellationToken);

        var sql = BaselineSql(tile, amount, lifetimeValue);
        switch (tile)
        {
            case "region-tier":
            {
                var rows = await Query(sql[0]);
                var total = await Query(sql[1]);
                return new Answer(rows, 2, Total: QueryValue.ToDouble(total[0][0]));
            }
            case "amounts":
            {
                var range = (await Query(sql[0]))[0];
                // The same round width the tile picks (1, 2 or 5 times a power of ten, about 20 bins).
                var width = TileQueryBuilder.NiceBinWidth(QueryValue.ToDouble(range[0]), QueryValue.ToDouble(range[1]));
                var bins = await Query(BaselineSql(tile, amount, lifetimeValue, width)[1]);
                return new Answer(bins, 1, BinWidth: width);
            }
            case "top-customers":
            {
                var top = await Query(sql[0]);
                var ids = top.Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).ToList();
                var rest = (await Query(BaselineSql(tile, amount, lifetimeValue, top: ids)[1]))[0];
                if (Convert.ToInt64(rest[1], CultureInfo.InvariantCulture) > 0)
                {
                    top.Add([TileQueryBuilder.OtherLabel, rest[0]]);
                }
                return new Answer(top, 1);
            }
            default:
                return new Answer(await Query(sql[0]), tile == "heat" ? 2 : 1);
        }
    }

    /// <summary>A result row's values, read as the executor reads them.</summary>
    private static object?[] ReadRow(DuckDBDataReader reader)
    {
        var values = new object?[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }
        return values;
    }

    // ----- agreeing -----

    private static Answer AnswerOf(TileData data) => new(data.Rows, data.Dimensions.Count,
        Total: data.Totals is { Count: > 0 } totals ? totals[0] : null, BinWidth: data.BinWidth);

    private static void Agree(string label, TileData app, TileData other) => Agree(label, app, AnswerOf(other));

    /// <summary>Same rows in the same order: groupings as text (dates as days, numbers by value), measures equal to 1e-9.</summary>
    private static void Agree(string label, TileData app, Answer other)
    {
        var mine = AnswerOf(app);
        if (app.Type == TileType.Kpi && (app.Kpi is not { } kpi || mine.Rows.Count < 2 || !Same(kpi.Value, Number(mine.Rows[^1][1])) || !Same(kpi.Previous, Number(mine.Rows[^2][1]))))
        {
            throw new InvalidOperationException($"{label}: the KPI's value and previous value are not its last two periods.");
        }
        if (mine.Rows.Count != other.Rows.Count || mine.Groupings != other.Groupings)
        {
            throw new InvalidOperationException($"{label}: {mine.Rows.Count} rows against {other.Rows.Count}.");
        }
        if (!Same(mine.Total, other.Total) || !Same(mine.BinWidth, other.BinWidth))
        {
            throw new InvalidOperationException($"{label}: totals {mine.Total} against {other.Total}, bin width {mine.BinWidth} against {other.BinWidth}.");
        }
        for (var i = 0; i < mine.Rows.Count; i++)
        {
            var (a, b) = (mine.Rows[i], other.Rows[i]);
            var agrees = a.Length == b.Length
                && Enumerable.Range(0, mine.Groupings).All(c => Key(a[c]) == Key(b[c]))
                && Enumerable.Range(mine.Groupings, a.Length - mine.Groupings).All(c => Same(Number(a[c]), Number(b[c])));
            if (!agrees)
            {
                throw new InvalidOperationException($"{label}, row {i + 1}: ({string.Join(", ", a.Select(Key))}) against ({string.Join(", ", b.Select(Key))}).");
            }
        }
    }

    private static string Key(object? value) => value switch
    {
        null or DBNull => "(empty)",
        string text => text,
        DateOnly or DateTime or DateTimeOffset => Periods.AsDate(value)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Literal(QueryValue.ToDouble(value) ?? double.NaN),
    };

    private static double? Number(object? value) => value is null or DBNull ? null : QueryValue.ToDouble(value);

    private static bool Same(double? a, double? b) =>
        a is null || b is null ? a is null && b is null : Math.Abs(a.Value - b.Value) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a.Value), Math.Abs(b.Value)));

    private static TimeSpan Median(IEnumerable<TimeSpan> values) => BenchmarkRunner.Median(values.Order().ToList());

    private static ExtraSide Extra(string label, IReadOnlyList<RunMeasurement> runs, double ratio)
    {
        var times = runs.Select(r => r.Elapsed).Order().ToList();
        return new ExtraSide(label, BenchmarkRunner.Median(times), times[0], times[^1], runs[0].Rows, ratio,
            runs.Max(r => r.PeakWorkingSet), runs.Min(r => r.StartWorkingSet), runs.Max(r => r.PeakManagedHeap));
    }

    /// <summary>
    /// CPU time used by the whole machine and by this process (Linux clock ticks), to tell how much other work shared the
    /// cores while a scenario ran; null where /proc is not there.
    /// </summary>
    private sealed record CpuTime(long MachineBusy, long MachineTotal, long Process)
    {
        public static CpuTime? Read()
        {
            try
            {
                // cpu user nice system idle iowait irq softirq steal …
                var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                    .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                // After the command name in parentheses: state, ppid, … utime and stime are the 12th and 13th.
                var stat = File.ReadAllText("/proc/self/stat");
                var own = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7];
                return new CpuTime(busy, busy + cpu[3] + cpu[4],
                    long.Parse(own[11], CultureInfo.InvariantCulture) + long.Parse(own[12], CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
            {
                return null;
            }
        }

        /// <summary>Shares of all the cores' time since <paramref name="start"/>: other processes', this process's.</summary>
        public (double Others, double Mine) SharesSince(CpuTime start)
        {
            var total = Math.Max(1, MachineTotal - start.MachineTotal);
            var mine = Process - start.Process;
            return (Math.Max(0, MachineBusy - start.MachineBusy - mine) / (double)total, mine / (double)total);
        }
    }
}
