using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// A clicked value as a rule condition on a field: the period of a bucketed date, the bin of a number, or the value
/// itself. Every restriction a click makes (cross-filter, drill, underlying rows, top-N "Other") is built here.
/// </summary>
public static class Marks
{
    /// <summary>The condition, or null when the value cannot apply to this field (another kind, not a date, …).</summary>
    public static RuleNode? Condition(QueryField field, DateBucket? bucket, double? binWidth, string? value)
    {
        if (value is null)
        {
            return Field(field, RuleOperator.IsEmpty);
        }
        if (bucket is { } b)
        {
            if (field.Kind != FieldKind.Date || Periods.AsDate(value) is not { } date)
            {
                return null;
            }
            var start = Periods.Start(date, b);
            return Field(field, RuleOperator.Between, DashboardFilters.Text(start), DashboardFilters.Text(Periods.End(start, b)));
        }
        if (binWidth is { } width)
        {
            if (field.Kind != FieldKind.Number || !TryNumber(value, out var low))
            {
                return null;
            }
            // The bin [low, low + width): the same edges floor(x / width) * width gives.
            return new RuleGroup
            {
                Children =
                [
                    Field(field, RuleOperator.GreaterOrEqual, DashboardFilters.Text(low)),
                    Field(field, RuleOperator.Less, DashboardFilters.Text(low + width)),
                ],
            };
        }
        return field.Kind switch
        {
            FieldKind.Date => Periods.AsDate(value) is { } day ? Field(field, RuleOperator.On, DashboardFilters.Text(day)) : null,
            FieldKind.Number => TryNumber(value, out var number) ? Field(field, RuleOperator.Equals, DashboardFilters.Text(number)) : null,
            FieldKind.Boolean => value switch
            {
                "true" => Field(field, RuleOperator.IsTrue),
                "false" => Field(field, RuleOperator.IsFalse),
                _ => null,
            },
            _ => value.Length == 0 ? Field(field, RuleOperator.IsEmpty) : new FieldCondition { Field = field.Name, Operator = RuleOperator.In, Values = [value] },
        };
    }

    public static RuleNode? Condition(QueryField field, TileDimension grouping, string? value) =>
        Condition(field, grouping.Bucket, grouping.BinWidth, value);

    /// <summary>
    /// Rows in any of the values (the top N), or in none of them (the rest, "Other") when <paramref name="none"/>. Plain
    /// categories and text become one list comparison (one parameter, not a condition per value).
    /// </summary>
    public static RuleGroup AnyOf(QueryField field, TileDimension grouping, IEnumerable<string?> values, bool none = false)
    {
        var list = values.ToList();
        var asList = grouping.Bucket is null && grouping.BinWidth is null && field.Kind is FieldKind.Category or FieldKind.Text
            && list.All(v => v is null || v.Length > 0);
        var children = asList
            ? new List<RuleNode> { new FieldCondition { Field = field.Name, Operator = RuleOperator.In, Values = list.OfType<string>().ToList() } }
                .Concat(list.Any(v => v is null) ? [Field(field, RuleOperator.IsEmpty)] : []).Where(c => c is not FieldCondition { Operator: RuleOperator.In, Values.Count: 0 }).ToList()
            : list.Select(v => Condition(field, grouping, v) ?? throw new PortalException($"“{v}” is not a value of {field.Name}.")).ToList();
        return new RuleGroup { Combinator = Combinator.Or, Not = none, Children = children };
    }

    private static FieldCondition Field(QueryField field, RuleOperator op, string? value = null, string? value2 = null) =>
        new() { Field = field.Name, Operator = op, Value = value, Value2 = value2 };

    private static bool TryNumber(string value, out double number) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);
}
