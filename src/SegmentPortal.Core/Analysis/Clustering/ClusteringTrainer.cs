using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// The clustering jobs' work. Training: the features read through the query layer with the runner's data rules
/// (<see cref="ClusteringFeatureReader"/>), prepared, K chosen when asked, k-means trained, the clusters named and
/// explained while the membership is written as customer fields (cluster number and name), the model saved for
/// assigning again. Assigning again: the saved model places the current customers, keeping the clusters.
/// </summary>
public sealed class ClusteringTrainer(
    ICurrentUser currentUser,
    Authorizer access,
    ClusteringFeatureReader features,
    CustomerAttributeStore attributes,
    StoragePaths paths,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
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
            var request = JsonSerializer.Deserialize<ClusteringRequest>(run.SettingsJson, ClusteringService.Json)!;
            progress.Report(new JobProgress(0.02, "Loading customer features…"));
            var (keys, data, keyType) = await features.LoadAsync(request, cancellationToken);
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
            entity.MetricsJson = JsonSerializer.Serialize(new StoredMetrics(evaluation, result.Metrics), ClusteringService.Json);
            entity.ResultJson = JsonSerializer.Serialize(new StoredResult(explanation,
                new ClusteringCounts(keys.Count, prepared.RowCount, prepared.RowsDropped, prepared.ImputedPerFeature), names, computedOver), ClusteringService.Json);
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

    private async Task AssignAsync(ClusteringRun run, CancellationToken cancellationToken)
    {
        if (run.Status != ClusteringRunStatus.Completed || run.ModelPath is null || run.ResultJson is null)
        {
            throw new PortalException("Only a completed run can assign customers.");
        }
        var request = JsonSerializer.Deserialize<ClusteringRequest>(run.SettingsJson, ClusteringService.Json)!;
        var stored = JsonSerializer.Deserialize<StoredResult>(run.ResultJson, ClusteringService.Json)!;
        var (keys, data, keyType) = await features.LoadAsync(request, cancellationToken);
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
            [new AttributeColumn(ClusteringService.ClusterField(run), ClusteringService.NumberColumn, ColumnType.Integer), new AttributeColumn(ClusteringService.ClusterNameField(run), ClusteringService.NameColumn, ColumnType.Text, FieldRole.Dimension)],
            keys.Select((key, i) => assignments[i] == ClusteringModel.Unassigned
                ? new object?[] { key, null, null }
                : new object?[] { key, assignments[i] + 1, names[assignments[i]] }),
            cancellationToken, keysAreDistinct: true);
}
