using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// Turns a <see cref="QuerySpec"/> into parameterized SQL. Values are always parameters; identifiers come only from the
/// dataset's known columns and are quoted; an unknown field is refused. Conditions that are incomplete are skipped (and
/// reported by <see cref="Check"/>), so a rule being built still counts.
/// </summary>
/// <remarks>
/// The compile stage of the query path, for one <see cref="ISqlDialect"/>. This file holds the spec (select, groups,
/// measures) and field references; the other parts: <c>QueryCompiler.Sources.cs</c> (restricted datasets as derived
/// tables), <c>.Rules.cs</c> (conditions), <c>.Facts.cs</c> (customer facts), <c>.Segments.cs</c> (saved segments) and
/// <c>.Values.cs</c> (parameters).
/// </remarks>
internal sealed partial class QueryCompiler
{
    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9_]+\\.(?:\"(?:[^\"]|\"\")+\"|\\[(?:[^\\]]|\\]\\])+\\]) IS (?:NOT )?NULL$")]
    private static partial System.Text.RegularExpressions.Regex NullTest();

    private readonly CompileContext _context;
    private readonly ISqlDialect _d;
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
                var aggregate = Aggregate(measure, scope, measure.Where is { } rule
                    ? () => Predicate(rule, scope, strict: false, []) ?? _d.Condition(true)
                    : null);
                select.Add($"{aggregate} AS {_d.Quote(measure.Alias)}");
                columns.Add(measure.Alias);
            }
        }

        var from = $"{Source(dataset)} AS {scope.Alias}{string.Concat(scope.Joins)}";
        var whereSql = where.Count == 0 ? "" : $" WHERE {string.Join(" AND ", where)}";
        string body;
        if (spec.DistinctCustomers && spec.Measures.Count == 0)
        {
            // One row per customer, in key order (so a read gives the same rows in the same order every time); where each
            // row is already one customer, the order alone does it and the de-duplication is skipped.
            var key = CustomerKey(scope);
            body = _d.OnePerKey(key, select, columns.Select(_d.Quote).ToList(), $"FROM {from}{whereSql}", distinct: !CountsRowsAsCustomers(scope));
        }
        else
        {
            body = $"SELECT {string.Join(", ", select)} FROM {from}{whereSql}";
            if (groupBy.Count > 0)
            {
                body += $" GROUP BY {string.Join(", ", groupBy)}";
            }
        }
        var sorts = spec.Sort.Select(s => columns.Contains(s.Name, StringComparer.Ordinal)
            ? (_d.Quote(s.Name), s.Descending)
            : throw new PortalException($"Cannot sort by \"{s.Name}\": it is not in the result.")).ToList();
        body = _d.Page(body, sorts, spec.Limit, spec.Offset);
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

    /// <summary>A measure's aggregate; with <paramref name="where"/>, over only the rows that condition (compiled after the argument) matches.</summary>
    private string Aggregate(Measure measure, Scope scope, Func<string>? where = null)
    {
        string Of(Func<string, string> aggregate, string argument) => where is null ? aggregate(argument) : _d.Filtered(aggregate, argument, where());
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
            MeasureKind.Count => Of(a => $"count({a})", "*"),
            MeasureKind.CountDistinct => Of(a => $"count(DISTINCT {a})", Col()),
            MeasureKind.Days => RequireField(scope.Dataset, measure.Column ?? throw new PortalException($"The measure {measure.Alias} needs a column.")).Kind == FieldKind.Date
                ? Of(a => $"count(DISTINCT {a})", _d.Truncate(DateBucket.Day, Col()))
                : throw new PortalException($"{measure.Column} is not a date, so its days cannot be counted."),
            MeasureKind.Sum => Of(a => $"sum({a})", measure.Times is { } times ? $"{Numeric()} * {NumericOf(times)}" : Numeric()),
            MeasureKind.Average => Of(_d.Average, Numeric()),
            MeasureKind.Median => Of(_d.Median, Numeric()),
            MeasureKind.LowerQuartile => Of(a => _d.Quantile(a, 0.25), Numeric()),
            MeasureKind.UpperQuartile => Of(a => _d.Quantile(a, 0.75), Numeric()),
            MeasureKind.Min => Of(a => $"min({a})", Col()),
            MeasureKind.Max => Of(a => $"max({a})", Col()),
            MeasureKind.Customers => CountsRowsAsCustomers(scope) ? Of(a => $"count({a})", CustomerKey(scope)) : Of(a => $"count(DISTINCT {a})", CustomerKey(scope)),
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
}
