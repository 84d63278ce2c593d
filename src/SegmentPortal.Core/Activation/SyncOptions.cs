namespace SegmentPortal.Core.Activation;

/// <summary>Settings of segment syncs (section <c>Syncs</c>).</summary>
public sealed class SyncOptions
{
    public const string Section = "Syncs";

    /// <summary>Members per webhook batch.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Tries of one webhook batch within a run before the run fails.</summary>
    public int BatchAttempts { get; set; } = 3;

    /// <summary>The first wait between tries of a batch (doubling).</summary>
    public int BatchRetryMilliseconds { get; set; } = 2000;

    /// <summary>Attempts of one delivery (runs) before it is given up; each failed one is retried after a growing wait.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait after the first failed run, doubling after each further one, at most <see cref="MaxRetrySeconds"/>.</summary>
    public int FirstRetrySeconds { get; set; } = 60;

    public int MaxRetrySeconds { get; set; } = 3600;

    /// <summary>The folder file drops are written under (relative to the data folder unless absolute); <c>drops</c> by default.</summary>
    public string? FileDropRoot { get; set; }
}
