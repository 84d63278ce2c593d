using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// A trained clustering that can place new customers: the ML.NET k-means model together with the preparation
/// parameters that put raw values into its space. Saved as one zip file with two entries, <c>preparation.json</c>
/// (the <see cref="PreparationParameters"/> and a format version) and <c>kmeans.zip</c> (the ML.NET model as
/// <c>MLContext.Model.Save</c> writes it), so either part can be read on its own when debugging.
/// </summary>
public sealed class ClusteringModel
{
    /// <summary>What <see cref="Assign"/> returns for a customer that cannot be placed (a missing value under <see cref="MissingValues.DropRow"/>).</summary>
    public const int Unassigned = -1;

    private const int FormatVersion = 1;
    private const string PreparationEntry = "preparation.json";
    private const string ModelEntry = "kmeans.zip";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly MLContext _ml;
    private readonly ITransformer _transformer;
    private readonly DataViewSchema _inputSchema;

    internal ClusteringModel(MLContext ml, PreparationParameters preparation, ITransformer transformer, KMeansModelParameters parameters, DataViewSchema inputSchema)
    {
        _ml = ml;
        _transformer = transformer;
        _inputSchema = inputSchema;
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

    /// <summary>Clusters of rows already in the clustering space, through the ML.NET model itself so assignments are ML.NET's.</summary>
    internal int[] AssignPrepared(IReadOnlyList<float[]> rows, CancellationToken cancellationToken)
    {
        var labels = new int[rows.Count];
        if (rows.Count == 0)
        {
            return labels;
        }
        var scored = _transformer.Transform(new FeatureMatrixDataView(rows, Preparation.FeatureCount, cancellationToken));
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

    public void Save(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        using (var entry = archive.CreateEntry(PreparationEntry).Open())
        {
            JsonSerializer.Serialize(entry, new SavedPreparation(FormatVersion, Preparation), Json);
        }
        // ML.NET wants a seekable stream; a zip entry being written is not.
        using var model = new MemoryStream();
        _ml.Model.Save(_transformer, _inputSchema, model);
        using var modelEntry = archive.CreateEntry(ModelEntry, CompressionLevel.NoCompression).Open();
        model.Position = 0;
        model.CopyTo(modelEntry);
    }

    /// <summary>Reads a model written by <see cref="Save"/>. Only load files the portal itself saved: ML.NET models are not safe to load from untrusted sources.</summary>
    public static ClusteringModel Load(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            using var archive = new ZipArchive(source, ZipArchiveMode.Read, leaveOpen: true);
            var preparationEntry = archive.GetEntry(PreparationEntry);
            var modelEntry = archive.GetEntry(ModelEntry);
            if (preparationEntry is null || modelEntry is null)
            {
                throw NotAModel(null);
            }
            SavedPreparation? saved;
            using (var json = preparationEntry.Open())
            {
                saved = JsonSerializer.Deserialize<SavedPreparation>(json, Json);
            }
            if (saved is null || saved.Preparation is null)
            {
                throw NotAModel(null);
            }
            if (saved.FormatVersion != FormatVersion)
            {
                throw new PortalException($"This clustering model has format version {saved.FormatVersion}, which this portal does not read.");
            }
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
            var loaded = new ClusteringModel(ml, saved.Preparation, kmeans, parameters, schema);
            if (loaded.Centroids.Any(c => c.Length != saved.Preparation.FeatureCount))
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
