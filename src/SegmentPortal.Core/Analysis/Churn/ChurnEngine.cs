using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace SegmentPortal.Core.Analysis.Churn;

/// <summary>
/// One customer's purchase history: the days they bought on (ascending, as <see cref="DateOnly.DayNumber"/>; several
/// orders on one day count as one purchase), what they spent each day, the category of each day's biggest spend (an
/// index into the feature set's categories, or −1) with the spend per category, and their attributes (NaN when missing).
/// </summary>
internal sealed class CustomerHistory(int[] days, double[] amounts, double[][] categorySpend, double[] attributes)
{
    public int[] Days { get; } = days;

    public double[] Amounts { get; } = amounts;

    /// <summary>[day][category]: the spend (or the order count when there is no amount) of that day on each category.</summary>
    public double[][] CategorySpend { get; } = categorySpend;

    public double[] Attributes { get; } = attributes;

    /// <summary>How many purchase days are on or before <paramref name="day"/>.</summary>
    public int CountUpTo(int day)
    {
        var index = Array.BinarySearch(Days, day);
        return index >= 0 ? index + 1 : ~index;
    }
}

/// <summary>
/// The churn model's pure parts: the defaults from the gaps between purchases, the features and labels as of a
/// cut-off, training an ML.NET FastTree binary classifier, scoring, and the validation figures (AUC,
/// precision/recall at a threshold, calibration, permutation importance in words).
/// </summary>
internal static class ChurnEngine
{
    public const string DaysSinceLastOrder = "Days since last order";

    /// <summary>Fewest customers with orders at a cut-off for training or testing.</summary>
    public const int MinCustomers = 10;

    private const int Trees = 100;

    /// <summary>The gaps (days) between consecutive purchase days of each customer, up to <paramref name="asOf"/>.</summary>
    public static List<int> Gaps(IEnumerable<CustomerHistory> customers, int asOf)
    {
        var gaps = new List<int>();
        foreach (var c in customers)
        {
            var n = c.CountUpTo(asOf);
            for (var i = 1; i < n; i++)
            {
                gaps.Add(c.Days[i] - c.Days[i - 1]);
            }
        }
        return gaps;
    }

    /// <summary>The value below which <paramref name="p"/> of the sorted values lie (nearest rank).</summary>
    public static int Percentile(List<int> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The defaults for a dataset: D = the 90th percentile gap, test cut-off = last day − D, train = test − D.</summary>
    public static ChurnDefaults Defaults(IReadOnlyList<CustomerHistory> customers)
    {
        var withOrders = customers.Where(c => c.Days.Length > 0).ToList();
        if (withOrders.Count == 0)
        {
            throw new PortalException("None of these customers has an order, so there is nothing to model.");
        }
        var first = withOrders.Min(c => c.Days[0]);
        var last = withOrders.Max(c => c.Days[^1]);
        var gaps = Gaps(withOrders, last);
        gaps.Sort();
        if (gaps.Count == 0)
        {
            throw new PortalException("No customer has bought twice, so there are no gaps between purchases to learn a churn horizon from.");
        }
        var median = Math.Max(1, Percentile(gaps, 0.5));
        var gap90 = Math.Max(1, Percentile(gaps, 0.9));
        var test = last - gap90;
        return new ChurnDefaults(DateOnly.FromDayNumber(first), DateOnly.FromDayNumber(last), gap90, DateOnly.FromDayNumber(test - gap90),
            DateOnly.FromDayNumber(test), median, gap90, LifecycleThresholds.FromGaps(median, gap90));
    }

    /// <summary>
    /// The features of every customer with at least one purchase on or before <paramref name="asOf"/> (only those
    /// purchases count), and whether each churned: no purchase in the <see cref="ChurnFeatureSet.HorizonDays"/> days
    /// after it. Returns the customers' indexes too.
    /// </summary>
    public static (int[] Rows, float[][] Features, bool[] Churned) Build(IReadOnlyList<CustomerHistory> customers, int asOf, ChurnFeatureSet set)
    {
        var rows = new List<int>();
        var features = new List<float[]>();
        var churned = new List<bool>();
        var d = set.HorizonDays;
        var width = set.Names.Count;
        for (var r = 0; r < customers.Count; r++)
        {
            var c = customers[r];
            var n = c.CountUpTo(asOf);
            if (n == 0)
            {
                continue;
            }
            var x = new float[width];
            var first = c.Days[0];
            var last = c.Days[n - 1];
            var recent = n - c.CountUpTo(asOf - d);
            var k = 0;
            x[k++] = asOf - last;
            x[k++] = n;
            x[k++] = recent;
            x[k++] = asOf - first;
            x[k++] = n > 1 ? (float)(last - first) / (n - 1) : -1;
            x[k++] = n > 1 ? last - c.Days[n - 2] : -1;
            double total = 0, recentSpend = 0;
            var perCategory = new double[set.Categories.Count];
            double categoryTotal = 0;
            for (var i = 0; i < n; i++)
            {
                total += c.Amounts[i];
                if (i >= n - recent)
                {
                    recentSpend += c.Amounts[i];
                }
                for (var j = 0; j < perCategory.Length && j < c.CategorySpend[i].Length; j++)
                {
                    perCategory[j] += c.CategorySpend[i][j];
                }
                categoryTotal += set.HasAmount ? c.Amounts[i] : 1;
            }
            if (set.HasAmount)
            {
                x[k++] = (float)total;
                x[k++] = (float)(total / n);
                x[k++] = (float)recentSpend;
            }
            foreach (var spend in perCategory)
            {
                x[k++] = categoryTotal > 0 ? (float)(spend / categoryTotal) : 0;
            }
            for (var a = 0; a < set.Attributes.Count; a++)
            {
                var value = a < c.Attributes.Length ? c.Attributes[a] : double.NaN;
                x[k++] = (float)(double.IsNaN(value) ? set.AttributeFills[a] : value);
            }
            rows.Add(r);
            features.Add(x);
            churned.Add(n == c.Days.Length || c.Days[n] > asOf + d);
        }
        return (rows.ToArray(), features.ToArray(), churned.ToArray());
    }

    /// <summary>The lifecycle stage of every customer as of a day; null for customers without a purchase by then.</summary>
    public static string?[] Stages(IReadOnlyList<CustomerHistory> customers, int asOf, LifecycleThresholds thresholds)
    {
        var stages = new string?[customers.Count];
        for (var r = 0; r < customers.Count; r++)
        {
            var c = customers[r];
            var n = c.CountUpTo(asOf);
            if (n > 0)
            {
                stages[r] = Lifecycle.Stage(asOf - c.Days[0], asOf - c.Days[n - 1], n > 1 ? c.Days[n - 1] - c.Days[n - 2] : null, thresholds);
            }
        }
        return stages;
    }

    private sealed class Row
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    private static SchemaDefinition Schema(int width)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    private static IDataView View(MLContext ml, float[][] features, bool[]? labels, int width) =>
        ml.Data.LoadFromEnumerable(features.Select((f, i) => new Row { Features = f, Label = labels?[i] ?? false }), Schema(width));

    /// <summary>A seeded FastTree binary classifier (calibrated, so its scores are probabilities) on the rows.</summary>
    public static ITransformer Train(MLContext ml, float[][] features, bool[] labels, int width, CancellationToken cancellationToken)
    {
        if (labels.All(l => l) || labels.All(l => !l))
        {
            throw new PortalException(labels.Length > 0 && labels[0]
                ? "Every customer at the training cut-off churned, so there is nothing to tell apart; choose a later cut-off or a longer horizon."
                : "No customer at the training cut-off churned, so there is nothing to tell apart; choose an earlier cut-off or a shorter horizon.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        var trainer = ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            NumberOfTrees = Trees,
            NumberOfLeaves = 16,
            MinimumExampleCountPerLeaf = Math.Clamp(features.Length / 50, 2, 20),
            LearningRate = 0.1,
            NumberOfThreads = 1,
        });
        return trainer.Fit(View(ml, features, labels, width));
    }

    /// <summary>The model's probability of churn for each row.</summary>
    public static float[] Score(MLContext ml, ITransformer model, float[][] features, int width)
    {
        if (features.Length == 0)
        {
            return [];
        }
        var scored = model.Transform(View(ml, features, null, width));
        return scored.GetColumn<float>("Probability").ToArray();
    }

    public static void Save(MLContext ml, ITransformer model, int width, Stream stream) =>
        ml.Model.Save(model, View(ml, [], null, width).Schema, stream);

    public static ITransformer Load(MLContext ml, Stream stream) => ml.Model.Load(stream, out _);

    /// <summary>The area under the ROC curve (the chance a random churner scores above a random stayer; ties count half).</summary>
    public static double Auc(IReadOnlyList<float> scores, IReadOnlyList<bool> churned)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        long positives = 0;
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]])
            {
                j++;
            }
            var rank = (i + j) / 2.0 + 1;
            for (var t = i; t <= j; t++)
            {
                if (churned[order[t]])
                {
                    rankSum += rank;
                    positives++;
                }
            }
            i = j + 1;
        }
        var negatives = scores.Count - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }

    /// <summary>Ten bins of (about) equal size by predicted risk: mean prediction and actual churn rate in each.</summary>
    public static IReadOnlyList<CalibrationBin> Calibration(IReadOnlyList<float> scores, IReadOnlyList<bool> churned, int bins = 10)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var result = new List<CalibrationBin>();
        for (var b = 0; b < bins; b++)
        {
            var from = (int)((long)order.Length * b / bins);
            var to = (int)((long)order.Length * (b + 1) / bins);
            if (to <= from)
            {
                continue;
            }
            var members = order[from..to];
            result.Add(new CalibrationBin(members.Length, members.Average(i => (double)scores[i]), members.Average(i => churned[i] ? 1.0 : 0.0)));
        }
        return result;
    }

    /// <summary>
    /// Permutation importance on the test rows: each feature's values shuffled among the customers (seeded, twice), the
    /// fall in AUC averaged; and which way the feature pushes the risk (mean score above against below its median).
    /// </summary>
    public static IReadOnlyList<FeatureImportance> Importance(MLContext ml, ITransformer model, float[][] features, bool[] churned, float[] scores,
        IReadOnlyList<string> names, int seed, CancellationToken cancellationToken)
    {
        var baseline = Auc(scores, churned);
        var random = new Random(seed);
        var result = new List<FeatureImportance>();
        for (var f = 0; f < names.Count; f++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double drop = 0;
            const int repeats = 2;
            for (var r = 0; r < repeats; r++)
            {
                var column = features.Select(x => x[f]).ToArray();
                random.Shuffle(column);
                var shuffled = features.Select((x, i) =>
                {
                    var copy = (float[])x.Clone();
                    copy[f] = column[i];
                    return copy;
                }).ToArray();
                drop += baseline - Auc(Score(ml, model, shuffled, names.Count), churned);
            }
            var values = features.Select(x => x[f]).Order().ToArray();
            var median = values.Length == 0 ? 0 : values[values.Length / 2];
            var above = Enumerable.Range(0, features.Length).Where(i => features[i][f] > median).Select(i => (double)scores[i]).DefaultIfEmpty(double.NaN).Average();
            var below = Enumerable.Range(0, features.Length).Where(i => features[i][f] <= median).Select(i => (double)scores[i]).DefaultIfEmpty(double.NaN).Average();
            var direction = double.IsNaN(above) || double.IsNaN(below) || Math.Abs(above - below) < 0.02 ? 0 : Math.Sign(above - below);
            result.Add(new FeatureImportance(names[f], drop / repeats, direction));
        }
        return result.OrderByDescending(i => i.AucDrop).ToList();
    }

    /// <summary>The importance in words: the top features, which way they push, and what hardly matters.</summary>
    public static IReadOnlyList<string> Explain(IReadOnlyList<FeatureImportance> importance, double auc)
    {
        static string Way(FeatureImportance i) => i.Direction switch
        {
            > 0 => $"the higher the {Lower(i.Feature)}, the likelier a customer is to churn",
            < 0 => $"the lower the {Lower(i.Feature)}, the likelier a customer is to churn",
            _ => "its effect does not run one way",
        };
        static string Lower(string name) => name.Length > 1 && char.IsUpper(name[0]) && !char.IsUpper(name[1]) ? char.ToLowerInvariant(name[0]) + name[1..] : name;
        static string Drop(double d) => d.ToString("0.000", CultureInfo.InvariantCulture);
        var sentences = new List<string>();
        var useful = importance.Where(i => i.AucDrop >= 0.005).ToList();
        if (useful.Count == 0)
        {
            sentences.Add("No single feature matters much on its own: shuffling any one of them barely changes the AUC.");
        }
        else
        {
            var top = useful[0];
            sentences.Add($"{top.Feature} matters most: shuffling it among the customers lowers the AUC by {Drop(top.AucDrop)} (from {auc.ToString("0.00", CultureInfo.InvariantCulture)}); {Way(top)}.");
            foreach (var next in useful.Skip(1).Take(3))
            {
                sentences.Add($"{next.Feature} comes next (AUC −{Drop(next.AucDrop)}): {Way(next)}.");
            }
        }
        var idle = importance.Where(i => i.AucDrop < 0.005).Select(i => i.Feature).ToList();
        if (idle.Count > 0)
        {
            sentences.Add($"Hardly used by the model: {string.Join(", ", idle)}.");
        }
        return sentences;
    }

    /// <summary>The risk band of a score: high at or above the threshold, medium from half of it, low below.</summary>
    public static string Band(double score, double threshold) =>
        score >= threshold ? "high" : score >= threshold / 2 ? "medium" : "low";
}
