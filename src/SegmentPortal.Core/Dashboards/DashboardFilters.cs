using System.Globalization;
using System.Text.Json.Serialization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

/// <summary>Date ranges a date filter can follow, resolved against today each time the dashboard loads.</summary>
public enum DatePreset
{
    Last7Days,
    Last30Days,
    Last90Days,
    ThisMonth,
    LastMonth,
    ThisQuarter,
    ThisYear,
    Last12Months,
}

/// <summary>
/// A dashboard filter on a column by name. It narrows every tile whose dataset has a field of that name and of a
/// fitting kind, and is skipped for the others (<see cref="DashboardFilters.Applies"/>). A filter with nothing selected
/// is inactive: it shows a control but narrows nothing.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(DateRangeFilter), "dateRange")]
[JsonDerivedType(typeof(CategoryFilter), "category")]
[JsonDerivedType(typeof(NumericRangeFilter), "numericRange")]
public abstract record DashboardFilter(string Column)
{
    /// <summary>The name shown above the control; the column's name when empty.</summary>
    public string? Label { get; init; }

    [JsonIgnore]
    public abstract bool IsActive { get; }

    /// <summary>Whether the filter can narrow a field of this kind.</summary>
    public abstract bool Fits(FieldKind kind);
}

/// <summary>Rows whose date is from <see cref="From"/> to <see cref="To"/> (both included), or in a preset range.</summary>
public sealed record DateRangeFilter(string Column, DateOnly? From = null, DateOnly? To = null, DatePreset? Preset = null) : DashboardFilter(Column)
{
    public override bool IsActive => Preset is not null || From is not null || To is not null;

    public override bool Fits(FieldKind kind) => kind == FieldKind.Date;

    /// <summary>
    /// The range this filter means today. "Last N days" reads as the rule builder's "in the last N days" (today − N to
    /// today), so a dashboard and a segment agree; calendar presets run from the period's first day to its last.
    /// </summary>
    public (DateOnly? From, DateOnly? To) Resolve(DateOnly today)
    {
        (DateOnly, DateOnly) Calendar(RelativeUnit unit, bool previous)
        {
            var (start, end) = RelativeDates.Period(today, unit, previous);
            return (start, end.AddDays(-1));
        }
        return Preset switch
        {
            null => (From, To),
            DatePreset.Last7Days => (RelativeDates.Back(today, 7, RelativeUnit.Days), today),
            DatePreset.Last30Days => (RelativeDates.Back(today, 30, RelativeUnit.Days), today),
            DatePreset.Last90Days => (RelativeDates.Back(today, 90, RelativeUnit.Days), today),
            DatePreset.Last12Months => (RelativeDates.Back(today, 12, RelativeUnit.Months), today),
            DatePreset.ThisMonth => Calendar(RelativeUnit.Months, previous: false),
            DatePreset.LastMonth => Calendar(RelativeUnit.Months, previous: true),
            DatePreset.ThisQuarter => Calendar(RelativeUnit.Quarters, previous: false),
            DatePreset.ThisYear => Calendar(RelativeUnit.Years, previous: false),
            _ => throw new ArgumentOutOfRangeException(nameof(Preset)),
        };
    }
}

/// <summary>Rows whose value is one of <see cref="Values"/> (exactly as stored).</summary>
public sealed record CategoryFilter(string Column, IReadOnlyList<string> Values) : DashboardFilter(Column)
{
    public override bool IsActive => Values.Any(v => !string.IsNullOrEmpty(v));

    public override bool Fits(FieldKind kind) => kind is FieldKind.Category or FieldKind.Text;
}

/// <summary>Rows whose number is at least <see cref="Min"/> and at most <see cref="Max"/>.</summary>
public sealed record NumericRangeFilter(string Column, double? Min = null, double? Max = null) : DashboardFilter(Column)
{
    public override bool IsActive => Min is not null || Max is not null;

    public override bool Fits(FieldKind kind) => kind == FieldKind.Number;
}

/// <summary>Which tiles a dashboard filter does not narrow (their dataset has no such field, or it is of another kind).</summary>
public sealed record FilterCoverage(int Index, DashboardFilter Filter, IReadOnlyList<string> NotAppliedTo);

/// <summary>Dashboard filters as rule conditions over one dataset.</summary>
internal static class DashboardFilters
{
    private static readonly DateOnly Earliest = new(1, 1, 1);
    private static readonly DateOnly Latest = new(9999, 12, 31);

    /// <summary>Whether the filter narrows this dataset: it has a field of that name, of a kind the filter fits.</summary>
    public static bool Applies(DashboardFilter filter, QueryDataset dataset) =>
        dataset.Field(filter.Column) is { } field && filter.Fits(field.Kind);

    /// <summary>The condition for an active filter that applies to the dataset; null otherwise.</summary>
    public static RuleNode? Condition(DashboardFilter filter, QueryDataset dataset, DateOnly today)
    {
        if (!filter.IsActive || !Applies(filter, dataset))
        {
            return null;
        }
        switch (filter)
        {
            case DateRangeFilter date:
            {
                var (from, to) = date.Resolve(today);
                return new FieldCondition { Field = filter.Column, Operator = RuleOperator.Between, Value = Text(from ?? Earliest), Value2 = Text(to ?? Latest) };
            }
            case CategoryFilter category:
                return new FieldCondition { Field = filter.Column, Operator = RuleOperator.In, Values = category.Values.Where(v => !string.IsNullOrEmpty(v)).Distinct().ToList() };
            case NumericRangeFilter range:
            {
                var parts = new List<RuleNode>();
                if (range.Min is { } min)
                {
                    parts.Add(new FieldCondition { Field = filter.Column, Operator = RuleOperator.GreaterOrEqual, Value = Text(min) });
                }
                if (range.Max is { } max)
                {
                    parts.Add(new FieldCondition { Field = filter.Column, Operator = RuleOperator.LessOrEqual, Value = Text(max) });
                }
                return parts.Count == 1 ? parts[0] : new RuleGroup { Children = parts };
            }
            default:
                throw new PortalException($"Unknown filter {filter.GetType().Name}.");
        }
    }

    /// <summary>Refuses filters that could never work: no column, a reversed range, an unknown preset.</summary>
    public static void Validate(IReadOnlyList<DashboardFilter> filters)
    {
        if (filters.Count > 20)
        {
            throw new PortalException("A dashboard has at most 20 filters.");
        }
        foreach (var filter in filters)
        {
            var name = string.IsNullOrWhiteSpace(filter.Label) ? filter.Column : filter.Label;
            if (string.IsNullOrWhiteSpace(filter.Column))
            {
                throw new PortalException("Choose the column each filter narrows.");
            }
            switch (filter)
            {
                case DateRangeFilter { Preset: { } preset } when !Enum.IsDefined(preset):
                    throw new PortalException($"The filter {name} has an unknown date range.");
                case DateRangeFilter { Preset: null, From: { } from, To: { } to } when from > to:
                    throw new PortalException($"The filter {name} ends before it starts.");
                case NumericRangeFilter { Min: { } min, Max: { } max } when min > max:
                    throw new PortalException($"The filter {name} has its lowest value above its highest.");
                case NumericRangeFilter range when range.Min is { } m && !double.IsFinite(m) || range.Max is { } x && !double.IsFinite(x):
                    throw new PortalException($"The filter {name} needs ordinary numbers.");
                case CategoryFilter { Values: null }:
                    throw new PortalException($"The filter {name} has no list of values.");
                case CategoryFilter category when category.Values.Count > 1000:
                    throw new PortalException($"The filter {name} has more than 1,000 values selected.");
            }
        }
    }

    internal static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static string Text(double number) => number.ToString("R", CultureInfo.InvariantCulture);
}
