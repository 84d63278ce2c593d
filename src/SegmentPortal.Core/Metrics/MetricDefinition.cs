using System.Text.Json;
using System.Text.Json.Serialization;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Metrics;

/// <summary>
/// Everything a metric's author decides: what a create or an update sends, and what a <see cref="MetricRevision"/>
/// keeps before and after a change (as JSON, <see cref="ToJson"/>).
/// </summary>
public sealed record MetricDefinition
{
    public required string Name { get; init; }

    public string? Description { get; init; }

    public required int DatasetId { get; init; }

    public int? SegmentId { get; init; }

    public required MetricMeasure Measure { get; init; }

    /// <summary>Which rows count (the rule builder's JSON); null or an empty rule for every row.</summary>
    public string? RuleJson { get; init; }

    public required string TimeColumn { get; init; }

    public DateBucket Grain { get; init; } = DateBucket.Month;

    public MetricFormat Format { get; init; }

    public string? Unit { get; init; }

    public int Decimals { get; init; }

    public double? Target { get; init; }

    public MetricDirection Direction { get; init; }

    public double? WarnAt { get; init; }

    public double? BadAt { get; init; }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static MetricDefinition FromJson(string json) =>
        JsonSerializer.Deserialize<MetricDefinition>(json, Json) ?? throw new PortalException("This metric's saved definition cannot be read.");

    /// <summary>The definition of a stored metric.</summary>
    public static MetricDefinition Of(Metric metric) => new()
    {
        Name = metric.Name,
        Description = metric.Description,
        DatasetId = metric.DatasetId,
        SegmentId = metric.SegmentId,
        Measure = MetricMeasures.Read(metric.MeasureJson),
        RuleJson = metric.RuleJson,
        TimeColumn = metric.TimeColumn,
        Grain = metric.Grain,
        Format = metric.Format,
        Unit = metric.Unit,
        Decimals = metric.Decimals,
        Target = metric.Target,
        Direction = metric.Direction,
        WarnAt = metric.WarnAt,
        BadAt = metric.BadAt,
    };

    /// <summary>Writes this definition onto a stored metric.</summary>
    public void ApplyTo(Metric metric)
    {
        metric.Name = Name;
        metric.Description = Description;
        metric.DatasetId = DatasetId;
        metric.SegmentId = SegmentId;
        metric.MeasureJson = MetricMeasures.Write(Measure);
        metric.RuleJson = RuleJson;
        metric.TimeColumn = TimeColumn;
        metric.Grain = Grain;
        metric.Format = Format;
        metric.Unit = Unit;
        metric.Decimals = Decimals;
        metric.Target = Target;
        metric.Direction = Direction;
        metric.WarnAt = WarnAt;
        metric.BadAt = BadAt;
    }

    /// <summary>
    /// True when <paramref name="other"/> computes different numbers (another dataset, segment, measure, rule, date
    /// column or grain): what takes a metric's certification away. Names, words, formats and targets do not.
    /// </summary>
    public bool ComputesDifferentlyFrom(MetricDefinition other) =>
        DatasetId != other.DatasetId || SegmentId != other.SegmentId || MetricMeasures.Write(Measure) != MetricMeasures.Write(other.Measure)
        || NormalRule(RuleJson) != NormalRule(other.RuleJson) || TimeColumn != other.TimeColumn || Grain != other.Grain;

    /// <summary>
    /// What changed from <paramref name="before"/> to this definition, one line per change, in words ("Measure: Sum of
    /// amount → Average of amount"). <paramref name="names"/> names datasets and segments.
    /// </summary>
    public IReadOnlyList<string> Changes(MetricDefinition before, IMetricNames names)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(names);
        var changes = new List<string>();
        void Compare(string what, string? from, string? to)
        {
            if (!string.Equals(from, to, StringComparison.Ordinal))
            {
                changes.Add($"{what}: {Quoted(from)} → {Quoted(to)}");
            }
        }
        Compare("Name", before.Name, Name);
        Compare("Description", before.Description, Description);
        Compare("Dataset", names.Dataset(before.DatasetId), names.Dataset(DatasetId));
        Compare("Segment", before.SegmentId is { } s1 ? names.Segment(s1) : "all customers", SegmentId is { } s2 ? names.Segment(s2) : "all customers");
        Compare("Measure", MetricMeasures.Label(before.Measure, names), MetricMeasures.Label(Measure, names));
        if (NormalRule(before.RuleJson) != NormalRule(RuleJson))
        {
            changes.Add($"Filter: {Quoted(MetricMeasures.DescribeRule(before.RuleJson, names))} → {Quoted(MetricMeasures.DescribeRule(RuleJson, names))}");
        }
        Compare("Date column", before.TimeColumn, TimeColumn);
        Compare("Grain", before.Grain.ToString().ToLowerInvariant(), Grain.ToString().ToLowerInvariant());
        Compare("Format", before.Format.ToString().ToLowerInvariant(), Format.ToString().ToLowerInvariant());
        Compare("Unit", before.Unit, Unit);
        Compare("Decimals", before.Decimals.ToString(System.Globalization.CultureInfo.InvariantCulture), Decimals.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Compare("Direction", MetricFormatting.Direction(before.Direction), MetricFormatting.Direction(Direction));
        Compare("Target", Figure(before.Target, before), Figure(Target, this));
        Compare("Warning at", Figure(before.WarnAt, before), Figure(WarnAt, this));
        Compare("Bad at", Figure(before.BadAt, before), Figure(BadAt, this));
        return changes;
    }

    /// <summary>How a new metric is described in its first revision.</summary>
    public IReadOnlyList<string> Created(IMetricNames names) =>
    [
        $"Created: {MetricMeasures.Label(Measure, names)} of {names.Dataset(DatasetId) ?? "a dataset"} by {Grain.ToString().ToLowerInvariant()} of {TimeColumn}",
    ];

    private static string? Figure(double? value, MetricDefinition definition) =>
        value is null ? null : MetricFormatting.Format(value, definition.Format, definition.Unit, definition.Decimals);

    private static string Quoted(string? text) => string.IsNullOrEmpty(text) ? "(none)" : $"“{text}”";

    /// <summary>A rule as compared: an empty rule and no rule are the same.</summary>
    internal static string NormalRule(string? json)
    {
        var tree = RuleTree.FromJson(json);
        return tree.Root.Children.Count == 0 && !tree.Root.Not ? "" : tree.ToJson();
    }
}

/// <summary>Names of datasets and segments, for describing definitions in words; null when unknown.</summary>
public interface IMetricNames
{
    string? Dataset(int id);

    string? Segment(int id);
}
