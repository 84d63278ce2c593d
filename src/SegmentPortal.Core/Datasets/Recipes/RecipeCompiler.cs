using System.Globalization;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Datasets.Recipes;

internal sealed record RecipeColumn(string Name, ColumnType Type);

/// <summary>
/// A recipe as a chain of common table expressions: <c>s1</c> reads <c>s0</c> (the raw rows with the user's column
/// settings applied and a <c>__row</c> number in file order), <c>s2</c> reads <c>s1</c>, and so on. Values are parameters;
/// identifiers are only ever the known columns, quoted.
/// </summary>
internal sealed record CompiledRecipe(
    IReadOnlyList<string> Steps,
    IReadOnlyDictionary<string, object?> Parameters,
    IReadOnlyList<RecipeColumn> Columns,
    IReadOnlyList<string?> ChangedValueCounts)
{
    public string Last => $"s{Steps.Count}";
}

internal static class RecipeCompiler
{
    public const string RowColumn = "__row";

    public static CompiledRecipe Compile(IReadOnlyList<RecipeStep> steps, IReadOnlyList<RecipeColumn> input)
    {
        var columns = input.ToList();
        var parameters = new Dictionary<string, object?>();
        var sql = new List<string>();
        var changed = new List<string?>();
        for (var k = 0; k < steps.Count; k++)
        {
            var from = $"s{k}";
            var context = new StepContext(from, columns, parameters, k + 1);
            var (select, count) = CompileStep(steps[k], context);
            sql.Add($"s{k + 1} AS ({select})");
            changed.Add(count);
            columns = context.Columns;
        }
        return new CompiledRecipe(sql, parameters, columns, changed);
    }

    private static (string Select, string? ChangedCount) CompileStep(RecipeStep step, StepContext c)
    {
        var all = c.Columns.Select(col => Q(col.Name)).ToList();
        switch (step)
        {
            case RemoveDuplicateRows:
                return ($"SELECT * FROM {c.From} QUALIFY row_number() OVER (PARTITION BY {string.Join(", ", all)} ORDER BY {RowColumn}) = 1", null);

            case KeepOnePerKey key:
                if (key.Columns.Count == 0)
                {
                    throw c.Fail("choose at least one key column");
                }
                var keys = key.Columns.Select(name => Q(c.Require(name).Name));
                return ($"SELECT * FROM {c.From} QUALIFY row_number() OVER (PARTITION BY {string.Join(", ", keys)} ORDER BY {RowColumn} {(key.KeepLast ? "DESC" : "ASC")}) = 1", null);

            case HandleMissing missing:
            {
                var column = c.Require(missing.Column);
                var q = Q(column.Name);
                var empty = $"(SELECT count(*) FROM {c.From} WHERE {q} IS NULL)";
                var type = LiveTableBuilder.WarehouseTypeOf(column.Type);
                switch (missing.Action)
                {
                    case MissingAction.DropRows:
                        return ($"SELECT * FROM {c.From} WHERE {q} IS NOT NULL", null);
                    case MissingAction.FillMean or MissingAction.FillMedian:
                        if (column.Type is not (ColumnType.Integer or ColumnType.Decimal))
                        {
                            throw c.Fail($"{column.Name} is not a number, so it has no {(missing.Action == MissingAction.FillMean ? "mean" : "median")}");
                        }
                        var statistic = missing.Action == MissingAction.FillMean ? "avg" : "median";
                        var rounded = column.Type == ColumnType.Integer ? "round" : "";
                        return ($"SELECT * REPLACE (CAST(coalesce(CAST({q} AS DOUBLE), {rounded}((SELECT {statistic}(CAST({q} AS DOUBLE)) FROM {c.From}))) AS {type}) AS {q}) FROM {c.From}", empty);
                    case MissingAction.FillConstant:
                        var value = c.Parameter(Parse(missing.Value, column, c));
                        return ($"SELECT * REPLACE (coalesce({q}, {value}) AS {q}) FROM {c.From}", empty);
                    default:
                        if (column.Type != ColumnType.Text)
                        {
                            throw c.Fail($"{column.Name} is not text; fill it with a value of its own type instead");
                        }
                        return ($"SELECT * REPLACE (coalesce({q}, {c.Parameter("Unknown")}) AS {q}) FROM {c.From}", empty);
                }
            }

            case HandleOutliers outliers:
            {
                var column = c.Require(outliers.Column);
                if (column.Type is not (ColumnType.Integer or ColumnType.Decimal))
                {
                    throw c.Fail($"{column.Name} is not a number");
                }
                var v = $"CAST({Q(column.Name)} AS DOUBLE)";
                var bounds = outliers.Method == OutlierMethod.ThreeSigma
                    ? $"SELECT avg({v}) - 3 * stddev_pop({v}) AS lo, avg({v}) + 3 * stddev_pop({v}) AS hi FROM {c.From}"
                    : $"SELECT q1 - 1.5 * (q3 - q1) AS lo, q3 + 1.5 * (q3 - q1) AS hi FROM (SELECT quantile_cont({v}, 0.25) AS q1, quantile_cont({v}, 0.75) AS q3 FROM {c.From})";
                var outside = $"({v} < b.lo OR {v} > b.hi)";
                if (outliers.Drop)
                {
                    return ($"SELECT {c.From}.* FROM {c.From}, ({bounds}) AS b WHERE {v} IS NULL OR NOT {outside}", null);
                }
                if (c.Columns.Any(col => col.Name.Equals(outliers.FlagColumn, StringComparison.OrdinalIgnoreCase)))
                {
                    throw c.Fail($"a column called {outliers.FlagColumn} already exists");
                }
                c.Columns.Add(new RecipeColumn(outliers.FlagColumn, ColumnType.Boolean));
                return ($"SELECT {c.From}.*, coalesce({outside}, false) AS {Q(outliers.FlagColumn)} FROM {c.From}, ({bounds}) AS b",
                    $"(SELECT count(*) FROM {c.From}, ({bounds}) AS b WHERE {outside})");
            }

            case FilterRows filter:
                return ($"SELECT * FROM {c.From} WHERE {Condition(filter, c)}", null);

            case TrimText trim:
            {
                var targets = (trim.Columns.Count == 0
                    ? c.Columns.Where(col => col.Type == ColumnType.Text && col.Name != RowColumn)
                    : trim.Columns.Select(c.Require)).ToList();
                if (targets.Count == 0)
                {
                    return ($"SELECT * FROM {c.From}", "0");
                }
                foreach (var t in targets.Where(t => t.Type != ColumnType.Text))
                {
                    throw c.Fail($"{t.Name} is not text");
                }
                var replace = string.Join(", ", targets.Select(t => $"trim({Q(t.Name)}) AS {Q(t.Name)}"));
                var changedRows = string.Join(" OR ", targets.Select(t => $"{Q(t.Name)} <> trim({Q(t.Name)})"));
                return ($"SELECT * REPLACE ({replace}) FROM {c.From}", $"(SELECT count(*) FROM {c.From} WHERE {changedRows})");
            }

            case ParseDates parse:
            {
                var column = c.Require(parse.Column);
                if (string.IsNullOrWhiteSpace(parse.Format) || !parse.Format.Contains('%'))
                {
                    throw c.Fail("give a date format such as %d/%m/%Y or %Y-%m-%d %H:%M");
                }
                var q = Q(column.Name);
                var format = c.Parameter(parse.Format);
                var parsed = $"try_strptime(CAST({q} AS VARCHAR), {format})";
                var expression = parse.HasTime ? parsed : $"CAST({parsed} AS DATE)";
                c.Retype(column.Name, parse.HasTime ? ColumnType.Timestamp : ColumnType.Date);
                return ($"SELECT * REPLACE ({expression} AS {q}) FROM {c.From}",
                    $"(SELECT count(*) FROM {c.From} WHERE {q} IS NOT NULL AND {parsed} IS NULL)");
            }

            case CastColumn cast:
            {
                var column = c.Require(cast.Column);
                var q = Q(column.Name);
                var type = LiveTableBuilder.WarehouseTypeOf(cast.Type);
                c.Retype(column.Name, cast.Type);
                return ($"SELECT * REPLACE (TRY_CAST({q} AS {type}) AS {q}) FROM {c.From}",
                    $"(SELECT count(*) FROM {c.From} WHERE {q} IS NOT NULL AND TRY_CAST({q} AS {type}) IS NULL)");
            }

            default:
                throw new PortalException($"Unknown cleaning step {step.GetType().Name}.");
        }
    }

    private static string Condition(FilterRows filter, StepContext c)
    {
        var column = c.Require(filter.Column);
        var q = Q(column.Name);
        var text = $"CAST({q} AS VARCHAR)";
        string Value() => c.Parameter(Parse(filter.Value, column, c));
        string Text()
        {
            if (string.IsNullOrEmpty(filter.Value))
            {
                throw c.Fail("give the text to look for");
            }
            return c.Parameter(filter.Value);
        }
        // "Not" conditions keep empty values: an empty InvoiceNo does not start with C either.
        return filter.Operator switch
        {
            FilterOperator.Equals => $"{q} = {Value()}",
            FilterOperator.NotEquals => $"coalesce({q} <> {Value()}, true)",
            FilterOperator.GreaterThan => $"{q} > {Value()}",
            FilterOperator.GreaterOrEqual => $"{q} >= {Value()}",
            FilterOperator.LessThan => $"{q} < {Value()}",
            FilterOperator.LessOrEqual => $"{q} <= {Value()}",
            FilterOperator.StartsWith => $"starts_with({text}, {Text()})",
            FilterOperator.NotStartsWith => $"coalesce(NOT starts_with({text}, {Text()}), true)",
            FilterOperator.Contains => $"contains({text}, {Text()})",
            FilterOperator.NotContains => $"coalesce(NOT contains({text}, {Text()}), true)",
            FilterOperator.IsEmpty => column.Type == ColumnType.Text ? $"({q} IS NULL OR trim({q}) = '')" : $"{q} IS NULL",
            _ => column.Type == ColumnType.Text ? $"({q} IS NOT NULL AND trim({q}) <> '')" : $"{q} IS NOT NULL",
        };
    }

    /// <summary>A user's value as the column's type, so comparisons are typed (10 &gt; 9, not "10" &lt; "9").</summary>
    private static object Parse(string? value, RecipeColumn column, StepContext c)
    {
        if (value is null)
        {
            throw c.Fail($"give a value for {column.Name}");
        }
        var v = value.Trim();
        var inv = CultureInfo.InvariantCulture;
        return column.Type switch
        {
            ColumnType.Integer => long.TryParse(v, NumberStyles.Integer, inv, out var l) ? l : throw c.Fail($"\"{value}\" is not a whole number, and {column.Name} holds whole numbers"),
            ColumnType.Decimal => double.TryParse(v, NumberStyles.Float, inv, out var d) ? d : throw c.Fail($"\"{value}\" is not a number, and {column.Name} holds numbers"),
            ColumnType.Boolean => bool.TryParse(v, out var b) ? b : throw c.Fail($"\"{value}\" is not true or false"),
            ColumnType.Date => DateOnly.TryParseExact(v, "yyyy-MM-dd", inv, DateTimeStyles.None, out var date) ? date : throw c.Fail($"\"{value}\" is not a date like 2024-12-31"),
            ColumnType.Timestamp => DateTime.TryParse(v, inv, DateTimeStyles.None, out var ts) ? ts : throw c.Fail($"\"{value}\" is not a date and time like 2024-12-31 18:00"),
            _ => value,
        };
    }

    private static string Q(string name) => WarehouseNames.Quote(name);

    private sealed class StepContext(string from, List<RecipeColumn> columns, Dictionary<string, object?> parameters, int number)
    {
        public string From { get; } = from;

        public List<RecipeColumn> Columns { get; } = [.. columns];

        public RecipeColumn Require(string name) =>
            Columns.FirstOrDefault(c => c.Name == name && c.Name != RowColumn)
            ?? throw Fail($"there is no column \"{name}\" at this point");

        public void Retype(string name, ColumnType type)
        {
            var index = Columns.FindIndex(c => c.Name == name);
            Columns[index] = Columns[index] with { Type = type };
        }

        public string Parameter(object value)
        {
            var name = $"p{parameters.Count}";
            parameters[name] = value;
            return "$" + name;
        }

        public PortalException Fail(string reason) => new($"Cleaning step {number}: {reason}.");
    }
}
