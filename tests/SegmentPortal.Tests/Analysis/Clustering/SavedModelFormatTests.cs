using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

/// <summary>
/// Runs saved before the portal trained its own k-means hold format version 1: <c>preparation.json</c> and an ML.NET
/// model in <c>kmeans.zip</c>. They must still load and place every customer exactly where ML.NET places it.
/// </summary>
public sealed class SavedModelFormatTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_version_1_model_with_ml_net_inside_loads_and_assigns_as_ml_net_does()
    {
        var (data, _) = SyntheticCustomers.Blobs(SyntheticCustomers.FourCentres, 500, 3.0, 21);
        // Some missing values, filled with the saved medians on assignment.
        var rows = data.Rows.Select((row, i) => row.Select((v, f) => i % 41 == f ? null : v).ToArray()).ToArray();
        data = new ClusteringData(data.Features, rows);
        var prepared = ClusteringEngine.Prepare(data, FeatureScaling.ZScore, MissingValues.ImputeMedian, Ct);

        // Trained and written exactly as the portal did before format version 2.
        var ml = new MLContext(3);
        var view = new FeatureMatrixDataView(prepared.Rows, prepared.FeatureCount, Ct);
        var transformer = ml.Clustering.Trainers.KMeans(new KMeansTrainer.Options
        {
            FeatureColumnName = FeatureMatrixDataView.FeaturesColumn,
            NumberOfClusters = 5,
            NumberOfThreads = 1,
            InitializationAlgorithm = KMeansTrainer.InitializationAlgorithm.KMeansPlusPlus,
            MaximumNumberOfIterations = 100,
        }).Fit(view);
        var expected = MlNetLabels(transformer, view);
        using var file = new MemoryStream();
        using (var archive = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
        {
            var json = new JsonSerializerOptions { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };
            using (var entry = archive.CreateEntry("preparation.json").Open())
            {
                JsonSerializer.Serialize(entry, new { FormatVersion = 1, Preparation = prepared.Parameters }, json);
            }
            using var model = new MemoryStream();
            ml.Model.Save(transformer, view.Schema, model);
            using var modelEntry = archive.CreateEntry("kmeans.zip", CompressionLevel.NoCompression).Open();
            model.Position = 0;
            model.CopyTo(modelEntry);
        }

        file.Position = 0;
        var assigned = ClusteringEngine.Assign(file, rows, Ct);
        file.Position = 0;
        var loaded = ClusteringModel.Load(file);

        Assert.Equal(expected, prepared.KeptRows.Select(i => assigned[i]));
        Assert.Equal(5, loaded.K);
        VBuffer<float>[] centroids = [];
        transformer.Model.GetClusterCentroids(ref centroids, out _);
        Assert.Equal(centroids.Select(c => c.DenseValues().Select(v => (double)v).ToArray()), loaded.Centroids);
    }

    [Fact]
    public void A_model_of_an_unknown_format_version_is_refused_by_name()
    {
        using var file = new MemoryStream();
        using (var archive = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = archive.CreateEntry("preparation.json").Open();
            JsonSerializer.Serialize(entry, new
            {
                FormatVersion = 3,
                Preparation = new { Features = Array.Empty<object>(), Scaling = "ZScore", Missing = "DropRow", Parameters = Array.Empty<object>() },
            });
        }
        file.Position = 0;

        var error = Assert.Throws<SegmentPortal.Core.PortalException>(() => ClusteringModel.Load(file));
        Assert.Contains("format version 3", error.Message);
    }

    private static int[] MlNetLabels(ITransformer transformer, IDataView view)
    {
        var scored = transformer.Transform(view);
        var column = scored.Schema["PredictedLabel"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<uint>(column);
        var labels = new List<int>();
        uint key = 0;
        while (cursor.MoveNext())
        {
            getter(ref key);
            labels.Add((int)key - 1);
        }
        return labels.ToArray();
    }
}
