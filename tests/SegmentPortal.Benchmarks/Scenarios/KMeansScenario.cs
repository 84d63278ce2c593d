using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// K-means on the customers of the <see cref="CustomerOrdersData"/> (N/10 customers, 1,000,000 by default) with five
/// features from their orders, through the app's own path: <see cref="ClusteringService.StartAsync"/> queues the job and
/// the app's <see cref="JobRunner"/> runs it (features read through the query layer, scaled by the engine's preparation,
/// trained with the portal's own k-means (scikit-learn's greedy k-means++ and Lloyd) and as many seeded starts as <see cref="KMeansOptions.Default"/> has, assigned,
/// explained, the model saved and the membership stored as customer fields); a run is timed from the click to the job's
/// end. The baseline is scikit-learn's <c>KMeans</c> (k-means++, <c>n_init</c> = the app's starts, the same K and
/// iteration cap) fitted on the same scaled matrix, in a Python process of its own that loads the matrix once and
/// answers one fit per run over a pipe.
/// <para>
/// Every run checks that the job's stored membership, applied to the matrix the baseline fits, gives exactly the
/// within-cluster sum of squares the job reported (so both sides cluster the same matrix and the membership is what was
/// trained), and that the app's sum of squares is within 1% of scikit-learn's on the same run (both around the members'
/// means; scikit-learn's own <c>inertia_</c> is printed too). After the timed runs, the automatic-K job (K = 2..10 on a
/// sample, silhouette, Davies–Bouldin and elbow, then the chosen K on everyone) is timed as an extra row, and the
/// training phase alone as another. Every run made is deleted again, so the cached data folder keeps no trace.
/// </para>
/// </summary>
public sealed class KMeansScenario : Scenario
{
    /// <summary>The number of clusters of the fixed-K runs.</summary>
    private const int K = 5;

    /// <summary>Seed of run i (the same on both sides): a new k-means++ draw every run.</summary>
    private const int SeedBase = 1000;

    /// <summary>The app's sum of squares may differ from scikit-learn's by at most this share.</summary>
    private const double InertiaTolerance = 0.01;

    private const string RunName = "kmeans benchmark";

    private static readonly CustomerMeasure[] Measures =
    [
        CustomerMeasure.OrderCount, CustomerMeasure.TotalAmount, CustomerMeasure.AverageAmount,
        CustomerMeasure.DaysSinceLastOrder, CustomerMeasure.DaysSinceFirstOrder,
    ];

    private CustomerOrdersData? _data;
    private PortalHost _host = null!;
    private JobRunner? _runner;
    private IReadOnlyList<ClusteringFeature> _features = [];
    private string _work = null!;
    private string _matrixPath = null!;
    private string _keysPath = null!;
    private int _rows;
    private Process? _python;
    private readonly StringBuilder _pythonErrors = new();
    private JsonElement _pythonInfo;
    private readonly Dictionary<int, double> _appWcss = [];
    private readonly Dictionary<int, Fit> _fits = [];
    private readonly List<string> _inertiaRows = [];

    public override string Name => "kmeans";

    public override string BaselineName => "scikit-learn";

    public override string Description =>
        $"K-means of the customers on 5 features from their orders (orders, total spent and average order value, log1p; days " +
        $"since the last and the first order), z-scored, K = {K}, through the app's clustering job (ClusteringService.StartAsync, " +
        "JobRunner: read features through the query layer, scale, train with the portal's k-means (greedy k-means++, Lloyd) and the app's seeded starts, " +
        "assign, explain, save the model and the membership), as an Admin, against scikit-learn's KMeans (k-means++, n_init = " +
        "the app's starts, same K and iteration cap) fitted on the same scaled matrix in a Python process (python3-sklearn); " +
        "the sums of squares must agree within 1% every run. Extra rows: the app's training phase alone and the automatic-K job " +
        $"(K = 2..10). --size N: N orders and N/10 customers (default {CustomerOrdersData.DefaultOrders:N0}, so 1,000,000 customers), " +
        "the segment-count data.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var python = await Python.FindAsync("import sklearn.cluster, threadpoolctl", cancellationToken) ?? throw new ScenarioInputException(
            "kmeans needs a python3 with scikit-learn for its baseline (on Debian: apt-get install python3-sklearn).");
        _data = await CustomerOrdersData.OpenAsync(context, cancellationToken);
        _host = _data.Host;
        await DeleteLeftoverRunsAsync(cancellationToken);

        // The app's own job runner, as the web host runs it: jobs are queued by the service and run in their own scope.
        _runner = _host.Services.GetServices<IHostedService>().OfType<JobRunner>().Single();
        await _runner.StartAsync(cancellationToken);

        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var offered = await scope.ServiceProvider.GetRequiredService<ClusteringService>().FeaturesAsync(_data.Customers.Id, cancellationToken);
            _features = Measures.Select(m => offered.Select(o => o.Feature).FirstOrDefault(f => f.Source == FeatureSource.Orders && f.Measure == m)
                ?? throw new InvalidOperationException($"The customers dataset does not offer the order measure {m} for clustering.")).ToList();
        }
        var options = KMeansOptions.Default;
        context.Note($"Features ({_features.Count}): {string.Join(", ", _features.Select(f => f.Transform == FeatureTransform.None ? f.Label : $"{f.Label} ({f.Transform})"))}; " +
            $"scaling {Request(0, K).Scaling}, missing values {Request(0, K).Missing} (the request's defaults).");
        context.Note($"The app's engine as configured (KMeansOptions.Default): up to {options.Restarts} seeded k-means++ starts per K, at most {options.RestartRowBudget:N0} starts × customers and at least 3 (the best sum of squares wins), " +
            $"at most {options.MaxIterations} iterations, each start on up to {Environment.ProcessorCount} cores (fixed row chunks), the starts one after another; automatic K trains each K on a sample of {options.EvaluationSampleSize:N0} " +
            $"with a silhouette on {options.SilhouetteSampleSize:N0}. scikit-learn runs with n_init = the app's starts for the input's size, max_iter = {options.MaxIterations}, " +
            $"the same K and k-means++ (its own draw of starting centres from the same seed number; the two libraries' random streams differ).");

        // The matrix the job clusters, built the same way (its query, the engine's preparation), for scikit-learn and for
        // the checks. Written to files so the app's runs do not carry it in their memory figures.
        _work = context.Paths.NewWorkFolder("kmeans");
        _matrixPath = Path.Combine(_work, "features.f32");
        _keysPath = Path.Combine(_work, "keys.txt");
        var watch = Stopwatch.StartNew();
        var (keys, prepared) = await PrepareMatrixAsync(cancellationToken);
        _rows = prepared.Rows.Length;
        await using (var file = new FileStream(_matrixPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach (var row in prepared.Rows)
            {
                file.Write(MemoryMarshal.AsBytes(row.AsSpan()));
            }
        }
        await File.WriteAllLinesAsync(_keysPath, prepared.KeptRows.Select(i => keys[i]), cancellationToken);
        context.Note($"Matrix: {_rows:N0} customers x {_features.Count} features (of {keys.Count:N0}; {prepared.RowsDropped:N0} dropped, " +
            $"{string.Join("/", prepared.ImputedPerFeature)} values filled with the median per feature), float32, " +
            $"read and scaled once for scikit-learn in {Format.Seconds(watch.Elapsed)} (not timed).");

        _python = StartPython(context, python, options);
        var first = await _python.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The scikit-learn process ended at start: {PythonErrors()}");
        _pythonInfo = JsonDocument.Parse(first).RootElement.Clone();
        context.Note($"scikit-learn {_pythonInfo.GetProperty("sklearn").GetString()} (numpy {_pythonInfo.GetProperty("numpy").GetString()}, " +
            $"Python {_pythonInfo.GetProperty("python").GetString()}), thread pools: {_pythonInfo.GetProperty("threads")}; the app's training uses up to " +
            $"{Environment.ProcessorCount} cores per start (fixed row chunks, so a seed gives the same model on any number of cores), DuckDB's reads use {_data.Limits.Threads} threads.");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var request = Request(run.Index, K);
        var (runId, snapshot) = await MeasureJobAsync(run, request, cancellationToken);
        try
        {
            var view = await GetRunAsync(runId, cancellationToken);
            var metrics = view.Metrics ?? throw new InvalidOperationException("The finished run has no metrics.");
            if (view.Summary.K != K || metrics.K != K)
            {
                throw new InvalidOperationException($"The run trained {view.Summary.K} clusters, not {K}.");
            }
            await CheckMembershipAsync(runId, metrics, cancellationToken);
            _appWcss[run.Index] = metrics.WithinClusterSumOfSquares;
            ScenarioContext.Log($"  app: {snapshot.Message} Sum of squares {metrics.WithinClusterSumOfSquares:N1}; the stored membership gives the same on the matrix.");
            return view.Counts!.Clustered;
        }
        finally
        {
            await DeleteRunAsync(runId, cancellationToken);
        }
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var seed = SeedBase + run.Index;
        var fit = await run.MeasureAsync(() => FitAsync(seed, cancellationToken));
        run.RecordExtra("fit", TimeSpan.FromSeconds(fit.Seconds));
        _fits[run.Index] = fit;
        if (!_appWcss.TryGetValue(run.Index, out var app))
        {
            throw new InvalidOperationException($"Run {run.Index} of scikit-learn has no app run to compare with.");
        }
        var difference = (app - fit.Wcss) / fit.Wcss;
        _inertiaRows.Add($"| {(run.IsWarmup ? "warm-up" : run.Index.ToString(CultureInfo.InvariantCulture))} | {seed} | {app:N1} | {fit.Wcss:N1} | {fit.Inertia:N1} | " +
            $"{difference:+0.000%;-0.000%;0.000%} | {fit.Iterations} |");
        if (Math.Abs(difference) > InertiaTolerance)
        {
            throw new InvalidOperationException(
                $"The sums of squares disagree on run {run.Index} (seed {seed}): the app {app:N1}, scikit-learn {fit.Wcss:N1} " +
                $"(inertia_ {fit.Inertia:N1}), {difference:+0.00%;-0.00%} — more than {InertiaTolerance * 100:0}%.");
        }
        return _rows;
    }

    public override async Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var app = measurements.Where(m => m.Side == Side.App).ToList();
        var baseline = measurements.Where(m => m.Side == Side.Baseline).ToList();
        var sklearn = Median(baseline.Select(m => m.Elapsed));
        var restarts = KMeansOptions.Default.StartsFor(_rows);

        context.Note($"Sums of squares (within-cluster, around the members' means, in the scaled space; the check: app within {InertiaTolerance * 100:0}% of scikit-learn every run):");
        context.Note("");
        context.Note("| run | seed | app | scikit-learn | scikit-learn inertia_ | app vs scikit-learn | scikit-learn iterations |");
        context.Note("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var row in _inertiaRows)
        {
            context.Note(row);
        }
        context.Note("");
        var perPoint = _appWcss.Where(w => w.Key > 0).Select(w => w.Value / _rows).Order().ToList();
        context.Note($"Per customer: app {perPoint[perPoint.Count / 2]:0.0000}, scikit-learn {_fits.Where(f => f.Key > 0).Select(f => f.Value.Wcss / _rows).Order().ElementAt(perPoint.Count / 2):0.0000} (medians).");

        var phases = app.SelectMany(m => m.Phases).GroupBy(p => p.Name)
            .Select(g => $"{g.Key} {Format.Seconds(Median(g.Select(p => p.Elapsed)))} (peak {Format.Megabytes(g.Max(p => p.PeakWorkingSet))} MB)");
        context.Note($"App job by phase (medians, from the job's progress messages): {string.Join("; ", phases)}.");
        context.Note($"scikit-learn: fit alone (its own clock) {Format.Seconds(Median(baseline.Select(m => m.Extras["fit"])))}, the request over the pipe " +
            $"{Format.Seconds(sklearn)} (medians). Peak MB on the scikit-learn row is this harness's process, which only waits; the Python " +
            $"process's peak RSS was {Format.Megabytes(_fits.Values.Max(f => f.PeakRss))} MB (matrix loaded, fits included).");

        // The training phase alone against the same fits: the like-for-like comparison of the two k-means implementations.
        var training = app.Select(m => m.Phases.FirstOrDefault(p => p.Name == "train")?.Elapsed).ToList();
        if (training.All(t => t is not null))
        {
            var times = training.Select(t => t!.Value).Order().ToList();
            var ratio = BenchmarkRunner.Median(times).TotalMilliseconds / sklearn.TotalMilliseconds;
            context.AddExtra(new ExtraSide($"app training only ({restarts} starts)", BenchmarkRunner.Median(times), times[0], times[^1], app[0].Rows, ratio));
            context.Note($"Row \"app training only\": the job's training phase (ClusteringEngine.Train: {restarts} k-means++ starts one after another, each on up to {Environment.ProcessorCount} cores, " +
                $"assignment and quality metrics) from the same runs; {Format.Ratio(ratio)}x scikit-learn's request (results.csv ratio: that row ÷ scikit-learn).");
        }

        await AutomaticKAsync(context, sklearn, cancellationToken);
        context.Note($"Load average at the end (/proc/loadavg): {LoadAverage()}; this machine is shared with other work, so times move between runs.");
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_python is not null)
        {
            try
            {
                if (!_python.HasExited)
                {
                    await _python.StandardInput.WriteLineAsync("quit");
                    await _python.StandardInput.FlushAsync();
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    try
                    {
                        await _python.WaitForExitAsync(wait.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        _python.Kill(entireProcessTree: true);
                    }
                }
            }
            catch (IOException)
            {
                // It has gone already.
            }
            _python.Dispose();
        }
        if (_runner is not null)
        {
            await _runner.StopAsync(CancellationToken.None);
        }
        if (_data is not null)
        {
            await _data.DisposeAsync();
        }
        if (_work is not null)
        {
            BenchmarkPaths.DeleteFolder(_work);
        }
    }

    /// <summary>
    /// The automatic-K job (the request's defaults, K = 2..10: each K trained on a sample with the app's starts, silhouette,
    /// Davies–Bouldin and elbow, the suggested K trained on everyone), as many runs as the main comparison, no warm-up (the
    /// timed runs warmed the same path). Extra row "app automatic K"; its results.csv ratio is it ÷ scikit-learn's fixed-K fit.
    /// </summary>
    private async Task AutomaticKAsync(ScenarioContext context, TimeSpan sklearn, CancellationToken cancellationToken)
    {
        var runs = new List<RunMeasurement>();
        ClusteringRunView? first = null;
        for (var i = 1; i <= context.Runs; i++)
        {
            var run = new RunContext(context.Paths, Side.App, i, isWarmup: false);
            var request = Request(i, null);
            var (runId, snapshot) = await MeasureJobAsync(run, request, cancellationToken);
            try
            {
                var view = await GetRunAsync(runId, cancellationToken);
                var measurement = run.Complete(view.Counts!.Clustered);
                runs.Add(measurement);
                first ??= view;
                ScenarioContext.Log($"automatic K run {i}/{context.Runs}: {Format.Seconds(measurement.Elapsed)}, {snapshot.Message}");
            }
            finally
            {
                await DeleteRunAsync(runId, cancellationToken);
            }
        }
        var times = runs.Select(r => r.Elapsed).Order().ToList();
        var median = BenchmarkRunner.Median(times);
        var ratio = median.TotalMilliseconds / sklearn.TotalMilliseconds;
        context.AddExtra(new ExtraSide("app automatic K (2..10)", median, times[0], times[^1], runs[0].Rows, ratio,
            runs.Max(r => r.PeakWorkingSet), runs.Min(r => r.StartWorkingSet), runs.Max(r => r.PeakManagedHeap)));
        var evaluation = first!.Evaluation!;
        context.Note($"Row \"app automatic K (2..10)\": the whole job with K left to the app, {context.Runs} runs after the timed ones (seeds " +
            $"{SeedBase + 1}..{SeedBase + context.Runs}); {Format.Ratio(ratio)}x scikit-learn's fixed-K fit (results.csv ratio). Run 1 chose K = {first.Summary.K}: " +
            $"{evaluation.Suggestion.Reason} Per K on a sample of {evaluation.SampleSize:N0} (K: silhouette / Davies–Bouldin / sum of squares): " +
            string.Join(", ", evaluation.PerK.Select(m => $"{m.K}: {m.Silhouette:0.000} / {m.DaviesBouldin:0.000} / {m.WithinClusterSumOfSquares:N0}")) + ".");
        var phases = runs.SelectMany(m => m.Phases).GroupBy(p => p.Name).Select(g => $"{g.Key} {Format.Seconds(Median(g.Select(p => p.Elapsed)))}");
        context.Note($"Automatic K by phase (medians): {string.Join("; ", phases)}.");
    }

    private ClusteringRequest Request(int index, int? k) => new()
    {
        Name = $"{RunName} {(k is null ? "auto" : "k" + k.Value.ToString(CultureInfo.InvariantCulture))} {index}",
        DatasetId = _data!.Customers.Id,
        Features = _features,
        K = k,
        Seed = SeedBase + index,
    };

    /// <summary>
    /// Starts the job as the page does and times it to its end (the job's progress messages mark the phases). Returns
    /// the run's id and the job's last state; a job that did not succeed fails the benchmark with its error.
    /// </summary>
    private async Task<(int RunId, JobSnapshot Snapshot)> MeasureJobAsync(RunContext run, ClusteringRequest request, CancellationToken cancellationToken)
    {
        var queue = _host.Services.GetRequiredService<JobQueue>();
        using var changed = new SemaphoreSlim(0);
        var reached = -1;
        var gate = new Lock();
        void OnChanged(JobSnapshot snapshot)
        {
            if (snapshot.Kind != ClusteringService.JobKind)
            {
                return;
            }
            // Phases only move forward: the job's fractional progress goes through Progress<T>, whose callbacks run later
            // on the thread pool, so a late "Training…" can arrive after "Explaining…".
            var phase = Array.FindIndex(Phases, p => snapshot.Message.StartsWith(p.Prefix, StringComparison.Ordinal));
            lock (gate)
            {
                if (snapshot.IsActive && phase > reached)
                {
                    reached = phase;
                    run.Mark(Phases[phase].Name);
                }
            }
            changed.Release();
        }
        queue.Changed += OnChanged;
        try
        {
            return await run.MeasureAsync(async () =>
            {
                run.Mark("request (StartAsync's checks)");
                await using var scope = _host.Services.CreateAsyncScope();
                var runId = await scope.ServiceProvider.GetRequiredService<ClusteringService>().StartAsync(request, cancellationToken);
                var key = ClusteringService.JobKey(runId);
                while (true)
                {
                    var snapshot = queue.Latest(key) ?? throw new InvalidOperationException($"No job was queued for clustering run {runId}.");
                    if (!snapshot.IsActive)
                    {
                        return snapshot.Status == JobStatus.Succeeded
                            ? (runId, snapshot)
                            : throw new InvalidOperationException($"The clustering job ended {snapshot.Status}: {snapshot.Error ?? snapshot.Message}");
                    }
                    await changed.WaitAsync(cancellationToken);
                }
            });
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
    }

    /// <summary>The phases of the clustering job, in order, by the start of the progress message that opens each (see ClusteringService.TrainAsync).</summary>
    private static readonly (string Prefix, string Name)[] Phases =
    [
        ("Starting", "job start"),
        ("Loading", "read features"),
        ("Preparing", "scale"),
        ("Trying", "try K"),
        ("Training", "train"),
        ("Explaining", "explain, save membership"),
        ("Saving", "save model"),
    ];

    private async Task<ClusteringRunView> GetRunAsync(int runId, CancellationToken cancellationToken)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ClusteringService>().GetAsync(runId, cancellationToken);
    }

    private async Task DeleteRunAsync(int runId, CancellationToken cancellationToken)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ClusteringService>().DeleteAsync(runId, cancellationToken);
    }

    /// <summary>Runs of an earlier, interrupted benchmark on the cached data folder (their fields would show on the customers).</summary>
    private async Task DeleteLeftoverRunsAsync(CancellationToken cancellationToken)
    {
        List<int> leftovers;
        await using (var db = await _host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken))
        {
            leftovers = await db.ClusteringRuns.AsNoTracking().Where(r => r.Name.StartsWith(RunName)).Select(r => r.Id).ToListAsync(cancellationToken);
        }
        foreach (var id in leftovers)
        {
            await DeleteRunAsync(id, cancellationToken);
        }
    }

    /// <summary>
    /// The customers' features as the job reads them (ClusteringService's query: one row per customer with a key, the
    /// order measures as facts), prepared by the engine with the request's defaults.
    /// </summary>
    private async Task<(List<string> Keys, PreparedData Prepared)> PrepareMatrixAsync(CancellationToken cancellationToken)
    {
        var customers = _data!.Customers;
        var key = customers.Columns.First(c => c.Role == FieldRole.CustomerId && !c.IsExcluded);
        await using var scope = _host.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<QueryService>().RunAsync(new QuerySpec
        {
            DatasetId = customers.Id,
            Filter = new RuleGroup { Children = [new FieldCondition { Field = key.Name, Operator = RuleOperator.IsNotEmpty }] },
            Columns = [key.Name],
            Facts = _features.Select((f, i) => new FactColumn($"m{i}", f.Measure!.Value, Column: f.Column, Values: f.Value is null ? null : [f.Value])).ToList(),
            DistinctCustomers = true,
            Limit = ClusteringService.MaxCustomers + 1,
        }, cancellationToken);
        var columns = result.Columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var featureColumns = _features.Select((_, i) => columns[$"m{i}"]).ToArray();
        var keys = new List<string>(result.Rows.Count);
        var rows = new double?[result.Rows.Count][];
        for (var r = 0; r < rows.Length; r++)
        {
            var row = result.Rows[r];
            keys.Add(Convert.ToString(row[0], CultureInfo.InvariantCulture)!);
            rows[r] = featureColumns.Select(c => QueryValue.ToDouble(row[c])).ToArray();
        }
        var request = Request(0, K);
        var prepared = ClusteringEngine.Prepare(new ClusteringData(_features.Select(ClusteringService.SpecOf).ToList(), rows), request.Scaling, request.Missing, cancellationToken);
        return (keys, prepared);
    }

    /// <summary>
    /// The run's stored membership (its customer-fields table) covers every customer of the matrix with a cluster 1..K,
    /// and, applied to the matrix, gives the sum of squares the job reported: the job clustered this very matrix.
    /// </summary>
    private async Task CheckMembershipAsync(int runId, ClusterMetrics metrics, CancellationToken cancellationToken)
    {
        string table;
        await using (var db = await _host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken))
        {
            table = await db.CustomerAttributeSets.AsNoTracking().Where(s => s.Kind == AttributeSetKind.Clustering && s.SourceId == runId)
                .Select(s => s.TableName).SingleAsync(cancellationToken);
        }
        List<(string Key, long? Cluster)> stored;
        await using (var connection = await _data!.Warehouse.OpenAsync(cancellationToken))
        {
            stored = await WarehouseCommand.QueryAsync(connection,
                $"SELECT {WarehouseNames.Quote(CustomerAttributeStore.KeyColumn)}, \"cluster\" FROM {WarehouseNames.Quote(table)}", null,
                r => (Convert.ToString(r.GetValue(0), CultureInfo.InvariantCulture)!, r.IsDBNull(1) ? (long?)null : Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture)),
                cancellationToken);
        }
        var clusterOf = new Dictionary<string, int>(stored.Count, StringComparer.Ordinal);
        foreach (var (key, cluster) in stored)
        {
            if (cluster is not { } c || c < 1 || c > K)
            {
                throw new InvalidOperationException($"Customer {key} has cluster {cluster?.ToString(CultureInfo.InvariantCulture) ?? "none"} in the stored membership.");
            }
            clusterOf[key] = (int)c - 1;
        }
        stored = [];

        var keys = await File.ReadAllLinesAsync(_keysPath, cancellationToken);
        var values = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(_matrixPath, cancellationToken)).ToArray();
        if (clusterOf.Count != keys.Length)
        {
            throw new InvalidOperationException($"The stored membership has {clusterOf.Count:N0} customers; the matrix {keys.Length:N0}.");
        }
        var labels = new int[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            labels[i] = clusterOf.TryGetValue(keys[i], out var c) ? c : throw new InvalidOperationException($"Customer {keys[i]} has no stored cluster.");
        }
        var wcss = WithinClusterSumOfSquares(values, _features.Count, labels, K);
        if (Math.Abs(wcss - metrics.WithinClusterSumOfSquares) > 1e-6 * Math.Max(1, metrics.WithinClusterSumOfSquares))
        {
            throw new InvalidOperationException(
                $"The stored membership on the benchmark's matrix gives a sum of squares of {wcss:N3}; the job reported {metrics.WithinClusterSumOfSquares:N3}. " +
                "The matrix is not the one the job clustered (or the membership is not what it trained).");
        }
    }

    /// <summary>Sum of squared distances to the members' means, in double, as ClusterQuality.Measure computes it.</summary>
    private static double WithinClusterSumOfSquares(float[] values, int d, int[] labels, int k)
    {
        var means = new double[k * d];
        var sizes = new int[k];
        for (var i = 0; i < labels.Length; i++)
        {
            sizes[labels[i]]++;
            for (var f = 0; f < d; f++)
            {
                means[labels[i] * d + f] += values[i * d + f];
            }
        }
        for (var c = 0; c < k; c++)
        {
            for (var f = 0; f < d && sizes[c] > 0; f++)
            {
                means[c * d + f] /= sizes[c];
            }
        }
        double total = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            for (var f = 0; f < d; f++)
            {
                var diff = values[i * d + f] - means[labels[i] * d + f];
                total += diff * diff;
            }
        }
        return total;
    }

    private Process StartPython(ScenarioContext context, string python, KMeansOptions options)
    {
        var script = Path.Combine(context.Paths.RepositoryRoot, "tests", "SegmentPortal.Benchmarks", "Scenarios", "kmeans_sklearn.py");
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            script, "--matrix", _matrixPath, "--rows", _rows.ToString(CultureInfo.InvariantCulture),
            "--features", _features.Count.ToString(CultureInfo.InvariantCulture), "--k", K.ToString(CultureInfo.InvariantCulture),
            "--n-init", options.StartsFor(_rows).ToString(CultureInfo.InvariantCulture), "--max-iter", options.MaxIterations.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {python}.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_pythonErrors)
                {
                    _pythonErrors.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        return process;
    }

    private string PythonErrors()
    {
        lock (_pythonErrors)
        {
            return _pythonErrors.ToString().Trim();
        }
    }

    /// <summary>One fit in the Python process: a request line out, an answer line back.</summary>
    private async Task<Fit> FitAsync(int seed, CancellationToken cancellationToken)
    {
        var python = _python!;
        await python.StandardInput.WriteLineAsync($"fit {seed.ToString(CultureInfo.InvariantCulture)}");
        await python.StandardInput.FlushAsync(cancellationToken);
        var line = await python.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The scikit-learn process ended: {PythonErrors()}");
        var answer = JsonDocument.Parse(line).RootElement;
        if (answer.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"scikit-learn: {error.GetString()}");
        }
        return new Fit(answer.GetProperty("seconds").GetDouble(), answer.GetProperty("inertia").GetDouble(), answer.GetProperty("wcss").GetDouble(),
            answer.GetProperty("iterations").GetInt32(), answer.GetProperty("peakRssBytes").GetInt64());
    }

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

    private static TimeSpan Median(IEnumerable<TimeSpan> values) => BenchmarkRunner.Median(values.Order().ToList());

    private sealed record Fit(double Seconds, double Inertia, double Wcss, int Iterations, long PeakRss);
}
