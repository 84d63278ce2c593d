using Bunit;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Web.Components.Dashboards;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.DashboardLayout;

/// <summary>The tile editor's working copy and its measure and grouping editors.</summary>
public sealed class TileEditorTests : PortalTestContext
{
    private static readonly IReadOnlyList<QueryField> Fields =
    [
        new("region", ColumnType.Text, FieldRole.Dimension),
        new("order_date", ColumnType.Date, FieldRole.EventDate),
        new("amount", ColumnType.Decimal, FieldRole.Amount),
        new("city", ColumnType.Text, FieldRole.Dimension),
    ];

    [Fact]
    public void A_new_type_gets_the_measures_and_groupings_it_needs_and_keeps_what_fits()
    {
        var draft = new TileDraft();
        draft.FitTo(TileType.Heatmap);
        Assert.Equal((1, 2), (draft.Measures.Count, draft.Dimensions.Count));

        draft.Dimensions[0].Column = "region";
        draft.FitTo(TileType.Kpi);
        Assert.Equal((1, 0), (draft.Measures.Count, draft.Dimensions.Count));

        draft.FitTo(TileType.Scatter);
        Assert.Equal((2, 1), (draft.Measures.Count, draft.Dimensions.Count));
    }

    [Fact]
    public void The_definition_carries_ratios_drill_paths_and_sorts_dates_in_time_order()
    {
        var draft = new TileDraft { Type = TileType.Line, Title = " Revenue per customer ", DatasetId = 3 };
        draft.Measures[0] = new MeasureDraft
        {
            Kind = TileMeasureKind.Ratio,
            Numerator = new MeasureDraft { Kind = TileMeasureKind.Sum, Column = "amount" },
            Denominator = new MeasureDraft { Kind = TileMeasureKind.Customers, Column = "ignored" },
        };
        draft.Dimensions.Add(new DimensionDraft { Column = "order_date", Bucket = DateBucket.Month });

        var tile = draft.ToDefinition();

        Assert.Equal("Revenue per customer", tile.Title);
        var ratio = Assert.Single(tile.Measures);
        Assert.Equal(new TileMeasure(TileMeasureKind.Sum, "amount"), ratio.Numerator);
        Assert.Equal(new TileMeasure(TileMeasureKind.Customers), ratio.Denominator);
        Assert.Equal(new TileSort(ByMeasure: false, 0, Descending: false), tile.Sort);

        var bar = new TileDraft { Type = TileType.Bar, DatasetId = 3 };
        bar.Dimensions.Add(new DimensionDraft { Column = "region", Hierarchy = ["city"] });
        var barTile = bar.ToDefinition();
        Assert.Equal(["region", "city"], barTile.Dimensions[0].Hierarchy);
        Assert.Equal(new TileSort(ByMeasure: true, 0, Descending: true), barTile.Sort);
        Assert.Equal(draft.Id, TileDraft.From(tile).Id);
        Assert.Equal(tile, TileDraft.From(tile).ToDefinition() with { Measures = tile.Measures, Dimensions = tile.Dimensions });
    }

    [Theory]
    [InlineData(TileType.ClvDistribution)]
    [InlineData(TileType.AliveMatrix)]
    [InlineData(TileType.SurvivalCurves)]
    public void An_analysis_tile_keeps_the_transactions_chosen_as_its_source_and_reads_no_dataset_itself(TileType type)
    {
        var draft = new TileDraft { DatasetId = 3, SourceId = 7 };
        draft.FitTo(type);

        var tile = draft.ToDefinition();

        Assert.Equal(7, tile.SourceId);
        Assert.Null(tile.DatasetId);
        Assert.Empty(tile.Measures);
        Assert.Empty(tile.Dimensions);
        Assert.Equal(7, TileDraft.From(tile).ToDefinition().SourceId);
    }

    [Fact]
    public void A_ratio_measure_edits_its_numerator_and_denominator_and_sums_offer_only_numbers()
    {
        SignInAs("analyst@example.com", SegmentPortal.Core.Identity.Roles.Analyst);
        var measure = new MeasureDraft { Kind = TileMeasureKind.Ratio };
        Render<MudBlazor.MudPopoverProvider>();
        var cut = Render<MeasureEditor>(p => p.Add(m => m.Measure, measure).Add(m => m.Fields, Fields));

        var parts = cut.FindAll("[data-testid=tile-measure] [data-testid=tile-measure]");
        Assert.Equal(2, parts.Count);
        Assert.Equal(TileMeasureKind.Customers, measure.Denominator!.Kind);

        var sum = new MeasureDraft { Kind = TileMeasureKind.Sum };
        var sumEditor = Render<MeasureEditor>(p => p.Add(m => m.Measure, sum).Add(m => m.Fields, Fields));
        Assert.Single(sumEditor.FindAll("[data-testid=measure-column]"));
        Assert.False(MeasureDraft.NeedsColumn(TileMeasureKind.Count));
        Assert.True(MeasureDraft.NeedsNumber(TileMeasureKind.Average));
    }

    [Fact]
    public void A_date_grouping_offers_periods_and_a_category_offers_a_drill_path()
    {
        var date = Render<DimensionEditor>(p => p.Add(d => d.Dimension, new DimensionDraft { Column = "order_date", Bucket = DateBucket.Month }).Add(d => d.Fields, Fields));
        Assert.Single(date.FindAll("[data-testid=dimension-bucket]"));
        Assert.Empty(date.FindAll("[data-testid=dimension-hierarchy]"));

        var category = Render<DimensionEditor>(p => p.Add(d => d.Dimension, new DimensionDraft { Column = "region" }).Add(d => d.Fields, Fields));
        Assert.Empty(category.FindAll("[data-testid=dimension-bucket]"));
        Assert.Single(category.FindAll("[data-testid=dimension-hierarchy]"));
    }
}

/// <summary>The tile editor's "Measure: ad-hoc / from a metric" choice.</summary>
public sealed class TileMetricChoiceTests : PortalTestContext
{
    private static readonly IReadOnlyList<SegmentPortal.Core.Metrics.MetricSummary> Metrics =
    [
        new(4, "Revenue", null, 3, "Orders", "ana@example.com", "Sum of amount", DateBucket.Month, SegmentPortal.Core.Metrics.MetricFormat.Currency, "€", 0,
            SegmentPortal.Core.Metrics.MetricDirection.HigherIsBetter, 1000, null, null, true, DateTimeOffset.UnixEpoch, true),
        new(9, "Customers", null, 5, "People", null, "Customers", DateBucket.Week, SegmentPortal.Core.Metrics.MetricFormat.Number, null, 0,
            SegmentPortal.Core.Metrics.MetricDirection.None, null, null, null, false, DateTimeOffset.UnixEpoch, false),
    ];

    [Fact]
    public async Task Choosing_a_metric_saves_the_reference_instead_of_a_measure_and_choosing_ad_hoc_brings_the_measure_back()
    {
        SignInAs("analyst@example.com", SegmentPortal.Core.Identity.Roles.Analyst);
        Render<MudBlazor.MudPopoverProvider>();
        var draft = new TileDraft { Type = TileType.Line, Title = "Revenue", DatasetId = 3 };
        draft.FitTo(TileType.Line);
        draft.Measures[0] = new MeasureDraft { Kind = TileMeasureKind.Sum, Column = "amount" };
        draft.Dimensions[0].Column = "order_date";
        var chosen = new List<SegmentPortal.Core.Metrics.MetricSummary?>();
        var cut = Render<MetricChoice>(p => p.Add(c => c.Draft, draft).Add(c => c.Metrics, Metrics).Add(c => c.OnChanged, m => chosen.Add(m)));
        Assert.Empty(cut.FindAll("[data-testid=editor-metric]"));

        await cut.InvokeAsync(() => cut.FindComponent<MudBlazor.MudRadioGroup<bool>>().Instance.ValueChanged.InvokeAsync(true));

        Assert.Single(cut.FindAll("[data-testid=editor-metric]"));
        Assert.Contains("Sum of amount of Orders by month", cut.Find("[data-testid=editor-metric-summary]").TextContent);
        Assert.Equal([4], chosen.Select(m => m!.Id));
        var tile = draft.ToDefinition();
        Assert.Equal((4, (int?)null, 0, 0), (tile.MetricId, tile.DatasetId, tile.Measures.Count, tile.Dimensions.Count));

        await cut.InvokeAsync(() => cut.FindComponent<MudBlazor.MudSelect<int?>>().Instance.ValueChanged.InvokeAsync(9));
        Assert.Equal(9, draft.ToDefinition().MetricId);
        Assert.Equal(9, chosen[^1]!.Id);

        await cut.InvokeAsync(() => cut.FindComponent<MudBlazor.MudRadioGroup<bool>>().Instance.ValueChanged.InvokeAsync(false));
        var adHoc = draft.ToDefinition();
        Assert.Null(adHoc.MetricId);
        Assert.Equal([new TileMeasure(TileMeasureKind.Sum, "amount")], adHoc.Measures);
        Assert.Null(chosen[^1]);
    }

    [Fact]
    public void A_type_that_cannot_show_a_metric_goes_back_to_an_ad_hoc_measure()
    {
        var draft = new TileDraft { Type = TileType.Kpi, FromMetric = true, MetricId = 4 };
        Assert.Equal(4, draft.ToDefinition().MetricId);

        draft.FitTo(TileType.Bar);
        Assert.Equal(4, draft.ToDefinition().MetricId);
        draft.FitTo(TileType.Pie);

        Assert.False(draft.FromMetric);
        var tile = draft.ToDefinition();
        Assert.Null(tile.MetricId);
        Assert.Single(tile.Measures);
        Assert.Equal(draft.Id, TileDraft.From(new TileDefinition { Id = draft.Id, Type = TileType.Kpi, MetricId = 4 }).Id);
        Assert.True(TileDraft.From(new TileDefinition { Id = "x", Type = TileType.Kpi, MetricId = 4 }).ShowsMetric);
    }
}
