using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Rfm;

namespace SegmentPortal.Core.Dashboards;

public sealed partial class TileDataService
{
    /// <summary>A segment's size at each refresh: rows of (refreshed at, customers, entered, left).</summary>
    private async Task<TileData> SegmentSizeAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        var id = TileValidator.SegmentOf(tile) ?? throw new PortalException("Choose the segment whose size to show.");
        if (!await segments.StoredCountsVisibleAsync(id, cancellationToken))
        {
            // Stored sizes count the rows of whoever refreshed the segment: under data rules, today's size is counted live instead.
            var (segment, rule, _) = await segments.GetAsync(id, cancellationToken);
            var live = await segments.CountAsync(segment.DatasetId, rule.Root, cancellationToken);
            return new TileData(TileType.SegmentSize, ["Refreshed"], ["Customers", "Entered", "Left"],
                [[clock.GetUtcNow(), (double)live.Matching, 0.0, 0.0]]) { Notice = Segments.SegmentService.RestrictedCountsMessage };
        }
        var history = await segments.HistoryAsync(id, cancellationToken);
        var rows = history.Select(h => new object?[] { h.TakenAt, (double)h.Size, (double)h.Entered, (double)h.Left }).ToList();
        return new TileData(TileType.SegmentSize, ["Refreshed"], ["Customers", "Entered", "Left"], rows)
        {
            Notice = rows.Count == 0 ? "This segment has not been counted yet." : null,
        };
    }

    /// <summary>The R×F grid of a dataset's RFM analysis: rows of (R, F, group, customers, average monetary), R and F 1–5.</summary>
    private async Task<TileData> RfmGridAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        var view = await rfm.GetAsync(tile.SourceId ?? tile.DatasetId ?? throw new PortalException("Choose the transactions dataset."), cancellationToken);
        var columns = (Dimensions: (string[])["R score", "F score", "Group"], Measures: (string[])["Customers", "Average monetary"]);
        if (view.ComputedAt is null)
        {
            return new TileData(TileType.RfmGrid, columns.Dimensions, columns.Measures, []) { Notice = $"RFM has not been run on {view.Source.Name} yet." };
        }
        // The saved grid counts the rows of whoever computed it; under data rules the service recounts it over the user's rows.
        if (view.Result is not { } result)
        {
            return new TileData(TileType.RfmGrid, columns.Dimensions, columns.Measures, []) { Notice = "None of the rows you may see count in this RFM analysis." };
        }
        var heatmap = result.Heatmap;
        var rows = RfmHeatmap.Scores.SelectMany(r => RfmHeatmap.Scores.Select(f => new object?[]
        {
            (long)r, (long)f, heatmap.Groups[r - 1][f - 1], (double)heatmap.Count(r, f), heatmap.Average(r, f),
        })).ToList();
        return new TileData(TileType.RfmGrid, columns.Dimensions, columns.Measures, rows);
    }

    /// <summary>A churn run's lifecycle stages as of its last scoring: rows of (stage, customers), withheld as the run is.</summary>
    private async Task<TileData> LifecycleStagesAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        var view = await churn.GetAsync(tile.SourceId ?? throw new PortalException("Choose the churn run."), cancellationToken);
        string[] measures = ["Customers"];
        if (view.Withheld is not null)
        {
            return new TileData(TileType.LifecycleStages, ["Lifecycle stage"], measures, []) { Notice = SavedResultsRestricted };
        }
        if (view.Scoring is not { } scoring)
        {
            return new TileData(TileType.LifecycleStages, ["Lifecycle stage"], measures, []) { Notice = $"The churn run {view.Summary.Name} has no results yet." };
        }
        var rows = Analysis.Churn.Lifecycle.Stages.Select(s => (object?[])[s, (double)scoring.Lifecycle.GetValueOrDefault(s)]).ToList();
        return new TileData(TileType.LifecycleStages, ["Lifecycle stage"], measures, rows);
    }

    /// <summary>
    /// A lifetime-value analysis's CLV histogram: rows of (CLV from, CLV to, customers), 20 equal bins up to the 99th
    /// percentile, the last one holding the top 1% as well.
    /// </summary>
    private async Task<TileData> ClvDistributionAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        string[] dimensions = ["CLV from", "CLV to"];
        string[] measures = ["Customers"];
        var (result, notice) = await LifetimeResultAsync(tile, cancellationToken);
        if (result is null)
        {
            return new TileData(TileType.ClvDistribution, dimensions, measures, []) { Notice = notice };
        }
        var histogram = result.ValueDistribution;
        var rows = histogram.Edges.Select((from, i) => (object?[])
            [from, i + 1 < histogram.Edges.Count ? histogram.Edges[i + 1] : histogram.Top, (double)histogram.Counts[i]]).ToList();
        return new TileData(TileType.ClvDistribution, dimensions, measures, rows);
    }

    /// <summary>
    /// A lifetime-value analysis's customers by P(alive) band (0–10% first) and repeat purchases (0 … "7+"): rows of
    /// (band, repeat purchases, customers, average CLV of the cell or null when it is empty).
    /// </summary>
    private async Task<TileData> AliveMatrixAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        string[] dimensions = ["P(alive)", "Repeat purchases"];
        string[] measures = ["Customers", "Average CLV"];
        var (result, notice) = await LifetimeResultAsync(tile, cancellationToken);
        if (result is null)
        {
            return new TileData(TileType.AliveMatrix, dimensions, measures, []) { Notice = notice };
        }
        var matrix = result.Matrix;
        var rows = matrix.Bands.SelectMany((band, b) => matrix.Frequencies.Select((frequency, f) => (object?[])
            [band, frequency, (double)matrix.Counts[b][f], matrix.AverageValue[b][f]])).ToList();
        return new TileData(TileType.AliveMatrix, dimensions, measures, rows);
    }

    /// <summary>
    /// The lifetime-value result of the tile's transactions as <see cref="Analysis.Lifetime.LifetimeService.GetAsync"/>
    /// gives it to the viewer, or why there is none: withheld exactly when the service withholds it (the viewer sees the
    /// purchases differently from whoever ran it), or not run yet.
    /// </summary>
    private async Task<(Analysis.Lifetime.LifetimeResult? Result, string? Notice)> LifetimeResultAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        var view = await lifetime.GetAsync(tile.SourceId ?? throw new PortalException("Choose the transactions dataset."), cancellationToken);
        return view.Result is { } result
            ? (result, null)
            : (null, view.Notice ?? $"The lifetime-value analysis of {view.Source.Name} has no results yet.");
    }

    /// <summary>
    /// Kaplan–Meier curves of the tile's transactions as the <em>viewer</em> last computed them (Analysis > Survival):
    /// rows of (group, days since the first purchase, survival, lower and upper 95% bound, customers at risk), per group
    /// from (0, 1) through each step to the last censored customer's time, to be drawn as steps.
    /// </summary>
    /// <remarks>
    /// Survival results are kept per user and dataset (<see cref="Analysis.Survival.SurvivalService.GetAsync"/>), each
    /// computed through the query layer over the rows its user may see. So the tile shows each viewer their own latest
    /// analysis, never the board owner's or anyone else's figures; a viewer without one (or whose data rules changed
    /// since) gets a notice asking them to run it, and the tile never runs it for them.
    /// </remarks>
    private async Task<TileData> SurvivalCurvesAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        string[] dimensions = ["Group", "Days"];
        string[] measures = ["Survival", "Lower", "Upper", "At risk"];
        var datasetId = tile.SourceId ?? throw new PortalException("Choose the transactions dataset.");
        var view = await survival.GetAsync(datasetId, cancellationToken);
        if (view.Result is not { } result)
        {
            var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
            return new TileData(TileType.SurvivalCurves, dimensions, measures, [])
            {
                Notice = view.Notice ?? $"Run Analysis > Survival on {dataset.Name} to see its curves here.",
            };
        }
        var rows = new List<object?[]>();
        foreach (var group in result.Groups)
        {
            var curve = group.Curve;
            rows.Add([group.Name, 0.0, 1.0, 1.0, 1.0, (double)group.Customers]);
            foreach (var step in curve.Steps)
            {
                rows.Add([group.Name, step.Time, step.Survival, step.Lower, step.Upper, (double)step.AtRisk]);
            }
            // Customers still followed after the last step: the curve runs on, flat, to the last of them.
            if (curve.Censored.Count > 0 && curve.Censored[^1].Time > (curve.Steps.Count == 0 ? 0 : curve.Steps[^1].Time))
            {
                var last = curve.Censored[^1];
                var (lower, upper) = curve.Steps.Count == 0 ? (1.0, 1.0) : (curve.Steps[^1].Lower, curve.Steps[^1].Upper);
                rows.Add([group.Name, last.Time, last.Survival, lower, upper, (double)last.Count]);
            }
        }
        return new TileData(TileType.SurvivalCurves, dimensions, measures, rows);
    }

    /// <summary>
    /// A clustering run's profiles: rows of (cluster name, customers, share, the mean of each feature, then each
    /// feature's difference from everyone in standard deviations, for a radar).
    /// </summary>
    private async Task<TileData> ClusterProfileAsync(TileDefinition tile, CancellationToken cancellationToken)
    {
        var view = await clustering.GetAsync(tile.SourceId ?? throw new PortalException("Choose the clustering run."), cancellationToken);
        var features = view.Specs.Select(s => s.Name).ToList();
        var measures = (string[])["Customers", "Share", .. features, .. features.Select(f => $"{f} (difference, sd)")];
        // The service withholds a run computed over data the user sees differently (any of its inputs: customers, orders).
        if (view.Withheld is not null)
        {
            return new TileData(TileType.ClusterProfile, ["Cluster"], measures, []) { Notice = SavedResultsRestricted };
        }
        if (view.Explanation is not { } explanation)
        {
            return new TileData(TileType.ClusterProfile, ["Cluster"], measures, []) { Notice = $"The clustering run {view.Summary.Name} has no results yet." };
        }
        var rows = explanation.Clusters.Select(c => (object?[])
        [
            ClusterName(view.Names, c.Cluster, c.Name), (double)c.Size, c.Share,
            .. c.Means.Select(m => (object?)m), .. c.StandardisedDifferences.Select(d => (object?)d),
        ]).ToList();
        return new TileData(TileType.ClusterProfile, ["Cluster"], measures, rows);
    }

    /// <summary>
    /// Saved cluster profiles were computed over every row their owner sees; a user with row or column rules on the data
    /// does not get them (RFM grids are computed again for them). The customer fields still work in tiles, under the
    /// user's rules.
    /// </summary>
    public const string SavedResultsRestricted =
        "These saved results were computed over more rows than your data rules allow, so they are not shown to you. Tiles over the data itself show your rows.";

    /// <summary>The cluster's name as the user renamed it, else the suggested one.</summary>
    private static string ClusterName(IReadOnlyList<string> names, int cluster, string suggested) =>
        cluster >= 0 && cluster < names.Count && !string.IsNullOrWhiteSpace(names[cluster]) ? names[cluster] : suggested;
}
