using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Web.Components.Dashboards;

namespace SegmentPortal.Web.Components.Metrics;

/// <summary>
/// The metric editor's working copy: mutable for MudBlazor's inputs, with the measure as the tile editor's
/// <see cref="MeasureDraft"/> (the same measure editor) and targets as the author types them (percentages as percent).
/// </summary>
public sealed class MetricDraft
{
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public int? DatasetId { get; set; }

    public int? SegmentId { get; set; }

    public MeasureDraft Measure { get; set; } = new() { Kind = TileMeasureKind.Sum };

    /// <summary>A ratio's numerator counts only the rows this rule matches ("customers who ordered twice").</summary>
    public RuleTree NumeratorFilter { get; set; } = new();

    public RuleTree Filter { get; set; } = new();

    public string? TimeColumn { get; set; }

    public DateBucket Grain { get; set; } = DateBucket.Month;

    public MetricFormat Format { get; set; }

    public string? Unit { get; set; }

    public int Decimals { get; set; }

    public MetricDirection Direction { get; set; }

    /// <summary>As typed: 35 for a percentage metric's 35%.</summary>
    public double? Target { get; set; }

    public double? WarnAt { get; set; }

    public double? BadAt { get; set; }

    public static MetricDraft From(MetricDefinition definition) => new()
    {
        Name = definition.Name,
        Description = definition.Description,
        DatasetId = definition.DatasetId,
        SegmentId = definition.SegmentId,
        Measure = ToDraft(definition.Measure),
        NumeratorFilter = RuleTree.FromJson(definition.Measure.Numerator?.FilterJson),
        Filter = RuleTree.FromJson(definition.RuleJson),
        TimeColumn = definition.TimeColumn,
        Grain = definition.Grain,
        Format = definition.Format,
        Unit = definition.Unit,
        Decimals = definition.Decimals,
        Direction = definition.Direction,
        Target = MetricFormatting.ToDisplay(definition.Target, definition.Format),
        WarnAt = MetricFormatting.ToDisplay(definition.WarnAt, definition.Format),
        BadAt = MetricFormatting.ToDisplay(definition.BadAt, definition.Format),
    };

    public MetricDefinition ToDefinition()
    {
        var measure = ToMeasure(Measure);
        if (measure.Kind == MetricMeasureKind.Ratio && measure.Numerator is { } numerator && NumeratorFilter.Root.Children.Count > 0)
        {
            measure = measure with { Numerator = numerator with { FilterJson = NumeratorFilter.ToJson() } };
        }
        var direction = Direction;
        return new MetricDefinition
        {
            Name = Name,
            Description = Description,
            DatasetId = DatasetId ?? 0,
            SegmentId = SegmentId,
            Measure = measure,
            RuleJson = Filter.Root.Children.Count == 0 ? null : Filter.ToJson(),
            TimeColumn = TimeColumn ?? "",
            Grain = Grain,
            Format = Format,
            Unit = Unit,
            Decimals = Decimals,
            Direction = direction,
            Target = MetricFormatting.FromDisplay(Target, Format),
            // Lines without a direction mean nothing; they are kept in the draft but not sent.
            WarnAt = direction == MetricDirection.None ? null : MetricFormatting.FromDisplay(WarnAt, Format),
            BadAt = direction == MetricDirection.None ? null : MetricFormatting.FromDisplay(BadAt, Format),
        };
    }

    private static MeasureDraft ToDraft(MetricMeasure measure) => new()
    {
        Kind = Enum.Parse<TileMeasureKind>(measure.Kind.ToString()),
        Column = measure.Column,
        Numerator = measure.Numerator is { } n ? ToDraft(n) : null,
        Denominator = measure.Denominator is { } d ? ToDraft(d) : null,
    };

    private static MetricMeasure ToMeasure(MeasureDraft draft)
    {
        var kind = Enum.Parse<MetricMeasureKind>(draft.Kind.ToString());
        return kind == MetricMeasureKind.Ratio
            ? new MetricMeasure(kind, Numerator: ToMeasure(draft.Numerator ?? new MeasureDraft()), Denominator: ToMeasure(draft.Denominator ?? new MeasureDraft()))
            : new MetricMeasure(kind, MetricMeasures.NeedsColumn(kind) ? draft.Column : null);
    }
}
