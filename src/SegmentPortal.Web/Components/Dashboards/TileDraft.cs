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

    /// <summary>What each type needs: how many groupings it uses and whether it reads a dataset at all.</summary>
    public static (int MinDimensions, int MaxDimensions, int MinMeasures, int MaxMeasures, bool UsesDataset) Shape(TileType type) => type switch
    {
        TileType.Kpi => (0, 0, 1, 1, true),
        TileType.Bar or TileType.Line or TileType.Area => (1, 2, 1, 4, true),
        TileType.Pie or TileType.Funnel => (1, 1, 1, 1, true),
        TileType.Treemap => (1, 2, 1, 1, true),
        TileType.Scatter => (1, 2, 2, 2, true),
        TileType.Histogram => (1, 1, 0, 1, true),
        TileType.Box => (0, 1, 1, 1, true),
        TileType.Heatmap or TileType.Pivot => (2, 2, 1, 1, true),
        TileType.Table => (0, 5, 0, 6, true),
        TileType.CompareSegments => (0, 1, 1, 1, true),
        TileType.Cohort => (0, 0, 0, 0, true),
        _ => (0, 0, 0, 0, false),
    };

    public static TileDraft From(TileDefinition tile) => new()
    {
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
        var shape = Shape(Type);
        return new TileDefinition
        {
            Id = Id,
            Type = Type,
            Title = Title.Trim(),
            DatasetId = shape.UsesDataset ? DatasetId : null,
            SegmentId = shape.UsesDataset ? SegmentId : null,
            Measures = Measures.Take(shape.MaxMeasures).Select(m => m.ToMeasure()).ToList(),
            Dimensions = Dimensions.Take(shape.MaxDimensions).Where(d => d.Column.Length > 0).Select(d => d.ToDimension()).ToList(),
            FilterJson = Filter.Root.Children.Count == 0 ? null : Filter.ToJson(),
            // Time runs left to right: a date grouping sorts by date, anything else by the user's choice.
            Sort = Dimensions.FirstOrDefault()?.Bucket is not null ? new TileSort(ByMeasure: false, 0, Descending: false) : new TileSort(SortByMeasure, 0, SortDescending),
            TopN = TopN,
            OtherBucket = OtherBucket,
            Markdown = Type == TileType.Text ? Markdown : null,
            SegmentIds = Type is TileType.CompareSegments or TileType.SegmentSize ? [.. SegmentIds] : [],
            DateColumn = Type == TileType.Kpi ? DateColumn : null,
            Period = Period,
            Stacked = Stacked,
            Horizontal = Horizontal,
            Donut = Donut,
            SourceId = Type is TileType.RfmGrid or TileType.ClusterProfile ? SourceId : null,
        };
    }

    /// <summary>Makes the measure and grouping rows fit a newly chosen type (keeping what still fits).</summary>
    public void FitTo(TileType type)
    {
        Type = type;
        var shape = Shape(type);
        while (Measures.Count < shape.MinMeasures)
        {
            Measures.Add(new MeasureDraft());
        }
        if (Measures.Count > shape.MaxMeasures)
        {
            Measures.RemoveRange(shape.MaxMeasures, Measures.Count - shape.MaxMeasures);
        }
        while (Dimensions.Count < shape.MinDimensions)
        {
            Dimensions.Add(new DimensionDraft());
        }
        if (Dimensions.Count > shape.MaxDimensions)
        {
            Dimensions.RemoveRange(shape.MaxDimensions, Dimensions.Count - shape.MaxDimensions);
        }
    }
}
