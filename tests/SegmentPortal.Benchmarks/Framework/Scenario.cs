namespace SegmentPortal.Benchmarks.Framework;

/// <summary>What a scenario is given for its whole life, and where it leaves notes for the report.</summary>
public sealed class ScenarioContext(BenchmarkPaths paths, long? size, int runs)
{
    private readonly List<string> _notes = [];
    private readonly List<ExtraSide> _extras = [];

    public BenchmarkPaths Paths { get; } = paths;

    /// <summary>The <c>--size</c> asked for, or null for the scenario's default input.</summary>
    public long? Size { get; } = size;

    public int Runs { get; } = runs;

    /// <summary>Names the input in the report and in results.csv's size column (e.g. "1000000" or "online-retail").</summary>
    public string InputLabel { get; set; } = size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default";

    /// <summary>Lines printed above the table (settings, side timings, breakdowns).</summary>
    public IReadOnlyList<string> Notes => _notes;

    public void Note(string line) => _notes.Add(line);

    /// <summary>Sides the scenario measured itself besides app and baseline: extra rows of the table and of results.csv.</summary>
    public IReadOnlyList<ExtraSide> Extras => _extras;

    public void AddExtra(ExtraSide side) => _extras.Add(side);

    /// <summary>Progress for the person watching; goes to standard error so standard output stays the report.</summary>
    public static void Log(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");
}

/// <summary>
/// A further side a scenario measured itself (another engine, or the same engines on a second question): one more row
/// in the table and in results.csv. Unknown memory figures print as "–" (and are empty in the csv).
/// </summary>
/// <param name="Ratio">What results.csv records in its ratio column for this row; the scenario's notes say what it divides.</param>
public sealed record ExtraSide(
    string Label,
    TimeSpan Median,
    TimeSpan Min,
    TimeSpan Max,
    long Rows,
    double Ratio,
    long? PeakWorkingSet = null,
    long? StartWorkingSet = null,
    long? PeakManagedHeap = null);

/// <summary>
/// One comparison: the app's own code path against a baseline doing the same job the plainest way. The runner calls
/// <see cref="SetupAsync"/> once, then alternates <see cref="RunAppAsync"/> and <see cref="RunBaselineAsync"/> (a
/// warm-up of each, then the timed runs), then <see cref="AfterRunsAsync"/> and finally <see cref="CleanupAsync"/>.
/// Each run prepares what it needs untimed and times only its <see cref="RunContext.MeasureAsync{T}"/> window.
/// </summary>
public abstract class Scenario
{
    /// <summary>The name typed on the command line.</summary>
    public abstract string Name { get; }

    /// <summary>The baseline's name in the report, e.g. "duckdb-read_csv".</summary>
    public abstract string BaselineName { get; }

    /// <summary>One line for the usage message: what the app side does and what the baseline does.</summary>
    public abstract string Description { get; }

    /// <summary>Generates or finds the input; may refuse with <see cref="ScenarioInputException"/> (exit code 2).</summary>
    public virtual Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs the app's code path once; returns the rows it produced.</summary>
    public abstract Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken);

    /// <summary>Runs the baseline once; returns the rows it produced.</summary>
    public abstract Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken);

    /// <summary>Optional extra analysis after the timed runs (e.g. a cost breakdown); reported through notes.</summary>
    public virtual Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public virtual Task CleanupAsync(ScenarioContext context) => Task.CompletedTask;
}

/// <summary>The scenario's input is missing or unusable: reported with the usage exit code.</summary>
public sealed class ScenarioInputException(string message) : Exception(message);
