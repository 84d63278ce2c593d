using System.Text.Json;
using System.Text.Json.Serialization;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Clustering;

namespace SegmentPortal.Tests.Analysis.Clustering;

public sealed class PreparationTests
{
    private static ClusteringData Data(IReadOnlyList<FeatureSpec> features, params double?[][] rows) => new(features, rows);

    private static PreparedData Prepare(ClusteringData data, FeatureScaling scaling = FeatureScaling.MinMax, MissingValues missing = MissingValues.ImputeMedian) =>
        ClusteringEngine.Prepare(data, scaling, missing, TestContext.Current.CancellationToken);

    [Fact]
    public void Median_imputation_fills_and_counts_missing_values_per_feature()
    {
        var data = Data([new("Spend"), new("Orders")],
            [1, 10], [null, 20], [3, double.NaN], [5, null], [100, 40]);

        var prepared = Prepare(data);

        Assert.Equal([1, 2], prepared.ImputedPerFeature);
        Assert.Equal(0, prepared.RowsDropped);
        Assert.Equal([0, 1, 2, 3, 4], prepared.KeptRows);
        // Medians in original units over the values present: Spend 1,3,5,100 → 4; Orders 10,20,40 → 20.
        Assert.Equal(4, prepared.Parameters.Parameters[0].Median);
        Assert.Equal(20, prepared.Parameters.Parameters[1].Median);
        // Row 1's Spend became 4, which min-max puts at (4 - 1) / 99.
        Assert.Equal(3f / 99, prepared.Rows[1][0], 1e-6);
        Assert.Equal((20f - 10) / 30, prepared.Rows[2][1], 1e-6);
    }

    [Fact]
    public void Dropping_rows_counts_the_dropped_customers_and_keeps_the_indices_of_the_rest()
    {
        var data = Data([new("Spend"), new("Orders")],
            [1, 10], [null, 20], [3, double.NaN], [5, null], [100, 40], [7, 7]);

        var prepared = Prepare(data, missing: MissingValues.DropRow);

        Assert.Equal(3, prepared.RowsDropped);
        Assert.Equal(6, prepared.TotalRows);
        Assert.Equal([0, 4, 5], prepared.KeptRows);
        Assert.Equal([0, 0], prepared.ImputedPerFeature);
        Assert.Equal(3, prepared.Rows.Length);
        // Scaling is fitted on the kept rows only: Spend 1..100, Orders 7..40.
        Assert.Equal(1, prepared.Parameters.Parameters[0].Min);
        Assert.Equal(7, prepared.Parameters.Parameters[1].Min);
    }

    [Fact]
    public void Log1p_refuses_negative_values_and_names_the_feature()
    {
        var data = Data([new("Orders"), new("Total spend", FeatureTransform.Log1p)], [1, 10], [2, -5], [3, 7]);

        var error = Assert.Throws<PortalException>(() => Prepare(data));

        Assert.Contains("Total spend", error.Message);
        Assert.Contains("negative", error.Message);
    }

    [Fact]
    public void Min_max_parameters_match_a_hand_computed_example()
    {
        var prepared = Prepare(Data([new("X")], [1], [3], [5], [7]));

        var p = prepared.Parameters.Parameters[0];
        Assert.Equal((1.0, 7.0, 4.0), (p.Min, p.Max, p.Mean));
        Assert.Equal(Math.Sqrt(5), p.StandardDeviation, 12);
        Assert.Equal([0f, 1f / 3, 2f / 3, 1f], prepared.Rows.Select(r => r[0]));
    }

    [Fact]
    public void Z_score_parameters_match_a_hand_computed_example()
    {
        // Mean 5, population standard deviation exactly 2.
        var prepared = Prepare(Data([new("X")], [2], [4], [4], [4], [5], [5], [7], [9]), FeatureScaling.ZScore);

        var p = prepared.Parameters.Parameters[0];
        Assert.Equal(5, p.Mean, 12);
        Assert.Equal(2, p.StandardDeviation, 12);
        Assert.Equal([-1.5f, -0.5f, -0.5f, -0.5f, 0f, 0f, 1f, 2f], prepared.Rows.Select(r => r[0]));
    }

    [Fact]
    public void Scaling_parameters_are_taken_after_the_log1p_transform()
    {
        var values = new[] { 0.0, Math.E - 1, Math.Exp(2) - 1 };
        var prepared = Prepare(Data([new("Spend", FeatureTransform.Log1p)], values.Select(v => new double?[] { v }).ToArray()));

        var p = prepared.Parameters.Parameters[0];
        Assert.Equal(0, p.Min, 12);
        Assert.Equal(2, p.Max, 12);
        Assert.Equal(1, p.Mean, 12);
        Assert.Equal(Math.E - 1, p.Median, 12);
        Assert.Equal([0f, 0.5f, 1f], prepared.Rows.Select(r => r[0]));
    }

    [Theory]
    [InlineData(FeatureScaling.MinMax)]
    [InlineData(FeatureScaling.ZScore)]
    public void A_constant_feature_scales_to_zero_not_NaN(FeatureScaling scaling)
    {
        var prepared = Prepare(Data([new("Country"), new("Spend")], [1, 1], [1, 5], [1, 9], [1, 2]), scaling);

        Assert.All(prepared.Rows, r => Assert.Equal(0f, r[0]));
        Assert.All(prepared.Rows.SelectMany(r => r), v => Assert.True(float.IsFinite(v)));
        Assert.Equal([0], prepared.ConstantFeatures);
    }

    [Fact]
    public void A_feature_without_any_value_is_refused()
    {
        var error = Assert.Throws<PortalException>(() => Prepare(Data([new("Spend"), new("Age")], [1, null], [2, null])));
        Assert.Contains("Age", error.Message);
    }

    [Fact]
    public void Dropping_every_customer_is_refused_with_a_way_out()
    {
        var error = Assert.Throws<PortalException>(() =>
            Prepare(Data([new("Spend"), new("Age")], [1, null], [null, 30]), missing: MissingValues.DropRow));
        Assert.Contains("median", error.Message);
    }

    [Fact]
    public void Duplicate_or_no_features_are_refused()
    {
        Assert.Throws<PortalException>(() => Prepare(Data([new("Spend"), new("spend")], [1, 2])));
        Assert.Throws<PortalException>(() => Prepare(Data([], [])));
        Assert.Throws<PortalException>(() => Prepare(Data([new("Spend")])));
    }

    [Fact]
    public void Preparation_parameters_survive_a_json_round_trip()
    {
        var prepared = Prepare(Data([new("Spend", FeatureTransform.Log1p, "big spenders", "small spenders"), new("Orders")], [1, 2], [null, 4], [30, 8]),
            FeatureScaling.ZScore);
        var options = new JsonSerializerOptions { Converters = { new JsonStringEnumConverter() } };

        var json = JsonSerializer.Serialize(prepared.Parameters, options);
        var back = JsonSerializer.Deserialize<PreparationParameters>(json, options)!;

        Assert.Equal(prepared.Parameters.Features, back.Features);
        Assert.Equal(prepared.Parameters.Parameters, back.Parameters);
        Assert.Equal((prepared.Parameters.Scaling, prepared.Parameters.Missing), (back.Scaling, back.Missing));
        var scaled = new float[2];
        Assert.True(back.TryScale([null, 4], scaled));
        Assert.Equal(prepared.Rows[1], scaled);
    }

    [Fact]
    public void Every_option_has_a_one_sentence_explanation()
    {
        Assert.StartsWith("Log1p: log(1 + value)", ClusteringGlossary.Describe(FeatureTransform.Log1p));
        Assert.Equal(Enum.GetValues<FeatureTransform>().Length + Enum.GetValues<FeatureScaling>().Length + Enum.GetValues<MissingValues>().Length,
            ClusteringGlossary.All.Count);
        Assert.All(ClusteringGlossary.All.Values, sentence => Assert.EndsWith(".", sentence));
    }

    [Fact]
    public void Default_words_name_the_feature()
    {
        var feature = new FeatureSpec("Orders");
        Assert.Equal(("high Orders", "low Orders"), (feature.HighLabel, feature.LowLabel));
        var recency = new FeatureSpec("Recency", HighWord: "lapsed", LowWord: "recent");
        Assert.Equal(("lapsed", "recent"), (recency.HighLabel, recency.LowLabel));
    }
}
