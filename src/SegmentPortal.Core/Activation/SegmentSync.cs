namespace SegmentPortal.Core.Activation;

/// <summary>Where a segment sync sends its members.</summary>
public enum SyncDestinationKind
{
    /// <summary>Signed JSON batches posted to one of the portal's webhook endpoints (Admin &gt; Webhooks).</summary>
    Webhook,

    /// <summary>A table of a PostgreSQL or SQL Server connection an Admin marked writable for syncs.</summary>
    DatabaseTable,

    /// <summary>A CSV or Parquet file (with a manifest) per run in a folder on the server.</summary>
    FileDrop,
}

/// <summary>When a sync runs on its own.</summary>
public enum SyncSchedule
{
    /// <summary>Only by hand ("Sync now").</summary>
    Manual,

    /// <summary>After each refresh of the segment.</summary>
    AfterRefresh,

    /// <summary>Every hour (the segment is refreshed first when its owner may).</summary>
    Hourly,

    /// <summary>Every day (the segment is refreshed first when its owner may).</summary>
    Daily,
}

/// <summary>The file a file-drop sync writes.</summary>
public enum SyncFileFormat
{
    Csv,
    Parquet,
}

/// <summary>
/// A segment sent to a destination: the whole membership the first time, then only who entered and left, computed
/// against what was last delivered successfully. Runs as its owner, so their row and column rules decide what leaves.
/// </summary>
public class SegmentSync
{
    public const int MaxNameLength = 200;
    public const int MaxPathLength = 400;

    public int Id { get; set; }

    public int SegmentId { get; set; }

    public required string Name { get; set; }

    public SyncDestinationKind Kind { get; set; }

    /// <summary>Webhook: the endpoint the batches are posted to.</summary>
    public int? WebhookEndpointId { get; set; }

    /// <summary>Database table: the connection (marked writable for syncs).</summary>
    public int? ConnectionId { get; set; }

    /// <summary>Database table: its schema (null: the connection's default, public or dbo).</summary>
    public string? TableSchema { get; set; }

    /// <summary>Database table: its name; created when missing.</summary>
    public string? TableName { get; set; }

    /// <summary>File drop: the folder, relative to the file-drop root.</summary>
    public string? Folder { get; set; }

    public SyncFileFormat FileFormat { get; set; }

    /// <summary>The dataset columns sent with each member's customer key, as a JSON array of names.</summary>
    public string ColumnsJson { get; set; } = "[]";

    public SyncSchedule Schedule { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Who the sync runs as: their grants, row rules and column rules decide what is sent.</summary>
    public required string OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The next scheduled run (Hourly and Daily only).</summary>
    public DateTimeOffset? NextRunAt { get; set; }
}

public enum SyncRunStatus
{
    /// <summary>Waiting to run (at <see cref="SyncRun.DueAt"/>).</summary>
    Due,

    Running,

    Succeeded,

    Failed,
}

public enum SyncTrigger
{
    Manual,
    AfterRefresh,
    Schedule,

    /// <summary>A retry of a failed or interrupted run.</summary>
    Retry,

    /// <summary>A refresh of the segment's dataset: the segment is recounted first (when its owner may).</summary>
    DataRefresh,
}

/// <summary>
/// One run of a sync: its history row. A failed run is kept with its error and a new Due run (the next attempt) is
/// made with a growing wait; the delta of every attempt is computed against the last successful delivery.
/// </summary>
public class SyncRun
{
    public const int MaxErrorLength = 2000;

    public long Id { get; set; }

    public int SyncId { get; set; }

    public SyncTrigger Trigger { get; set; }

    public SyncRunStatus Status { get; set; }

    /// <summary>1 for a first try; counts up over retries of the same delivery.</summary>
    public int Attempt { get; set; } = 1;

    public DateTimeOffset DueAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>True for a full sync (every member), false for a delta, null before it was decided.</summary>
    public bool? Full { get; set; }

    /// <summary>Rows written to the destination (members sent plus those who left).</summary>
    public long Sent { get; set; }

    public long Added { get; set; }

    public long Removed { get; set; }

    public long? DurationMs { get; set; }

    public string? Error { get; set; }
}
