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

/// <summary>Where a feature's numbers come from: a number field of the customers (columns, RFM values) or a measure of their orders.</summary>
public enum FeatureSource
{
    Field,
    Orders,
}

/// <summary>One clustering feature as the user chose it.</summary>
/// <param name="Label">The name shown in charts and cluster names.</param>
/// <param name="Field">For <see cref="FeatureSource.Field"/>: the customer field.</param>
/// <param name="Measure">For <see cref="FeatureSource.Orders"/>: the customer measure.</param>
/// <param name="Column">For a category share: the order column; <paramref name="Value"/> is the category.</param>
public sealed record ClusteringFeature(
    string Label,
    FeatureSource Source,
    string? Field = null,
    CustomerMeasure? Measure = null,
    string? Column = null,
    string? Value = null,
    FeatureTransform Transform = FeatureTransform.None);

/// <summary>What to cluster and how.</summary>
public sealed record ClusteringRequest
{
    public required string Name { get; init; }

    public required int DatasetId { get; init; }

    /// <summary>Cluster only this segment's members.</summary>
    public int? SegmentId { get; init; }

    public required IReadOnlyList<ClusteringFeature> Features { get; init; }

    public FeatureScaling Scaling { get; init; } = FeatureScaling.ZScore;

    public MissingValues Missing { get; init; } = MissingValues.ImputeMedian;

    /// <summary>The number of clusters; null to try <see cref="MinK"/>..<see cref="MaxK"/> and take the suggestion.</summary>
    public int? K { get; init; }

    public int MinK { get; init; } = 2;

    public int MaxK { get; init; } = 10;

    public int Seed { get; init; } = 42;
}

/// <summary>A feature the page offers for a dataset, with its group and whether its values are usually skewed (money, counts).</summary>
public sealed record FeatureOption(ClusteringFeature Feature, string Group, bool Skewed);

/// <summary>A dataset (or a segment of one) that can be clustered.</summary>
public sealed record ClusteringInput(int DatasetId, string Name, int? SegmentId = null);

public sealed record ClusteringRunSummary(
    int Id, string Name, string Input, int? K, ClusteringRunStatus Status, long Customers, DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt, string? Error, string? Owner)
{
    /// <summary>The run was computed over data the user sees differently: its figures (the customer count too) are withheld.</summary>
    public bool Withheld { get; init; }
}

/// <summary>How many customers the input had, how many were clustered, and the missing values handled.</summary>
public sealed record ClusteringCounts(int Customers, int Clustered, int Dropped, IReadOnlyList<int> Imputed);

/// <summary>A run as the results page shows it.</summary>
public sealed record ClusteringRunView(
    ClusteringRunSummary Summary,
    ClusteringRequest Request,
    KRangeEvaluation? Evaluation,
    ClusterMetrics? Metrics,
    ClusterExplanation? Explanation,
    ClusteringCounts? Counts,
    IReadOnlyList<string> Names,
    string ClusterField,
    string ClusterNameField)
{
    public IReadOnlyList<FeatureSpec> Specs => Request.Features.Select(ClusteringService.SpecOf).ToList();

    /// <summary>Why the run's figures are not shown (<see cref="ClusteringService.WithheldNotice"/>); null when they are.</summary>
    public string? Withheld { get; init; }

    /// <summary>Whether the user may rename its clusters (the run's owner, the dataset's owner or an Admin).</summary>
    public bool CanChange { get; init; }
}

/// <summary>
/// K-means clustering of customers as a background job: features loaded through the query layer, the engine's
/// preparation, automatic K, training and explanation, the model saved for re-assignment, and the membership published
/// as customer fields (cluster number, and cluster name) so segments and dashboards can use it.
/// </summary>
public sealed class ClusteringService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    CustomerAttributeStore attributes,
    SegmentService segments,
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

    /// <summary>The job's work: load, prepare, choose K, train, explain, save the model and the membership.</summary>
    internal async Task TrainAsync(int runId, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ClusteringRun run;
        await using (var db = await dbFactory.CreateAsync(CancellationToken.None))
        {
            run = await db.ClusteringRuns.AsNoTracking().FirstAsync(r => r.Id == runId, CancellationToken.None);
        }
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = JsonSerializer.Deserialize<ClusteringRequest>(run.SettingsJson, Json)!;
            progress.Report(new JobProgress(0.02, "Loading customer features…"));
            var (keys, data, keyType) = await LoadAsync(request, cancellationToken);
            // How the runner saw the data: the figures are shown to others only when they see it the same way (or whole).
            var computedOver = await access.ViewKeyAsync(await attributes.InputsAsync(AttributeSetKind.Clustering, run.Id, run.DatasetId, cancellationToken), cancellationToken);
            if (keys.Count == 0)
            {
                throw new PortalException("There are no customers to cluster.");
            }
            progress.Report(new JobProgress(0.1, $"Preparing {keys.Count:N0} customers…"));
            var prepared = await Task.Run(() => ClusteringEngine.Prepare(data, request.Scaling, request.Missing, cancellationToken), cancellationToken);

            KRangeEvaluation? evaluation = null;
            var k = request.K ?? 0;
            if (request.K is null)
            {
                var range = new Progress<double>(p => progress.Report(new JobProgress(0.12 + 0.5 * p, $"Trying K = {request.MinK}…{request.MaxK}…")));
                evaluation = await Task.Run(() => ClusteringEngine.EvaluateRange(prepared, request.MinK, request.MaxK, request.Seed, null, range, cancellationToken), cancellationToken);
                k = evaluation.Suggestion.K;
            }
            var start = request.K is null ? 0.62 : 0.12;
            var training = new Progress<double>(p => progress.Report(new JobProgress(start + (0.85 - start) * p, $"Training {k} clusters on {prepared.RowCount:N0} customers…")));
            var result = await Task.Run(() => ClusteringEngine.Train(prepared, k, request.Seed, null, training, cancellationToken), cancellationToken);
            // The names come first (they need only the cluster means), so the membership is written while the rest of
            // the explanation is worked out; the explanation gives the same names.
            var names = ClusteringEngine.Names(prepared, result);
            var assignments = new int[keys.Count];
            Array.Fill(assignments, ClusteringModel.Unassigned);
            for (var i = 0; i < prepared.KeptRows.Length; i++)
            {
                assignments[prepared.KeptRows[i]] = result.Assignments[i];
            }
            progress.Report(new JobProgress(0.87, "Explaining the clusters and saving the membership…"));
            var membership = Task.Run(() => WriteMembershipAsync(run, keyType, keys, assignments, names, cancellationToken), cancellationToken);
            var explaining = Task.Run(() => ClusteringEngine.Explain(data, prepared, result, null, cancellationToken), cancellationToken);
            // Both finish (or fail) before the run's status is written.
            await Task.WhenAll(membership, explaining);
            var explanation = await explaining;

            progress.Report(new JobProgress(0.95, "Saving the model…"));
            var modelPath = Path.Combine("models", $"clustering-{runId}.model");
            Directory.CreateDirectory(Path.GetDirectoryName(paths.InDataDirectory(modelPath))!);
            await using (var file = File.Create(paths.InDataDirectory(modelPath)))
            {
                result.Model.Save(file);
            }

            await using var db = await dbFactory.CreateAsync(CancellationToken.None);
            var entity = await db.ClusteringRuns.FirstAsync(r => r.Id == runId, CancellationToken.None);
            entity.K = k;
            entity.Status = ClusteringRunStatus.Completed;
            entity.ModelPath = modelPath;
            entity.Customers = prepared.RowCount;
            entity.MetricsJson = JsonSerializer.Serialize(new StoredMetrics(evaluation, result.Metrics), Json);
            entity.ResultJson = JsonSerializer.Serialize(new StoredResult(explanation,
                new ClusteringCounts(keys.Count, prepared.RowCount, prepared.RowsDropped, prepared.ImputedPerFeature), names, computedOver), Json);
            entity.CompletedAt = entity.AssignedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            progress.Report(new JobProgress(1, $"{k} clusters of {prepared.RowCount:N0} customers" +
                (evaluation is null ? "." : $" — {evaluation.Suggestion.Reason}")));
        }
        catch (Exception ex)
        {
            await using var db = await dbFactory.CreateAsync(CancellationToken.None);
            var entity = await db.ClusteringRuns.FirstAsync(r => r.Id == runId, CancellationToken.None);
            entity.Status = ex is OperationCanceledException ? ClusteringRunStatus.Cancelled : ClusteringRunStatus.Failed;
            entity.Error = ex is OperationCanceledException ? "Cancelled." : ex is PortalException ? ex.Message : $"The run failed: {ex.Message}";
            entity.CompletedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>Names a cluster (the name field changes; segments use the cluster number, so they keep working).</summary>
    public async Task RenameClusterAsync(int runId, int cluster, string name, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await GetAsync(runId, cancellationToken);
        if (!view.CanChange)
        {
            throw new PermissionDeniedException("Only the owner of the clustering run, the owner of its dataset or an Admin can rename its clusters.");
        }
        var trimmed = name.Trim();
        if (trimmed.Length is 0 or > 80)
        {
            throw new PortalException("A cluster name needs 1 to 80 characters.");
        }
        if (cluster < 0 || cluster >= view.Names.Count)
        {
            throw new PortalException("That cluster does not exist.");
        }
        Common.UniqueNames.Require(trimmed, view.Names.Where((_, i) => i != cluster), "cluster", who: null);
        var names = view.Names.ToArray();
        names[cluster] = trimmed;
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ClusteringRuns.FirstAsync(r => r.Id == runId, cancellationToken);
        var stored = JsonSerializer.Deserialize<StoredResult>(run.ResultJson!, Json)!;
        run.ResultJson = JsonSerializer.Serialize(stored with { Names = names }, Json);
        await db.SaveChangesAsync(cancellationToken);
        await attributes.UpdateValueAsync(AttributeSetKind.Clustering, runId, NameColumn, trimmed, NumberColumn, cluster + 1, cancellationToken);
    }

    /// <summary>Saves one cluster as a segment ("cluster is 2" on the run's field), named after the cluster.</summary>
    public async Task<int> SaveClusterAsSegmentAsync(int runId, int cluster, string? name = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await GetAsync(runId, cancellationToken);
        if (view.Summary.Status != ClusteringRunStatus.Completed || cluster < 0 || cluster >= view.Names.Count)
        {
            throw new PortalException("That cluster does not exist.");
        }
        var rule = new RuleGroup
        {
            Children = [new FieldCondition { Field = view.ClusterField, Operator = RuleOperator.Equals, Value = (cluster + 1).ToString(CultureInfo.InvariantCulture) }],
        };
        if (view.Request.SegmentId is { } within)
        {
            rule.Children.Add(new SegmentCondition { SegmentId = within });
        }
        return await segments.CreateAsync(new SegmentDraft(string.IsNullOrWhiteSpace(name) ? $"{view.Summary.Name}: {view.Names[cluster]}" : name.Trim(),
            view.Request.DatasetId, new RuleTree { Root = rule }, $"Cluster {cluster + 1} of the clustering run “{view.Summary.Name}”.", ["Cluster"]), cancellationToken);
    }

    /// <summary>
    /// The cluster's best rule (from the explanation's decision tree) as a rule tree over the features: field
    /// conditions for customer fields, order facts for order measures. A share of spend has no rule equivalent and is
    /// left out (said in the returned note).
    /// </summary>
    public async Task<(RuleTree Rule, string? Note)> RuleForClusterAsync(int runId, int cluster, CancellationToken cancellationToken = default)
    {
        var view = await GetAsync(runId, cancellationToken);
        var profile = view.Explanation?.Clusters.FirstOrDefault(c => c.Cluster == cluster) ?? throw new PortalException("That cluster does not exist.");
        var best = profile.Rules.FirstOrDefault() ?? throw new PortalException("No rule describes this cluster well enough.");
        var root = new RuleGroup();
        var skipped = new List<string>();
        foreach (var condition in best.Conditions)
        {
            var feature = view.Request.Features[condition.FeatureIndex];
            var greater = condition.Comparison == ThresholdComparison.Greater;
            var value = condition.Threshold.ToString("0.####", CultureInfo.InvariantCulture);
            RuleNode? node = feature.Source == FeatureSource.Field
                ? new FieldCondition { Field = feature.Field!, Operator = greater ? RuleOperator.Greater : RuleOperator.LessOrEqual, Value = value }
                : feature.Measure switch
                {
                    CustomerMeasure.OrderCount => Fact(CustomerFact.OrderCount),
                    CustomerMeasure.TotalAmount => Fact(CustomerFact.TotalAmount),
                    CustomerMeasure.AverageAmount => Fact(CustomerFact.AverageAmount),
                    CustomerMeasure.DaysSinceLastOrder => Fact(CustomerFact.DaysSinceLastOrder),
                    CustomerMeasure.DaysSinceFirstOrder => new FactCondition
                    {
                        // More than N days since the first order = first order before today − N days.
                        Fact = CustomerFact.FirstOrderDate,
                        Operator = greater ? RuleOperator.Before : RuleOperator.After,
                        Value = DateOnly.FromDateTime(clock.GetLocalNow().DateTime).AddDays(-(int)Math.Floor(condition.Threshold) - (greater ? 0 : 1)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    },
                    _ => null,
                };
            if (node is null)
            {
                skipped.Add(feature.Label);
            }
            else
            {
                root.Children.Add(node);
            }

            FactCondition Fact(CustomerFact fact) => new() { Fact = fact, Operator = greater ? RuleOperator.Greater : RuleOperator.LessOrEqual, Value = value };
        }
        return (new RuleTree { Root = root }, skipped.Count == 0 ? null : $"Left out (no rule equivalent): {string.Join(", ", skipped)}.");
    }

    /// <summary>Saves the cluster's rule as a new segment the user can open and edit.</summary>
    public async Task<int> SaveRuleAsSegmentAsync(int runId, int cluster, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await GetAsync(runId, cancellationToken);
        var (rule, note) = await RuleForClusterAsync(runId, cluster, cancellationToken);
        return await segments.CreateAsync(new SegmentDraft($"{view.Summary.Name}: {view.Names[cluster]} (rule)", view.Request.DatasetId, rule,
            $"Rule learnt to describe cluster {cluster + 1} of “{view.Summary.Name}”. {note}".Trim(), ["Cluster rule"]), cancellationToken);
    }

    /// <summary>Assigns the current customers with the run's saved model (after the data changed), keeping the clusters.</summary>
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
        await ReassignAsync(runId, cancellationToken);
    }

    /// <summary>Places the customers again with a run's saved model; after a refresh by someone allowed to change the data.</summary>
    internal async Task ReassignAsync(int runId, CancellationToken cancellationToken)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ClusteringRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new PortalException("That clustering run no longer exists.");
        await access.RequireReadableAsync(run.DatasetId, cancellationToken);
        await AssignAsync(run, cancellationToken);
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

    private async Task AssignAsync(ClusteringRun run, CancellationToken cancellationToken)
    {
        if (run.Status != ClusteringRunStatus.Completed || run.ModelPath is null || run.ResultJson is null)
        {
            throw new PortalException("Only a completed run can assign customers.");
        }
        var request = JsonSerializer.Deserialize<ClusteringRequest>(run.SettingsJson, Json)!;
        var stored = JsonSerializer.Deserialize<StoredResult>(run.ResultJson, Json)!;
        var (keys, data, keyType) = await LoadAsync(request, cancellationToken);
        int[] assignments;
        await using (var file = File.OpenRead(paths.InDataDirectory(run.ModelPath)))
        {
            assignments = await Task.Run(() => ClusteringEngine.Assign(file, data.Rows, cancellationToken), cancellationToken);
        }
        await WriteMembershipAsync(run, keyType, keys, assignments, stored.Names, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await db.ClusteringRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.AssignedAt, clock.GetUtcNow()), cancellationToken);
    }

    private Task WriteMembershipAsync(ClusteringRun run, ColumnType keyType, IReadOnlyList<object> keys, int[] assignments, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        attributes.WriteAsync(AttributeSetKind.Clustering, run.Id, run.DatasetId, $"Clusters: {run.Name}", keyType,
            [new AttributeColumn(ClusterField(run), NumberColumn, ColumnType.Integer), new AttributeColumn(ClusterNameField(run), NameColumn, ColumnType.Text, FieldRole.Dimension)],
            keys.Select((key, i) => assignments[i] == ClusteringModel.Unassigned
                ? new object?[] { key, null, null }
                : new object?[] { key, assignments[i] + 1, names[assignments[i]] }),
            cancellationToken, keysAreDistinct: true);

    private const string NumberColumn = "cluster";
    private const string NameColumn = "cluster_name";

    private static string ClusterField(ClusteringRun run) => $"Cluster ({run.Name})";

    private static string ClusterNameField(ClusteringRun run) => $"Cluster name ({run.Name})";

    /// <summary>One row per customer of the input (the segment's members when there is one), with the features in order.</summary>
    internal async Task<(IReadOnlyList<object> Keys, ClusteringData Data, ColumnType KeyType)> LoadAsync(ClusteringRequest request, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(request.DatasetId, cancellationToken);
        var key = dataset.CustomerKey
            ?? throw new PortalException($"{dataset.Name} has no Customer ID column.");
        var fields = request.Features.Where(f => f.Source == FeatureSource.Field).Select(f => f.Field!).Distinct().ToList();
        var measures = request.Features.Select((f, i) => (f, i)).Where(x => x.f.Source == FeatureSource.Orders)
            .Select(x => new FactColumn($"m{x.i}", x.f.Measure!.Value, Column: x.f.Column, Values: x.f.Value is null ? null : [x.f.Value])).ToList();
        // Read row by row into one array per feature (typed reads, no boxed feature values, no array per customer), still
        // compiled by the query layer with the runner's data rules.
        var keys = new List<object>();
        var d = request.Features.Count;
        var columns = new double[d][];
        for (var f = 0; f < d; f++)
        {
            columns[f] = new double[1024];
        }
        var count = 0;
        int[]? featureIndex = null;
        Func<DuckDB.NET.Data.DuckDBDataReader, int, double>[]? readers = null;
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = dataset.Id,
            Filter = new RuleGroup
            {
                Children = [new FieldCondition { Field = key.Name, Operator = RuleOperator.IsNotEmpty },
                    .. request.SegmentId is { } segmentId ? new RuleNode[] { new SegmentCondition { SegmentId = segmentId } } : []],
            },
            Columns = [key.Name, .. fields],
            Facts = measures,
            DistinctCustomers = true,
            Limit = MaxCustomers + 1,
        }, (names, reader) =>
        {
            if (featureIndex is null || readers is null)
            {
                var columnIndex = names.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
                featureIndex = request.Features.Select((f, i) => f.Source == FeatureSource.Field ? columnIndex[f.Field!] : columnIndex[$"m{i}"]).ToArray();
                readers = featureIndex.Select(i => NumberReader(reader.GetFieldType(i))).ToArray();
            }
            if (d > 0 && count == columns[0].Length)
            {
                for (var f = 0; f < d; f++)
                {
                    Array.Resize(ref columns[f], count * 2);
                }
            }
            keys.Add(reader.GetValue(0));
            for (var f = 0; f < d; f++)
            {
                var column = featureIndex[f];
                columns[f][count] = reader.IsDBNull(column) ? double.NaN : readers[f](reader, column);
            }
            count++;
        }, cancellationToken);
        if (count > MaxCustomers)
        {
            throw new PortalException($"Clustering takes up to {MaxCustomers:N0} customers; choose a segment to narrow it down.");
        }
        return (keys, new ClusteringData(request.Features.Select(SpecOf).ToList(), columns, count), key.Type);
    }

    /// <summary>A typed read of a number column (the value <see cref="QueryValue.ToDouble"/> gives, without boxing it).</summary>
    private static Func<DuckDB.NET.Data.DuckDBDataReader, int, double> NumberReader(Type type) =>
        type == typeof(double) ? (r, i) => r.GetDouble(i)
        : type == typeof(long) ? (r, i) => r.GetInt64(i)
        : type == typeof(int) ? (r, i) => r.GetInt32(i)
        : type == typeof(float) ? (r, i) => r.GetFloat(i)
        : (r, i) => QueryValue.ToDouble(r.GetValue(i)) ?? double.NaN;

    private async Task<Dictionary<string, string>> NamesAsync(IPortalDb db, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, u => u.DisplayName ?? u.Email ?? u.UserName ?? u.Id, cancellationToken);

    private async Task<ClusteringRunSummary> SummaryAsync(IPortalDb db, ClusteringRun run, Dictionary<string, string> owners, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == run.DatasetId).Select(d => d.Name).FirstOrDefaultAsync(cancellationToken) ?? "?";
        var segment = run.SegmentId is { } id ? await db.Segments.AsNoTracking().Where(s => s.Id == id).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken) : null;
        return new ClusteringRunSummary(run.Id, run.Name, segment is null ? dataset : $"{dataset} · segment {segment}", run.K, run.Status, run.Customers,
            run.CreatedAt, run.CompletedAt, run.Error, run.OwnerId is { } owner ? owners.GetValueOrDefault(owner) : null);
    }

    private sealed record StoredMetrics(KRangeEvaluation? Evaluation, ClusterMetrics Metrics);

    /// <param name="ComputedOver">The runner's <see cref="Authorizer.ViewKeyAsync"/> of the inputs; null when they saw all of them.</param>
    private sealed record StoredResult(ClusterExplanation Explanation, ClusteringCounts Counts, IReadOnlyList<string> Names, string? ComputedOver = null);
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
