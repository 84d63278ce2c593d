using System.Diagnostics;

namespace SegmentPortal.Benchmarks.Framework;

/// <summary>One reading: when (since the sampler started), the process's working set and the managed heap.</summary>
public readonly record struct MemorySample(TimeSpan At, long WorkingSet, long ManagedHeap);

/// <summary>
/// Samples this process's working set (resident memory, native DuckDB allocations included) and the managed heap on
/// its own thread every <see cref="Interval"/>, keeping every sample so phases of a run can be given their own peak.
/// <see cref="Process.PeakWorkingSet64"/> alone would not do: it is the peak over the process's whole life. On Linux
/// the kernel's peak (VmHWM) can be reset, which also catches a spike shorter than the interval; see
/// <see cref="TryResetKernelPeak"/>.
/// </summary>
public sealed class MemorySampler : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly Process _process = Process.GetCurrentProcess();
    private readonly List<MemorySample> _samples = new(4096);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Thread _thread;
    private volatile bool _stopping;

    public MemorySampler()
    {
        Take();
        _thread = new Thread(Loop) { IsBackground = true, Name = "memory-sampler", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Stops sampling (after one last reading) and returns every sample, oldest first.</summary>
    public IReadOnlyList<MemorySample> Stop()
    {
        _stopping = true;
        _thread.Join();
        Take();
        lock (_samples)
        {
            return _samples.ToList();
        }
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// Resets the kernel's peak-resident-memory mark for this process (Linux: writing 5 to /proc/self/clear_refs), so
    /// that <see cref="KernelPeakWorkingSet"/> afterwards is the peak since now. False where that is not possible.
    /// </summary>
    public static bool TryResetKernelPeak()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The kernel's peak working set of this process (since the last reset, if any).</summary>
    public static long KernelPeakWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    public void Dispose()
    {
        if (!_stopping)
        {
            Stop();
        }
        _process.Dispose();
    }

    private void Loop()
    {
        while (!_stopping)
        {
            Thread.Sleep(Interval);
            Take();
        }
    }

    private void Take()
    {
        _process.Refresh();
        var sample = new MemorySample(_clock.Elapsed, _process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
        lock (_samples)
        {
            _samples.Add(sample);
        }
    }
}
