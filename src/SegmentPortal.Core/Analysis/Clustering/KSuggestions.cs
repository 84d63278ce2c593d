using System.Globalization;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>Picks a K from per-K metrics and says why, in words a marketer can check against the chart.</summary>
internal static class KSuggestions
{
    /// <summary>A further cluster that cuts the within-cluster sum of squares by less than this is past the elbow.</summary>
    private const double SmallReduction = 0.15;

    public static KSuggestion Suggest(IReadOnlyList<ClusterMetrics> perK)
    {
        var bestSilhouette = perK.MaxBy(m => m.Silhouette)!;
        var tied = perK.Where(m => m.Silhouette >= bestSilhouette.Silhouette - ClusteringEngine.SilhouetteTolerance).ToList();
        var chosen = tied.OrderBy(m => m.DaviesBouldin).ThenBy(m => m.K).First();
        var lowestDaviesBouldin = perK.OrderBy(m => m.DaviesBouldin).ThenBy(m => m.K).First();

        string reason;
        if (chosen == bestSilhouette)
        {
            reason = $"K = {chosen.K}: highest silhouette ({F(chosen.Silhouette)})";
            reason += chosen == lowestDaviesBouldin
                ? $", Davies-Bouldin lowest ({F(chosen.DaviesBouldin)})"
                : $", Davies-Bouldin {F(chosen.DaviesBouldin)} (lowest {F(lowestDaviesBouldin.DaviesBouldin)} at K = {lowestDaviesBouldin.K})";
        }
        else
        {
            reason = $"K = {chosen.K}: silhouette {F(chosen.Silhouette)}, within {F(ClusteringEngine.SilhouetteTolerance)} of the highest ({F(bestSilhouette.Silhouette)} at K = {bestSilhouette.K}), " +
                $"with a lower Davies-Bouldin ({F(chosen.DaviesBouldin)} against {F(bestSilhouette.DaviesBouldin)})";
        }
        return new KSuggestion(chosen.K, reason + Elbow(perK, chosen) + ".");
    }

    private static string Elbow(IReadOnlyList<ClusterMetrics> perK, ClusterMetrics chosen)
    {
        var previous = perK.FirstOrDefault(m => m.K == chosen.K - 1);
        var next = perK.FirstOrDefault(m => m.K == chosen.K + 1);
        if (next is null)
        {
            return "; it is the largest K tried, so a wider range may show more groups";
        }
        var nextCut = Reduction(chosen, next);
        if (nextCut <= 0)
        {
            return $", and the elbow: going to {next.K} does not reduce the within-cluster sum of squares at all";
        }
        var previousCut = previous is null ? (double?)null : Reduction(previous, chosen);
        if (nextCut < SmallReduction && (previousCut is null || previousCut >= 2 * nextCut))
        {
            return $", and the elbow: going to {next.K} reduces the within-cluster sum of squares by only {P(nextCut)}";
        }
        return $"; going to {next.K} would still reduce the within-cluster sum of squares by {P(nextCut)}, so this is no clear elbow";
    }

    private static double Reduction(ClusterMetrics from, ClusterMetrics to) =>
        from.WithinClusterSumOfSquares > 0 ? (from.WithinClusterSumOfSquares - to.WithinClusterSumOfSquares) / from.WithinClusterSumOfSquares : 0;

    private static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string P(double share) => share < 0.01
        ? "less than 1%"
        : (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";
}
