namespace SegmentPortal.Benchmarks.Framework;

public enum Side
{
    App,
    Baseline,
}

/// <summary>A named stretch of a measured run: from one <see cref="RunContext.Mark"/> to the next (or the end).</summary>
public sealed record Phase(string Name, TimeSpan Elapsed, long PeakWorkingSet);

/// <summary>What one run measured.</summary>
public sealed record RunMeasurement(
    Side Side,
    int Index,
    bool IsWarmup,
    TimeSpan Elapsed,
    long StartWorkingSet,
    long PeakWorkingSet,
    long SampledPeakWorkingSet,
    long? KernelPeakWorkingSet,
    long PeakManagedHeap,
    long Rows,
    IReadOnlyList<Phase> Phases,
    IReadOnlyDictionary<string, TimeSpan> Extras);

/// <summary>
/// Handed to a scenario for one run. The scenario prepares what it must (untimed), then puts exactly the work a
/// user would wait for inside <see cref="MeasureAsync{T}"/>: only that window is timed and memory-sampled.
/// </summary>
public sealed class RunContext(BenchmarkPaths paths, Side side, int index, bool isWarmup)
{
    private readonly List<(string Name, TimeSpan At)> _marks = [];
    private readonly Dictionary<string, TimeSpan> _extras = new(StringComparer.Ordinal);
    private MemorySampler? _sampler;
    private Window? _window;

    public Side Side { get; } = side;

    /// <summary>1-based for timed runs; 0 for the warm-up.</summary>
    public int Index { get; } = index;

    public bool IsWarmup { get; } = isWarmup;

    public BenchmarkPaths Paths { get; } = paths;

    /// <summary>Times <paramref name="work"/> with a stopwatch while sampling memory. Call it once per run.</summary>
    public async Task<T> MeasureAsync<T>(Func<Task<T>> work)
    {
        if (_window is not null || _sampler is not null)
        {
            throw new InvalidOperationException("A run is measured once.");
        }
        // Garbage from setup is not the run's.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var kernelReset = MemorySampler.TryResetKernelPeak();
        using var sampler = new MemorySampler();
        _sampler = sampler;
        var start = sampler.Elapsed;
        T result;
        try
        {
            result = await work();
        }
        finally
        {
            var end = sampler.Elapsed;
            var samples = sampler.Stop();
            _sampler = null;
            _window = new Window(start, end, samples, kernelReset ? MemorySampler.KernelPeakWorkingSet() : null);
        }
        return result;
    }

    /// <summary>Marks the start of a phase inside the measured window (e.g. from a progress report); ignored outside it.</summary>
    public void Mark(string phase)
    {
        if (_sampler is { } sampler)
        {
            lock (_marks)
            {
                if (_marks.Count == 0 || _marks[^1].Name != phase)
                {
                    _marks.Add((phase, sampler.Elapsed));
                }
            }
        }
    }

    /// <summary>A time measured outside the window that is worth reporting (e.g. copying the upload), as a note.</summary>
    public void RecordExtra(string name, TimeSpan elapsed) => _extras[name] = elapsed;

    internal RunMeasurement Complete(long rows)
    {
        var window = _window ?? throw new InvalidOperationException($"The {Side} run did not call {nameof(MeasureAsync)}.");
        var inWindow = window.Samples.Where(s => s.At >= window.Start && s.At <= window.End).ToList();
        if (inWindow.Count == 0)
        {
            inWindow = [window.Samples[^1]];
        }
        var sampledPeak = inWindow.Max(s => s.WorkingSet);
        var peak = Math.Max(sampledPeak, window.KernelPeak ?? 0);
        return new RunMeasurement(Side, Index, IsWarmup, window.End - window.Start, window.Samples[0].WorkingSet, peak, sampledPeak,
            window.KernelPeak, inWindow.Max(s => s.ManagedHeap), rows, Phases(window), _extras);
    }

    private List<Phase> Phases(Window window)
    {
        List<(string Name, TimeSpan At)> marks;
        lock (_marks)
        {
            marks = [.. _marks];
        }
        if (marks.Count == 0)
        {
            return [];
        }
        if (marks[0].At - window.Start > TimeSpan.FromMilliseconds(5))
        {
            marks.Insert(0, ("(start)", window.Start));
        }
        else
        {
            marks[0] = (marks[0].Name, window.Start);
        }
        var phases = new List<Phase>();
        for (var i = 0; i < marks.Count; i++)
        {
            var from = marks[i].At;
            var to = i + 1 < marks.Count ? marks[i + 1].At : window.End;
            // The sample just before a phase starts shows what it began with; include it so short phases get a value.
            var samples = window.Samples.Where(s => s.At >= from && s.At <= to).Select(s => s.WorkingSet)
                .DefaultIfEmpty(window.Samples.LastOrDefault(s => s.At <= from).WorkingSet);
            phases.Add(new Phase(marks[i].Name, to - from, samples.Max()));
        }
        return phases;
    }

    private sealed record Window(TimeSpan Start, TimeSpan End, IReadOnlyList<MemorySample> Samples, long? KernelPeak);
}
