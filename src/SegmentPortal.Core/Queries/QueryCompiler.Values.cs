using System.Globalization;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Queries;

// Values: always parameters, parsed from the rule builder's text.
internal sealed partial class QueryCompiler
{
    private string Param(object value)
    {
        var name = $"p{_parameters.Count + 1}";
        _parameters[name] = value;
        return _d.Parameter(name);
    }

    /// <summary>
    /// A number as a parameter. A whole number against a whole-number column stays a whole number; anything else is
    /// compared as a double, so DuckDB does not bind the parameter to the column's type (rounding 4.5 to 4, or failing
    /// on 1e20, or rounding to a DECIMAL column's scale).
    /// </summary>
    private string Number(string? value, string label, ColumnType type) => ParseNumber(value, label, type) switch
    {
        long whole => Param(whole),
        var number => _d.AsDouble(Param(number)),
    };

    private static object ParseNumber(string? value, string label, ColumnType type)
    {
        var text = value?.Trim().Replace(",", "", StringComparison.Ordinal);
        if (string.IsNullOrEmpty(text))
        {
            throw Incomplete($"Enter a number for {label}.");
        }
        if (type == ColumnType.Integer && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return whole;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : throw Incomplete($"“{value}” is not a number ({label}).");
    }

    private static DateOnly Date(string? value, string label) =>
        DateOnly.TryParseExact(value?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw Incomplete(string.IsNullOrWhiteSpace(value) ? $"Pick a date for {label}." : $"“{value}” is not a date like 2024-12-31 ({label}).");
}
