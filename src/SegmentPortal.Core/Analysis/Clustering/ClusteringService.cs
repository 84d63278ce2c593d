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
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// Clustering runs: what can be clustered and on which features, starting a run (trained in the background by
/// <see cref="ClusteringTrainer"/>), the history, one run as its page shows it, retrying, assigning again and deleting.
/// A cluster's segments and names are <see cref="ClusterSegments"/>'.
/// </summary>
public sealed class ClusteringService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    CustomerAttributeStore attributes,
    QueryService queries,
    SegmentService segments,
    ClusteringTrainer trainer,
    JobQueue jobs,
    StoragePaths paths,
    IPortalDbFactory dbFactory,
    TimeProvider clock) : IDatasetRefreshListener
{
    public const string JobKind = "clustering";

    /// <summary>The kind of the job that places customers again with a saved model after their data was refreshed.</summary>
    public const string AssignJobKind = "clustering-assign";
    public const int MaxCustomers = 1_000_000;
    public const int MaxFeatures = 20;

    /// <summary>What a user is told when a stored run was computed over data they see differently.</summary>
    public const string WithheldNotice =
        "This run was computed over data you see differently (your data rules limit the rows or columns it read), so its figures are not shown to you. Run it yourself to cluster the customers you may see.";

    /// <summary>Checks for a duplicate run and records a new one as one step, so quick repeated clicks start one run.</summary>
    private static readonly SemaphoreSlim Starting = new(1, 1);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static FeatureSpec SpecOf(ClusteringFeature feature)
    {
        var (high, low) = feature.Measure switch
        {
            CustomerMeasure.DaysSinceLastOrder => ("lapsed", "recent"),
            CustomerMeasure.OrderCount => ("frequent", "infrequent"),
            CustomerMeasure.TotalAmount => ("high spend", "low spend"),
            CustomerMeasure.AverageAmount => ("big baskets", "small baskets"),
            CustomerMeasure.DaysSinceFirstOrder => ("long-standing", "new"),
            CustomerMeasure.CategoryShare => ($"mostly {feature.Value}", $"little {feature.Value}"),
            _ => ((string?)null, (string?)null),
        };
        return new FeatureSpec(feature.Label, feature.Transform, high, low);
    }

    /// <summary>Readable, ready datasets with a Customer ID, and the segments on them.</summary>
    public async Task<IReadOnlyList<ClusteringInput>> InputsAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var datasets = await db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready)
            .OrderByDescending(d => d.Kind == DatasetKind.Customers).ThenBy(d => d.Name).Select(d => d.Id).ToListAsync(cancellationToken);
        var result = new List<ClusteringInput>();
        foreach (var id in datasets)
        {
            if (await access.FindReadableAsync(id, cancellationToken) is { CustomerKey: not null } dataset)
            {
                result.Add(new ClusteringInput(dataset.Id, dataset.Name));
            }
        }
        var readable = result.Select(r => r.DatasetId).ToHashSet();
        foreach (var segment in await segments.ListAsync(cancellationToken))
        {
            if (readable.Contains(segment.DatasetId))
            {
                result.Add(new ClusteringInput(segment.DatasetId, $"Segment: {segment.Name}", segment.Id));
            }
        }
        return result;
    }

    /// <summary>
    /// The numeric features a dataset offers: its number fields (columns and analysis fields such as RFM values), and,
    /// when it has related orders, order count, total and average spent, days since the last and first order, and the
    /// share of spend on each of the commonest categories.
    /// </summary>
    public async Task<IReadOnlyList<FeatureOption>> FeaturesAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var described = await policy.DescribeAsync(dataset, cancellationToken);
        var options = new List<FeatureOption>();
        var facts = await policy.FactSourceAsync(dataset, cancellationToken);
        if (facts is not null)
        {
            void Add(string label, CustomerMeasure measure, bool skewed, FeatureTransform transform = FeatureTransform.None) =>
                options.Add(new FeatureOption(new ClusteringFeature(label, FeatureSource.Orders, Measure: measure, Transform: transform), $"Orders ({facts.Orders.Name})", skewed));
            Add("Orders", CustomerMeasure.OrderCount, true, FeatureTransform.Log1p);
            if (facts.Amount is not null)
            {
                Add("Total spent", CustomerMeasure.TotalAmount, true, FeatureTransform.Log1p);
                Add("Average order value", CustomerMeasure.AverageAmount, true, FeatureTransform.Log1p);
            }
            Add("Days since last order", CustomerMeasure.DaysSinceLastOrder, false);
            Add("Tenure (days since first order)", CustomerMeasure.DaysSinceFirstOrder, false);
            if (facts.Amount is not null && facts.Orders.Fields.FirstOrDefault(f => f.Role == FieldRole.Dimension && f.Kind is FieldKind.Category or FieldKind.Text) is { } category)
            {
                var top = await queries.RunAsync(new QuerySpec
                {
                    DatasetId = facts.Orders.Id,
                    Filter = new RuleGroup { Children = [new FieldCondition { Field = category.Name, Operator = RuleOperator.IsNotEmpty }] },
                    GroupBy = [new GroupBy(category.Name, Alias: "value")],
                    Measures = [new Measure(MeasureKind.Count, "n")],
                    Sort = [new SortBy("n", Descending: true)],
                    Limit = 8,
                }, cancellationToken);
                foreach (var value in top.Rows.Select(r => Convert.ToString(r[0], CultureInfo.InvariantCulture)).OfType<string>())
                {
                    options.Add(new FeatureOption(new ClusteringFeature($"Share of spend on {value}", FeatureSource.Orders, Measure: CustomerMeasure.CategoryShare,
                        Column: category.Name, Value: value), $"Share of spend by {category.Name}", false));
                }
            }
        }
        var key = (dataset.CustomerKey ?? throw new PortalException($"{dataset.Name} has no Customer ID column.")).Name;
        foreach (var field in described.Fields.Where(f => f.Kind == FieldKind.Number && f.Name != key))
        {
            var skewed = field.Role is FieldRole.Amount or FieldRole.Measure && field.Type == ColumnType.Decimal;
            options.Add(new FeatureOption(new ClusteringFeature(field.Name, FeatureSource.Field, Field: field.Name), field.Source?.Name ?? dataset.Name, skewed));
        }
        return options;
    }

    public async Task<IReadOnlyList<ClusteringRunSummary>> HistoryAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var runs = await db.ClusteringRuns.AsNoTracking().OrderByDescending(r => r.Id).Take(200).ToListAsync(cancellationToken);
        var result = new List<ClusteringRunSummary>();
        var names = await NamesAsync(db, cancellationToken);
        var keys = new Dictionary<string, string?>();
        foreach (var run in runs)
        {
            if (await access.FindReadableAsync(run.DatasetId, cancellationToken) is not null)
            {
                var summary = await SummaryAsync(db, run, names, cancellationToken);
                result.Add(await WithheldAsync(run, keys, cancellationToken) ? summary with { Customers = 0, Withheld = true } : summary);
            }
        }
        return result;
    }

    /// <summary>
    /// Whether the run's stored figures must be withheld from the current user: they see some dataset the run was
    /// computed from (<see cref="CustomerAttributeStore.InputsAsync(AttributeSetKind, int, int, CancellationToken)"/>)
    /// through data rules, and not the way the run's owner saw it when it ran. A user who sees all of every input learns
    /// nothing new from them.
    /// </summary>
    private async Task<bool> WithheldAsync(ClusteringRun run, Dictionary<string, string?>? keys, CancellationToken cancellationToken)
    {
        var inputs = await attributes.InputsAsync(AttributeSetKind.Clustering, run.Id, run.DatasetId, cancellationToken);
        var cacheKey = string.Join(",", inputs.Order());
        string? key;
        if (keys is null || !keys.TryGetValue(cacheKey, out key))
        {
            key = await access.ViewKeyAsync(inputs, cancellationToken);
            keys?.Add(cacheKey, key);
        }
        return key is not null && key != ComputedOver(run);
    }

    private static string? ComputedOver(ClusteringRun run) =>
        run.ResultJson is null ? null : JsonSerializer.Deserialize<StoredResult>(run.ResultJson, Json)?.ComputedOver;

    /// <summary>The run's owner, the owner of its dataset, or an Admin (and only with the right to manage data).</summary>
    private async Task<bool> CanChangeAsync(ClaimsPrincipal user, ClusteringRun run, CancellationToken cancellationToken) =>
        Permissions.IsGranted(user, Permissions.ManageData)
        && ((run.OwnerId is not null && run.OwnerId == user.UserId()) || user.IsInRole(Roles.Admin)
            || Authorizer.CanChange(user, await access.RequireReadableAsync(run.DatasetId, cancellationToken)));

    public async Task<ClusteringRunView> GetAsync(int runId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ClusteringRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new PortalException("That clustering run no longer exists.");
        await access.RequireReadableAsync(run.DatasetId, cancellationToken);
        var user = await currentUser.GetPrincipalAsync();
        var request = JsonSerializer.Deserialize<ClusteringRequest>(run.SettingsJson, Json)!;
        var summary = await SummaryAsync(db, run, await NamesAsync(db, cancellationToken), cancellationToken);
        var canChange = await CanChangeAsync(user, run, cancellationToken);
        if (await WithheldAsync(run, null, cancellationToken))
        {
            return new ClusteringRunView(summary with { Customers = 0, Withheld = true }, request, null, null, null, null, [], ClusterField(run), ClusterNameField(run))
            {
                Withheld = WithheldNotice,
                CanChange = canChange,
            };
        }
        var metrics = run.MetricsJson is null ? null : JsonSerializer.Deserialize<StoredMetrics>(run.MetricsJson, Json);
        var result = run.ResultJson is null ? null : JsonSerializer.Deserialize<StoredResult>(run.ResultJson, Json);
        return new ClusteringRunView(summary, request,
            metrics?.Evaluation, metrics?.Metrics, result?.Explanation, result?.Counts, result?.Names ?? [], ClusterField(run), ClusterNameField(run))
        {
            CanChange = canChange,
        };
    }

    /// <summary>
    /// Checks the request, records the run and starts training in the background. Returns the run id; its job (key
    /// <see cref="JobKey"/>) reports progress and can be cancelled.
    /// </summary>
    public async Task<int> StartAsync(ClusteringRequest request, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var dataset = await access.RequireReadableAsync(request.DatasetId, cancellationToken);
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            throw new PortalException("Give the run a name.");
        }
        if (request.Features.Count == 0)
        {
            throw new PortalException("Choose at least one feature.");
        }
        if (request.Features.Count > MaxFeatures)
        {
            throw new PortalException($"Choose at most {MaxFeatures} features.");
        }
        if (request.Features.Select(f => f.Label).Distinct(StringComparer.OrdinalIgnoreCase).Count() != request.Features.Count)
        {
            throw new PortalException("Two features have the same name.");
        }
        if (request.K is { } k && k is < ClusteringEngine.MinClusters or > ClusteringEngine.MaxClusters)
        {
            throw new PortalException($"Choose between {ClusteringEngine.MinClusters} and {ClusteringEngine.MaxClusters} clusters.");
        }
        if (request.K is null && (request.MinK < ClusteringEngine.MinClusters || request.MaxK > ClusteringEngine.MaxClusters || request.MinK >= request.MaxK))
        {
            throw new PortalException($"For automatic K, choose a range within {ClusteringEngine.MinClusters}–{ClusteringEngine.MaxClusters}, smallest first.");
        }
        var offered = await FeaturesAsync(dataset.Id, cancellationToken);
        foreach (var feature in request.Features)
        {
            if (!offered.Any(o => o.Feature with { Label = feature.Label, Transform = feature.Transform } == feature))
            {
                throw new PortalException($"“{feature.Label}” is not a number this dataset offers for clustering.");
            }
        }
        if (request.SegmentId is { } segmentId)
        {
            var (segment, _, _) = await segments.GetAsync(segmentId, cancellationToken);
            if (segment.DatasetId != dataset.Id)
            {
                throw new PortalException("That segment is on another dataset.");
            }
        }

        var settings = JsonSerializer.Serialize(request with { Name = request.Name.Trim() }, Json);
        var sameAs = JsonSerializer.Serialize(request with { Name = "" }, Json);
        await Starting.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            var active = await db.ClusteringRuns.AsNoTracking().Where(r => r.DatasetId == dataset.Id && r.Status == ClusteringRunStatus.Running)
                .ToListAsync(cancellationToken);
            // A run left "running" by a stopped app has no active job: it does not block a new one.
            if (active.FirstOrDefault(r => jobs.Latest(JobKey(r.Id)) is { IsActive: true }
                && JsonSerializer.Serialize(JsonSerializer.Deserialize<ClusteringRequest>(r.SettingsJson, Json)! with { Name = "" }, Json) == sameAs) is { } duplicate)
            {
                throw new PortalException($"The same clustering of {dataset.Name} is already queued or running (“{duplicate.Name}”). Wait for it to finish, or cancel it first.");
            }
            return await RecordAndQueueAsync(db, user, dataset, request, settings, cancellationToken);
        }
        finally
        {
            Starting.Release();
        }
    }

    private async Task<int> RecordAndQueueAsync(IPortalDb db, ClaimsPrincipal user, Dataset dataset, ClusteringRequest request, string settings, CancellationToken cancellationToken)
    {
        var run = new ClusteringRun
        {
            Name = request.Name.Trim(),
            DatasetId = dataset.Id,
            SegmentId = request.SegmentId,
            SettingsJson = settings,
            K = request.K,
            Seed = request.Seed,
            Status = ClusteringRunStatus.Running,
            OwnerId = user.UserId(),
            CreatedAt = clock.GetUtcNow(),
        };
        db.ClusteringRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        Queue(user, run);
        return run.Id;
    }

    private void Queue(ClaimsPrincipal user, ClusteringRun run)
    {
        var id = run.Id;
        jobs.Enqueue(JobRequest.For(JobKind, $"Clustering “{run.Name}”", JobKey(id), user, new ClusteringTraining(id),
            id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Trains a failed, cancelled or interrupted run again with its settings (e.g. after the portal restarted mid-run).
    /// Only the run's owner or an Admin may, and only while the dataset is still readable to them.
    /// </summary>
    public async Task RetryAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await Starting.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            var run = await db.ClusteringRuns.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                ?? throw new PortalException("That clustering run no longer exists.");
            if (run.OwnerId != user.UserId() && !user.IsInRole(Roles.Admin))
            {
                throw new PermissionDeniedException("Only the owner or an Admin can retry a clustering run.");
            }
            await access.RequireReadableAsync(run.DatasetId, cancellationToken);
            if (run.Status is not (ClusteringRunStatus.Failed or ClusteringRunStatus.Cancelled))
            {
                throw new PortalException(run.Status == ClusteringRunStatus.Running
                    ? "This run is already running."
                    : "This run completed; start a new run to train again.");
            }
            run.Status = ClusteringRunStatus.Running;
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

    public static string JobKey(int runId) => $"clustering:{runId}";

    /// <summary>
    /// "Assign again": the saved model places the customers again, replacing the cluster fields everyone reads; so, like
    /// renaming, only the run's owner, the dataset's owner or an Admin may.
    /// </summary>
    public async Task AssignAgainAsync(int runId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        if (!(await GetAsync(runId, cancellationToken)).CanChange)
        {
            throw new PermissionDeniedException("Only the owner of the clustering run, the owner of its dataset or an Admin can assign its customers again.");
        }
        await trainer.ReassignAsync(runId, cancellationToken);
    }

    public async Task DeleteAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ClusteringRuns.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new PortalException("That clustering run no longer exists.");
        if (run.OwnerId != user.UserId() && !user.IsInRole(Roles.Admin))
        {
            throw new PermissionDeniedException("Only the owner or an Admin can delete a clustering run.");
        }
        if (run.Status == ClusteringRunStatus.Running)
        {
            throw new PortalException("Cancel the run before deleting it.");
        }
        await attributes.RemoveAsync(AttributeSetKind.Clustering, runId, cancellationToken);
        if (run.ModelPath is { } model)
        {
            File.Delete(paths.InDataDirectory(model));
        }
        db.ClusteringRuns.Remove(run);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// After a refresh of a clustered dataset (or of a dataset related to it by the customer key, such as its orders:
    /// <see cref="DatasetRelations.RelatedByCustomerKeyAsync"/>), the saved models place the customers again.
    /// </summary>
    public async Task DatasetRefreshedAsync(int datasetId, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var related = (await DatasetRelations.RelatedByCustomerKeyAsync(db, datasetId, cancellationToken)).Select(r => r.DatasetId).Append(datasetId).ToList();
        var runs = await db.ClusteringRuns.AsNoTracking()
            .Where(r => related.Contains(r.DatasetId) && r.Status == ClusteringRunStatus.Completed && r.ModelPath != null)
            .Select(r => r.Id).ToListAsync(cancellationToken);
        foreach (var id in runs)
        {
            EnqueueReassign(id, user);
        }
    }

    /// <summary>
    /// Retry of an interrupted or failed "assign again" job (its Retry on the Jobs page, where only the person who
    /// started it or an Admin may): queues it again, as the current user, who must still read the run's dataset.
    /// </summary>
    public async Task<JobSnapshot> RetryReassignAsync(int runId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var run = await db.ClusteringRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                ?? throw new PortalException("That clustering run no longer exists.");
            await access.RequireReadableAsync(run.DatasetId, cancellationToken);
        }
        return EnqueueReassign(runId, user);
    }

    private JobSnapshot EnqueueReassign(int runId, ClaimsPrincipal user) =>
        jobs.Enqueue(JobRequest.For(AssignJobKind, "Assign customers to clusters again", $"clustering-assign:{runId}", user,
            new ClusteringAssignment(runId), runId.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The membership table's columns: the cluster number (1-based) and its name.</summary>
    internal const string NumberColumn = "cluster";
    internal const string NameColumn = "cluster_name";

    internal static string ClusterField(ClusteringRun run) => $"Cluster ({run.Name})";

    internal static string ClusterNameField(ClusteringRun run) => $"Cluster name ({run.Name})";

    private async Task<Dictionary<string, string>> NamesAsync(IPortalDb db, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, u => u.DisplayName ?? u.Email ?? u.UserName ?? u.Id, cancellationToken);

    private async Task<ClusteringRunSummary> SummaryAsync(IPortalDb db, ClusteringRun run, Dictionary<string, string> owners, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == run.DatasetId).Select(d => d.Name).FirstOrDefaultAsync(cancellationToken) ?? "?";
        var segment = run.SegmentId is { } id ? await db.Segments.AsNoTracking().Where(s => s.Id == id).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken) : null;
        return new ClusteringRunSummary(run.Id, run.Name, segment is null ? dataset : $"{dataset} · segment {segment}", run.K, run.Status, run.Customers,
            run.CreatedAt, run.CompletedAt, run.Error, run.OwnerId is { } owner ? owners.GetValueOrDefault(owner) : null);
    }
}

/// <summary>Retries interrupted or failed clustering runs through <see cref="ClusteringService.RetryAsync"/>.</summary>
public sealed class ClusteringJobRetry(ClusteringService clustering, JobQueue jobs) : IJobRetry
{
    public string Kind => ClusteringService.JobKind;

    public async Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken)
    {
        var runId = int.Parse(target, System.Globalization.CultureInfo.InvariantCulture);
        await clustering.RetryAsync(runId, cancellationToken);
        return jobs.Latest(ClusteringService.JobKey(runId)) ?? throw new PortalException("The run could not be queued.");
    }
}

/// <summary>Retries an interrupted or failed "assign again" job through <see cref="ClusteringService.RetryReassignAsync"/>.</summary>
public sealed class ClusteringAssignJobRetry(ClusteringService clustering) : IJobRetry
{
    public string Kind => ClusteringService.AssignJobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) =>
        clustering.RetryReassignAsync(int.Parse(target, CultureInfo.InvariantCulture), cancellationToken);
}
