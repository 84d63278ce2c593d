using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Web.Components.Dashboards;

/// <summary>One measure row of the tile editor (a ratio has a numerator and a denominator row of its own).</summary>
public sealed class MeasureDraft
{
    public TileMeasureKind Kind { get; set; } = TileMeasureKind.Count;

    public string? Column { get; set; }

    public string? Label { get; set; }

    public MeasureDraft? Numerator { get; set; }

    public MeasureDraft? Denominator { get; set; }

    public static MeasureDraft From(TileMeasure measure) => new()
    {
        Kind = measure.Kind,
        Column = measure.Column,
        Label = measure.Label,
        Numerator = measure.Numerator is { } n ? From(n) : null,
        Denominator = measure.Denominator is { } d ? From(d) : null,
    };

    public TileMeasure ToMeasure() => Kind == TileMeasureKind.Ratio
        ? new TileMeasure(Kind, null, Blank(Label), (Numerator ?? new()).ToMeasure(), (Denominator ?? new()).ToMeasure())
        : new TileMeasure(Kind, NeedsColumn(Kind) ? Column : null, Blank(Label));

    public static bool NeedsColumn(TileMeasureKind kind) => kind is not (TileMeasureKind.Count or TileMeasureKind.Customers or TileMeasureKind.Ratio);

    public static bool NeedsNumber(TileMeasureKind kind) => kind is TileMeasureKind.Sum or TileMeasureKind.Average or TileMeasureKind.Median;

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}

/// <summary>One grouping row of the tile editor.</summary>
public sealed class DimensionDraft
{
    public string Column { get; set; } = "";

    public DateBucket? Bucket { get; set; }

    public double? BinWidth { get; set; }

    public List<string> Hierarchy { get; set; } = [];

    public static DimensionDraft From(TileDimension dimension) => new()
    {
        Column = dimension.Column,
        Bucket = dimension.Bucket,
        BinWidth = dimension.BinWidth,
        Hierarchy = [.. dimension.Hierarchy ?? []],
    };

    public TileDimension ToDimension() => new(Column, Bucket, BinWidth, Hierarchy.Count == 0 ? null : [Column, .. Hierarchy.Where(h => h != Column)]);
}

/// <summary>
/// The tile editor's working copy: mutable, so MudBlazor inputs bind to it, and turned into an immutable
/// <see cref="TileDefinition"/> for the preview and for saving.
/// </summary>
public sealed class TileDraft
{
    public string Id { get; set; } = RuleNode.NewId();

    public TileType Type { get; set; } = TileType.Bar;

    public string Title { get; set; } = "";

    public int? DatasetId { get; set; }

    public int? SegmentId { get; set; }

    public List<MeasureDraft> Measures { get; set; } = [new()];

    public List<DimensionDraft> Dimensions { get; set; } = [];

    public RuleTree Filter { get; set; } = new();

    public bool SortByMeasure { get; set; } = true;

    public bool SortDescending { get; set; } = true;

    public int? TopN { get; set; }

    public bool OtherBucket { get; set; } = true;

    public string Markdown { get; set; } = "";

    public List<int> SegmentIds { get; set; } = [];

    public string? DateColumn { get; set; }

    public DateBucket Period { get; set; } = DateBucket.Month;

    public bool Stacked { get; set; }

    public bool Horizontal { get; set; }

    public bool Donut { get; set; }

    public int? SourceId { get; set; }

    /// <summary>The measure comes from a metric (<see cref="MetricId"/>) rather than being set here.</summary>
    public bool FromMetric { get; set; }

    public int? MetricId { get; set; }

    /// <summary>The type may show a metric and the draft chose to.</summary>
    public bool ShowsMetric => FromMetric && TileKinds.Of(Type).Has(TileTraits.Metric);

    public static TileDraft From(TileDefinition tile) => new()
    {
        FromMetric = tile.MetricId is not null,
        MetricId = tile.MetricId,
        Id = tile.Id,
        Type = tile.Type,
        Title = tile.Title,
        DatasetId = tile.DatasetId,
        SegmentId = tile.SegmentId,
        Measures = tile.Measures.Select(MeasureDraft.From).ToList(),
        Dimensions = tile.Dimensions.Select(DimensionDraft.From).ToList(),
        Filter = string.IsNullOrWhiteSpace(tile.FilterJson) ? new RuleTree() : RuleTree.FromJson(tile.FilterJson),
        SortByMeasure = tile.Sort?.ByMeasure ?? true,
        SortDescending = tile.Sort?.Descending ?? true,
        TopN = tile.TopN,
        OtherBucket = tile.OtherBucket,
        Markdown = tile.Markdown ?? "",
        SegmentIds = [.. tile.SegmentIds],
        DateColumn = tile.DateColumn,
        Period = tile.Period,
        Stacked = tile.Stacked,
        Horizontal = tile.Horizontal,
        Donut = tile.Donut,
        SourceId = tile.SourceId,
    };

    public TileDefinition ToDefinition()
    {
        var kind = TileKinds.Of(Type);
        if (ShowsMetric)
        {
            // The metric decides the data, the measure and the filter (and a KPI's periods); a chart may group by one
            // column of its own, or else runs over the metric's dates.
            var grouping = Type == TileType.Kpi ? [] : Dimensions.Where(d => d.Column.Length > 0).Take(1).Select(d => d.ToDimension()).ToList();
            return new TileDefinition
            {
                Id = Id,
                Type = Type,
                Title = Title.Trim(),
                MetricId = MetricId,
                Dimensions = grouping,
                Sort = grouping.FirstOrDefault()?.Bucket is not null ? new TileSort(ByMeasure: false, 0, Descending: false) : new TileSort(SortByMeasure, 0, SortDescending),
                TopN = grouping.Count > 0 ? TopN : null,
                OtherBucket = OtherBucket,
                Stacked = Stacked,
                Horizontal = Horizontal,
            };
        }
        return new TileDefinition
        {
            Id = Id,
            Type = Type,
            Title = Title.Trim(),
            DatasetId = kind.ReadsDataset ? DatasetId : null,
            SegmentId = kind.ReadsDataset ? SegmentId : null,
            Measures = Measures.Take(kind.MaxMeasures).Select(m => m.ToMeasure()).ToList(),
            Dimensions = Dimensions.Take(kind.MaxDimensions).Where(d => d.Column.Length > 0).Select(d => d.ToDimension()).ToList(),
            FilterJson = Filter.Root.Children.Count == 0 ? null : Filter.ToJson(),
            // Time runs left to right: a date grouping sorts by date, anything else by the user's choice.
            Sort = Dimensions.FirstOrDefault()?.Bucket is not null ? new TileSort(ByMeasure: false, 0, Descending: false) : new TileSort(SortByMeasure, 0, SortDescending),
            TopN = TopN,
            OtherBucket = OtherBucket,
            Markdown = kind.Source == TileSource.Markdown ? Markdown : null,
            SegmentIds = kind.Segments != TileSegments.None ? [.. SegmentIds] : [],
            DateColumn = kind.Has(TileTraits.ComparesPeriods) ? DateColumn : null,
            Period = Period,
            Stacked = Stacked,
            Horizontal = Horizontal,
            Donut = Donut,
            SourceId = kind.Source is TileSource.RfmAnalysis or TileSource.ClusteringRun or TileSource.ChurnRun or TileSource.LifetimeAnalysis
                or TileSource.SurvivalAnalysis
                ? SourceId
                : null,
        };
    }

    /// <summary>Makes the measure and grouping rows fit a newly chosen type (keeping what still fits).</summary>
    public void FitTo(TileType type)
    {
        Type = type;
        var kind = TileKinds.Of(type);
        if (ShowsMetric)
        {
            // The metric is the measure; a chart's own grouping is optional (over the metric's dates without one).
            if (Dimensions.Count > (type == TileType.Kpi ? 0 : 1))
            {
                Dimensions.RemoveRange(type == TileType.Kpi ? 0 : 1, Dimensions.Count - (type == TileType.Kpi ? 0 : 1));
            }
            return;
        }
        FromMetric = false;
        while (Measures.Count < kind.MinMeasures)
        {
            Measures.Add(new MeasureDraft());
        }
        if (Measures.Count > kind.MaxMeasures)
        {
            Measures.RemoveRange(kind.MaxMeasures, Measures.Count - kind.MaxMeasures);
        }
        while (Dimensions.Count < kind.MinDimensions)
        {
            Dimensions.Add(new DimensionDraft());
        }
        if (Dimensions.Count > kind.MaxDimensions)
        {
            Dimensions.RemoveRange(kind.MaxDimensions, Dimensions.Count - kind.MaxDimensions);
        }
        if (Measures.Count + Dimensions.Count < kind.MinFields && Measures.Count < kind.MaxMeasures)
        {
            Measures.Add(new MeasureDraft());
        }
    }
}

