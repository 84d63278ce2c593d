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
