namespace SegmentPortal.Benchmarks.Framework;

/// <summary>Summary of one side's timed runs.</summary>
public sealed record SideSummary(
    Side Side,
    string Label,
    TimeSpan Median,
    TimeSpan Min,
    TimeSpan Max,
    long PeakWorkingSet,
    long PeakManagedHeap,
    long StartWorkingSet,
    long Rows,
    IReadOnlyList<RunMeasurement> Runs);

public sealed record BenchmarkResult(
    Scenario Scenario,
    ScenarioContext Context,
    SideSummary App,
    SideSummary Baseline,
    DateTimeOffset FinishedAt)
{
    /// <summary>App median ÷ baseline median.</summary>
    public double Ratio => App.Median.TotalMilliseconds / Baseline.Median.TotalMilliseconds;
}

/// <summary>
/// Runs a scenario: setup, a warm-up of each side, then the timed runs alternating app and baseline, so drift in the
/// machine (page cache, other load) falls on both sides alike.
/// </summary>
public static class BenchmarkRunner
{
    public static async Task<BenchmarkResult> RunAsync(Scenario scenario, ScenarioContext context, CancellationToken cancellationToken)
    {
        await scenario.SetupAsync(context, cancellationToken);
        try
        {
            ScenarioContext.Log($"{scenario.Name} ({context.InputLabel}): warm-up");
            await RunOnceAsync(scenario, context, Side.App, 0, cancellationToken);
            await RunOnceAsync(scenario, context, Side.Baseline, 0, cancellationToken);

            var measured = new List<RunMeasurement>();
            for (var i = 1; i <= context.Runs; i++)
            {
                measured.Add(await RunOnceAsync(scenario, context, Side.App, i, cancellationToken));
                measured.Add(await RunOnceAsync(scenario, context, Side.Baseline, i, cancellationToken));
            }
            await scenario.AfterRunsAsync(context, measured, cancellationToken);
            return new BenchmarkResult(scenario, context,
                Summarize(Side.App, "app", measured),
                Summarize(Side.Baseline, scenario.BaselineName, measured),
                DateTimeOffset.UtcNow);
        }
        finally
        {
            await scenario.CleanupAsync(context);
        }
    }

    private static async Task<RunMeasurement> RunOnceAsync(Scenario scenario, ScenarioContext context, Side side, int index, CancellationToken cancellationToken)
    {
        var run = new RunContext(context.Paths, side, index, isWarmup: index == 0);
        var rows = side == Side.App
            ? await scenario.RunAppAsync(context, run, cancellationToken)
            : await scenario.RunBaselineAsync(context, run, cancellationToken);
        var measurement = run.Complete(rows);
        var label = side == Side.App ? "app" : scenario.BaselineName;
        ScenarioContext.Log($"{(index == 0 ? "warm-up" : $"run {index}/{context.Runs}")} {label}: {Format.Seconds(measurement.Elapsed)}, " +
            $"peak {Format.Megabytes(measurement.PeakWorkingSet)} MB (start {Format.Megabytes(measurement.StartWorkingSet)} MB), {rows:N0} rows");
        return measurement;
    }

    private static SideSummary Summarize(Side side, string label, IReadOnlyList<RunMeasurement> measured)
    {
        var runs = measured.Where(m => m.Side == side).ToList();
        var times = runs.Select(r => r.Elapsed).Order().ToList();
        var rows = runs.Select(r => r.Rows).Distinct().ToList();
        if (rows.Count != 1)
        {
            throw new InvalidOperationException($"The {label} runs produced different row counts: {string.Join(", ", rows)}.");
        }
        return new SideSummary(side, label, Median(times), times[0], times[^1],
            runs.Max(r => r.PeakWorkingSet), runs.Max(r => r.PeakManagedHeap), runs.Min(r => r.StartWorkingSet), rows[0], runs);
    }

    public static TimeSpan Median(IReadOnlyList<TimeSpan> sorted) => sorted.Count % 2 == 1
        ? sorted[sorted.Count / 2]
        : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
