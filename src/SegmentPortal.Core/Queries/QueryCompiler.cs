using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>What a compile needs besides the spec: the dataset, where facts come from, today, saved segments, row rules.</summary>
public sealed record CompileContext
{
    public required QueryDataset Dataset { get; init; }

    public FactSource? Facts { get; init; }

    /// <summary>"Today" for relative dates; from the clock, fixed in tests.</summary>
    public required DateOnly Today { get; init; }

    /// <summary>Every segment the rule refers to, directly or through other segments.</summary>
    public IReadOnlyDictionary<int, SegmentReference> Segments { get; init; } = new Dictionary<int, SegmentReference>();

    public SqlDialect Dialect { get; init; } = DuckDbDialect.Instance;

    /// <summary>No two rows of the dataset share a customer key (checked on the data): customers can be counted as rows.</summary>
    public bool CustomerKeyUnique { get; init; }
}

/// <summary>A condition that cannot run yet (incomplete or wrong value); the builder marks it and the query skips it.</summary>
public sealed record RuleProblem(string NodeId, string Message);

/// <summary>
/// Turns a <see cref="QuerySpec"/> into parameterized SQL. Values are always parameters; identifiers come only from the
/// dataset's known columns and are quoted; an unknown field is refused. Conditions that are incomplete are skipped (and
/// reported by <see cref="Check"/>), so a rule being built still counts.
/// </summary>
public sealed partial class QueryCompiler
{
    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9_]+\\.\"(?:[^\"]|\"\")+\" IS (?:NOT )?NULL$")]
    private static partial System.Text.RegularExpressions.Regex NullTest();

    private readonly CompileContext _context;
    private readonly SqlDialect _d;
    private readonly Dictionary<string, object?> _parameters = [];
    private readonly List<Func<string>> _ctes = [];
    private readonly List<QueryDataset> _reads = [];
    private readonly List<RuleProblem> _problems = [];
    private int _aliases;

    private QueryCompiler(CompileContext context)
    {
        _context = context;
        _d = context.Dialect;
    }

    public static CompiledQuery Compile(QuerySpec spec, CompileContext context) => new QueryCompiler(context).CompileSpec(spec);

    /// <summary>The problems of a rule (incomplete or invalid conditions), by node id, without compiling a query.</summary>
    public static IReadOnlyList<RuleProblem> Check(RuleGroup rule, CompileContext context)
    {
        var compiler = new QueryCompiler(context);
        compiler.Predicate(rule, compiler.NewScope(context.Dataset, context.Facts), strict: false, []);
        return compiler._problems;
    }

    /// <summary>The SQL condition of one rule node over the spec's dataset (alias <c>t0</c>), for filtered measures.</summary>
    private CompiledQuery CompileSpec(QuerySpec spec)
    {
        var dataset = _context.Dataset;
        if (spec.DatasetId != dataset.Id)
        {
            throw new InvalidOperationException("The compile context is for another dataset.");
        }
        var scope = NewScope(dataset, _context.Facts);
        if (spec.Filter is not null)
        {
            scope.Candidates.AddRange(RowConjuncts(spec.Filter));
        }
        var where = new List<string>();
        if (spec.Filter is not null && Predicate(spec.Filter, scope, strict: false, []) is { } filter)
        {
            where.Add(filter);
        }

        var select = new List<string>();
        var columns = new List<string>();
        var groupBy = new List<string>();
        if (spec.Measures.Count == 0)
        {
            var names = spec.Columns.Count == 0 ? dataset.OwnFields.Select(f => f.Name).ToList() : spec.Columns.ToList();
            foreach (var name in names)
            {
                select.Add($"{Column(scope, name)} AS {_d.Quote(name)}");
                columns.Add(name);
            }
            foreach (var fact in spec.Facts)
            {
                select.Add($"{FactColumnValue(fact, scope)} AS {_d.Quote(fact.Alias)}");
                columns.Add(fact.Alias);
            }
        }
        else
        {
            foreach (var group in spec.GroupBy)
            {
                var expression = GroupExpression(group, scope);
                select.Add($"{expression} AS {_d.Quote(group.Name)}");
                groupBy.Add(expression);
                columns.Add(group.Name);
            }
            foreach (var measure in spec.Measures)
            {
                var aggregate = Aggregate(measure, scope);
                if (measure.Where is not null)
                {
                    aggregate = _d.Filtered(aggregate, Predicate(measure.Where, scope, strict: false, []) ?? "true");
                }
                select.Add($"{aggregate} AS {_d.Quote(measure.Alias)}");
                columns.Add(measure.Alias);
            }
        }

        var from = $"{Source(dataset)} AS {scope.Alias}{string.Concat(scope.Joins)}";
        var whereSql = where.Count == 0 ? "" : $" WHERE {string.Join(" AND ", where)}";
        string body;
        if (spec.DistinctCustomers && spec.Measures.Count == 0)
        {
            var key = CustomerKey(scope);
            body = $"SELECT DISTINCT ON ({key}) {string.Join(", ", select)} FROM {from}{whereSql} ORDER BY {key}";
            body = $"SELECT * FROM ({body}) AS members";
        }
        else
        {
            body = $"SELECT {string.Join(", ", select)} FROM {from}{whereSql}";
            if (groupBy.Count > 0)
            {
                body += $" GROUP BY {string.Join(", ", groupBy)}";
            }
        }
        if (spec.Sort.Count > 0)
        {
            var sorts = spec.Sort.Select(s => columns.Contains(s.Name, StringComparer.Ordinal)
                ? $"{_d.Quote(s.Name)}{(s.Descending ? " DESC" : " ASC")} NULLS LAST"
                : throw new PortalException($"Cannot sort by \"{s.Name}\": it is not in the result."));
            body += $" ORDER BY {string.Join(", ", sorts)}";
        }
        body += _d.LimitOffset(spec.Limit, spec.Offset);
        var sql = _ctes.Count == 0 ? body : $"WITH {string.Join(", ", _ctes.Select(cte => cte()))} {body}";
        return new CompiledQuery(sql, _parameters, columns, _reads.DistinctBy(r => r.Id).ToList());
    }

    /// <summary>
    /// What a group is: a column or a customer fact, as is, in date periods, or in bins. A bin's width is a parameter;
    /// the same parameter appears twice so the bin is named by its lower edge.
    /// </summary>
    private string GroupExpression(GroupBy group, Scope scope)
    {
        string expression;
        FieldKind kind;
        string label;
        if (group.Fact is { } fact)
        {
            (expression, kind, label) = (FactColumnValue(fact, scope), fact.Measure == CustomerMeasure.FirstOrderDate ? FieldKind.Date : FieldKind.Number, group.Name);
        }
        else
        {
            var field = RequireField(scope.Dataset, group.Column);
            (expression, kind, label) = (Column(scope, field.Name), field.Kind, field.Name);
        }
        if (group.Bucket is { } bucket)
        {
            if (group.BinWidth is not null)
            {
                throw new PortalException($"{label} can be grouped by date periods or by bins, not both.");
            }
            return kind == FieldKind.Date ? _d.Truncate(bucket, expression) : throw new PortalException($"{label} is not a date, so it cannot be grouped by {bucket}.");
        }
        if (group.BinWidth is { } width)
        {
            if (kind != FieldKind.Number)
            {
                throw new PortalException($"{label} is not a number, so it cannot be grouped in bins.");
            }
            if (!double.IsFinite(width) || width <= 0)
            {
                throw new PortalException($"The bin width for {label} must be a number above 0.");
            }
            var w = Param(width);
            return $"floor({_d.AsDouble(expression)} / {w}) * {w}";
        }
        return expression;
    }

    private sealed class Scope(string alias, QueryDataset dataset, FactSource? facts)
    {
        public string Alias { get; } = alias;

        public QueryDataset Dataset { get; } = dataset;

        public FactSource? Facts { get; } = facts;

        public List<string> Joins { get; } = [];

        /// <summary>
        /// Conditions every row of this scope's query must meet (top-level AND parts on its own columns only): the
        /// order facts need computing only for the customers that meet them.
        /// </summary>
        public List<RuleNode> Candidates { get; } = [];

        /// <summary>The one grouped pass over the related orders that every fact condition of this scope reads.</summary>
        public FactTable? FactTable { get; set; }

        /// <summary>Customer attribute tables joined to this scope, by table, with their aliases.</summary>
        public Dictionary<string, string> Attributes { get; } = [];
    }

    /// <summary>
    /// Customer facts as columns of one <c>GROUP BY</c> over the orders: each fact (with its window) is one aggregate, with
    /// <c>FILTER</c> for its window, shared by every condition and measure that asks for the same fact.
    /// </summary>
    private sealed class FactTable(string name, string key, string from)
    {
        private readonly Dictionary<string, string> _columns = [];
        private readonly List<string> _selects = [];

        public string Name { get; } = name;

        /// <summary>The column for a fact, added on first use; <paramref name="aggregate"/> is only called then.</summary>
        public string Column(string identity, Func<string> aggregate)
        {
            if (!_columns.TryGetValue(identity, out var column))
            {
                column = $"v{_columns.Count + 1}";
                _selects.Add($"{aggregate()} AS {column}");
                _columns[identity] = column;
            }
            return $"{Name}.{column}";
        }

        public string Render() => $"{Name} AS (SELECT {key} AS k, {string.Join(", ", _selects)} FROM {from} WHERE {key} IS NOT NULL GROUP BY 1)";
    }

    /// <summary>The parts of a top-level AND that read only the scope's own columns (no facts, no segments).</summary>
    private static IEnumerable<RuleNode> RowConjuncts(RuleGroup group) =>
        group is { Not: false, Combinator: Combinator.And }
            ? group.Children.Where(c => c is FieldCondition || (c is RuleGroup g && g.Descendants().All(d => d is FieldCondition or RuleGroup)))
            : group.Children.Count == 1 && !group.Not && group.Children[0] is RuleGroup only ? RowConjuncts(only) : [];

    private Scope NewScope(QueryDataset dataset, FactSource? facts)
    {
        _reads.Add(dataset);
        return new Scope($"t{_aliases++}", dataset, facts);
    }

    private string Aggregate(Measure measure, Scope scope)
    {
        string Col() => Column(scope, RequireField(scope.Dataset, measure.Column
            ?? throw new PortalException($"The measure {measure.Alias} needs a column.")).Name);
        string NumericOf(string? name)
        {
            var field = RequireField(scope.Dataset, name ?? throw new PortalException($"The measure {measure.Alias} needs a column."));
            return field.Kind == FieldKind.Number ? Column(scope, field.Name) : throw new PortalException($"{field.Name} is not a number.");
        }
        string Numeric() => NumericOf(measure.Column);
        if (measure.Times is not null && measure.Kind != MeasureKind.Sum)
        {
            throw new PortalException($"Only a sum can multiply two columns ({measure.Alias}).");
        }
        return measure.Kind switch
        {
            MeasureKind.Count => "count(*)",
            MeasureKind.CountDistinct => $"count(DISTINCT {Col()})",
            MeasureKind.Days => RequireField(scope.Dataset, measure.Column ?? throw new PortalException($"The measure {measure.Alias} needs a column.")).Kind == FieldKind.Date
                ? $"count(DISTINCT {_d.Truncate(DateBucket.Day, Col())})"
                : throw new PortalException($"{measure.Column} is not a date, so its days cannot be counted."),
            MeasureKind.Sum => measure.Times is { } times ? $"sum({Numeric()} * {NumericOf(times)})" : $"sum({Numeric()})",
            MeasureKind.Average => $"avg({Numeric()})",
            MeasureKind.Median => _d.Median(Numeric()),
            MeasureKind.LowerQuartile => _d.Quantile(Numeric(), 0.25),
            MeasureKind.UpperQuartile => _d.Quantile(Numeric(), 0.75),
            MeasureKind.Min => $"min({Col()})",
            MeasureKind.Max => $"max({Col()})",
            MeasureKind.Customers => CountsRowsAsCustomers(scope) ? $"count({CustomerKey(scope)})" : $"count(DISTINCT {CustomerKey(scope)})",
            _ => throw new ArgumentOutOfRangeException(nameof(measure)),
        };
    }

    /// <summary>
    /// With unique keys each row is one customer, as long as the join to the orders' facts cannot match one customer
    /// twice (keys of the same type match one to one).
    /// </summary>
    private bool CountsRowsAsCustomers(Scope scope) =>
        _context.CustomerKeyUnique && ReferenceEquals(scope.Dataset, _context.Dataset)
        && (_context.Facts is not { } facts || facts.Orders.Field(facts.CustomerKey)?.Type == scope.Dataset.WithRole(FieldRole.CustomerId)?.Type);

    private string CustomerKey(Scope scope) =>
        Column(scope, (scope.Dataset.WithRole(FieldRole.CustomerId)
            ?? throw new PortalException($"{scope.Dataset.Name} has no Customer ID column. Set one on the dataset's Columns & roles tab.")).Name);

    private string Column(Scope scope, string name)
    {
        var field = RequireField(scope.Dataset, name);
        return field.Source is { } source
            ? $"{AttributeAlias(scope, source)}.{_d.Quote(field.SourceColumn ?? field.Name)}"
            : $"{scope.Alias}.{_d.Quote(field.Name)}";
    }

    /// <summary>The alias of a customer attribute table in a scope, LEFT JOINed on the customer key on first use (one row per key).</summary>
    private string AttributeAlias(Scope scope, AttributeTable source)
    {
        if (!scope.Attributes.TryGetValue(source.Table, out var alias))
        {
            alias = $"a{scope.Alias}_{scope.Attributes.Count + 1}";
            var myKey = scope.Dataset.WithRole(FieldRole.CustomerId)
                ?? throw new PortalException($"{scope.Dataset.Name} has no Customer ID column, so {source.Name} fields cannot be used.");
            scope.Attributes[source.Table] = alias;
            scope.Joins.Add($" LEFT JOIN {_d.Quote(source.Table)} AS {alias} ON {KeysMatch($"{alias}.{_d.Quote(source.Key)}", source.KeyType, Column(scope, myKey.Name), myKey.Type)}");
        }
        return alias;
    }

    private static QueryField RequireField(QueryDataset dataset, string name) =>
        dataset.Field(name) ?? throw new PortalException(dataset.HiddenColumns.Contains(name, StringComparer.Ordinal)
            ? $"You do not have access to the column \"{name}\" of {dataset.Name}."
            : $"{dataset.Name} has no field \"{name}\".");

    /// <summary>
    /// What a query reads for a dataset: its table, or for a restricted dataset a derived table of the rows the user
    /// may see (their row rules, evaluated on the stored values) with the columns they may see, masked or hashed as
    /// their column rules say. Every reference to a dataset's table (the rows, the orders behind customer facts, the
    /// candidates, another segment's members) goes through here.
    /// </summary>
    private string Source(QueryDataset dataset)
    {
        if (!dataset.IsRestricted)
        {
            return _d.Quote(dataset.Table);
        }
        var stored = dataset with { Fields = dataset.StoredFields ?? dataset.OwnFields.ToList(), RowFilter = null, NoRows = false, HiddenColumns = [] };
        var rows = new Scope($"r{_aliases++}", stored, null);
        var where = dataset.NoRows ? "false" : dataset.RowFilter is { } rule ? Predicate(rule, rows, strict: true, []) ?? "true" : "true";
        var columns = dataset.OwnFields.Select(f =>
        {
            var value = $"{rows.Alias}.{_d.Quote(f.Name)}";
            var shown = f.Treatment switch
            {
                ColumnTreatment.Masked => _d.Mask(_d.AsText(value)),
                ColumnTreatment.Hashed => _d.Hash(_d.AsText(value), Param(dataset.HashKey ?? throw new InvalidOperationException("Hashed columns need a key."))),
                _ => value,
            };
            return $"{shown} AS {_d.Quote(f.Name)}";
        });
        return $"(SELECT {string.Join(", ", columns)} FROM {_d.Quote(dataset.Table)} AS {rows.Alias} WHERE {where})";
    }

    /// <summary>
    /// The condition for a node, or null when it does not restrict anything (empty group, skipped incomplete condition).
    /// Every condition is made two-valued (coalesce to false), so NOT is an exact complement even over empty values.
    /// </summary>
    /// <remarks>
    /// Only conditions under a NOT are made two-valued: above them there are only ANDs and ORs, where an unknown
    /// (NULL) part keeps a row out exactly as false does, and a bare comparison lets DuckDB push the filter into the scan.
    /// </remarks>
    private string? Predicate(RuleNode node, Scope scope, bool strict, IReadOnlyList<int> segmentPath, bool negated = false)
    {
        switch (node)
        {
            case RuleGroup group:
            {
                var under = negated || group.Not;
                var parts = AnyOfNumbers(group, scope, under) is { } list
                    ? [list]
                    : group.Children.Select(c => Predicate(c, scope, strict, segmentPath, under)).OfType<string>().ToList();
                if (parts.Count == 0)
                {
                    return group.Not ? "false" : null;
                }
                var joined = parts.Count == 1 ? parts[0] : $"({string.Join(group.Combinator == Combinator.And ? " AND " : " OR ", parts)})";
                return group.Not ? $"(NOT {joined})" : joined;
            }
            case FieldCondition condition:
                return Guard(condition, strict, negated, () => FieldPredicate(condition, scope));
            case FactCondition fact:
                return Guard(fact, strict, negated, () => FactPredicate(fact, scope));
            case SegmentCondition segment:
                return Guard(segment, strict, negated, () => SegmentPredicate(segment, scope, segmentPath));
            default:
                throw new PortalException($"Unknown rule node {node.GetType().Name}.");
        }
    }

    /// <summary>Compiles a condition; an incomplete one is recorded and skipped unless <paramref name="strict"/>.</summary>
    private string? Guard(RuleNode node, bool strict, bool negated, Func<string> compile)
    {
        try
        {
            var predicate = compile();
            // A null test is never NULL itself; wrapping it would only hide it from DuckDB's filter push-down.
            return NullTest().IsMatch(predicate) ? predicate : negated ? $"coalesce({predicate}, false)" : $"({predicate})";
        }
        catch (IncompleteConditionException ex)
        {
            if (strict)
            {
                throw new PortalException($"A required rule cannot be applied: {ex.Message}");
            }
            _problems.Add(new RuleProblem(node.Id, ex.Message));
            return null;
        }
    }

    /// <summary>
    /// An OR of "equals" on one whole-number column (a board's top N, an "Other" of them) as one <c>IN</c> list of
    /// parameters, or null when the group is anything else.
    /// </summary>
    private string? AnyOfNumbers(RuleGroup group, Scope scope, bool negated)
    {
        if (group.Combinator != Combinator.Or || group.Children.Count < 2
            || group.Children.Any(c => c is not FieldCondition { Operator: RuleOperator.Equals }))
        {
            return null;
        }
        var conditions = group.Children.Cast<FieldCondition>().ToList();
        if (conditions.Select(c => c.Field).Distinct(StringComparer.Ordinal).Count() != 1
            || scope.Dataset.Field(conditions[0].Field) is not { Kind: FieldKind.Number, Type: ColumnType.Integer, Source: null } field)
        {
            return null;
        }
        var values = new List<long>();
        foreach (var condition in conditions)
        {
            if (!long.TryParse(condition.Value?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }
            values.Add(value);
        }
        var inList = $"{Column(scope, field.Name)} IN ({string.Join(", ", values.Distinct().Select(v => Param(v)))})";
        return negated ? $"coalesce({inList}, false)" : $"({inList})";
    }

    private sealed class IncompleteConditionException(string message) : Exception(message);

    private static IncompleteConditionException Incomplete(string message) => new(message);

    private string FieldPredicate(FieldCondition condition, Scope scope)
    {
        if (string.IsNullOrWhiteSpace(condition.Field))
        {
            throw Incomplete("Choose a field.");
        }
        // An unknown field is not incomplete: it is refused (a removed column, or a tampered rule).
        var field = RequireField(scope.Dataset, condition.Field);
        return ValuePredicate(condition, field.Kind, field.Type, Column(scope, field.Name), field.Name);
    }

    /// <summary>The comparison of an expression of a given kind with a condition's values.</summary>
    private string ValuePredicate(ValueCondition c, FieldKind kind, ColumnType type, string x, string label)
    {
        if (!RuleOperators.For(kind).Contains(c.Operator))
        {
            throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}.");
        }
        switch (c.Operator)
        {
            case RuleOperator.IsEmpty:
                return kind is FieldKind.Text or FieldKind.Category ? $"({x} IS NULL OR {_d.IsBlank(_d.AsText(x))})" : $"{x} IS NULL";
            case RuleOperator.IsNotEmpty:
                return kind is FieldKind.Text or FieldKind.Category ? $"({x} IS NOT NULL AND NOT {_d.IsBlank(_d.AsText(x))})" : $"{x} IS NOT NULL";
            case RuleOperator.IsTrue:
                return $"{x} = true";
            case RuleOperator.IsFalse:
                return $"{x} = false";
            case RuleOperator.In or RuleOperator.NotIn:
            {
                var values = c.Values.Where(v => !string.IsNullOrEmpty(v)).Distinct().ToList();
                if (values.Count == 0)
                {
                    throw Incomplete($"Pick at least one value for {label}.");
                }
                var contains = $"list_contains({Param(values)}, {_d.AsText(x)})";
                return c.Operator == RuleOperator.In ? contains : $"({x} IS NULL OR NOT {contains})";
            }
        }

        if (kind == FieldKind.Date)
        {
            return DatePredicate(c, x, type, label);
        }
        if (kind == FieldKind.Number)
        {
            var value = Number(c.Value, label, type);
            return c.Operator switch
            {
                RuleOperator.Equals => $"{x} = {value}",
                RuleOperator.NotEquals => $"({x} IS NULL OR {x} <> {value})",
                RuleOperator.Less => $"{x} < {value}",
                RuleOperator.LessOrEqual => $"{x} <= {value}",
                RuleOperator.Greater => $"{x} > {value}",
                RuleOperator.GreaterOrEqual => $"{x} >= {value}",
                RuleOperator.Between => $"{x} BETWEEN {value} AND {Number(c.Value2, label, type)}",
                _ => throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}."),
            };
        }

        // Text and categories.
        if (string.IsNullOrEmpty(c.Value))
        {
            throw Incomplete($"Enter the text for {label}.");
        }
        var text = Param(c.Value);
        var t = _d.AsText(x);
        return c.Operator switch
        {
            RuleOperator.Equals => $"{_d.Lower(t)} = {_d.Lower(text)}",
            RuleOperator.NotEquals => $"({x} IS NULL OR {_d.Lower(t)} <> {_d.Lower(text)})",
            RuleOperator.Contains => _d.ContainsText(t, text),
            RuleOperator.NotContains => $"({x} IS NULL OR NOT {_d.ContainsText(t, text)})",
            RuleOperator.StartsWith => _d.StartsWithText(t, text),
            RuleOperator.NotStartsWith => $"({x} IS NULL OR NOT {_d.StartsWithText(t, text)})",
            RuleOperator.EndsWith => _d.EndsWithText(t, text),
            _ => throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}."),
        };
    }

    /// <summary>
    /// A date condition. A column that is a date or timestamp in the warehouse is compared with day boundaries as it is
    /// (<c>x &gt;= day AND x &lt; next day</c>), not cast to a date row by row, so the scan can skip by its min/max.
    /// </summary>
    private string DatePredicate(ValueCondition c, string x, ColumnType type, string label)
    {
        var native = type is ColumnType.Date or ColumnType.Timestamp;
        var date = native ? x : _d.AsDate(x);
        // From the first day to the last, both included.
        string Days(DateOnly first, DateOnly last) => native
            ? $"{x} >= {Param(first)} AND {x} < {Param(last.AddDays(1))}"
            : $"{date} BETWEEN {Param(first)} AND {Param(last)}";
        switch (c.Operator)
        {
            case RuleOperator.On or RuleOperator.Equals:
            {
                var day = Date(c.Value, label);
                return native ? Days(day, day) : $"{date} = {Param(day)}";
            }
            case RuleOperator.Before or RuleOperator.Less:
                return $"{date} < {Param(Date(c.Value, label))}";
            case RuleOperator.After or RuleOperator.Greater:
                return native ? $"{x} >= {Param(Date(c.Value, label).AddDays(1))}" : $"{date} > {Param(Date(c.Value, label))}";
            case RuleOperator.Between:
                return Days(Date(c.Value, label), Date(c.Value2, label));
            case RuleOperator.InLast or RuleOperator.NotInLast:
            {
                if (!int.TryParse(c.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || c.Unit is null)
                {
                    throw Incomplete($"Enter how many {c.Unit?.ToString().ToLowerInvariant() ?? "days"} for {label}.");
                }
                var inLast = Days(RelativeDates.Back(_context.Today, amount, c.Unit.Value), _context.Today);
                return c.Operator == RuleOperator.InLast ? inLast : $"({x} IS NULL OR NOT ({inLast}))";
            }
            case RuleOperator.InThis or RuleOperator.InPrevious:
            {
                if (c.Unit is not { } unit || unit == RelativeUnit.Days)
                {
                    throw Incomplete($"Choose week, month, quarter or year for {label}.");
                }
                var (start, end) = RelativeDates.Period(_context.Today, unit, previous: c.Operator == RuleOperator.InPrevious);
                return $"({date} >= {Param(start)} AND {date} < {Param(end)})";
            }
            default:
                throw Incomplete($"{RuleOperators.Label(c.Operator)} does not apply to {label}.");
        }
    }

    private string FactPredicate(FactCondition fact, Scope scope)
    {
        var source = scope.Facts ?? throw Incomplete(
            $"{scope.Dataset.Name} has no related orders dataset (with Customer ID, date and amount roles), so order facts cannot be used.");
        if (fact.WindowDays is < 1)
        {
            throw Incomplete("The window must be at least one day.");
        }
        if (!RuleOperators.For(fact.Fact).Contains(fact.Operator))
        {
            throw Incomplete($"{RuleOperators.Label(fact.Operator)} does not apply to {RuleOperators.FactLabel(fact.Fact)}.");
        }
        var o = OrdersAlias(scope);
        var date = _d.AsDate($"{o}.{_d.Quote(source.Date)}");
        var window = fact.WindowDays?.ToString(CultureInfo.InvariantCulture) ?? "all";
        string Windowed(string aggregate) => fact.WindowDays is { } days
            ? _d.Filtered(aggregate, $"{date} BETWEEN {Param(RelativeDates.Back(_context.Today, days, RelativeUnit.Days))} AND {Param(_context.Today)}")
            : aggregate;

        if (fact.Fact == CustomerFact.BoughtCategory)
        {
            var column = fact.Column is { Length: > 0 } c ? source.Orders.Field(c) ?? throw new PortalException($"{source.Orders.Name} has no field \"{c}\".")
                : throw Incomplete("Choose the order column that holds the category.");
            var categories = fact.Values.Where(v => !string.IsNullOrEmpty(v)).Distinct().Order(StringComparer.Ordinal).ToList();
            if (categories.Count == 0)
            {
                throw Incomplete("Pick at least one category.");
            }
            var bought = FactTableOf(scope, source).Column($"bought|{window}|{column.Name}|{string.Join('\u001f', categories)}",
                () => Windowed($"bool_or(list_contains({Param(categories)}, {_d.AsText($"{o}.{_d.Quote(column.Name)}")}))"));
            return fact.Operator == RuleOperator.In ? $"coalesce({bought}, false)" : $"NOT coalesce({bought}, false)";
        }

        var orderCount = source.OrderId is { } id ? $"count(DISTINCT {o}.{_d.Quote(id)})" : "count(*)";
        var amount = fact.Fact is CustomerFact.TotalAmount or CustomerFact.AverageAmount
            ? source.Amount is { } a ? $"{o}.{_d.Quote(a)}" : throw Incomplete($"{source.Orders.Name} has no Amount column.")
            : null;
        // Orders without an amount count as 0: the average is total spent over orders.
        Func<string> aggregate = fact.Fact switch
        {
            CustomerFact.OrderCount => () => Windowed(orderCount),
            CustomerFact.TotalAmount => () => Windowed($"sum({amount})"),
            CustomerFact.AverageAmount => () => $"coalesce({Windowed($"sum({amount})")}, 0) / nullif({Windowed(orderCount)}, 0)",
            CustomerFact.FirstOrderDate => () => Windowed($"min({date})"),
            CustomerFact.LastOrderDate => () => Windowed($"max({date})"),
            CustomerFact.DaysSinceLastOrder => () => _d.DaysBetween(Windowed($"max({date})"), Param(_context.Today)),
            _ => throw new ArgumentOutOfRangeException(nameof(fact)),
        };
        var (type, whenNone) = fact.Fact switch
        {
            CustomerFact.OrderCount => (ColumnType.Integer, "0"),
            CustomerFact.TotalAmount => (ColumnType.Decimal, "0"),
            CustomerFact.DaysSinceLastOrder => (ColumnType.Integer, null),
            CustomerFact.AverageAmount => (ColumnType.Decimal, null),
            _ => (ColumnType.Date, (string?)null),
        };
        var v = FactTableOf(scope, source).Column($"{fact.Fact}|{window}", aggregate);
        var value = whenNone is null ? v : $"coalesce({v}, {whenNone})";
        return ValuePredicate(fact, RuleOperators.KindOf(fact.Fact), type, value, RuleOperators.FactLabel(fact.Fact));
    }

    /// <summary>A customer measure as a value of each row of the scope, from the scope's grouped pass over the orders.</summary>
    private string FactColumnValue(FactColumn fact, Scope scope)
    {
        var source = scope.Facts ?? throw new PortalException(
            $"{scope.Dataset.Name} has no related orders dataset (with Customer ID, date and amount roles), so order measures cannot be used.");
        if (fact.WindowDays is < 1)
        {
            throw new PortalException("The window must be at least one day.");
        }
        var o = OrdersAlias(scope);
        var date = _d.AsDate($"{o}.{_d.Quote(source.Date)}");
        var window = fact.WindowDays?.ToString(CultureInfo.InvariantCulture) ?? "all";
        string? InWindow() => fact.WindowDays is { } days
            ? $"{date} BETWEEN {Param(RelativeDates.Back(_context.Today, days, RelativeUnit.Days))} AND {Param(_context.Today)}"
            : null;
        string Windowed(string aggregate) => InWindow() is { } condition ? _d.Filtered(aggregate, condition) : aggregate;
        string Amount() => source.Amount is { } a ? $"{o}.{_d.Quote(a)}" : throw new PortalException($"{source.Orders.Name} has no Amount column.");
        var orderCount = source.OrderId is { } id ? $"count(DISTINCT {o}.{_d.Quote(id)})" : "count(*)";
        var table = FactTableOf(scope, source);
        switch (fact.Measure)
        {
            case CustomerMeasure.OrderCount:
                return $"coalesce({table.Column($"{CustomerFact.OrderCount}|{window}", () => Windowed(orderCount))}, 0)";
            case CustomerMeasure.TotalAmount:
                return $"coalesce({table.Column($"{CustomerFact.TotalAmount}|{window}", () => Windowed($"sum({Amount()})"))}, 0)";
            case CustomerMeasure.AverageAmount:
                return table.Column($"{CustomerFact.AverageAmount}|{window}", () => $"coalesce({Windowed($"sum({Amount()})")}, 0) / nullif({Windowed(orderCount)}, 0)");
            case CustomerMeasure.DaysSinceLastOrder:
                return table.Column($"{CustomerFact.DaysSinceLastOrder}|{window}", () => _d.DaysBetween(Windowed($"max({date})"), Param(_context.Today)));
            case CustomerMeasure.DaysSinceFirstOrder:
                return table.Column($"daysSinceFirst|{window}", () => _d.DaysBetween(Windowed($"min({date})"), Param(_context.Today)));
            case CustomerMeasure.FirstOrderDate:
                // The same column a first-order-date condition reads, so a rule and a cohort share one aggregate.
                return table.Column($"{CustomerFact.FirstOrderDate}|{window}", () => Windowed($"min({date})"));
            case CustomerMeasure.CategoryShare:
            {
                var column = fact.Column is { Length: > 0 } c ? source.Orders.Field(c) ?? throw new PortalException($"{source.Orders.Name} has no field \"{c}\".")
                    : throw new PortalException("Choose the order column that holds the category.");
                var values = (fact.Values ?? []).Where(v => !string.IsNullOrEmpty(v)).Distinct().Order(StringComparer.Ordinal).ToList();
                if (values.Count == 0)
                {
                    throw new PortalException("Pick at least one category.");
                }
                return table.Column($"share|{window}|{column.Name}|{string.Join('\u001f', values)}", () =>
                {
                    var inCategory = $"list_contains({Param(values)}, {_d.AsText($"{o}.{_d.Quote(column.Name)}")})";
                    var part = _d.Filtered($"sum({Amount()})", InWindow() is { } w ? $"{w} AND {inCategory}" : inCategory);
                    return $"coalesce({part}, 0) / nullif({Windowed($"sum({Amount()})")}, 0)";
                });
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(fact));
        }
    }

    private static string OrdersAlias(Scope scope) => $"o{scope.Alias}";

    /// <summary>
    /// The scope's grouped pass over its orders, created (and joined to the scope) on first use. When the scope's rows
    /// must meet <see cref="Scope.Candidates"/>, only those customers' orders are grouped.
    /// </summary>
    private FactTable FactTableOf(Scope scope, FactSource source)
    {
        if (scope.FactTable is { } existing)
        {
            return existing;
        }
        var o = OrdersAlias(scope);
        var key = $"{o}.{_d.Quote(source.CustomerKey)}";
        var keyType = source.Orders.Field(source.CustomerKey)!.Type;
        var myKeyType = scope.Dataset.WithRole(FieldRole.CustomerId)!.Type;
        var from = $"{Source(source.Orders)} AS {o}";
        _reads.Add(source.Orders);
        var candidates = Candidates(scope);
        if (candidates is not null)
        {
            from += $" JOIN {candidates} ON {KeysMatch($"{candidates}.k", myKeyType, key, keyType)}";
        }
        var table = new FactTable($"f{_ctes.Count + 1}", key, from);
        _ctes.Add(table.Render);
        scope.FactTable = table;
        scope.Joins.Add($" LEFT JOIN {table.Name} ON {KeysMatch($"{table.Name}.k", keyType, CustomerKey(scope), myKeyType)}");
        return table;
    }

    /// <summary>A CTE of the distinct customer keys whose rows meet the scope's candidate conditions, or null when there are none.</summary>
    private string? Candidates(Scope scope)
    {
        if (scope.Candidates.Count == 0)
        {
            return null;
        }
        var rows = NewScope(scope.Dataset, null);
        var parts = scope.Candidates.Select(c => Predicate(c, rows, strict: false, [])).OfType<string>().ToList();
        if (parts.Count == 0)
        {
            return null;
        }
        var name = $"c{_ctes.Count + 1}";
        var distinct = _context.CustomerKeyUnique && ReferenceEquals(scope.Dataset, _context.Dataset) ? "" : "DISTINCT ";
        var sql = $"{name} AS (SELECT {distinct}{CustomerKey(rows)} AS k FROM {Source(scope.Dataset)} AS {rows.Alias}{string.Concat(rows.Joins)} WHERE {string.Join(" AND ", parts)})";
        _ctes.Add(() => sql);
        return name;
    }

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
            return $"CAST({left} AS DOUBLE) = CAST({right} AS DOUBLE)";
        }
        return $"{_d.AsText(left)} = {_d.AsText(right)}";
    }

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
