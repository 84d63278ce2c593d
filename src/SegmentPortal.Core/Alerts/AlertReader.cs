using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Alerts;

/// <summary>What one check read and decided, with what its messages need.</summary>
internal sealed record AlertResult(
    AlertReading Reading,
    string SubjectName,
    string Threshold,
    IReadOnlyCollection<int> DatasetIds,
    IReadOnlyList<double?> Trend,
    Func<double, string> Format)
{
    /// <summary>Segment events (customers entered, left or moved at a fresh refresh): each one is news, even while firing.</summary>
    public bool IsEvent { get; init; }

    /// <summary>The period the value belongs to ("December 2026 through the 7th").</summary>
    public string? Period { get; init; }

    /// <summary>Customers a segment message lists (up to the alert's cap).</summary>
    public IReadOnlyList<string> Customers { get; init; } = [];

    public long CustomersNotListed { get; init; }
}

/// <summary>
/// Reads the figures of checks as the scope's user (the alert's owner): metrics through the metrics library (all of an
/// owner's metrics in one go), KPI tiles through the tile loader, segments through their refresh history. Everything
/// goes through the query layer, so the owner's row and column rules apply.
/// </summary>
internal sealed class AlertReader(IServiceProvider services)
{
    private readonly Dictionary<int, (MetricDefinition Definition, MetricValues Values)> _metrics = [];
    private readonly Dictionary<int, string> _metricErrors = [];

    /// <summary>The most periods a metric is read for (the metrics library's limit).</summary>
    internal static int PeriodsFor(IEnumerable<AlertCondition> conditions) =>
        Math.Clamp(conditions.Select(c => c.Kind != AlertConditionKind.Unusual ? MetricService.DefaultPeriods
            : c.Method == UnusualMethod.SameWeekday ? c.HistoryPeriods * 7 + 1 : c.HistoryPeriods + 1).DefaultIfEmpty(MetricService.DefaultPeriods).Max(),
            AlertConditions.DefaultHistory + 1, MetricService.MaxPeriods);

    /// <summary>
    /// Reads every metric the checks need in one go (<see cref="MetricService.ValuesBatchAsync"/>: metrics of one
    /// dataset, date column, grain and segment share their scan), as many periods as the most demanding condition needs.
    /// A metric the owner can no longer compute fails only its own checks, with the reason.
    /// </summary>
    public async Task LoadMetricsAsync(IReadOnlyList<(int MetricId, AlertCondition Condition)> wanted, CancellationToken cancellationToken)
    {
        if (wanted.Count == 0)
        {
            return;
        }
        var metrics = services.GetRequiredService<MetricService>();
        var ids = wanted.Select(w => w.MetricId).Distinct().ToList();
        // Each metric is read for as many periods as its own alerts need (a same-weekday range reads weeks of days, most
        // conditions 12 periods): metrics needing the same number are read together.
        var values = new Dictionary<int, MetricValues>();
        var errors = new Dictionary<int, string>();
        var definitions = new Dictionary<int, MetricDefinition>();
        foreach (var group in wanted.GroupBy(w => w.MetricId).GroupBy(g => PeriodsFor(g.Select(w => w.Condition)), g => g.Key))
        {
            var batch = await metrics.ValuesBatchAsync(group.ToList(), group.Key, cancellationToken);
            foreach (var (id, v) in batch.Values)
            {
                values[id] = v;
            }
            foreach (var (id, e) in batch.Errors)
            {
                errors[id] = e;
            }
            foreach (var (id, d) in batch.Definitions)
            {
                definitions[id] = d;
            }
        }
        foreach (var id in ids)
        {
            if (errors.TryGetValue(id, out var error))
            {
                _metricErrors[id] = error;
            }
            else if (values.TryGetValue(id, out var metricValues) && definitions.TryGetValue(id, out var definition))
            {
                _metrics[id] = (definition, metricValues);
            }
            else
            {
                _metricErrors[id] = "The metric no longer exists, or its owner may no longer see it.";
            }
        }
    }

    public async Task<AlertResult> ReadAsync(Alert alert, AlertCheck check, CancellationToken cancellationToken)
    {
        var draft = AlertService.DraftOf(alert);
        return alert.Subject switch
        {
            AlertSubject.Metric => Metric(alert, draft.Condition ?? throw Broken()),
            AlertSubject.Tile => await TileAsync(alert, draft.Condition ?? throw Broken(), cancellationToken),
            _ => await SegmentAsync(alert, draft.SegmentAlertCondition ?? throw Broken(), check, cancellationToken),
        };

        static PortalException Broken() => new("The alert's condition could not be read; open the alert and save it again.");
    }

    private AlertResult Metric(Alert alert, AlertCondition condition)
    {
        var id = alert.MetricId!.Value;
        if (_metricErrors.TryGetValue(id, out var error))
        {
            throw new PortalException(error);
        }
        var (definition, values) = _metrics[id];
        Func<double, string> format = v => MetricFormatting.Format(v, definition.Format, definition.Unit, definition.Decimals);
        var history = values.Trend.Take(Math.Max(0, values.Trend.Count - 1)).Select(p => new AlertHistoryPoint(p.Start, p.Value)).ToList();
        var input = new AlertInput(values.Current?.Value, values.Compared, history, values.Current?.Start, definition.Target, definition.Direction);
        var reading = AlertConditions.Evaluate(condition, input, format);
        var period = values.Current is { } current
            ? values.Partial && values.Through is { } through ? $"{current.Label} through {through:d MMM}" : current.Label
            : null;
        return new AlertResult(reading, definition.Name, AlertConditions.Describe(condition, format), [definition.DatasetId],
            values.Trend.Select(p => p.Value).ToList(), format) { Period = period };
    }

    private async Task<AlertResult> TileAsync(Alert alert, AlertCondition condition, CancellationToken cancellationToken)
    {
        var board = await services.GetRequiredService<DashboardService>().GetAsync(alert.DashboardId!.Value, cancellationToken);
        var tile = board.Tiles.FirstOrDefault(t => t.Id == alert.TileId)
            ?? throw new PortalException($"The tile is no longer on {board.Name}; the alert cannot be checked.");
        var data = await services.GetRequiredService<TileDataService>().LoadAsync(board, tile, DashboardState.Empty, cancellationToken);
        var kpi = data.Kpi ?? throw new PortalException("The tile no longer shows a single figure; the alert cannot be checked.");
        var reading = AlertConditions.Evaluate(condition, new AlertInput(kpi.Value, kpi.Compared));
        var name = $"{board.Name} › {(string.IsNullOrWhiteSpace(tile.Title) ? TileKinds.Of(tile.Type).Label : tile.Title)}";
        var datasets = await services.GetRequiredService<Sharing.IDashboardDatasets>().DatasetsOfAsync(board.Id, cancellationToken);
        return new AlertResult(reading, name, AlertConditions.Describe(condition), datasets, kpi.SparkValues, v => v.ToString("#,##0.##", System.Globalization.CultureInfo.InvariantCulture))
        {
            Period = kpi.Period,
        };
    }

    private async Task<AlertResult> SegmentAsync(Alert alert, SegmentAlertCondition condition, AlertCheck check, CancellationToken cancellationToken)
    {
        var segments = services.GetRequiredService<SegmentService>();
        var (segment, fresh) = await RefreshedAsync(segments, alert.SegmentId!.Value, alert, cancellationToken);
        var history = await segments.HistoryAsync(segment.Id, cancellationToken);
        if (history.Count == 0)
        {
            throw new PortalException($"{segment.Name} has not been refreshed yet, or you may not see its stored counts.");
        }
        var last = history[^1];
        var previous = history.Count > 1 ? history[^2].Size : (long?)null;
        var (entered, left) = await segments.ChangesAsync(segment.Id, last.Id, cancellationToken);
        IReadOnlyList<string>? moved = null;
        string? toName = null;
        if (condition.Kind == SegmentAlertKind.MovedTo)
        {
            var (to, _) = await RefreshedAsync(segments, condition.ToSegmentId!.Value, alert, cancellationToken);
            toName = to.Name;
            var toHistory = await segments.HistoryAsync(to.Id, cancellationToken);
            var into = toHistory.Count == 0 ? [] : (await segments.ChangesAsync(to.Id, toHistory[^1].Id, cancellationToken)).Entered;
            var leftSet = left.ToHashSet(StringComparer.Ordinal);
            moved = into.Where(leftSet.Contains).ToList();
        }
        var reading = AlertSegments.Evaluate(condition, new SegmentReading(last.Size, previous, entered, left, moved), toName);
        var listed = condition.Kind switch
        {
            SegmentAlertKind.MovedTo => moved!,
            SegmentAlertKind.EnteredOrLeft => entered.Select(e => "+" + e).Concat(left.Select(l => "−" + l)).ToList(),
            _ => [],
        };
        return new AlertResult(reading, segment.Name, AlertSegments.Describe(condition, toName), [segment.DatasetId],
            history.TakeLast(12).Select(h => (double?)h.Size).ToList(), v => v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))
        {
            IsEvent = fresh && condition.Kind != SegmentAlertKind.SizeChange,
            Period = $"refresh of {last.TakenAt:yyyy-MM-dd HH:mm} UTC",
            Customers = listed.Take(condition.ListCap).ToList(),
            CustomersNotListed = Math.Max(0, listed.Count - condition.ListCap),
        };
    }

    /// <summary>
    /// The segment, recounted first when it has not been refreshed since the alert last looked at it (a refresh of its
    /// data, or the schedule, calls for new counts) and the owner may refresh it. A recount made by an interrupted run of
    /// this check, or by an edit of the segment, counts as fresh, so nothing is recounted twice and no change is missed.
    /// Says whether the latest snapshot is news to this alert.
    /// </summary>
    private async Task<(Segment Segment, bool Fresh)> RefreshedAsync(SegmentService segments, int id, Alert alert, CancellationToken cancellationToken)
    {
        var (segment, _, canEdit) = await segments.GetAsync(id, cancellationToken);
        var lastLook = alert.LastCheckedAt ?? alert.CreatedAt;
        if (segment.RefreshedAt is { } refreshed && refreshed >= lastLook)
        {
            return (segment, true);
        }
        if (!canEdit)
        {
            return (segment, false);
        }
        await segments.RefreshAsync(id, cancellationToken);
        return ((await segments.GetAsync(id, cancellationToken)).Segment, true);
    }
}
