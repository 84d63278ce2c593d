using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>
/// Churn-risk runs: which datasets can be modelled and what the data suggests, starting a run (trained in the
/// background by <see cref="ChurnTrainer"/>), the history, one run as its page shows it, retrying, scoring again and
/// deleting. A run's figures are withheld from users who see its inputs differently from the person who ran it, as
/// clustering runs' are; its fields (risk, band, lifecycle stage) are offered only to users who see every input whole.
/// </summary>
public sealed class ChurnService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    CustomerAttributeStore attributes,
    ChurnDataReader reader,
    JobQueue jobs,
    StoragePaths paths,
    IPortalDbFactory dbFactory,
    TimeProvider clock) : IDatasetRefreshListener
{
    public const string JobKind = "churn";

    /// <summary>The kind of the job that scores customers again with a saved model after their data was refreshed.</summary>
    public const string ScoreJobKind = "churn-score";

    public const int MaxHorizonDays = 3650;
    public const int MaxAttributes = 20;

    /// <summary>What a user is told when a stored run was computed over data they see differently.</summary>
    public const string WithheldNotice =
        "This run was computed over data you see differently (your data rules limit the rows or columns it read), so its figures are not shown to you. Run it yourself to model the customers you may see.";

    /// <summary>Checks for a duplicate run and records a new one as one step, so quick repeated clicks start one run.</summary>
    private static readonly SemaphoreSlim Starting = new(1, 1);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Readable, ready datasets with a Customer ID and orders: customer lists with related orders first, then transaction logs (their own orders).</summary>
    public async Task<IReadOnlyList<ChurnInput>> InputsAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var datasets = await db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready)
            .OrderByDescending(d => d.Kind == DatasetKind.Customers).ThenBy(d => d.Name).Select(d => d.Id).ToListAsync(cancellationToken);
        var result = new List<ChurnInput>();
        foreach (var id in datasets)
        {
            if (await access.FindReadableAsync(id, cancellationToken) is { CustomerKey: not null } dataset
                && await policy.FactSourceAsync(dataset, cancellationToken) is not null)
            {
                result.Add(new ChurnInput(dataset.Id, dataset.Name));
            }
        }
        return result;
    }

    /// <summary>The dataset's own number columns that may be used as attributes.</summary>
    public async Task<IReadOnlyList<string>> AttributesAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        return await reader.AttributesAsync(datasetId, cancellationToken);
    }

    /// <summary>What the data suggests (the last order day, D from the gaps between purchases, the cut-offs and lifecycle thresholds), over the rows the user may read.</summary>
    public async Task<ChurnDefaults> DefaultsAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var data = await reader.LoadAsync(datasetId, [], [], cancellationToken);
        return ChurnEngine.Defaults(data.Customers);
    }

    public async Task<IReadOnlyList<ChurnRunSummary>> HistoryAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var runs = await db.ChurnRuns.AsNoTracking().OrderByDescending(r => r.Id).Take(200).ToListAsync(cancellationToken);
        var names = await NamesAsync(db, cancellationToken);
        var keys = new Dictionary<string, string?>();
        var result = new List<ChurnRunSummary>();
        foreach (var run in runs)
        {
            if (await access.FindReadableAsync(run.DatasetId, cancellationToken) is not null)
            {
                var summary = await SummaryAsync(db, run, names, cancellationToken);
                result.Add(await WithheldAsync(run, keys, cancellationToken) ? summary with { Customers = 0, Auc = null, Withheld = true } : summary);
            }
        }
        return result;
    }

    /// <summary>
    /// Whether the run's stored figures must be withheld from the current user: they see some dataset the run was
    /// computed from through data rules, and not the way the run's scorer saw it. A user who sees all of every input
    /// learns nothing new from them.
    /// </summary>
    private async Task<bool> WithheldAsync(ChurnRun run, Dictionary<string, string?>? keys, CancellationToken cancellationToken)
    {
        var inputs = await attributes.InputsAsync(AttributeSetKind.Churn, run.Id, run.DatasetId, cancellationToken);
        var cacheKey = string.Join(",", inputs.Order());
        string? key;
        if (keys is null || !keys.TryGetValue(cacheKey, out key))
        {
            key = await access.ViewKeyAsync(inputs, cancellationToken);
            keys?.Add(cacheKey, key);
        }
        return key is not null && key != ComputedOver(run);
    }

    private static string? ComputedOver(ChurnRun run) =>
        run.ResultJson is null ? null : JsonSerializer.Deserialize<StoredChurnResult>(run.ResultJson, Json)?.ComputedOver;

    /// <summary>The run's owner, the owner of its dataset, or an Admin (and only with the right to manage data).</summary>
    private async Task<bool> CanChangeAsync(ClaimsPrincipal user, ChurnRun run, CancellationToken cancellationToken) =>
        Permissions.IsGranted(user, Permissions.ManageData)
        && ((run.OwnerId is not null && run.OwnerId == user.UserId()) || user.IsInRole(Roles.Admin)
            || Authorizer.CanChange(user, await access.RequireReadableAsync(run.DatasetId, cancellationToken)));

    public async Task<ChurnRunView> GetAsync(int runId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ChurnRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new PortalException("That churn run no longer exists.");
        await access.RequireReadableAsync(run.DatasetId, cancellationToken);
        var user = await currentUser.GetPrincipalAsync();
        var request = JsonSerializer.Deserialize<ChurnRequest>(run.SettingsJson, Json)!;
        var summary = await SummaryAsync(db, run, await NamesAsync(db, cancellationToken), cancellationToken);
        var canChange = await CanChangeAsync(user, run, cancellationToken);
        if (await WithheldAsync(run, null, cancellationToken))
        {
            return new ChurnRunView(summary with { Customers = 0, Auc = null, Withheld = true }, request, null, null, null, [], RiskField(run), BandField(run), LifecycleField(run))
            {
                Withheld = WithheldNotice,
                CanChange = canChange,
            };
        }
        var metrics = run.MetricsJson is null ? null : JsonSerializer.Deserialize<ChurnMetrics>(run.MetricsJson, Json);
        var result = run.ResultJson is null ? null : JsonSerializer.Deserialize<StoredChurnResult>(run.ResultJson, Json);
        return new ChurnRunView(summary, request, result?.Settings, metrics, result?.Scoring, result?.Features.Names ?? [], RiskField(run), BandField(run), LifecycleField(run))
        {
            CanChange = canChange,
        };
    }

    /// <summary>
    /// Checks the request, records the run and starts training in the background. Returns the run id; its job (key
    /// <see cref="JobKey"/>) reports progress and can be cancelled.
    /// </summary>
    public async Task<int> StartAsync(ChurnRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var dataset = await access.RequireReadableAsync(request.DatasetId, cancellationToken);
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            throw new PortalException("Give the run a name.");
        }
        if (request.HorizonDays is { } horizon && horizon is < 1 or > MaxHorizonDays)
        {
            throw new PortalException($"The horizon D must be between 1 and {MaxHorizonDays} days.");
        }
        if (request.TrainCutoff is { } train && request.TestCutoff is { } test && train >= test)
        {
            throw new PortalException("The training cut-off must come before the test cut-off.");
        }
        if (!(request.Threshold > 0 && request.Threshold < 1))
        {
            throw new PortalException("The threshold must be between 0 and 1 (for example 0.5).");
        }
        if (request.Lifecycle?.Problem() is { } problem)
        {
            throw new PortalException(problem);
        }
        if (request.Attributes.Count > MaxAttributes)
        {
            throw new PortalException($"Choose at most {MaxAttributes} attributes.");
        }
        if (await policy.FactSourceAsync(dataset, cancellationToken) is null)
        {
            throw new PortalException($"{dataset.Name} is not a transaction log and has no related orders (a dataset with a Customer ID and an event date), so there is no purchase history to model.");
        }
        var offered = await reader.AttributesAsync(dataset.Id, cancellationToken);
        foreach (var attribute in request.Attributes)
        {
            if (!offered.Contains(attribute))
            {
                throw new PortalException($"“{attribute}” is not a number column of {dataset.Name} that can serve as an attribute.");
            }
        }
        if (request.Attributes.Distinct().Count() != request.Attributes.Count)
        {
            throw new PortalException("An attribute is chosen twice.");
        }

        var settings = JsonSerializer.Serialize(request with { Name = request.Name.Trim() }, Json);
        await Starting.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            var running = await db.ChurnRuns.AsNoTracking().Where(r => r.DatasetId == dataset.Id && r.Status == ChurnRunStatus.Running).ToListAsync(cancellationToken);
            var sameAs = JsonSerializer.Serialize(request with { Name = "" }, Json);
            if (running.FirstOrDefault(r => JsonSerializer.Serialize(JsonSerializer.Deserialize<ChurnRequest>(r.SettingsJson, Json)! with { Name = "" }, Json) == sameAs) is { } duplicate)
            {
                throw new PortalException($"The same churn run on {dataset.Name} is already queued or running (“{duplicate.Name}”). Wait for it to finish, or cancel it first.");
            }
            var run = new ChurnRun
            {
                Name = request.Name.Trim(),
                DatasetId = dataset.Id,
                SettingsJson = settings,
                Status = ChurnRunStatus.Running,
                OwnerId = user.UserId(),
                CreatedAt = clock.GetUtcNow(),
            };
            db.ChurnRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
            Queue(user, run);
            return run.Id;
        }
        finally
        {
            Starting.Release();
        }
    }

    private void Queue(ClaimsPrincipal user, ChurnRun run) =>
        jobs.Enqueue(JobRequest.For(JobKind, $"Churn risk “{run.Name}”", JobKey(run.Id), user, new ChurnTraining(run.Id),
            run.Id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Trains a failed, cancelled or interrupted run again with its settings; only its owner or an Admin.</summary>
    public async Task RetryAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await Starting.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            var run = await db.ChurnRuns.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                ?? throw new PortalException("That churn run no longer exists.");
            if (run.OwnerId != user.UserId() && !user.IsInRole(Roles.Admin))
            {
                throw new PermissionDeniedException("Only the owner or an Admin can retry a churn run.");
            }
            await access.RequireReadableAsync(run.DatasetId, cancellationToken);
            if (run.Status is not (ChurnRunStatus.Failed or ChurnRunStatus.Cancelled))
            {
                throw new PortalException(run.Status == ChurnRunStatus.Running
                    ? "This run is already running."
                    : "This run completed; start a new run to train again.");
            }
            run.Status = ChurnRunStatus.Running;
            run.Error = null;
            run.CompletedAt = null;
            await db.SaveChangesAsync(cancellationToken);
            Queue(user, run);
        }
        finally
        {
            Starting.Release();
        }
    }

    public static string JobKey(int runId) => $"churn:{runId}";

    public static string ScoreJobKey(int runId) => $"churn-score:{runId}";

    /// <summary>"Score again" with the saved model: replaces the fields everyone reads, so only those who may change the run.</summary>
    public async Task<JobSnapshot> RescoreAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        if (!(await GetAsync(runId, cancellationToken)).CanChange)
        {
            throw new PermissionDeniedException("Only the owner of the churn run, the owner of its dataset or an Admin can score its customers again.");
        }
        return EnqueueRescore(runId, user);
    }

    public async Task DeleteAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ChurnRuns.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new PortalException("That churn run no longer exists.");
        if (run.OwnerId != user.UserId() && !user.IsInRole(Roles.Admin))
        {
            throw new PermissionDeniedException("Only the owner or an Admin can delete a churn run.");
        }
        if (run.Status == ChurnRunStatus.Running)
        {
            throw new PortalException("Cancel the run before deleting it.");
        }
        await attributes.RemoveAsync(AttributeSetKind.Churn, runId, cancellationToken);
        if (run.ModelPath is { } model)
        {
            File.Delete(paths.InDataDirectory(model));
        }
        db.ChurnRuns.Remove(run);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>After a refresh of a modelled dataset or of one related to it by the customer key (its orders), the saved models score again.</summary>
    public async Task DatasetRefreshedAsync(int datasetId, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var related = (await DatasetRelations.RelatedByCustomerKeyAsync(db, datasetId, cancellationToken)).Select(r => r.DatasetId).Append(datasetId).ToList();
        var runs = await db.ChurnRuns.AsNoTracking()
            .Where(r => related.Contains(r.DatasetId) && r.Status == ChurnRunStatus.Completed && r.ModelPath != null)
            .Select(r => r.Id).ToListAsync(cancellationToken);
        foreach (var id in runs)
        {
            EnqueueRescore(id, user);
        }
    }

    /// <summary>Retry of an interrupted or failed scoring job (Jobs page): queued again as the current user, who must still read the run's dataset.</summary>
    public async Task<JobSnapshot> RetryRescoreAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var run = await db.ChurnRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                ?? throw new PortalException("That churn run no longer exists.");
            await access.RequireReadableAsync(run.DatasetId, cancellationToken);
        }
        return EnqueueRescore(runId, user);
    }

    private JobSnapshot EnqueueRescore(int runId, ClaimsPrincipal user) =>
        jobs.Enqueue(JobRequest.For(ScoreJobKind, "Score churn risk again", ScoreJobKey(runId), user,
            new ChurnScoringJobPayload(runId), runId.ToString(CultureInfo.InvariantCulture)));

    internal static string RiskField(ChurnRun run) => $"Churn risk ({run.Name})";

    internal static string BandField(ChurnRun run) => $"Churn risk band ({run.Name})";

    internal static string LifecycleField(ChurnRun run) => $"Lifecycle stage ({run.Name})";

    private static async Task<Dictionary<string, string>> NamesAsync(IPortalDb db, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, u => u.DisplayName ?? u.Email ?? u.UserName ?? u.Id, cancellationToken);

    private static async Task<ChurnRunSummary> SummaryAsync(IPortalDb db, ChurnRun run, Dictionary<string, string> owners, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == run.DatasetId).Select(d => d.Name).FirstOrDefaultAsync(cancellationToken) ?? "?";
        var auc = run.MetricsJson is null ? (double?)null : JsonSerializer.Deserialize<ChurnMetrics>(run.MetricsJson, Json)?.Auc;
        return new ChurnRunSummary(run.Id, run.Name, dataset, run.Status, run.Customers, auc, run.CreatedAt, run.CompletedAt, run.Error,
            run.OwnerId is { } owner ? owners.GetValueOrDefault(owner) : null);
    }
}
