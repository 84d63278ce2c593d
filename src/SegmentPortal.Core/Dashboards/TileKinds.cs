using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;

using SegmentPortal.Core.Rules;
namespace SegmentPortal.Core.Dashboards;

/// <summary>What a tile shows. Each type has one <see cref="TileKind"/> in <see cref="TileKinds"/>.</summary>
public enum TileType
{
    Kpi,
    Bar,
    Line,
    Area,
    Pie,
    Scatter,
    Histogram,
    Box,
    Heatmap,
    Funnel,
    Treemap,
    Table,
    Pivot,
    Text,

    /// <summary>The same measure split by 2–5 segments.</summary>
    CompareSegments,

    /// <summary>A segment's size at each refresh.</summary>
    SegmentSize,

    /// <summary>Customers by first-order month, share still ordering in each following month.</summary>
    Cohort,

    /// <summary>The R×F heatmap of a dataset's RFM analysis.</summary>
    RfmGrid,

    /// <summary>A clustering run's cluster profiles.</summary>
    ClusterProfile,

    /// <summary>How many customers a churn run put in each lifecycle stage.</summary>
    LifecycleStages,

    /// <summary>The CLV histogram of a transactions dataset's lifetime-value analysis.</summary>
    ClvDistribution,

    /// <summary>Customers by P(alive) band and repeat purchases, from a lifetime-value analysis.</summary>
    AliveMatrix,

    /// <summary>Kaplan–Meier curves of the viewer's own survival analysis of a transactions dataset.</summary>
    SurvivalCurves,
}

/// <summary>Where a tile's data comes from.</summary>
public enum TileSource
{
    /// <summary>A dataset's rows, read through the query layer: grants, row rules, dashboard filters and the cache apply.</summary>
    Dataset,

    /// <summary>The tile's own Markdown.</summary>
    Markdown,

    /// <summary>The size history of the segment the tile follows.</summary>
    SegmentHistory,

    /// <summary>The RFM analysis of a transactions dataset (<see cref="TileDefinition.SourceId"/>).</summary>
    RfmAnalysis,

    /// <summary>A clustering run (<see cref="TileDefinition.SourceId"/>).</summary>
    ClusteringRun,

    /// <summary>A churn-risk run (<see cref="TileDefinition.SourceId"/>).</summary>
    ChurnRun,

    /// <summary>The lifetime-value analysis of a transactions dataset (<see cref="TileDefinition.SourceId"/>), one per dataset.</summary>
    LifetimeAnalysis,

    /// <summary>
    /// The survival analysis of a transactions dataset (<see cref="TileDefinition.SourceId"/>) that the viewer ran last:
    /// survival results are kept per user and dataset, so each viewer sees their own.
    /// </summary>
    SurvivalAnalysis,
}

/// <summary>Which segments a tile names in <see cref="TileDefinition.SegmentIds"/>.</summary>
public enum TileSegments
{
    /// <summary>None: <see cref="TileDefinition.SegmentId"/> at most narrows the rows.</summary>
    None,

    /// <summary>The one segment it follows.</summary>
    One,

    /// <summary>Two to five segments, side by side.</summary>
    Several,
}

/// <summary>What else a tile type needs or allows.</summary>
[Flags]
public enum TileTraits
{
    None = 0,

    /// <summary>Reads a dataset with a Customer ID column.</summary>
    NeedsCustomerKey = 1 << 0,

    /// <summary>Reads a transactions dataset (customer, date and amount roles): the customers' orders themselves.</summary>
    NeedsTransactions = 1 << 1,

    /// <summary>Compares a period with the previous one along a date column (<see cref="TileDefinition.DateColumn"/>, <see cref="TileDefinition.Period"/>).</summary>
    ComparesPeriods = 1 << 2,

    /// <summary>Its first dimension is a number column put in bins.</summary>
    Bins = 1 << 3,

    /// <summary>Shows categories, so Top N (and "Other") applies.</summary>
    TopN = 1 << 4,

    /// <summary>A click on its first dimension can drill one level further.</summary>
    Drills = 1 << 5,

    /// <summary>No customers stand behind its marks (text, a segment's past sizes): "view customers" means nothing.</summary>
    NoCustomers = 1 << 6,

    /// <summary>May show a metric (<see cref="TileDefinition.MetricId"/>) instead of an ad-hoc measure.</summary>
    Metric = 1 << 7,
}

/// <summary>
/// Everything the portal knows about a tile type apart from how it is drawn: its name and icon in the editor, where its
/// data comes from, how many dimensions and measures it takes, what else it must be given, and how it behaves on a
/// board (top N, drilling, the customers behind a mark, its size). The validator, the editor and the loader read it
/// here; only the drawing (the Web's traces and view) is per type.
/// </summary>
public sealed record TileKind
{
    public required TileType Type { get; init; }

    /// <summary>The type's name in the editor, and the title of a tile saved without one.</summary>
    public required string Label { get; init; }

    /// <summary>The name of the Material icon shown beside the label (a name in MudBlazor's <c>Icons.Material.Outlined</c>).</summary>
    public required string Icon { get; init; }

    public TileSource Source { get; init; } = TileSource.Dataset;

    public int MinDimensions { get; init; }

    public int MaxDimensions { get; init; }

    public int MinMeasures { get; init; }

    public int MaxMeasures { get; init; }

    /// <summary>At least this many dimensions and measures together (a table shows at least one column).</summary>
    public int MinFields { get; init; }

    /// <summary>What the validator says when the numbers of dimensions and measures do not fit.</summary>
    public required string ShapeMessage { get; init; }

    /// <summary>A check of the tile on its own (its text, segments, source): the problem in words, or null.</summary>
    public Func<TileDefinition, string?>? Check { get; init; }

    /// <summary>A check of the tile against its dataset's fields (already known to exist): the problem in words, or null.</summary>
    public Func<TileDefinition, QueryDataset, string?>? CheckFields { get; init; }

    public TileSegments Segments { get; init; }

    /// <summary>What else holds for the type: see <see cref="TileTraits"/>.</summary>
    public TileTraits Traits { get; init; }

    /// <summary>What the editor calls the first and the second dimension.</summary>
    public string FirstDimension { get; init; } = "Group by";

    public string SecondDimension { get; init; } = "Split into series by";

    /// <summary>The size a new tile starts at on the 12-column grid.</summary>
    public int Width { get; init; } = 6;

    public int Height { get; init; } = 4;

    /// <summary>Reads a dataset's rows (and so names its dataset and may be narrowed by a segment and a rule).</summary>
    public bool ReadsDataset => Source == TileSource.Dataset;

    public bool Has(TileTraits traits) => (Traits & traits) == traits;

    /// <summary>Whether a tile with this many dimensions and measures has the type's shape.</summary>
    public bool Fits(int dimensions, int measures) =>
        dimensions >= MinDimensions && dimensions <= MaxDimensions && measures >= MinMeasures && measures <= MaxMeasures && dimensions + measures >= MinFields;
}

/// <summary>The one description of each tile type (see <see cref="TileKind"/>).</summary>
public static class TileKinds
{
    private static readonly TileKind[] Kinds =
    [
        new()
        {
            Type = TileType.Kpi, Label = "KPI card", Icon = "Speed", MinMeasures = 1, MaxMeasures = 1,
            ShapeMessage = "A KPI shows one measure, without dimensions.", Traits = TileTraits.ComparesPeriods | TileTraits.Metric, Width = 3, Height = 2,
        },
        Categories(TileType.Bar, "Bar chart", "BarChart"),
        Categories(TileType.Line, "Line chart", "ShowChart"),
        Categories(TileType.Area, "Area chart", "StackedLineChart"),
        Categories(TileType.Pie, "Pie / donut", "PieChart", parts: true),
        new()
        {
            Type = TileType.Scatter, Label = "Scatter plot", Icon = "ScatterPlot", MinDimensions = 1, MaxDimensions = 2, MinMeasures = 2, MaxMeasures = 2,
            ShapeMessage = "A scatter plot needs a dimension (and optionally a colour) and two measures.", Traits = TileTraits.TopN | TileTraits.Drills,
            FirstDimension = "One point per", SecondDimension = "Colour by",
        },
        new()
        {
            Type = TileType.Histogram, Label = "Histogram", Icon = "Equalizer", MinDimensions = 1, MaxDimensions = 1, MaxMeasures = 1,
            ShapeMessage = "A histogram needs one number column and at most one measure (rows by default).", Traits = TileTraits.Bins, FirstDimension = "Values of",
            CheckFields = (tile, dataset) => dataset.Field(tile.Dimensions[0].Column)?.Kind != FieldKind.Number || tile.Dimensions[0].Bucket is not null
                ? $"A histogram needs a number column; {tile.Dimensions[0].Column} is not one."
                : null,
        },
        new()
        {
            Type = TileType.Box, Label = "Box plot", Icon = "CandlestickChart", MaxDimensions = 1, MinMeasures = 1, MaxMeasures = 1,
            ShapeMessage = "A box plot needs the number column (as its measure) and at most one dimension.", Traits = TileTraits.Drills,
            Check = tile => tile.Measures.Any(m => m.Column is not { Length: > 0 }) ? "A box plot needs the number column (as its measure) and at most one dimension." : null,
            CheckFields = (tile, dataset) => dataset.Field(tile.Measures[0].Column!)?.Kind != FieldKind.Number
                ? $"A box plot needs a number column; {tile.Measures[0].Column} is not one."
                : null,
        },
        new()
        {
            Type = TileType.Heatmap, Label = "Heatmap", Icon = "GridOn", MinDimensions = 2, MaxDimensions = 2, MinMeasures = 1, MaxMeasures = 1,
            ShapeMessage = "A heatmap needs two dimensions and one measure.", Traits = TileTraits.TopN | TileTraits.Drills, SecondDimension = "Columns",
        },
        Categories(TileType.Funnel, "Funnel", "FilterAlt", parts: true),
        new()
        {
            Type = TileType.Treemap, Label = "Treemap", Icon = "ViewQuilt", MinDimensions = 1, MaxDimensions = 2, MinMeasures = 1, MaxMeasures = 1,
            ShapeMessage = "A treemap needs one or two dimensions and one measure.", Traits = TileTraits.TopN | TileTraits.Drills,
        },
        new()
        {
            Type = TileType.Table, Label = "Table", Icon = "TableChart", MaxDimensions = 5, MaxMeasures = TileValidator.MaxMeasures, MinFields = 1,
            ShapeMessage = "A table needs at least one column or measure, and at most five dimensions.", Traits = TileTraits.Drills, Width = 12,
        },
        new()
        {
            Type = TileType.Pivot, Label = "Pivot table", Icon = "PivotTableChart", MinDimensions = 2, MaxDimensions = 2, MinMeasures = 1, MaxMeasures = 1,
            ShapeMessage = "A pivot needs two dimensions (rows and columns) and one measure.", Traits = TileTraits.Drills,
            FirstDimension = "Rows", SecondDimension = "Columns", Width = 12,
        },
        new()
        {
            Type = TileType.Text, Label = "Text", Icon = "Notes", Source = TileSource.Markdown, Traits = TileTraits.NoCustomers,
            ShapeMessage = "A text tile shows its text only, without dimensions or measures.", Width = 4, Height = 2,
            Check = tile => string.IsNullOrWhiteSpace(tile.Markdown) || tile.Markdown.Length > TileValidator.MaxMarkdown
                ? $"A text tile needs text (at most {TileValidator.MaxMarkdown:N0} characters)."
                : null,
        },
        new()
        {
            Type = TileType.CompareSegments, Label = "Compare segments", Icon = "CompareArrows", MaxDimensions = 1, MinMeasures = 1, MaxMeasures = 1,
            ShapeMessage = "Compare segments on one measure, with at most one dimension.", Segments = TileSegments.Several, Traits = TileTraits.NeedsCustomerKey | TileTraits.Drills,
            Check = tile => tile.SegmentIds.Distinct().Count() is >= 2 and <= 5 && tile.SegmentIds.Count == tile.SegmentIds.Distinct().Count()
                ? null
                : "Compare two to five different segments.",
        },
        new()
        {
            Type = TileType.SegmentSize, Label = "Segment size over time", Icon = "Timeline", Source = TileSource.SegmentHistory, Segments = TileSegments.One,
            Traits = TileTraits.NoCustomers, ShapeMessage = "A segment-size tile shows its segment's size only, without dimensions or measures.",
            Check = tile => TileValidator.SegmentOf(tile) is null ? "Choose the segment whose size to show." : null,
        },
        new()
        {
            Type = TileType.Cohort, Label = "Cohort retention", Icon = "Grid4x4", ShapeMessage = "A cohort tile is set by its dataset and date column only.",
            Traits = TileTraits.NeedsCustomerKey | TileTraits.NeedsTransactions, Width = 12,
            CheckFields = (tile, dataset) => (tile.DateColumn ?? dataset.WithRole(FieldRole.EventDate)?.Name) is null
                ? $"{dataset.Name} has no date column for the orders. Set the Event date role, or choose the date column."
                : null,
        },
        new()
        {
            Type = TileType.RfmGrid, Label = "RFM grid", Icon = "Apps", Source = TileSource.RfmAnalysis,
            ShapeMessage = "An RFM grid shows its analysis only, without dimensions or measures.",
            Check = tile => tile.SourceId is null && tile.DatasetId is null ? "Choose the transactions dataset whose RFM grid to show." : null,
        },
        new()
        {
            Type = TileType.ClusterProfile, Label = "Cluster profile", Icon = "BubbleChart", Source = TileSource.ClusteringRun,
            ShapeMessage = "A cluster profile shows its run only, without dimensions or measures.",
            Check = tile => tile.SourceId is null ? "Choose the clustering run whose profiles to show." : null,
        },
        new()
        {
            Type = TileType.LifecycleStages, Label = "Lifecycle stages", Icon = "TrendingDown", Source = TileSource.ChurnRun, Traits = TileTraits.NoCustomers,
            ShapeMessage = "A lifecycle tile shows its churn run only, without dimensions or measures.",
            Check = tile => tile.SourceId is null ? "Choose the churn run whose lifecycle stages to show." : null,
        },
        new()
        {
            Type = TileType.ClvDistribution, Label = "CLV distribution", Icon = "Savings", Source = TileSource.LifetimeAnalysis, Traits = TileTraits.NoCustomers,
            ShapeMessage = "A CLV distribution shows its lifetime-value analysis only, without dimensions or measures.",
            Check = tile => tile.SourceId is null ? "Choose the transactions whose lifetime-value analysis to show." : null,
        },
        new()
        {
            Type = TileType.AliveMatrix, Label = "P(alive) matrix", Icon = "ViewModule", Source = TileSource.LifetimeAnalysis, Traits = TileTraits.NoCustomers,
            ShapeMessage = "A P(alive) matrix shows its lifetime-value analysis only, without dimensions or measures.",
            Check = tile => tile.SourceId is null ? "Choose the transactions whose lifetime-value analysis to show." : null,
        },
        new()
        {
            Type = TileType.SurvivalCurves, Label = "Survival curves", Icon = "MultilineChart", Source = TileSource.SurvivalAnalysis, Traits = TileTraits.NoCustomers,
            ShapeMessage = "A survival tile shows the viewer's survival analysis of its transactions only, without dimensions or measures.",
            Check = tile => tile.SourceId is null ? "Choose the transactions whose survival curves to show." : null,
        },
    ];

    private static readonly Dictionary<TileType, TileKind> ByType = Kinds.ToDictionary(k => k.Type);

    /// <summary>Every kind, in the order the editor lists them.</summary>
    public static IReadOnlyList<TileKind> All => Kinds;

    /// <summary>The description of a type; a type without one (not a <see cref="TileType"/>) is refused.</summary>
    public static TileKind Of(TileType type) => ByType.TryGetValue(type, out var kind) ? kind : throw new PortalException("Choose what the tile shows.");

    /// <summary>
    /// Bar, line and area charts (one or two dimensions along the axis and as series, one or more measures); pie and
    /// funnel (the parts of one measure by one dimension).
    /// </summary>
    private static TileKind Categories(TileType type, string label, string icon, bool parts = false) => new()
    {
        Type = type,
        Label = label,
        Icon = icon,
        MinDimensions = 1,
        MaxDimensions = parts ? 1 : 2,
        MinMeasures = 1,
        MaxMeasures = parts ? 1 : TileValidator.MaxMeasures,
        ShapeMessage = parts ? "A pie or funnel needs one dimension and one measure." : "A bar, line or area chart needs one or two dimensions and at least one measure.",
        Traits = TileTraits.TopN | TileTraits.Drills | (parts ? TileTraits.None : TileTraits.Metric),
    };
}
