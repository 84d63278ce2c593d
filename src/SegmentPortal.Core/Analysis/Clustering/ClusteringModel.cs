using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// A trained clustering that can place new customers: the cluster centres together with the preparation parameters
/// that put raw values into their space. Saved as one zip file: <c>preparation.json</c> (the
/// <see cref="PreparationParameters"/> and a format version) and, from format version 2, <c>centroids.json</c> (the
/// centres, one array of numbers per cluster). Format version 1 (runs saved before the portal trained its own k-means)
/// holds <c>kmeans.zip</c> instead, an ML.NET model as <c>MLContext.Model.Save</c> wrote it; such a model still loads
/// and assigns through ML.NET, so a run saved then keeps placing customers exactly as it did.
/// </summary>
public sealed class ClusteringModel
{
    /// <summary>What <see cref="Assign"/> returns for a customer that cannot be placed (a missing value under <see cref="MissingValues.DropRow"/>).</summary>
    public const int Unassigned = -1;

    private const int FormatVersion = 2;
    private const int MlNetFormatVersion = 1;
    private const string PreparationEntry = "preparation.json";
    private const string CentroidsEntry = "centroids.json";
    private const string MlNetModelEntry = "kmeans.zip";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The ML.NET model of a format-version-1 file, which assigns its customers; null for the portal's own models.</summary>
    private readonly ITransformer? _mlNetTransformer;

    /// <summary>A model trained by the portal's k-means: customers go to the nearest centre (ties to the lower cluster).</summary>
    internal ClusteringModel(PreparationParameters preparation, IReadOnlyList<double[]> centroids)
    {
        Preparation = preparation;
        K = centroids.Count;
        Centroids = centroids.Select(c => c.ToArray()).ToList();
    }

    /// <summary>A format-version-1 model: the ML.NET transformer assigns, so customers land where they did when it was saved.</summary>
    private ClusteringModel(PreparationParameters preparation, ITransformer transformer, KMeansModelParameters parameters)
    {
        _mlNetTransformer = transformer;
        Preparation = preparation;
        VBuffer<float>[] centroids = [];
        parameters.GetClusterCentroids(ref centroids, out var k);
        K = k;
        Centroids = centroids.Take(k).Select(c => c.DenseValues().Select(v => (double)v).ToArray()).ToList();
    }

    public PreparationParameters Preparation { get; }

    public int K { get; }

    /// <summary>The cluster centres in the clustering (scaled) space, one value per feature; cluster i is index i.</summary>
    public IReadOnlyList<double[]> Centroids { get; }

    /// <summary>
    /// The cluster (0-based) of each raw row, prepared exactly as the training customers were: the same median fills
    /// missing values, the same transform and scaling apply. Rows the preparation would drop get <see cref="Unassigned"/>.
    /// A value the transform refuses (negative under log1p) throws a <see cref="PortalException"/> naming the feature.
    /// </summary>
    public int[] Assign(double?[][] rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var d = Preparation.FeatureCount;
        var scaled = new List<float[]>(rows.Length);
        var positions = new int[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var values = new float[d];
            if (Preparation.TryScale(rows[i], values))
            {
                positions[i] = scaled.Count;
                scaled.Add(values);
            }
            else
            {
                positions[i] = -1;
            }
        }
        var labels = AssignPrepared(scaled, cancellationToken);
        return positions.Select(p => p < 0 ? Unassigned : labels[p]).ToArray();
    }

    /// <summary>Clusters of rows already in the clustering space: the nearest centre, or ML.NET's answer for a format-version-1 model.</summary>
    internal int[] AssignPrepared(IReadOnlyList<float[]> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }
        if (_mlNetTransformer is not null)
        {
            return AssignWithMlNet(rows, cancellationToken);
        }
        return FeatureMatrix.From(rows, Preparation.FeatureCount).AssignAll(Centroids, -1, cancellationToken);
    }

    /// <summary>The same for rows already in a matrix.</summary>
    internal int[] AssignPrepared(FeatureMatrix rows, CancellationToken cancellationToken)
    {
        if (rows.Rows == 0)
        {
            return [];
        }
        return _mlNetTransformer is not null
            ? AssignWithMlNet(rows.ToRows(), cancellationToken)
            : rows.AssignAll(Centroids, -1, cancellationToken);
    }

    private int[] AssignWithMlNet(IReadOnlyList<float[]> rows, CancellationToken cancellationToken)
    {
        var labels = new int[rows.Count];
        var scored = _mlNetTransformer!.Transform(new FeatureMatrixDataView(rows, Preparation.FeatureCount, cancellationToken));
        var column = scored.Schema["PredictedLabel"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<uint>(column);
        uint key = 0;
        var i = 0;
        while (cursor.MoveNext())
        {
            getter(ref key);
            // PredictedLabel is an ML.NET key: 1-based, 0 meaning missing (impossible here: every value is finite).
            labels[i++] = (int)key - 1;
        }
        return labels;
    }

    /// <summary>
    /// Writes the model in format version 2 (preparation and centres as JSON). A model loaded from a format-version-1
    /// file is written as version 2 too: its centres are ML.NET's, and nearest-centre assignment may place a customer
    /// exactly between two centres differently from ML.NET, so re-saving an old model is for export, not for runs.
    /// </summary>
    public void Save(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        using (var entry = archive.CreateEntry(PreparationEntry).Open())
        {
            JsonSerializer.Serialize(entry, new SavedPreparation(FormatVersion, Preparation), Json);
        }
        using (var entry = archive.CreateEntry(CentroidsEntry).Open())
        {
            // System.Text.Json writes the shortest text that reads back as the same double, so centres survive exactly.
            JsonSerializer.Serialize(entry, Centroids, Json);
        }
    }

    /// <summary>
    /// Reads a model written by <see cref="Save"/> (format version 2) or by earlier portals (version 1, an ML.NET model
    /// inside). Only load files the portal itself saved: ML.NET models are not safe to load from untrusted sources.
    /// </summary>
    public static ClusteringModel Load(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            using var archive = new ZipArchive(source, ZipArchiveMode.Read, leaveOpen: true);
            var preparationEntry = archive.GetEntry(PreparationEntry) ?? throw NotAModel(null);
            SavedPreparation? saved;
            using (var json = preparationEntry.Open())
            {
                saved = JsonSerializer.Deserialize<SavedPreparation>(json, Json);
            }
            if (saved is null || saved.Preparation is null)
            {
                throw NotAModel(null);
            }
            var loaded = saved.FormatVersion switch
            {
                FormatVersion => LoadCentroids(archive, saved.Preparation),
                MlNetFormatVersion => LoadMlNet(archive, saved.Preparation),
                _ => throw new PortalException($"This clustering model has format version {saved.FormatVersion}, which this portal does not read."),
            };
            if (loaded.K < 1 || loaded.Centroids.Any(c => c.Length != saved.Preparation.FeatureCount || c.Any(v => !double.IsFinite(v))))
            {
                throw NotAModel(null);
            }
            return loaded;
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException or FormatException)
        {
            throw NotAModel(e);
        }
    }

    private static ClusteringModel LoadCentroids(ZipArchive archive, PreparationParameters preparation)
    {
        var entry = archive.GetEntry(CentroidsEntry) ?? throw NotAModel(null);
        using var json = entry.Open();
        var centroids = JsonSerializer.Deserialize<double[][]>(json, Json);
        if (centroids is null || centroids.Any(c => c is null))
        {
            throw NotAModel(null);
        }
        return new ClusteringModel(preparation, centroids);
    }

    private static ClusteringModel LoadMlNet(ZipArchive archive, PreparationParameters preparation)
    {
        var modelEntry = archive.GetEntry(MlNetModelEntry) ?? throw NotAModel(null);
        using var model = new MemoryStream();
        using (var entry = modelEntry.Open())
        {
            entry.CopyTo(model);
        }
        model.Position = 0;
        var ml = new MLContext(0);
        var transformer = ml.Model.Load(model, out var schema);
        var kmeans = Unwrap(transformer) ?? throw NotAModel(null);
        if (kmeans.Model is not KMeansModelParameters parameters || schema is null)
        {
            throw NotAModel(null);
        }
        return new ClusteringModel(preparation, kmeans, parameters);
    }

    /// <summary>
    /// A loaded model comes back typed by an ML.NET-internal predictor interface, not as
    /// <c>ClusteringPredictionTransformer&lt;KMeansModelParameters&gt;</c>; the covariant interface reaches its parameters.
    /// </summary>
    private static IPredictionTransformer<object>? Unwrap(ITransformer transformer) => transformer switch
    {
        IPredictionTransformer<object> prediction => prediction,
        TransformerChain<ITransformer> chain => chain.LastTransformer as IPredictionTransformer<object>,
        _ => null,
    };

    private static PortalException NotAModel(Exception? inner) => new("This file is not a saved clustering model, or it is damaged.", inner);

    private sealed record SavedPreparation(int FormatVersion, PreparationParameters Preparation);
}
