using System.Globalization;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

// Query fusion: several grouped questions over the same rows of one dataset as one scan (see QueryFusion).
internal sealed partial class QueryCompiler
{
    private const string FusedTable = "fused_rows";
    private const string MemberColumn = "f_member";
    private const string RowColumn = "f_row";
    private const string SetColumn = "f_set";

    /// <summary>
    /// One query answering every member: the rows <paramref name="common"/> keeps (read once, through the same derived
    /// table of the user's rows and columns as each member alone), grouped by every member's grouping at once with
    /// <c>GROUPING SETS</c> (a grouping set per distinct grouping; <c>GROUPING()</c> tells a member's rows, so a group
    /// whose value is empty is never taken for a rolled-up row), every member's measures side by side (a member's own
    /// extra conditions as <c>FILTER</c>s of its measures, with a count of its rows to drop the groups it has none in),
    /// then per member its rows in its order, cut at its limit: a <c>UNION ALL</c> of one branch per member numbered
    /// by <c>row_number()</c>, which <see cref="SplitFused"/> turns back into each member's own result.
    /// </summary>
    public static FusedQuery CompileFused(RuleGroup common, IReadOnlyList<FusionMember> members, CompileContext context)
    {
        var compiler = new QueryCompiler(context);
        return members.All(m => QueryFusion.RollsUp(m.Spec, context.Dataset)) && compiler.CustomersAsRows(members)
            ? compiler.CompileRollup(common, members)
            : new QueryCompiler(context).CompileFusedSpec(common, members);
    }

    /// <summary>Customers are counted as rows (unique keys), so their counts add up across groups.</summary>
    private bool CustomersAsRows(IReadOnlyList<FusionMember> members) =>
        members.All(m => m.Spec.Measures.All(x => x.Kind != MeasureKind.Customers)) || CountsRowsAsCustomers(new Scope("t0", _context.Dataset, _context.Facts));

    /// <summary>
    /// The fused query when every member's measures add up (counts, sums, lowest, highest, averages as sum and count)
    /// over groups of low cardinality: one <c>GROUP BY</c> of the rows every member reads by every member's groupings
    /// together (the finest grouping), with each measure's part per group (a member's own conditions as <c>FILTER</c>s
    /// of its parts, and a count of its rows), then each member's result grouped again from those few rows, in its
    /// order, cut at its limit: one scan of the dataset and one hash table, where <c>GROUPING SETS</c> fill one per
    /// grouping with every measure. A group whose value is empty stays a group of its own at every step.
    /// </summary>
    private FusedQuery CompileRollup(RuleGroup common, IReadOnlyList<FusionMember> members)
    {
        var dataset = _context.Dataset;
        var scope = NewScope(dataset, _context.Facts);
        scope.Candidates.AddRange(RowConjuncts(common));
        var where = Predicate(common, scope, strict: false, []);

        var groups = new List<(GroupBy Key, string Expression)>();
        int GroupIndex(GroupBy group)
        {
            var key = group with { Alias = null };
            var found = groups.FindIndex(g => g.Key == key);
            if (found >= 0)
            {
                return found;
            }
            groups.Add((key, GroupExpression(group, scope)));
            return groups.Count - 1;
        }
        var parts = new List<(string Key, string Sql)>();
        string Part(string key, Func<string> aggregate, RuleNode? condition)
        {
            key += '\u001f' + (condition is null ? "" : QueryFusion.Canonical(condition));
            var found = parts.FindIndex(p => p.Key == key);
            if (found < 0)
            {
                var sql = aggregate();
                parts.Add((key, condition is null ? sql : _d.Filtered(sql, Predicate(condition, scope, strict: false, []) ?? "true")));
                found = parts.Count - 1;
            }
            return _d.Quote($"f_p{found}");
        }
        var combined = new List<string>();
        int Combined(string sql)
        {
            var found = combined.IndexOf(sql);
            if (found < 0)
            {
                combined.Add(sql);
                found = combined.Count - 1;
            }
            return found;
        }
        string Count(string part) => $"CAST(coalesce(sum({part}), 0) AS BIGINT)";
        string Measured(Measure m)
        {
            var key = string.Join('\u001f', m.Kind, m.Column, m.Times);
            return m.Kind switch
            {
                MeasureKind.Count or MeasureKind.Customers => Count(Part(key, () => Aggregate(m, scope), m.Where)),
                MeasureKind.Sum => $"sum({Part(key, () => Aggregate(m, scope), m.Where)})",
                MeasureKind.Min => $"min({Part(key, () => Aggregate(m, scope), m.Where)})",
                MeasureKind.Max => $"max({Part(key, () => Aggregate(m, scope), m.Where)})",
                MeasureKind.Average =>
                    $"{_d.AsDouble($"sum({Part($"sum\u001f{m.Column}", () => Aggregate(m with { Kind = MeasureKind.Sum }, scope), m.Where)})")} / " +
                    $"nullif(sum({Part($"count\u001f{m.Column}", () => $"count({Column(scope, m.Column!)})", m.Where)}), 0)",
                _ => throw new InvalidOperationException($"{m.Kind} does not add up across groups."),
            };
        }

        var plans = members.Select(member =>
        {
            var spec = member.Spec;
            var groupIndexes = spec.GroupBy.Select(GroupIndex).ToList();
            var measureIndexes = spec.Measures.Select(m => Combined(Measured(member.Residual is { } residual
                ? m with { Where = m.Where is null ? residual : new RuleGroup { Children = [residual, m.Where] } }
                : m))).ToList();
            var rowsOfMember = member.Residual is { } only && spec.GroupBy.Count > 0 ? Part("rows", () => "count(*)", only) : null;
            return (Spec: spec, Groups: groupIndexes, Measures: measureIndexes, RowsOfMember: rowsOfMember);
        }).ToList();

        var select = groups.Select((g, i) => $"{g.Expression} AS {_d.Quote($"f_g{i}")}").Concat(parts.Select((p, j) => $"{p.Sql} AS {_d.Quote($"f_p{j}")}")).ToList();
        var from = $"{Source(dataset)} AS {scope.Alias}{string.Concat(scope.Joins)}";
        var fused = $"SELECT {string.Join(", ", select)} FROM {from}{(where is null ? "" : $" WHERE {where}")}" +
            (groups.Count == 0 ? "" : $" GROUP BY {string.Join(", ", groups.Select(g => g.Expression))}");

        var slots = Enumerable.Range(0, groups.Count).Select(i => $"f_g{i}").Concat(Enumerable.Range(0, combined.Count).Select(j => $"f_x{j}")).ToList();
        var quoted = string.Join(", ", slots.Select(_d.Quote));
        var branches = new List<string>();
        var results = new List<FusedPart>();
        for (var k = 0; k < plans.Count; k++)
        {
            var (spec, groupIndexes, measureIndexes, rowsOfMember) = plans[k];
            var names = spec.GroupBy.Select(g => g.Name).Concat(spec.Measures.Select(m => m.Alias)).ToList();
            var sources = groupIndexes.Select(i => $"f_g{i}").Concat(measureIndexes.Select(j => $"f_x{j}")).ToList();
            var order = string.Join(", ", spec.Sort.Select(s => OrderTerm(sources[names.IndexOf(s.Name)], s.Descending)));
            var values = Enumerable.Range(0, groups.Count).Select(i => groupIndexes.Contains(i) ? _d.Quote($"f_g{i}") : "NULL")
                .Concat(Enumerable.Range(0, combined.Count).Select(j => measureIndexes.Contains(j) ? combined[j] : "NULL"))
                .Select((value, i) => $"{value} AS {_d.Quote(slots[i])}");
            var inner = $"SELECT {string.Join(", ", values)} FROM {FusedTable}";
            if (spec.GroupBy.Count > 0)
            {
                inner += $" GROUP BY {string.Join(", ", groupIndexes.Distinct().Select(i => _d.Quote($"f_g{i}")))}";
                if (rowsOfMember is { } rows)
                {
                    inner += $" HAVING sum({rows}) > 0";
                }
            }
            if (spec.Limit is not null || spec.Offset > 0)
            {
                inner += $"{(order.Length > 0 ? $" ORDER BY {order}" : "")}{_d.LimitOffset(spec.Limit, spec.Offset)}";
            }
            branches.Add($"SELECT {k.ToString(CultureInfo.InvariantCulture)} AS {_d.Quote(MemberColumn)}, " +
                $"row_number() OVER (ORDER BY {(order.Length > 0 ? order : _d.Quote(slots.FirstOrDefault() ?? MemberColumn))}) AS {_d.Quote(RowColumn)}, {quoted} FROM ({inner}) AS b{k}");
            results.Add(new FusedPart(names, sources.Select(x => slots.IndexOf(x) + 2).ToList(), null));
        }

        var materialized = _d is DuckDbDialect ? "MATERIALIZED " : "";
        var ctes = _ctes.Select(cte => cte()).Append($"{FusedTable} AS {materialized}({fused})");
        var sql = $"WITH {string.Join(", ", ctes)} {string.Join(" UNION ALL ", branches)}";
        return new FusedQuery(new CompiledQuery(sql, _parameters, [MemberColumn, RowColumn, .. slots], _reads.DistinctBy(r => r.Id).ToList()), results);
    }

    private FusedQuery CompileFusedSpec(RuleGroup common, IReadOnlyList<FusionMember> members)
    {
        var dataset = _context.Dataset;
        var scope = NewScope(dataset, _context.Facts);
        scope.Candidates.AddRange(RowConjuncts(common));
        var where = Predicate(common, scope, strict: false, []);

        var groups = new List<(GroupBy Key, string Expression)>();
        int GroupIndex(GroupBy group)
        {
            var key = group with { Alias = null };
            var found = groups.FindIndex(g => g.Key == key);
            if (found >= 0)
            {
                return found;
            }
            groups.Add((key, GroupExpression(group, scope)));
            return groups.Count - 1;
        }
        var aggregates = new List<(string Key, string Sql)>();
        int MeasureIndex(Measure measure)
        {
            var key = string.Join('\u001f', measure.Kind, measure.Column, measure.Times, measure.Where is null ? "" : QueryFusion.Canonical(measure.Where));
            var found = aggregates.FindIndex(a => a.Key == key);
            if (found >= 0)
            {
                return found;
            }
            var aggregate = Aggregate(measure, scope);
            if (measure.Where is not null)
            {
                aggregate = _d.Filtered(aggregate, Predicate(measure.Where, scope, strict: false, []) ?? "true");
            }
            aggregates.Add((key, aggregate));
            return aggregates.Count - 1;
        }

        var plans = members.Select(member =>
        {
            var spec = member.Spec;
            var groupIndexes = spec.GroupBy.Select(GroupIndex).ToList();
            var measureIndexes = spec.Measures.Select(m => MeasureIndex(member.Residual is { } residual
                ? m with { Where = m.Where is null ? residual : new RuleGroup { Children = [residual, m.Where] } }
                : m)).ToList();
            int? rowsOfMember = member.Residual is { } only && spec.GroupBy.Count > 0 ? MeasureIndex(new Measure(MeasureKind.Count, "rows", Where: only)) : null;
            return (Spec: spec, Groups: groupIndexes, Measures: measureIndexes, RowsOfMember: rowsOfMember);
        }).ToList();
        if (groups.Count > QueryFusion.MaxGroupings)
        {
            throw new InvalidOperationException($"A fused query groups by at most {QueryFusion.MaxGroupings} expressions.");
        }

        // A member's grouping set, and its number: GROUPING(e) is 1 where e is rolled up, so bit i is set for every
        // grouping the member does not group by.
        long SetOf(IReadOnlyList<int> groupIndexes) =>
            Enumerable.Range(0, groups.Count).Where(i => !groupIndexes.Contains(i)).Sum(i => 1L << i);
        var sets = plans.Select(p => p.Groups.Distinct().Order().ToList()).DistinctBy(s => SetOf(s)).ToList();

        var select = new List<string>();
        var fusedColumns = new List<string>();
        for (var i = 0; i < groups.Count; i++)
        {
            select.Add($"{groups[i].Expression} AS {_d.Quote($"f_g{i}")}");
            fusedColumns.Add($"f_g{i}");
        }
        for (var j = 0; j < aggregates.Count; j++)
        {
            select.Add($"{aggregates[j].Sql} AS {_d.Quote($"f_x{j}")}");
            fusedColumns.Add($"f_x{j}");
        }
        string groupBy;
        if (sets.Count == 1)
        {
            select.Add($"0 AS {_d.Quote(SetColumn)}");
            groupBy = sets[0].Count == 0 ? "" : $" GROUP BY {string.Join(", ", sets[0].Select(i => groups[i].Expression))}";
        }
        else
        {
            var setNumber = string.Join(" + ", Enumerable.Range(0, groups.Count)
                .Select(i => $"GROUPING({groups[i].Expression}) * {(1L << i).ToString(CultureInfo.InvariantCulture)}"));
            select.Add($"{setNumber} AS {_d.Quote(SetColumn)}");
            groupBy = $" GROUP BY GROUPING SETS ({string.Join(", ", sets.Select(s => $"({string.Join(", ", s.Select(i => groups[i].Expression))})"))})";
        }
        fusedColumns.Add(SetColumn);

        var from = $"{Source(dataset)} AS {scope.Alias}{string.Concat(scope.Joins)}";
        var fused = $"SELECT {string.Join(", ", select)} FROM {from}{(where is null ? "" : $" WHERE {where}")}{groupBy}";
        var quoted = string.Join(", ", fusedColumns.Select(_d.Quote));

        var branches = new List<string>();
        var parts = new List<FusedPart>();
        for (var k = 0; k < plans.Count; k++)
        {
            var (spec, groupIndexes, measureIndexes, rowsOfMember) = plans[k];
            var names = spec.GroupBy.Select(g => g.Name).Concat(spec.Measures.Select(m => m.Alias)).ToList();
            var sources = groupIndexes.Select(i => $"f_g{i}").Concat(measureIndexes.Select(j => $"f_x{j}")).ToList();
            string FusedOf(string name) => sources[names.IndexOf(name)];
            var order = string.Join(", ", spec.Sort.Select(s => OrderTerm(FusedOf(s.Name), s.Descending)));
            var condition = $"{_d.Quote(SetColumn)} = {SetOf(groupIndexes).ToString(CultureInfo.InvariantCulture)}"
                + (rowsOfMember is { } n ? $" AND {_d.Quote($"f_x{n}")} > 0" : "");
            var inner = $"SELECT {quoted} FROM {FusedTable} WHERE {condition}";
            if (spec.Limit is not null || spec.Offset > 0)
            {
                inner += $"{(order.Length > 0 ? $" ORDER BY {order}" : "")}{_d.LimitOffset(spec.Limit, spec.Offset)}";
            }
            branches.Add($"SELECT {k.ToString(CultureInfo.InvariantCulture)} AS {_d.Quote(MemberColumn)}, " +
                $"row_number() OVER (ORDER BY {(order.Length > 0 ? order : _d.Quote(SetColumn))}) AS {_d.Quote(RowColumn)}, {quoted} FROM ({inner}) AS b{k}");
            parts.Add(new FusedPart(names, sources.Select(s => fusedColumns.IndexOf(s) + 2).ToList(),
                spec.GroupBy.Count == 0 ? spec.Measures.Select(m => m.Kind).ToList() : null));
        }

        // Every branch reads the grouped rows: computed once (PostgreSQL 12 and later materialize a CTE read more than
        // once by themselves; DuckDB is told).
        var materialized = _d is DuckDbDialect ? "MATERIALIZED " : "";
        var ctes = _ctes.Select(cte => cte()).Append($"{FusedTable} AS {materialized}({fused})");
        var sql = $"WITH {string.Join(", ", ctes)} {string.Join(" UNION ALL ", branches)}";
        var columns = new List<string> { MemberColumn, RowColumn };
        columns.AddRange(fusedColumns);
        return new FusedQuery(new CompiledQuery(sql, _parameters, columns, _reads.DistinctBy(r => r.Id).ToList()), parts);
    }

    /// <summary>A sort term as <see cref="CompileSpec"/> writes it: empty values last either way.</summary>
    private string OrderTerm(string column, bool descending) => $"{_d.Quote(column)}{(descending ? " DESC" : " ASC")} NULLS LAST";

    /// <summary>Each member's result from the fused one: its branch's rows, in its order, with its own column names.</summary>
    public static IReadOnlyList<QueryResult> SplitFused(FusedQuery fused, QueryResult result)
    {
        var byMember = fused.Parts.Select(_ => new List<(long Row, object?[] Values)>()).ToList();
        foreach (var row in result.Rows)
        {
            var member = Convert.ToInt32(row[0], CultureInfo.InvariantCulture);
            var number = Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
            var part = fused.Parts[member];
            byMember[member].Add((number, part.Columns.Select(c => row[c]).ToArray()));
        }
        return fused.Parts.Select((part, k) =>
        {
            var rows = byMember[k].OrderBy(r => r.Row).Select(r => r.Values).ToList();
            if (rows.Count == 0 && part.EmptyMeasures is { } kinds)
            {
                // Measures over no rows without grouping are still one row, as the member alone would answer.
                rows.Add(kinds.Select(k => k is MeasureKind.Count or MeasureKind.CountDistinct or MeasureKind.Customers or MeasureKind.Days ? (object?)0L : null).ToArray());
            }
            return new QueryResult(part.Names, rows, result.Elapsed, FromCache: false);
        }).ToList();
    }
}
