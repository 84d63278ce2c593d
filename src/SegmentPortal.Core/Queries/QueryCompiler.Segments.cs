using System.Globalization;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Queries;

// Saved segments referred to by a rule: their members as a CTE, matched on the customer key.
internal sealed partial class QueryCompiler
{
    private string SegmentPredicate(SegmentCondition condition, Scope scope, IReadOnlyList<int> path)
    {
        if (!_context.Segments.TryGetValue(condition.SegmentId, out var segment))
        {
            throw Incomplete(condition.SegmentId == 0 ? "Choose a segment." : "That segment no longer exists.");
        }
        if (path.Contains(segment.Id))
        {
            var names = path.Append(segment.Id).Select(id => _context.Segments.TryGetValue(id, out var s) ? $"“{s.Name}”" : id.ToString(CultureInfo.InvariantCulture));
            throw new PortalException($"These segments refer to each other in a loop: {string.Join(" → ", names)}.");
        }
        var inner = NewScope(segment.Dataset, segment.Facts);
        inner.Candidates.AddRange(RowConjuncts(segment.Rule));
        var innerKey = CustomerKey(inner);
        var innerWhere = Predicate(segment.Rule, inner, strict: false, [.. path, segment.Id]);
        var members = $"SELECT {innerKey} AS k FROM {Source(segment.Dataset)} AS {inner.Alias}{string.Concat(inner.Joins)}" +
            (innerWhere is null ? "" : $" WHERE {innerWhere}");
        var name = $"s{_ctes.Count + 1}";
        _ctes.Add(() => $"{name} AS ({members})");
        var keysMatch = KeysMatch($"{name}.k", segment.Dataset.WithRole(FieldRole.CustomerId)!.Type, CustomerKey(scope), scope.Dataset.WithRole(FieldRole.CustomerId)!.Type);
        var isIn = $"EXISTS (SELECT 1 FROM {name} WHERE {keysMatch})";
        return condition.In ? isIn : $"NOT {isIn}";
    }

    /// <summary>Customer keys from two datasets may be typed differently (17850 and 17850.0); then compare as text of whole numbers.</summary>
    private string KeysMatch(string left, ColumnType leftType, string right, ColumnType rightType)
    {
        if (leftType == rightType)
        {
            return $"{left} = {right}";
        }
        if (leftType is ColumnType.Integer or ColumnType.Decimal && rightType is ColumnType.Integer or ColumnType.Decimal)
        {
            return $"{_d.AsDouble(left)} = {_d.AsDouble(right)}";
        }
        return $"{_d.AsText(left)} = {_d.AsText(right)}";
    }
}
