namespace SegmentPortal.Core.Queries;

/// <summary>
/// Everything that differs between SQL engines, in one place: quoting, parameter syntax, and the few functions the
/// compiler uses. The compiler writes SQL only through this interface: <see cref="DuckDbDialect"/> (the embedded
/// warehouse), <see cref="PostgresSqlDialect"/> and <see cref="TSqlDialect"/> (live datasets), chosen by
/// <see cref="SqlDialects.For"/>.
/// </summary>
public interface ISqlDialect
{
    string Quote(string identifier);

    string Parameter(string name);

    string Lower(string expression);

    string ContainsText(string haystack, string needle);

    string StartsWithText(string text, string prefix);

    string EndsWithText(string text, string suffix);

    string AsDate(string expression);

    string AsText(string expression);

    string AsDouble(string expression);

    /// <summary>True when the text is empty or only whitespace (as <see cref="string.IsNullOrWhiteSpace"/> sees it: tabs, line breaks, Unicode spaces).</summary>
    string IsBlank(string text);

    string DaysBetween(string from, string to);

    string Truncate(DateBucket bucket, string expression);

    string Median(string expression);

    /// <summary>An interpolated quantile. <paramref name="fraction"/> is always a constant of the compiler, never a user's value.</summary>
    string Quantile(string expression, double fraction);

    /// <summary>
    /// An aggregate over only the rows a condition matches: <paramref name="aggregate"/> applied to
    /// <paramref name="argument"/> (<c>*</c> for <c>count(*)</c>) of those rows. The aggregate and its argument are
    /// given apart, as an engine without <c>FILTER</c> puts the condition into the argument instead.
    /// </summary>
    string Filtered(Func<string, string> aggregate, string argument, string condition);

    /// <summary>
    /// An aggregate already written whole, over only the rows a condition matches: <c>FILTER</c>, for the engines that
    /// have it (DuckDB, PostgreSQL). An engine without it refuses; prefer the overload that takes the argument apart.
    /// </summary>
    string Filtered(string aggregate, string condition) => $"{aggregate} FILTER (WHERE {condition})";

    string LimitOffset(int? limit, int offset);

    /// <summary>A condition that always holds (<paramref name="value"/> true) or never does.</summary>
    string Condition(bool value);

    /// <summary>A boolean value to compare a boolean column with (<c>x = true</c>).</summary>
    string Boolean(bool value);

    /// <summary>A condition as a value (for <see cref="AnyTrue"/> and <see cref="Holds"/>): true, false or NULL.</summary>
    string Flag(string condition);

    /// <summary>The aggregate "any of the rows' flags is true" of <see cref="Flag"/> values (NULL without rows).</summary>
    string AnyTrue(string flag);

    /// <summary>A condition that a <see cref="Flag"/> value is true; NULL counts as false (two-valued).</summary>
    string Holds(string flag);

    /// <summary>
    /// The expression is one of the values (texts); NULL when the expression is NULL. <paramref name="parameter"/>
    /// makes a parameter of a value (or of a list of them, for engines that take list or array parameters).
    /// </summary>
    string InList(string expression, IReadOnlyList<string> values, Func<object, string> parameter);

    /// <summary>A division that keeps fractions even when both sides are whole numbers.</summary>
    string Divide(string dividend, string divisor);

    /// <summary>The mean of a numeric expression, with fractions even over whole numbers.</summary>
    string Average(string expression);

    /// <summary>Text equal to a value, ignoring case (as <see cref="Lower"/> sees it); trailing spaces count.</summary>
    string EqualsText(string text, string value);

    /// <summary>
    /// A query of the <paramref name="select"/>ed values (named <paramref name="columns"/>, quoted) from
    /// <paramref name="fromWhere"/> (<c>FROM … WHERE …</c>), one row per <paramref name="key"/> when
    /// <paramref name="distinct"/> (any row of the key's rows); in key order where the engine keeps the order of a
    /// derived table.
    /// </summary>
    string OnePerKey(string key, IReadOnlyList<string> select, IReadOnlyList<string> columns, string fromWhere, bool distinct);

    /// <summary>
    /// A query sorted by result columns (quoted names; empty values last in both directions) and paged.
    /// </summary>
    string Page(string query, IReadOnlyList<(string Column, bool Descending)> sort, int? limit, int offset);

    /// <summary>
    /// Text partly hidden: an e-mail keeps its first letter and domain (<c>j***@example.com</c>), a longer value its
    /// first 3 and last 4 characters (<c>138****5678</c>), a short one is all stars.
    /// </summary>
    string Mask(string text);

    /// <summary>A keyed hash of text (16 hex digits): equal values give equal hashes. <paramref name="key"/> is a parameter.</summary>
    string Hash(string text, string key);
}

/// <summary>The dialect of each engine.</summary>
internal static class SqlDialects
{
    public static ISqlDialect For(Datasets.SqlEngine engine) => engine switch
    {
        Datasets.SqlEngine.DuckDb => DuckDbDialect.Instance,
        Datasets.SqlEngine.PostgreSql => PostgresSqlDialect.Instance,
        Datasets.SqlEngine.SqlServer => TSqlDialect.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "No SQL dialect for this engine."),
    };

    /// <summary>The dialect a dataset's queries run in: its live source's engine, or the embedded warehouse's.</summary>
    public static ISqlDialect For(Access.QueryDataset dataset) => dataset.Live is { } live ? For(live.Engine) : DuckDbDialect.Instance;
}

/// <summary>DuckDB's SQL, for the embedded warehouse.</summary>
internal sealed class DuckDbDialect : ISqlDialect
{
    public static DuckDbDialect Instance { get; } = new();

    public string Quote(string identifier) => Common.SqlIdentifiers.DoubleQuote(identifier);

    public string Parameter(string name) => "$" + name;

    public string Lower(string expression) => $"lower({expression})";

    public string ContainsText(string haystack, string needle) => $"contains(lower({haystack}), lower({needle}))";

    public string StartsWithText(string text, string prefix) => $"starts_with(lower({text}), lower({prefix}))";

    public string EndsWithText(string text, string suffix) => $"ends_with(lower({text}), lower({suffix}))";

    public string AsDate(string expression) => $"CAST({expression} AS DATE)";

    public string AsText(string expression) => $"CAST({expression} AS VARCHAR)";

    public string AsDouble(string expression) => $"CAST({expression} AS DOUBLE)";

    // RE2: \s is ASCII whitespace without \v; \p{Z} the Unicode space, line and paragraph separators; \x{85} next line.
    public string IsBlank(string text) => $@"regexp_full_match({text}, '[\s\v\x{{85}}\p{{Z}}]*')";

    public string DaysBetween(string from, string to) => $"date_diff('day', {from}, {to})";

    public string Truncate(DateBucket bucket, string expression) =>
        $"CAST(date_trunc('{bucket.ToString().ToLowerInvariant()}', {expression}) AS DATE)";

    public string Median(string expression) => $"median({expression})";

    public string Quantile(string expression, double fraction) =>
        $"quantile_cont({expression}, {fraction.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})";

    public string Filtered(Func<string, string> aggregate, string argument, string condition) => $"{aggregate(argument)} FILTER (WHERE {condition})";

    public string LimitOffset(int? limit, int offset) =>
        (limit is { } l ? $" LIMIT {l}" : "") + (offset > 0 ? $" OFFSET {offset}" : "");

    public string Mask(string text) =>
        $"CASE WHEN {text} IS NULL THEN NULL WHEN strpos({text}, '@') > 1 THEN left({text}, 1) || '***' || substr({text}, strpos({text}, '@')) " +
        $"WHEN length({text}) > 7 THEN left({text}, 3) || repeat('*', length({text}) - 7) || right({text}, 4) ELSE repeat('*', length({text})) END";

    public string Hash(string text, string key) => $"left(md5({key} || {text}), 16)";

    public string Condition(bool value) => value ? "true" : "false";

    public string Boolean(bool value) => value ? "true" : "false";

    public string Flag(string condition) => condition;

    public string AnyTrue(string flag) => $"bool_or({flag})";

    public string Holds(string flag) => $"coalesce({flag}, false)";

    public string InList(string expression, IReadOnlyList<string> values, Func<object, string> parameter) =>
        $"list_contains({parameter(values.ToList())}, {expression})";

    public string Divide(string dividend, string divisor) => $"{dividend} / {divisor}";

    public string Average(string expression) => $"avg({expression})";

    public string EqualsText(string text, string value) => $"lower({text}) = lower({value})";

    public string OnePerKey(string key, IReadOnlyList<string> select, IReadOnlyList<string> columns, string fromWhere, bool distinct) =>
        $"SELECT * FROM (SELECT {(distinct ? $"DISTINCT ON ({key}) " : "")}{string.Join(", ", select)} {fromWhere} ORDER BY {key}) AS members";

    public string Page(string query, IReadOnlyList<(string Column, bool Descending)> sort, int? limit, int offset) =>
        query + (sort.Count == 0 ? "" : $" ORDER BY {string.Join(", ", sort.Select(s => $"{s.Column}{(s.Descending ? " DESC" : " ASC")} NULLS LAST"))}")
        + LimitOffset(limit, offset);
}
