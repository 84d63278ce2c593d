using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Lifetime;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// Lifetime value (BG/NBD + Gamma-Gamma) of 1,000,000 customers with about 10,000,000 orders (by default) who buy as the
/// models assume (<see cref="CustomerOrdersData.OrderShape.Lifetimes"/>: known parameters, so the fit must find them;
/// on the uniform segment-count orders nobody ever leaves and drop-out has no maximum to agree on) end to end through the app's own path: <see cref="LifetimeService.StartAsync"/> queues
/// the job and the app's <see cref="JobRunner"/> runs it — the purchase days read and summarised through the query layer,
/// both models fitted on the calibration period and checked on the held-out quarter, both fitted again on all the data,
/// every customer's P(alive), expected purchases, expected spend and CLV computed and stored as customer fields — timed
/// from the click to the job's end. The baseline is a plain NumPy/SciPy implementation of the same two likelihoods
/// (vectorised, L-BFGS-B; clv_scipy.py) fitted once each on the same all-data summary (the app's own read, written to
/// files before the runs), in a Python process of its own answering one request per run over a pipe.
/// <para>
/// Every run checks that the app's all-data parameters agree with SciPy's to 0.1% (r, α, a, b and p, q, γ) and that
/// the job scored every customer of the summary. The app does more than the baseline (the calibration fit, the holdout
/// check, the scores and their storage); the job's phases are listed from its progress messages. The analysis the runs
/// saved is removed at the end, so the cached data folder keeps no trace.
/// </para>
/// </summary>
public sealed class ClvScenario : Scenario
{
    /// <summary>Each parameter of the app may differ from SciPy's by at most this share.</summary>
    private const double ParameterTolerance = 0.001;

    private CustomerOrdersData? _data;
    private PortalHost _host = null!;
    private JobRunner? _runner;
    private Process? _python;
    private readonly StringBuilder _pythonErrors = new();
    private string? _work;
    private int _customers;
    private int _repeaters;
    private readonly Dictionary<int, LifetimeResult> _app = [];
    private readonly List<string> _parameterRows = [];

    private static readonly LifetimeSettings Settings = new() { Unit = LifetimeUnit.Days, PredictionDays = 90, HorizonMonths = 12, MonthlyDiscount = 0.01 };

    public override string Name => "clv";

    public override string BaselineName => "scipy";

    public override string Description =>
        "Lifetime value of every customer (BG/NBD + Gamma-Gamma, in days; the last quarter of the history held out to check the models, " +
        "then both refitted on all of it; P(alive), purchases expected in 90 days, expected spend and 12-month CLV at 1% a month stored as customer fields) " +
        "through the app's job (LifetimeService.StartAsync, JobRunner), as an Admin, against NumPy/SciPy fitting the same two likelihoods " +
        "(vectorised, L-BFGS-B over log-parameters, finite-difference gradients; python3-scipy) on the same all-data summary; the " +
        $"parameters must agree to {ParameterTolerance:0.0%} every run. --size N: N orders and N/10 customers (default " +
        $"{CustomerOrdersData.DefaultOrders:N0}), generated as customers who buy and leave as the models assume, with known parameters.";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var python = await Python.FindAsync("import scipy.optimize, scipy.special, numpy", cancellationToken) ?? throw new ScenarioInputException(
            "clv needs a python3 with SciPy for its baseline (on Debian: apt-get install python3-scipy).");
        _data = await CustomerOrdersData.OpenAsync(context, CustomerOrdersData.OrderShape.Lifetimes, cancellationToken);
        _host = _data.Host;
        await DeleteAnalysisAsync(cancellationToken);
        _runner = _host.Services.GetServices<IHostedService>().OfType<JobRunner>().Single();
        await _runner.StartAsync(cancellationToken);

        // The summary the job fits on all the data, read the job's way (purchase days through the query layer), for SciPy.
        var watch = Stopwatch.StartNew();
        var work = _work = context.Paths.NewWorkFolder("clv");
        var summaryPath = Path.Combine(work, "summary.f64");
        var repeatersPath = Path.Combine(work, "repeaters.f64");
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var services = scope.ServiceProvider;
            var dataset = await services.GetRequiredService<Authorizer>().RequireReadableAsync(_data.Orders.Id, cancellationToken);
            var source = RfmService.SourceOf(await services.GetRequiredService<PermissionPolicy>().DescribeAsync(dataset, cancellationToken))
                ?? throw new InvalidOperationException("The orders have no Customer ID, date and amount roles.");
            var (purchases, _) = await services.GetRequiredService<LifetimeAnalyzer>().ReadAsync(source, null, cancellationToken);
            var (histories, meanSpend) = purchases.All(purchases.LastDay, Settings.DaysPerUnit);
            _customers = histories.Length;
            var repeat = Enumerable.Range(0, histories.Length).Where(i => histories[i].X > 0 && meanSpend[i] > 0).ToArray();
            _repeaters = repeat.Length;
            await WriteColumnsAsync(summaryPath, [histories.Select(h => h.X), histories.Select(h => h.Tx), histories.Select(h => h.T)], cancellationToken);
            await WriteColumnsAsync(repeatersPath, [repeat.Select(i => histories[i].X), repeat.Select(i => meanSpend[i])], cancellationToken);
        }
        context.Note($"Summary (all data, days): {_customers:N0} customers, {_repeaters:N0} of them repeat buyers with a positive mean repeat spend; " +
            $"read once for SciPy the job's way (purchase days grouped through the query layer) in {Format.Seconds(watch.Elapsed)} (not timed).");

        _python = StartPython(context, python, summaryPath, repeatersPath);
        var first = await _python.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The SciPy process ended at start: {PythonErrors()}");
        var info = JsonDocument.Parse(first).RootElement;
        context.Note($"SciPy {info.GetProperty("scipy").GetString()} (NumPy {info.GetProperty("numpy").GetString()}, Python {info.GetProperty("python").GetString()}) " +
            $"loaded {info.GetProperty("customers").GetInt32():N0} customers; the app's fits use up to {Environment.ProcessorCount} cores, DuckDB's reads {_data.Limits.Threads} threads.");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var queue = _host.Services.GetRequiredService<JobQueue>();
        var changed = new SemaphoreSlim(0);
        var key = LifetimeService.JobKeyOf(_data!.Orders.Id);
        var reached = -1;
        void OnChanged(JobSnapshot job)
        {
            if (job.Key != key)
            {
                return;
            }
            var phase = Array.FindIndex(Phases, p => job.Message?.StartsWith(p.Prefix, StringComparison.Ordinal) == true);
            lock (Phases)
            {
                if (phase > reached)
                {
                    reached = phase;
                    run.Mark(Phases[phase].Name);
                }
            }
            changed.Release();
        }
        queue.Changed += OnChanged;
        JobSnapshot snapshot;
        try
        {
            snapshot = await run.MeasureAsync(async () =>
            {
                await using var scope = _host.Services.CreateAsyncScope();
                var job = await scope.ServiceProvider.GetRequiredService<LifetimeService>().StartAsync(_data.Orders.Id, Settings, cancellationToken);
                while (true)
                {
                    var current = queue.Get(job.Id) ?? throw new InvalidOperationException("The lifetime-value job is gone.");
                    if (!current.IsActive)
                    {
                        return current.Status == JobStatus.Succeeded ? current
                            : throw new InvalidOperationException($"The lifetime-value job ended {current.Status}: {current.Error ?? current.Message}");
                    }
                    await changed.WaitAsync(cancellationToken);
                }
            });
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
        await using var read = _host.Services.CreateAsyncScope();
        var view = await read.ServiceProvider.GetRequiredService<LifetimeService>().GetAsync(_data.Orders.Id, cancellationToken);
        var result = view.Result ?? throw new InvalidOperationException("The finished analysis has no result.");
        if (result.Customers != _customers)
        {
            throw new InvalidOperationException($"The job scored {result.Customers:N0} customers; the summary has {_customers:N0}.");
        }
        _app[run.Index] = result;
        ScenarioContext.Log($"  app: {snapshot.Message} Holdout error {result.Holdout?.ErrorPercent:0.00}%.");
        return result.Customers;
    }

    /// <summary>The phases of the job, in order, by the start of the progress message that opens each (see LifetimeAnalyzer.RunAsync).</summary>
    private static readonly (string Prefix, string Name)[] Phases =
    [
        ("Starting", "job start"),
        ("Reading", "read purchase days"),
        ("Fitting on the calibration", "calibration fits and holdout check"),
        ("Fitting on all", "fits on all data"),
        ("Predicting", "score customers"),
        ("Saving", "store fields"),
    ];

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var fit = await run.MeasureAsync(() => FitAsync(cancellationToken));
        run.RecordExtra("fits", TimeSpan.FromSeconds(fit.Seconds));
        if (!_app.TryGetValue(run.Index, out var app))
        {
            throw new InvalidOperationException($"Run {run.Index} of SciPy has no app run to compare with.");
        }
        var appParameters = app.Purchases.Parameters.Select(p => p.Value).Concat(app.Spend?.Parameters.Select(p => p.Value) ?? []).ToArray();
        var scipy = fit.BgNbd.Concat(fit.GammaGamma).ToArray();
        var names = app.Purchases.Parameters.Select(p => p.Name).Concat(app.Spend?.Parameters.Select(p => p.Name) ?? []).ToArray();
        if (appParameters.Length != scipy.Length)
        {
            throw new InvalidOperationException($"The app fitted {appParameters.Length} parameters, SciPy {scipy.Length}.");
        }
        var worst = Enumerable.Range(0, scipy.Length).Select(i => Math.Abs(appParameters[i] - scipy[i]) / Math.Abs(scipy[i])).Max();
        _parameterRows.Add($"| {(run.IsWarmup ? "warm-up" : run.Index.ToString(CultureInfo.InvariantCulture))} | " +
            string.Join(" | ", Enumerable.Range(0, scipy.Length).Select(i => $"{appParameters[i]:0.00000} / {scipy[i]:0.00000}")) +
            $" | {app.Purchases.LogLikelihood:N2} / {fit.BgNbdLogLikelihood:N2} | {worst:0.0000%} |");
        if (_parameterRows.Count == 1)
        {
            _parameterRows.Insert(0, $"| run | {string.Join(" | ", names.Select(n => $"{n} app / SciPy"))} | BG/NBD LL app / SciPy | largest difference |");
            _parameterRows.Insert(1, $"|---|{string.Concat(names.Select(_ => "---:|"))}---:|---:|");
        }
        if (worst > ParameterTolerance)
        {
            throw new InvalidOperationException($"The parameters disagree on run {run.Index}: app {string.Join(", ", appParameters)}, SciPy {string.Join(", ", scipy)} " +
                $"(largest difference {worst:0.000%}, more than {ParameterTolerance:0.0%}).");
        }
        return _customers;
    }

    public override async Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var app = measurements.Where(m => m.Side == Side.App).ToList();
        var baseline = measurements.Where(m => m.Side == Side.Baseline).ToList();
        var truth = CustomerOrdersCsvGenerator.LifetimeTruth;
        context.Note($"Parameters on all the data (app / SciPy; the check: every one within {ParameterTolerance:0.0%}). The data was generated with " +
            $"r {truth.R}, α {truth.Alpha}, a {truth.A}, b {truth.B} (per day) and p {truth.P}, q {truth.Q}, γ {truth.Gamma}:");
        context.Note("");
        foreach (var row in _parameterRows)
        {
            context.Note(row);
        }
        context.Note("");
        var phases = app.SelectMany(m => m.Phases).GroupBy(p => p.Name)
            .Select(g => $"{g.Key} {Format.Seconds(Median(g.Select(p => p.Elapsed)))} (peak {Format.Megabytes(g.Max(p => p.PeakWorkingSet))} MB)");
        context.Note($"App job by phase (medians, from the job's progress messages): {string.Join("; ", phases)}.");
        context.Note($"SciPy: the two fits alone (its own clock) {Format.Seconds(Median(baseline.Select(m => m.Extras["fits"])))}, the request over the pipe " +
            $"{Format.Seconds(Median(baseline.Select(m => m.Elapsed)))} (medians).");
        if (_app.Values.FirstOrDefault()?.Holdout is { } holdout)
        {
            context.Note($"The app's holdout check (calibration to {holdout.CalibrationEnd:yyyy-MM-dd}, {holdout.Customers:N0} customers): {holdout.TrackingExpected[^1]:N0} repeat purchases expected " +
                $"by {holdout.HoldoutEnd:yyyy-MM-dd}, {holdout.TrackingActual[^1]:N0} made ({holdout.ErrorPercent:+0.0;-0.0}%).");
        }
        await DeleteAnalysisAsync(cancellationToken);
    }

    public override async Task CleanupAsync(ScenarioContext context)
    {
        if (_python is { HasExited: false } python)
        {
            await python.StandardInput.WriteLineAsync("quit");
            await python.StandardInput.FlushAsync();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await python.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                python.Kill(entireProcessTree: true);
            }
        }
        _python?.Dispose();
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

    private async Task DeleteAnalysisAsync(CancellationToken cancellationToken)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<LifetimeService>().DeleteAsync(_data!.Orders.Id, cancellationToken);
    }

    private static async Task WriteColumnsAsync(string path, IEnumerable<double>[] columns, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        foreach (var column in columns)
        {
            var values = column.ToArray();
            await file.WriteAsync(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), cancellationToken);
        }
    }

    private Process StartPython(ScenarioContext context, string python, string summaryPath, string repeatersPath)
    {
        var script = Path.Combine(context.Paths.RepositoryRoot, "tests", "SegmentPortal.Benchmarks", "Scenarios", "clv_scipy.py");
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            script, "--summary", summaryPath, "--customers", _customers.ToString(CultureInfo.InvariantCulture),
            "--repeaters", repeatersPath, "--repeat-customers", _repeaters.ToString(CultureInfo.InvariantCulture),
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

    private async Task<ScipyFit> FitAsync(CancellationToken cancellationToken)
    {
        var python = _python!;
        await python.StandardInput.WriteLineAsync("fit");
        await python.StandardInput.FlushAsync(cancellationToken);
        var line = await python.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The SciPy process ended: {PythonErrors()}");
        var answer = JsonDocument.Parse(line).RootElement;
        if (answer.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"SciPy: {error.GetString()}");
        }
        if (!answer.GetProperty("bgnbdConverged").GetBoolean() || !answer.GetProperty("gammaGammaConverged").GetBoolean())
        {
            throw new InvalidOperationException($"SciPy's L-BFGS-B did not converge: {line}");
        }
        return new ScipyFit(answer.GetProperty("seconds").GetDouble(),
            answer.GetProperty("bgnbd").EnumerateArray().Select(v => v.GetDouble()).ToArray(), answer.GetProperty("bgnbdLogLikelihood").GetDouble(),
            answer.GetProperty("gammaGamma").EnumerateArray().Select(v => v.GetDouble()).ToArray());
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values) => BenchmarkRunner.Median(values.Order().ToList());

    private sealed record ScipyFit(double Seconds, double[] BgNbd, double BgNbdLogLikelihood, double[] GammaGamma);
}
