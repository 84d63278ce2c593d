using System.Globalization;

namespace SegmentPortal.Core.Analysis.Clustering;

public enum ThresholdComparison
{
    /// <summary>value &lt;= threshold</summary>
    LessOrEqual,

    /// <summary>value &gt; threshold</summary>
    Greater,
}

/// <summary>One condition of a rule, in original units. A missing value never matches (as in SQL, where NULL &gt; x is not true).</summary>
public sealed record RuleCondition(int FeatureIndex, ThresholdComparison Comparison, double Threshold)
{
    public bool Matches(double? value) =>
        value is double v && !double.IsNaN(v) && (Comparison == ThresholdComparison.Greater ? v > Threshold : v <= Threshold);

    public string Describe(IReadOnlyList<FeatureSpec> features) =>
        $"{features[FeatureIndex].Name} {(Comparison == ThresholdComparison.Greater ? ">" : "<=")} {Threshold.ToString("G6", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// A readable description of (most of) a cluster: customers matching every condition. An empty list of conditions
/// means all customers. <see cref="Precision"/> is the share of matching customers that are in the cluster,
/// <see cref="Coverage"/> the share of the cluster's customers the rule catches; both measured on every clustered
/// customer, not only on the sample the rule was learnt from.
/// </summary>
public sealed record ClusterRule(IReadOnlyList<RuleCondition> Conditions, double Precision, double Coverage, int Matched, int MatchedInCluster)
{
    public string Describe(IReadOnlyList<FeatureSpec> features) =>
        Conditions.Count == 0 ? "All customers" : string.Join(" and ", Conditions.Select(c => c.Describe(features)));
}

/// <summary>
/// Rules that describe clusters: per cluster a shallow classification tree (CART, Gini impurity) separates its members
/// from everyone else on the features in original units, and each leaf where members are the majority becomes a rule
/// (the conditions on its path). Written here rather than with ML.NET FastTree because FastTree bins values and
/// boosts: thresholds would be bin edges and the tree would be fitted to gradients, not to the clusters. Deterministic:
/// fixed feature order, strict improvement, ties keep the first split found.
/// </summary>
internal static class ClusterRules
{
    public static IReadOnlyList<ClusterRule>[] Learn(
        double[][] sample, int[] sampleLabels, int k, int maxDepth, int rulesPerCluster,
        Func<IReadOnlyList<RuleCondition>, int, (int Matched, int InCluster, int ClusterSize)> measure,
        CancellationToken ct)
    {
        var n = sample.Length;
        var d = sample[0].Length;
        var minLeaf = Math.Max(5, n / 200);
        var sortedByFeature = new int[d][];
        for (var f = 0; f < d; f++)
        {
            var keys = sample.Select(row => row[f]).ToArray();
            var order = Enumerable.Range(0, n).ToArray();
            Array.Sort(keys, order);
            sortedByFeature[f] = order;
        }

        var rules = new IReadOnlyList<ClusterRule>[k];
        for (var c = 0; c < k; c++)
        {
            ct.ThrowIfCancellationRequested();
            var positive = sampleLabels.Select(l => l == c).ToArray();
            var tree = new TreeBuilder(sample, positive, minLeaf, maxDepth).Build(sortedByFeature);
            var leaves = new List<(List<RuleCondition> Path, int Count, int Positives)>();
            Collect(Prune(tree), [], leaves);
            var chosen = leaves.Where(l => l.Positives * 2 > l.Count)
                .OrderByDescending(l => l.Positives).ThenByDescending(l => (double)l.Positives / l.Count)
                .Take(rulesPerCluster).ToList();
            if (chosen.Count == 0)
            {
                chosen = leaves.Where(l => l.Positives > 0)
                    .OrderByDescending(l => (double)l.Positives / l.Count).ThenByDescending(l => l.Positives)
                    .Take(1).ToList();
            }
            rules[c] = chosen.Select(l =>
            {
                var conditions = Simplify(l.Path);
                var (matched, inCluster, size) = measure(conditions, c);
                return new ClusterRule(conditions, matched == 0 ? 0 : (double)inCluster / matched, size == 0 ? 0 : (double)inCluster / size, matched, inCluster);
            }).ToList();
        }
        return rules;
    }

    private abstract record Node(int Count, int Positives);

    private sealed record Leaf(int Count, int Positives) : Node(Count, Positives);

    private sealed record Split(int Count, int Positives, int Feature, double Threshold, Node Left, Node Right) : Node(Count, Positives);

    /// <summary>A split whose two sides reach the same verdict says nothing a rule needs; fold it back into one leaf.</summary>
    private static Node Prune(Node node)
    {
        if (node is not Split split)
        {
            return node;
        }
        var left = Prune(split.Left);
        var right = Prune(split.Right);
        if (left is Leaf l && right is Leaf r && IsMajority(l) == IsMajority(r))
        {
            return new Leaf(split.Count, split.Positives);
        }
        return split with { Left = left, Right = right };
    }

    private static bool IsMajority(Node node) => node.Positives * 2 > node.Count;

    private static void Collect(Node node, List<RuleCondition> path, List<(List<RuleCondition>, int, int)> leaves)
    {
        if (node is Split split)
        {
            Collect(split.Left, [.. path, new RuleCondition(split.Feature, ThresholdComparison.LessOrEqual, split.Threshold)], leaves);
            Collect(split.Right, [.. path, new RuleCondition(split.Feature, ThresholdComparison.Greater, split.Threshold)], leaves);
        }
        else
        {
            leaves.Add((path, node.Count, node.Positives));
        }
    }

    /// <summary>Keeps the tightest bound per feature and direction, features in order of first use.</summary>
    private static List<RuleCondition> Simplify(List<RuleCondition> path) =>
        path.GroupBy(c => (c.FeatureIndex, c.Comparison))
            .Select(g => g.Key.Comparison == ThresholdComparison.Greater ? g.MaxBy(c => c.Threshold)! : g.MinBy(c => c.Threshold)!)
            .ToList();

    /// <summary>
    /// The roundest number t with <paramref name="below"/> &lt;= t &lt; <paramref name="above"/>: it splits the data
    /// exactly as the midpoint would, and "Spend &gt; 50" reads better than "Spend &gt; 54.65".
    /// </summary>
    internal static double RoundThreshold(double below, double above)
    {
        var magnitude = Math.Max(Math.Abs(below), Math.Abs(above));
        var top = magnitude > 0 ? (int)Math.Floor(Math.Log10(magnitude)) + 1 : 0;
        for (var power = top; power >= top - 15; power--)
        {
            var step = Math.Pow(10, power);
            // 4.2 / 0.1 is 42.000000000000007: snap ratios that are whole numbers up to rounding.
            var ratio = below / step;
            var nearest = Math.Round(ratio);
            var candidate = (Math.Abs(ratio - nearest) < 1e-9 ? nearest : Math.Ceiling(ratio)) * step;
            if (power is < 0 and >= -15)
            {
                candidate = Math.Round(candidate, -power);
            }
            if (candidate >= below && candidate < above)
            {
                return candidate;
            }
        }
        var middle = below + (above - below) / 2;
        return middle < above ? middle : below;
    }

    private sealed class TreeBuilder(double[][] x, bool[] positive, int minLeaf, int maxDepth)
    {
        private readonly bool[] _goesLeft = new bool[x.Length];

        public Node Build(int[][] sortedByFeature) => Grow(sortedByFeature, 0);

        private Node Grow(int[][] sorted, int depth)
        {
            var members = sorted[0];
            var count = members.Length;
            var positives = members.Count(i => positive[i]);
            if (depth >= maxDepth || positives == 0 || positives == count || count < 2 * minLeaf)
            {
                return new Leaf(count, positives);
            }

            var parentImpurity = Gini(count, positives);
            var bestImpurity = parentImpurity - 1e-9 * count;
            var bestFeature = -1;
            double bestBelow = 0, bestAbove = 0;
            for (var f = 0; f < sorted.Length; f++)
            {
                var order = sorted[f];
                var leftPositives = 0;
                for (var i = 0; i < count - 1; i++)
                {
                    if (positive[order[i]])
                    {
                        leftPositives++;
                    }
                    var leftCount = i + 1;
                    if (leftCount < minLeaf || count - leftCount < minLeaf)
                    {
                        continue;
                    }
                    var value = x[order[i]][f];
                    var nextValue = x[order[i + 1]][f];
                    if (!(value < nextValue))
                    {
                        continue;
                    }
                    var impurity = Gini(leftCount, leftPositives) + Gini(count - leftCount, positives - leftPositives);
                    if (impurity < bestImpurity)
                    {
                        bestImpurity = impurity;
                        bestFeature = f;
                        (bestBelow, bestAbove) = (value, nextValue);
                    }
                }
            }
            if (bestFeature < 0)
            {
                return new Leaf(count, positives);
            }

            var bestThreshold = RoundThreshold(bestBelow, bestAbove);
            foreach (var i in members)
            {
                _goesLeft[i] = x[i][bestFeature] <= bestThreshold;
            }
            var left = new int[sorted.Length][];
            var right = new int[sorted.Length][];
            for (var f = 0; f < sorted.Length; f++)
            {
                // Stable partition keeps each side sorted by every feature without sorting again.
                left[f] = sorted[f].Where(i => _goesLeft[i]).ToArray();
                right[f] = sorted[f].Where(i => !_goesLeft[i]).ToArray();
            }
            return new Split(count, positives, bestFeature, bestThreshold, Grow(left, depth + 1), Grow(right, depth + 1));
        }

        /// <summary>Gini impurity times the node size, so children add up.</summary>
        private static double Gini(int count, int positives) => count == 0 ? 0 : 2.0 * positives * (count - positives) / count;
    }
}
