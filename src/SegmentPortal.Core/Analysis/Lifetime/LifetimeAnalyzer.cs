using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>
/// The lifetime-value job's work: the customers' purchase days read through the query layer with the runner's data rules,
/// BG/NBD and Gamma-Gamma fitted on the calibration period and checked on the rest, both fitted again on all of it, and
/// every customer's P(alive), expected purchases, expected spend and CLV written as customer fields.
/// </summary>
internal sealed class LifetimeAnalyzer(
    QueryService queries,
    PermissionPolicy policy,
    Authorizer access,
    CustomerAttributeStore attributes,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
    /// <summary>Days per month in CLV's monthly steps (365.25 / 12).</summary>
    public const double DaysPerMonth = 30.4375;

    internal async Task RunAsync(int runId, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        LifetimeRun run;
        await using (var db = await dbFactory.CreateAsync(CancellationToken.None))
        {
            run = await db.LifetimeRuns.AsNoTracking().FirstAsync(r => r.Id == runId, CancellationToken.None);
        }
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var settings = LifetimeService.ReadSettings(run.SettingsJson);
            var dataset = await access.RequireReadableAsync(run.DatasetId, cancellationToken);
            var source = RfmService.SourceOf(await policy.DescribeAsync(dataset, cancellationToken))
                ?? throw new PortalException($"{dataset.Name} needs Customer ID, date and amount roles for lifetime value.");
            var computedOver = await access.ViewKeyAsync([dataset.Id], cancellationToken);

            progress.Report(new JobProgress(0.02, "Reading purchase days…"));
            var (purchases, rowsCounted) = await ReadAsync(source, LifetimeService.ParseRows(settings.RowsJson), cancellationToken);
            if (purchases.Customers == 0)
            {
                throw new PortalException("No purchases count under these settings, so there is nothing to analyse.");
            }
            var calibrationEnd = (settings.CalibrationEnd ?? LifetimeService.DefaultCalibrationEnd(DateOnly.FromDayNumber(purchases.FirstDay), DateOnly.FromDayNumber(purchases.LastDay))).DayNumber;
            if (calibrationEnd <= purchases.FirstDay || calibrationEnd >= purchases.LastDay)
            {
                throw new PortalException($"The calibration period must end after the first purchase ({DateOnly.FromDayNumber(purchases.FirstDay):yyyy-MM-dd}) and before the last ({DateOnly.FromDayNumber(purchases.LastDay):yyyy-MM-dd}).");
            }
            var unit = settings.DaysPerUnit;

            progress.Report(new JobProgress(0.25, $"Fitting on the calibration period ({purchases.Customers:N0} customers)…"));
            var holdout = await Task.Run(() => Check(purchases, calibrationEnd, unit, new Progress<double>(p => progress.Report(new JobProgress(0.25 + 0.25 * p, "Fitting on the calibration period…"))), cancellationToken), cancellationToken);

            progress.Report(new JobProgress(0.5, "Fitting on all the data…"));
            var (histories, meanSpend) = purchases.All(purchases.LastDay, unit);
            var fit = await Task.Run(() => BgNbd.Fit(histories, new Progress<double>(p => progress.Report(new JobProgress(0.5 + 0.2 * p, "Fitting on all the data…"))), cancellationToken), cancellationToken);
            var repeaters = Enumerable.Range(0, histories.Length).Where(i => histories[i].X > 0 && meanSpend[i] > 0).Select(i => (histories[i].X, meanSpend[i])).ToList();
            var spend = repeaters.Count >= GammaGamma.MinimumCustomers ? await Task.Run(() => GammaGamma.Fit(repeaters, cancellationToken), cancellationToken) : null;

            progress.Report(new JobProgress(0.72, $"Predicting for {histories.Length:N0} customers…"));
            var scores = await Task.Run(() => Score(fit, spend, histories, meanSpend, settings, cancellationToken), cancellationToken);

            progress.Report(new JobProgress(0.85, "Saving the customer fields…"));
            var keyType = dataset.Columns.First(c => c.Name == source.CustomerKey).Type;
            await attributes.WriteAsync(AttributeSetKind.Lifetime, run.Id, run.DatasetId, LifetimeService.AttributeName, keyType, LifetimeService.Fields,
                Enumerable.Range(0, histories.Length).Select(i => new object?[] { purchases.Keys[i], scores.Alive[i], scores.Purchases[i], scores.Spend[i], scores.Value[i], (long)histories[i].X }),
                cancellationToken, keysAreDistinct: true);

            var result = new LifetimeResult(
                DateOnly.FromDayNumber(purchases.FirstDay), DateOnly.FromDayNumber(purchases.LastDay), settings.Unit, holdout,
                ModelOf(fit), spend is null ? null : ModelOf(spend), histories.Length, repeaters.Count, rowsCounted,
                scores.Alive.Average(), scores.Purchases.Sum(), scores.Value.Sum(),
                Histogram(scores.Value), Histogram(scores.Alive, 0, 1), Matrix(histories, scores),
                settings.PredictionDays, settings.HorizonMonths, settings.MonthlyDiscount, System.Diagnostics.Stopwatch.GetElapsedTime(started), computedOver)
            {
                ValuePercentiles = Percentiles(scores.Value),
            };

            await using var save = await dbFactory.CreateAsync(CancellationToken.None);
            var entity = await save.LifetimeRuns.FirstAsync(r => r.Id == runId, CancellationToken.None);
            entity.Status = LifetimeRunStatus.Completed;
            entity.Error = null;
            entity.ResultJson = JsonSerializer.Serialize(result, LifetimeService.Json);
            entity.Customers = histories.Length;
            entity.ComputedAt = clock.GetUtcNow();
            await save.SaveChangesAsync(CancellationToken.None);
            progress.Report(new JobProgress(1, $"Lifetime value of {histories.Length:N0} customers."));
        }
        catch (Exception ex)
        {
            await using var db = await dbFactory.CreateAsync(CancellationToken.None);
            var entity = await db.LifetimeRuns.FirstAsync(r => r.Id == runId, CancellationToken.None);
            entity.Status = ex is OperationCanceledException ? LifetimeRunStatus.Cancelled : LifetimeRunStatus.Failed;
            entity.Error = ex is OperationCanceledException ? "Cancelled." : ex is PortalException ? ex.Message : $"The analysis failed: {ex.Message}";
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Each customer's purchase days with what they spent on each, through the query layer (the runner's row and column
    /// rules apply), grouped in the warehouse and streamed.
    /// </summary>
    internal async Task<(PurchaseDays Purchases, long Rows)> ReadAsync(RfmSource source, RuleGroup? rows, CancellationToken cancellationToken)
    {
        var filter = new RuleGroup
        {
            Children =
            [
                new FieldCondition { Field = source.CustomerKey, Operator = RuleOperator.IsNotEmpty },
                new FieldCondition { Field = source.Date, Operator = RuleOperator.IsNotEmpty },
            ],
        };
        if (rows is not null)
        {
            filter.Children.Add(rows);
        }
        var purchases = new PurchaseDays();
        long counted = 0;
        Func<DuckDB.NET.Data.DuckDBDataReader, int>? day = null;
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = source.DatasetId,
            Filter = filter,
            GroupBy = [new GroupBy(source.CustomerKey, Alias: "customer"), new GroupBy(source.Date, DateBucket.Day, "day")],
            Measures = [new Measure(MeasureKind.Sum, "spend", source.Amount), new Measure(MeasureKind.Count, "rows")],
        }, (_, reader) =>
        {
            day ??= DayReader(reader.GetFieldType(1));
            // Sums of whole numbers come back as HUGEINT (BigInteger): QueryValue reads every number kind.
            purchases.Add(reader.GetValue(0), day(reader), QueryValue.ToDouble(reader.GetValue(2)) ?? 0);
            counted += (long)(QueryValue.ToDouble(reader.GetValue(3)) ?? 0);
        }, cancellationToken);
        return (purchases, counted);
    }

    private static Func<DuckDB.NET.Data.DuckDBDataReader, int> DayReader(Type type) =>
        type == typeof(DateOnly) ? r => r.GetFieldValue<DateOnly>(1).DayNumber
        : type == typeof(DateTime) ? r => DateOnly.FromDateTime(r.GetDateTime(1)).DayNumber
        : r => DateOnly.FromDateTime(Convert.ToDateTime(r.GetValue(1), CultureInfo.InvariantCulture)).DayNumber;

    /// <summary>The models fitted on the calibration period and compared with what the cohort did afterwards.</summary>
    internal static HoldoutCheck Check(PurchaseDays purchases, int calibrationEnd, double daysPerUnit, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        const int stepDays = 7;
        var calibration = purchases.Calibrate(calibrationEnd, daysPerUnit, stepDays);
        var fit = BgNbd.Fit(calibration.Histories, progress, cancellationToken);
        var repeaters = Enumerable.Range(0, calibration.Histories.Length).Where(i => calibration.Histories[i].X > 0 && calibration.MeanRepeatSpend[i] > 0)
            .Select(i => (calibration.Histories[i].X, calibration.MeanRepeatSpend[i])).ToList();
        GammaGammaFit? spend = null;
        if (repeaters.Count >= GammaGamma.MinimumCustomers)
        {
            spend = GammaGamma.Fit(repeaters, cancellationToken);
        }
        var byFrequency = Holdout.ByFrequency(fit, calibration.Histories, calibration.HoldoutPurchases, (purchases.LastDay - calibrationEnd) / daysPerUnit);
        var tracking = Holdout.Track(fit, calibration.FirstTimes, calibration.CumulativeRepeats, stepDays / daysPerUnit);
        var dates = Enumerable.Range(0, calibration.CumulativeRepeats.Length)
            .Select(s => DateOnly.FromDayNumber(Math.Min(purchases.FirstDay + (s + 1) * stepDays - 1, purchases.LastDay))).ToList();
        return new HoldoutCheck(DateOnly.FromDayNumber(calibrationEnd), DateOnly.FromDayNumber(purchases.LastDay), ModelOf(fit), spend is null ? null : ModelOf(spend),
            byFrequency, dates, tracking.Actual, tracking.Expected, tracking.ErrorPercent, calibration.Histories.Length);
    }

    internal sealed record Scores(double[] Alive, double[] Purchases, double[] Spend, double[] Value);

    /// <summary>Every customer's predictions (in parallel: a million customers take a few seconds of special functions).</summary>
    internal static Scores Score(BgNbdFit fit, GammaGammaFit? spendFit, CustomerHistory[] histories, double[] meanSpend, LifetimeSettings settings, CancellationToken cancellationToken)
    {
        var n = histories.Length;
        var alive = new double[n];
        var purchases = new double[n];
        var spend = new double[n];
        var value = new double[n];
        var horizon = settings.PredictionDays / settings.DaysPerUnit;
        var perMonth = DaysPerMonth / settings.DaysPerUnit;
        // Without repeat buyers there is no spend model: every customer's expected spend is the mean of what they spent.
        var fallback = meanSpend.Where(m => m > 0).DefaultIfEmpty(0).Average();
        Parallel.For(0, n, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var h = histories[i];
            alive[i] = fit.ProbabilityAlive(h.X, h.Tx, h.T);
            purchases[i] = fit.ExpectedPurchases(horizon, h.X, h.Tx, h.T);
            spend[i] = spendFit?.ExpectedAverageSpend(h.X, meanSpend[i]) ?? fallback;
            value[i] = CustomerValue.Lifetime(fit, spend[i], h.X, h.Tx, h.T, settings.HorizonMonths, settings.MonthlyDiscount, perMonth);
        });
        return new Scores(alive, purchases, spend, value);
    }

    private static ModelFit ModelOf(BgNbdFit fit) => new(fit.Parameters, fit.LogLikelihood, fit.Customers);

    private static ModelFit ModelOf(GammaGammaFit fit) => new(fit.Parameters, fit.LogLikelihood, fit.Customers);

    /// <summary>20 equal bins from <paramref name="low"/> (default the smallest value) to <paramref name="high"/> (default the 99th percentile, the rest in the last bin).</summary>
    internal static Histogram Histogram(double[] values, double? low = null, double? high = null)
    {
        const int bins = 20;
        if (values.Length == 0)
        {
            return new Histogram([], 0, []);
        }
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        var from = low ?? Math.Min(0, sorted[0]);
        var to = high ?? sorted[Math.Min(sorted.Length - 1, (int)(0.99 * sorted.Length))];
        if (to <= from)
        {
            to = from + 1;
        }
        var width = (to - from) / bins;
        var counts = new int[bins];
        foreach (var v in sorted)
        {
            counts[Math.Clamp((int)((v - from) / width), 0, bins - 1)]++;
        }
        return new Histogram(Enumerable.Range(0, bins).Select(b => from + b * width).ToList(), to, counts);
    }

    /// <summary>The values at 0%, 1%, …, 100% of the sorted list (nearest rank).</summary>
    internal static IReadOnlyList<double> Percentiles(double[] values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? [] : Enumerable.Range(0, 101).Select(p => sorted[(int)Math.Round(p / 100.0 * (sorted.Length - 1))]).ToList();
    }

    internal static AliveMatrix Matrix(CustomerHistory[] histories, Scores scores)
    {
        const int bands = 10;
        const int frequencies = 8;
        var counts = new int[bands, frequencies];
        var sums = new double[bands, frequencies];
        for (var i = 0; i < histories.Length; i++)
        {
            var b = Math.Clamp((int)(scores.Alive[i] * bands), 0, bands - 1);
            var f = Math.Clamp((int)histories[i].X, 0, frequencies - 1);
            counts[b, f]++;
            sums[b, f] += scores.Value[i];
        }
        return new AliveMatrix(
            Enumerable.Range(0, bands).Select(b => $"{b * 10}–{(b + 1) * 10}%").ToList(),
            Enumerable.Range(0, frequencies).Select(f => f == frequencies - 1 ? $"{f}+" : f.ToString(CultureInfo.InvariantCulture)).ToList(),
            Enumerable.Range(0, bands).Select(b => (IReadOnlyList<int>)Enumerable.Range(0, frequencies).Select(f => counts[b, f]).ToList()).ToList(),
            Enumerable.Range(0, bands).Select(b => (IReadOnlyList<double?>)Enumerable.Range(0, frequencies).Select(f => counts[b, f] == 0 ? (double?)null : sums[b, f] / counts[b, f]).ToList()).ToList());
    }
}
