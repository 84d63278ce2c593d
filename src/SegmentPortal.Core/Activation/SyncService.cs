using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Activation;

/// <summary>What the "Send to…" dialog saves.</summary>
public sealed record SyncInput
{
    public string Name { get; init; } = "";

    public SyncDestinationKind Kind { get; init; }

    public int? WebhookEndpointId { get; init; }

    public int? ConnectionId { get; init; }

    public string? TableSchema { get; init; }

    public string? TableName { get; init; }

    public string? Folder { get; init; }

    public SyncFileFormat FileFormat { get; init; }

    public IReadOnlyList<string> Columns { get; init; } = [];

    public SyncSchedule Schedule { get; init; } = SyncSchedule.AfterRefresh;

    public bool Enabled { get; init; } = true;
}

/// <summary>A sync as the segment page lists it, with its last run.</summary>
public sealed record SyncSummary(
    int Id,
    string Name,
    SyncDestinationKind Kind,
    string Destination,
    IReadOnlyList<string> Columns,
    SyncSchedule Schedule,
    bool Enabled,
    string Owner,
    DateTimeOffset? NextRunAt,
    SyncRunView? LastRun,
    bool Waiting);

/// <summary>One run in a sync's history.</summary>
public sealed record SyncRunView(long Id, SyncTrigger Trigger, SyncRunStatus Status, int Attempt, DateTimeOffset DueAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, bool? Full, long Sent, long Added, long Removed, long? DurationMs, string? Error);

/// <summary>A destination one may pick: a webhook endpoint or a writable connection.</summary>
public sealed record SyncTarget(int Id, string Name, string Detail);

/// <summary>What the dialog offers for a segment: endpoints, writable connections, columns (with why some cannot be sent).</summary>
public sealed record SyncChoices(IReadOnlyList<SyncTarget> Webhooks, IReadOnlyList<SyncTarget> Connections, string? CustomerKey,
    IReadOnlyList<SyncColumnChoice> Columns, string FileDropRoot);

/// <summary>
/// Segment syncs ("Send to…"): the segment's owner, its Editors and Admins (who may manage data) add, change, delete and
/// run them and read their history. A sync runs as the person who made it; the columns it sends are checked against
/// their column rules when it is saved and again at every run.
/// </summary>
public sealed class SyncService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ICurrentUser _currentUser;
    private readonly IPortalDbFactory _dbFactory;
    private readonly Authorizer _access;
    private readonly IServiceProvider _services;
    private readonly SyncRunner _runner;
    private readonly SyncWarehouse _store;
    private readonly StoragePaths _paths;
    private readonly IOptions<SyncOptions> _options;
    private readonly TimeProvider _clock;

    internal SyncService(ICurrentUser currentUser, IPortalDbFactory dbFactory, Authorizer access, IServiceProvider services, SyncRunner runner,
        SyncWarehouse store, StoragePaths paths, IOptions<SyncOptions> options, TimeProvider clock)
    {
        _currentUser = currentUser;
        _dbFactory = dbFactory;
        _access = access;
        _services = services;
        _runner = runner;
        _store = store;
        _paths = paths;
        _options = options;
        _clock = clock;
    }

    public const int MaxSyncsPerSegment = 20;

    internal static IReadOnlyList<string> ColumnsOf(SegmentSync sync) =>
        JsonSerializer.Deserialize<List<string>>(sync.ColumnsJson, Json) ?? [];

    public async Task<SyncChoices> ChoicesAsync(int segmentId, CancellationToken cancellationToken = default)
    {
        var datasetId = await RequireEditorAsync(segmentId, cancellationToken);
        var (key, columns) = await SyncColumns.ChoicesAsync(_services, datasetId, cancellationToken);
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var hooks = await db.WebhookEndpoints.AsNoTracking().OrderBy(e => e.Name).Select(e => new { e.Id, e.Name, e.Format }).ToListAsync(cancellationToken);
        var connections = await _services.GetRequiredService<ConnectionService>().ListSyncTargetsAsync(cancellationToken);
        return new SyncChoices(
            hooks.Where(h => h.Format == Delivery.WebhookFormat.StandardJson).Select(h => new SyncTarget(h.Id, h.Name, "Webhook")).ToList(),
            connections.Select(c => new SyncTarget(c.Id, c.Name, $"{c.Kind} {c.Target}")).ToList(),
            key, columns, FileDropDestination.Root(_paths, _options.Value));
    }

    public async Task<IReadOnlyList<SyncSummary>> ListAsync(int segmentId, CancellationToken cancellationToken = default)
    {
        await RequireEditorAsync(segmentId, cancellationToken);
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var syncs = await db.SegmentSyncs.AsNoTracking().Where(s => s.SegmentId == segmentId).OrderBy(s => s.Id).ToListAsync(cancellationToken);
        var ids = syncs.Select(s => s.Id).ToList();
        var runs = await db.SyncRuns.AsNoTracking().Where(r => ids.Contains(r.SyncId)).ToListAsync(cancellationToken);
        var ownerIds = syncs.Select(s => s.OwnerId).Distinct().ToList();
        var owners = await db.Users.AsNoTracking().Where(u => ownerIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        var hooks = await db.WebhookEndpoints.AsNoTracking().ToDictionaryAsync(e => e.Id, e => e.Name, cancellationToken);
        var connections = await db.Connections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        return syncs.Select(s =>
        {
            var mine = runs.Where(r => r.SyncId == s.Id).OrderByDescending(r => r.Id).ToList();
            var last = mine.FirstOrDefault(r => r.Status != SyncRunStatus.Due);
            return new SyncSummary(s.Id, s.Name, s.Kind, DestinationOf(s, hooks, connections), ColumnsOf(s), s.Schedule, s.Enabled,
                owners.GetValueOrDefault(s.OwnerId, "a removed user"), s.NextRunAt, last is null ? null : View(last),
                mine.Any(r => r.Status is SyncRunStatus.Due or SyncRunStatus.Running));
        }).ToList();
    }

    public async Task<SegmentSync> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        var sync = await LoadAsync(id, cancellationToken);
        await RequireEditorAsync(sync.SegmentId, cancellationToken);
        return sync;
    }

    /// <summary>The sync's runs, newest first (at most <paramref name="take"/>).</summary>
    public async Task<IReadOnlyList<SyncRunView>> HistoryAsync(int id, int take = 50, CancellationToken cancellationToken = default)
    {
        await GetAsync(id, cancellationToken);
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var runs = await db.SyncRuns.AsNoTracking().Where(r => r.SyncId == id).OrderByDescending(r => r.Id).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
        return runs.Select(View).ToList();
    }

    public async Task<int> CreateAsync(int segmentId, SyncInput input, CancellationToken cancellationToken = default)
    {
        var datasetId = await RequireEditorAsync(segmentId, cancellationToken);
        var user = await _currentUser.GetPrincipalAsync();
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        if (await db.SegmentSyncs.CountAsync(s => s.SegmentId == segmentId, cancellationToken) >= MaxSyncsPerSegment)
        {
            throw new PortalException($"A segment has at most {MaxSyncsPerSegment} syncs.");
        }
        var sync = new SegmentSync { Name = "", SegmentId = segmentId, OwnerId = user.UserId()!, CreatedAt = _clock.GetUtcNow() };
        await ApplyAsync(db, sync, input, datasetId, cancellationToken);
        db.SegmentSyncs.Add(sync);
        await db.SaveChangesAsync(cancellationToken);
        return sync.Id;
    }

    /// <summary>Changes a sync; the person saving becomes the one it runs as (their column rules were checked).</summary>
    public async Task UpdateAsync(int id, SyncInput input, CancellationToken cancellationToken = default)
    {
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var sync = await db.SegmentSyncs.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw Missing();
        var datasetId = await RequireEditorAsync(sync.SegmentId, cancellationToken);
        var destinationChanged = input.Kind != sync.Kind || input.WebhookEndpointId != sync.WebhookEndpointId || input.ConnectionId != sync.ConnectionId
            || input.TableSchema != sync.TableSchema || input.TableName != sync.TableName || input.Folder != sync.Folder;
        await ApplyAsync(db, sync, input, datasetId, cancellationToken);
        sync.OwnerId = (await _currentUser.GetPrincipalAsync()).UserId()!;
        await db.SaveChangesAsync(cancellationToken);
        if (destinationChanged)
        {
            // A new destination has nothing yet: the next run sends every member.
            await _store.ForgetAsync(id, cancellationToken);
        }
    }

    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var sync = await db.SegmentSyncs.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw Missing();
        await RequireEditorAsync(sync.SegmentId, cancellationToken);
        db.SegmentSyncs.Remove(sync);
        await db.SaveChangesAsync(cancellationToken);
        await _store.ForgetAsync(id, cancellationToken);
    }

    /// <summary>"Sync now": a run made Due at once; returns its id.</summary>
    public async Task<long> RunNowAsync(int id, CancellationToken cancellationToken = default)
    {
        var sync = await GetAsync(id, cancellationToken);
        await _currentUser.RequireWriterAsync();
        return await _runner.EnqueueAsync(sync.Id, SyncTrigger.Manual, cancellationToken);
    }

    private async Task ApplyAsync(IPortalDb db, SegmentSync sync, SyncInput input, int datasetId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = input.Name?.Trim() ?? "";
        if (name.Length is 0 or > SegmentSync.MaxNameLength)
        {
            throw new PortalException($"Give the sync a name of 1 to {SegmentSync.MaxNameLength} characters.");
        }
        var taken = await db.SegmentSyncs.AsNoTracking().Where(s => s.SegmentId == sync.SegmentId && s.Id != sync.Id).Select(s => s.Name).ToListAsync(cancellationToken);
        UniqueNames.Require(name, taken, "sync", who: null, error: message => new PortalException(message));
        if (!Enum.IsDefined(input.Kind) || !Enum.IsDefined(input.Schedule) || !Enum.IsDefined(input.FileFormat))
        {
            throw new PortalException("Choose a destination and a schedule.");
        }
        sync.WebhookEndpointId = null;
        sync.ConnectionId = null;
        sync.TableSchema = null;
        sync.TableName = null;
        sync.Folder = null;
        switch (input.Kind)
        {
            case SyncDestinationKind.Webhook:
                var hook = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == input.WebhookEndpointId, cancellationToken)
                    ?? throw new PortalException("Choose a webhook endpoint (an Admin adds them under Admin > Webhooks).");
                if (hook.Format != Delivery.WebhookFormat.StandardJson)
                {
                    throw new PortalException($"The endpoint {hook.Name} takes {hook.Format} messages; segment syncs post Standard Webhooks JSON. Choose another endpoint.");
                }
                sync.WebhookEndpointId = hook.Id;
                break;
            case SyncDestinationKind.DatabaseTable:
                var targets = await _services.GetRequiredService<ConnectionService>().ListSyncTargetsAsync(cancellationToken);
                if (targets.All(c => c.Id != input.ConnectionId))
                {
                    throw new PortalException("Choose a connection an Admin marked writable for syncs (Admin > Connections).");
                }
                sync.ConnectionId = input.ConnectionId;
                sync.TableSchema = Identifier(input.TableSchema, "schema", required: false);
                sync.TableName = Identifier(input.TableName, "table", required: true);
                break;
            case SyncDestinationKind.FileDrop:
                FileDropDestination.Resolve(_paths, _options.Value, input.Folder);
                sync.Folder = input.Folder!.Trim().Replace('\\', '/');
                sync.FileFormat = input.FileFormat;
                break;
        }
        var columns = (input.Columns ?? []).Select(c => c?.Trim() ?? "").Where(c => c.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (columns.Count > 200)
        {
            throw new PortalException("A sync sends at most 200 columns.");
        }
        try
        {
            await SyncColumns.CheckAsync(_services, datasetId, columns, cancellationToken);
        }
        catch (SyncRefusedException ex)
        {
            throw new PortalException(ex.Message.Replace(" for the sync's owner", " for you", StringComparison.Ordinal)
                .Replace("hidden from the sync's owner", "hidden from you", StringComparison.Ordinal)
                .Replace(" Remove it from the sync.", "", StringComparison.Ordinal));
        }
        sync.Name = name;
        sync.Kind = input.Kind;
        sync.ColumnsJson = JsonSerializer.Serialize(columns, Json);
        sync.Schedule = input.Schedule;
        sync.Enabled = input.Enabled;
        sync.NextRunAt = input.Enabled ? SyncRunner.NextRun(input.Schedule, _clock.GetUtcNow()) : null;
    }

    private static string? Identifier(string? text, string what, bool required)
    {
        var value = text?.Trim() ?? "";
        if (value.Length == 0)
        {
            return required ? throw new PortalException($"Enter the {what} name.") : null;
        }
        if (value.Length > 128 || value.Any(char.IsControl))
        {
            throw new PortalException($"The {what} name has at most 128 characters and no control characters.");
        }
        return value;
    }

    /// <summary>The segment's dataset, after checking the current user manages data and may edit the segment.</summary>
    private async Task<int> RequireEditorAsync(int segmentId, CancellationToken cancellationToken)
    {
        await _currentUser.RequireAsync(Permissions.ManageData);
        var shared = await _access.AccessAsync(SharedItem.Segment, segmentId, cancellationToken);
        if (!shared.CanView)
        {
            throw new PortalException("That segment does not exist or you do not have access to it.");
        }
        if (!shared.CanEdit)
        {
            throw new PermissionDeniedException("Only the segment's owner, its Editors or an Admin can send it anywhere.");
        }
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var datasetId = await db.Segments.AsNoTracking().Where(s => s.Id == segmentId).Select(s => (int?)s.DatasetId).SingleOrDefaultAsync(cancellationToken)
            ?? throw new PortalException("That segment does not exist or you do not have access to it.");
        await _access.RequireReadableAsync(datasetId, cancellationToken);
        return datasetId;
    }

    private async Task<SegmentSync> LoadAsync(int id, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        return await db.SegmentSyncs.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw Missing();
    }

    private static PortalException Missing() => new("That sync does not exist or you do not have access to it.");

    private static string DestinationOf(SegmentSync s, Dictionary<int, string> hooks, Dictionary<int, string> connections) => s.Kind switch
    {
        SyncDestinationKind.Webhook => $"Webhook {hooks.GetValueOrDefault(s.WebhookEndpointId ?? 0, "(removed)")}",
        SyncDestinationKind.DatabaseTable => $"Table {(string.IsNullOrEmpty(s.TableSchema) ? "" : s.TableSchema + ".")}{s.TableName} on {connections.GetValueOrDefault(s.ConnectionId ?? 0, "(removed connection)")}",
        _ => $"{(s.FileFormat == SyncFileFormat.Csv ? "CSV" : "Parquet")} files in {s.Folder}",
    };

    private static SyncRunView View(SyncRun r) =>
        new(r.Id, r.Trigger, r.Status, r.Attempt, r.DueAt, r.StartedAt, r.FinishedAt, r.Full, r.Sent, r.Added, r.Removed, r.DurationMs, r.Error);
}
