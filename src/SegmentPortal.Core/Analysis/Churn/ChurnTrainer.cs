using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.ML;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>
/// The churn jobs' work. Training: the customers and their orders read through the query layer with the runner's data
/// rules (<see cref="ChurnDataReader"/>), the blanks of the settings worked out from the gaps between purchases, a
/// FastTree model trained on the features as of the earlier cut-off and tested on the later one (AUC, precision and
/// recall, calibration, permutation importance), then a model of the same settings trained on the later cut-off (the
/// latest whose outcome is known) scores every customer as of the last day: risk, band and lifecycle stage become
/// customer fields and that model is saved. Scoring again: the saved model scores the current data as of its last day.
/// </summary>
public sealed class ChurnTrainer(
    ICurrentUser currentUser,
    Authorizer access,
    ChurnDataReader reader,
    CustomerAttributeStore attributes,
    StoragePaths paths,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
    internal const string RiskColumn = "churn_risk";
    internal const string BandColumn = "churn_band";
    internal const string StageColumn = "lifecycle_stage";

    internal async Task TrainAsync(int runId, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ChurnRun run;
        await using (var db = await dbFactory.CreateAsync(CancellationToken.None))
        {
            run = await db.ChurnRuns.AsNoTracking().FirstAsync(r => r.Id == runId, CancellationToken.None);
        }
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = JsonSerializer.Deserialize<ChurnRequest>(run.SettingsJson, ChurnService.Json)!;
            progress.Report(new JobProgress(0.02, "Reading customers and orders…"));
            var data = await reader.LoadAsync(run.DatasetId, request.Attributes, null, cancellationToken);
            var computedOver = await access.ViewKeyAsync(await attributes.InputsAsync(AttributeSetKind.Churn, run.Id, run.DatasetId, cancellationToken), cancellationToken);
            var defaults = ChurnEngine.Defaults(data.Customers);
            var settings = Resolve(request, defaults);

            var fills = new double[request.Attributes.Count];
            for (var a = 0; a < fills.Length; a++)
            {
                var values = data.Customers.Select(c => c.Attributes[a]).Where(v => !double.IsNaN(v)).Order().ToList();
                fills[a] = values.Count == 0 ? 0 : values[values.Count / 2];
            }
            var set = new ChurnFeatureSet(data.HasAmount, data.CategoryColumn, data.Categories, request.Attributes, fills, settings.HorizonDays);
            var names = set.Names;
            var width = names.Count;

            progress.Report(new JobProgress(0.15, $"Building features as of {settings.TrainCutoff:yyyy-MM-dd} and {settings.TestCutoff:yyyy-MM-dd}…"));
            var train = ChurnEngine.Build(data.Customers, settings.TrainCutoff.DayNumber, set);
            var test = ChurnEngine.Build(data.Customers, settings.TestCutoff.DayNumber, set);
            if (train.Rows.Length < ChurnEngine.MinCustomers)
            {
                throw new PortalException($"Only {train.Rows.Length} customers had ordered by the training cut-off {settings.TrainCutoff:yyyy-MM-dd}; at least {ChurnEngine.MinCustomers} are needed. Choose a later cut-off or a shorter horizon.");
            }
            if (test.Rows.Length < ChurnEngine.MinCustomers)
            {
                throw new PortalException($"Only {test.Rows.Length} customers had ordered by the test cut-off {settings.TestCutoff:yyyy-MM-dd}; at least {ChurnEngine.MinCustomers} are needed.");
            }
            if (test.Churned.All(c => c) || test.Churned.All(c => !c))
            {
                throw new PortalException($"At the test cut-off {settings.TestCutoff:yyyy-MM-dd} {(test.Churned[0] ? "every" : "no")} customer churned, so the model cannot be tested there; choose other cut-offs or another horizon.");
            }

            var ml = new MLContext(request.Seed);
            progress.Report(new JobProgress(0.25, $"Training on {train.Rows.Length:N0} customers…"));
            var validation = await Task.Run(() => ChurnEngine.Train(ml, train.Features, train.Churned, width, cancellationToken), cancellationToken);
            progress.Report(new JobProgress(0.45, $"Testing on {test.Rows.Length:N0} customers…"));
            var metrics = await Task.Run(() => Validate(ml, validation, train, test, names, settings.Threshold, request.Seed, cancellationToken), cancellationToken);

            progress.Report(new JobProgress(0.75, $"Training the scoring model on the test cut-off {settings.TestCutoff:yyyy-MM-dd}…"));
            var model = await Task.Run(() => ChurnEngine.Train(ml, test.Features, test.Churned, width, cancellationToken), cancellationToken);
            var modelPath = Path.Combine("models", $"churn-{runId}.zip");
            Directory.CreateDirectory(Path.GetDirectoryName(paths.InDataDirectory(modelPath))!);
            await using (var file = File.Create(paths.InDataDirectory(modelPath)))
            {
                ChurnEngine.Save(ml, model, width, file);
            }

            progress.Report(new JobProgress(0.85, "Scoring every customer as of the last day…"));
            var scoring = await ScoreAndWriteAsync(run, ml, model, data, set, settings, cancellationToken);

            await using var save = await dbFactory.CreateAsync(CancellationToken.None);
            var entity = await save.ChurnRuns.FirstAsync(r => r.Id == runId, CancellationToken.None);
            entity.Status = ChurnRunStatus.Completed;
            entity.ModelPath = modelPath;
            entity.Customers = scoring.Scored;
            entity.MetricsJson = JsonSerializer.Serialize(metrics, ChurnService.Json);
            entity.ResultJson = JsonSerializer.Serialize(new StoredChurnResult(settings, set, scoring, computedOver), ChurnService.Json);
            entity.CompletedAt = entity.ScoredAt = clock.GetUtcNow();
            await save.SaveChangesAsync(CancellationToken.None);
            progress.Report(new JobProgress(1, $"AUC {metrics.Auc:0.00} on the later cut-off; {scoring.Scored:N0} customers scored."));
        }
        catch (Exception ex)
        {
            await using var db = await dbFactory.CreateAsync(CancellationToken.None);
            var entity = await db.ChurnRuns.FirstAsync(r => r.Id == runId, CancellationToken.None);
            entity.Status = ex is OperationCanceledException ? ChurnRunStatus.Cancelled : ChurnRunStatus.Failed;
            entity.Error = ex is OperationCanceledException ? "Cancelled." : ex is PortalException ? ex.Message : $"The run failed: {ex.Message}";
            entity.CompletedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>The validation model's figures on the later cut-off (and its AUC on its own training rows, for comparison).</summary>
    internal static ChurnMetrics Validate(MLContext ml, ITransformer model, (int[] Rows, float[][] Features, bool[] Churned) train,
        (int[] Rows, float[][] Features, bool[] Churned) test, IReadOnlyList<string> names, double threshold, int seed, CancellationToken cancellationToken)
    {
        var width = names.Count;
        var trainScores = ChurnEngine.Score(ml, model, train.Features, width);
        var scores = ChurnEngine.Score(ml, model, test.Features, width);
        var auc = ChurnEngine.Auc(scores, test.Churned);
        var predicted = scores.Select(s => s >= threshold).ToArray();
        var flagged = predicted.Count(p => p);
        var truePositives = predicted.Where((p, i) => p && test.Churned[i]).Count();
        var importance = ChurnEngine.Importance(ml, model, test.Features, test.Churned, scores, names, seed, cancellationToken);
        return new ChurnMetrics(train.Rows.Length, train.Churned.Average(c => c ? 1.0 : 0), test.Rows.Length, test.Churned.Average(c => c ? 1.0 : 0),
            auc, ChurnEngine.Auc(trainScores, train.Churned), threshold,
            flagged == 0 ? null : (double)truePositives / flagged,
            (double)truePositives / test.Churned.Count(c => c), flagged,
            ChurnEngine.Calibration(scores, test.Churned), importance, ChurnEngine.Explain(importance, auc));
    }

    /// <summary>The request's settings with the blanks filled from the data, checked against it.</summary>
    internal static ChurnSettings Resolve(ChurnRequest request, ChurnDefaults defaults)
    {
        var horizon = request.HorizonDays ?? defaults.HorizonDays;
        var test = request.TestCutoff ?? defaults.LastDay.AddDays(-horizon);
        var train = request.TrainCutoff ?? test.AddDays(-horizon);
        if (test.AddDays(horizon) > defaults.LastDay)
        {
            throw new PortalException($"The test cut-off {test:yyyy-MM-dd} plus {horizon} days runs past the last order day {defaults.LastDay:yyyy-MM-dd}, so its outcome is not known yet; choose {defaults.LastDay.AddDays(-horizon):yyyy-MM-dd} or earlier.");
        }
        if (train.AddDays(horizon) > test)
        {
            throw new PortalException($"The training cut-off must be at least {horizon} days (the horizon) before the test cut-off, so the training outcomes are known before the test starts.");
        }
        if (train <= defaults.FirstDay)
        {
            throw new PortalException($"The training cut-off {train:yyyy-MM-dd} is not after the first order day {defaults.FirstDay:yyyy-MM-dd}; choose a shorter horizon or later cut-offs.");
        }
        return new ChurnSettings(horizon, train, test, defaults.LastDay, request.Threshold, request.Lifecycle ?? defaults.Lifecycle);
    }

    /// <summary>Scores every customer as of the data's last day and writes risk, band and lifecycle stage as customer fields.</summary>
    private async Task<ChurnScoring> ScoreAndWriteAsync(ChurnRun run, MLContext ml, ITransformer model, ChurnData data, ChurnFeatureSet set,
        ChurnSettings settings, CancellationToken cancellationToken)
    {
        var asOf = data.Customers.Where(c => c.Days.Length > 0).Select(c => c.Days[^1]).DefaultIfEmpty(settings.LastDay.DayNumber).Max();
        var today = ChurnEngine.Build(data.Customers, asOf, set);
        var scores = await Task.Run(() => ChurnEngine.Score(ml, model, today.Features, set.Names.Count), cancellationToken);
        var risk = new double?[data.Customers.Count];
        for (var i = 0; i < today.Rows.Length; i++)
        {
            risk[today.Rows[i]] = Math.Round(scores[i], 4);
        }
        var stages = ChurnEngine.Stages(data.Customers, asOf, settings.Lifecycle);
        await attributes.WriteAsync(AttributeSetKind.Churn, run.Id, run.DatasetId, $"Churn risk: {run.Name}", data.KeyType,
            [
                new AttributeColumn(ChurnService.RiskField(run), RiskColumn, ColumnType.Decimal, FieldRole.Measure),
                new AttributeColumn(ChurnService.BandField(run), BandColumn, ColumnType.Text, FieldRole.Dimension),
                new AttributeColumn(ChurnService.LifecycleField(run), StageColumn, ColumnType.Text, FieldRole.Dimension),
            ],
            data.Keys.Select((key, i) => new object?[] { key, risk[i], risk[i] is { } r ? ChurnEngine.Band(r, settings.Threshold) : null, stages[i] }),
            cancellationToken, keysAreDistinct: true);
        var histogram = new int[10];
        foreach (var s in scores)
        {
            histogram[Math.Clamp((int)(s * 10), 0, 9)]++;
        }
        var bands = new[] { "low", "medium", "high" }.ToDictionary(b => b, b => risk.Count(r => r is { } v && ChurnEngine.Band(v, settings.Threshold) == b));
        var lifecycle = Lifecycle.Stages.ToDictionary(s => s, s => stages.Count(x => x == s));
        return new ChurnScoring(DateOnly.FromDayNumber(asOf), data.Customers.Count, today.Rows.Length, histogram, bands, lifecycle);
    }

    /// <summary>Scores the customers again with a run's saved model (after a refresh), by someone allowed to change the data.</summary>
    internal async Task RescoreAsync(int runId, CancellationToken cancellationToken)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        ChurnRun run;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            run = await db.ChurnRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                ?? throw new PortalException("That churn run no longer exists.");
        }
        await access.RequireReadableAsync(run.DatasetId, cancellationToken);
        if (run.Status != ChurnRunStatus.Completed || run.ModelPath is null || run.ResultJson is null)
        {
            throw new PortalException("Only a completed run can score customers.");
        }
        var stored = JsonSerializer.Deserialize<StoredChurnResult>(run.ResultJson, ChurnService.Json)!;
        var data = await reader.LoadAsync(run.DatasetId, stored.Features.Attributes, stored.Features.Categories, cancellationToken);
        if (data.HasAmount != stored.Features.HasAmount)
        {
            throw new PortalException("The orders' amount column changed since the model was trained; start a new run.");
        }
        var computedOver = await access.ViewKeyAsync(await attributes.InputsAsync(AttributeSetKind.Churn, run.Id, run.DatasetId, cancellationToken), cancellationToken);
        var ml = new MLContext(0);
        ITransformer model;
        await using (var file = File.OpenRead(paths.InDataDirectory(run.ModelPath)))
        {
            model = ChurnEngine.Load(ml, file);
        }
        var scoring = await ScoreAndWriteAsync(run, ml, model, data, stored.Features, stored.Settings, cancellationToken);
        await using var save = await dbFactory.CreateAsync(cancellationToken);
        var entity = await save.ChurnRuns.FirstAsync(r => r.Id == runId, cancellationToken);
        entity.Customers = scoring.Scored;
        entity.ResultJson = JsonSerializer.Serialize(stored with { Scoring = scoring, ComputedOver = computedOver }, ChurnService.Json);
        entity.ScoredAt = clock.GetUtcNow();
        await save.SaveChangesAsync(cancellationToken);
    }
}
