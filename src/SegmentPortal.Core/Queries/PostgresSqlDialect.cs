using System.Globalization;

namespace SegmentPortal.Core.Queries;

/// <summary>
/// PostgreSQL's SQL, for live datasets on PostgreSQL and the engines that speak its dialect. Parameters are Npgsql's
/// named parameters (<c>@name</c>); a list of values is one array parameter (<c>= ANY(@p)</c>). Text comparisons are
/// case-insensitive through <c>lower()</c> on both sides, as in DuckDB; a value's <c>%</c> and <c>_</c> are plain
/// characters (no LIKE patterns). Dates, day differences and periods give DuckDB's answers: <c>date - date</c> is the
/// number of day boundaries, weeks start on Monday.
/// </summary>
internal sealed class PostgresSqlDialect : ISqlDialect
{
    public static PostgresSqlDialect Instance { get; } = new();

    // \s in PostgreSQL's regular expressions depends on the locale; the class is spelled out instead: .NET's white
    // space (string.IsNullOrWhiteSpace), i.e. tab to carriage return, space, next line and Unicode's space separators.
    private const string WhiteSpace = @"[ \t\n\v\f\r\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

    public string Quote(string identifier) => Common.SqlIdentifiers.DoubleQuote(identifier);

    public string Parameter(string name) => "@" + name;

    public string Lower(string expression) => $"lower({expression})";

    public string ContainsText(string haystack, string needle) => $"strpos(lower({haystack}), lower({needle})) > 0";

    public string StartsWithText(string text, string prefix) => $"left(lower({text}), length(lower({prefix}))) = lower({prefix})";

    public string EndsWithText(string text, string suffix) => $"right(lower({text}), length(lower({suffix}))) = lower({suffix})";

    public string AsDate(string expression) => $"CAST({expression} AS date)";

    public string AsText(string expression) => $"CAST({expression} AS text)";

    public string AsDouble(string expression) => $"CAST({expression} AS double precision)";

    public string IsBlank(string text) => $"{text} ~ '^{WhiteSpace}*$'";

    public string DaysBetween(string from, string to) => $"(CAST({to} AS date) - CAST({from} AS date))";

    public string Truncate(DateBucket bucket, string expression) =>
        $"CAST(date_trunc('{bucket.ToString().ToLowerInvariant()}', CAST({expression} AS timestamp)) AS date)";

    public string Median(string expression) => Quantile(expression, 0.5);

    public string Quantile(string expression, double fraction) =>
        $"percentile_cont({fraction.ToString("R", CultureInfo.InvariantCulture)}) WITHIN GROUP (ORDER BY {AsDouble(expression)})";

    public string Filtered(Func<string, string> aggregate, string argument, string condition) => $"{aggregate(argument)} FILTER (WHERE {condition})";

    public string LimitOffset(int? limit, int offset) =>
        (limit is { } l ? $" LIMIT {l}" : "") + (offset > 0 ? $" OFFSET {offset}" : "");

    public string Mask(string text) =>
        $"CASE WHEN {text} IS NULL THEN NULL WHEN strpos({text}, '@') > 1 THEN left({text}, 1) || '***' || substr({text}, strpos({text}, '@')) " +
        $"WHEN length({text}) > 7 THEN left({text}, 3) || repeat('*', length({text}) - 7) || right({text}, 4) ELSE repeat('*', length({text})) END";

    // md5 of the UTF-8 bytes, as DuckDB's: the same key and text give the same 16 hex digits on both.
    public string Hash(string text, string key) => $"left(md5(CAST({key} AS text) || {text}), 16)";

    public string Condition(bool value) => value ? "true" : "false";

    public string Boolean(bool value) => value ? "true" : "false";

    public string Flag(string condition) => condition;

    public string AnyTrue(string flag) => $"bool_or({flag})";

    public string Holds(string flag) => $"coalesce({flag}, false)";

    public string InList(string expression, IReadOnlyList<string> values, Func<object, string> parameter) =>
        $"{expression} = ANY({parameter(values.ToArray())})";

    public string Divide(string dividend, string divisor) => $"{AsDouble(dividend)} / {divisor}";

    public string Average(string expression) => $"avg({AsDouble(expression)})";

    public string EqualsText(string text, string value) => $"lower({text}) = lower({value})";

    public string OnePerKey(string key, IReadOnlyList<string> select, IReadOnlyList<string> columns, string fromWhere, bool distinct) =>
        $"SELECT * FROM (SELECT {(distinct ? $"DISTINCT ON ({key}) " : "")}{string.Join(", ", select)} {fromWhere} ORDER BY {key}) AS members";

    public string Page(string query, IReadOnlyList<(string Column, bool Descending)> sort, int? limit, int offset) =>
        query + (sort.Count == 0 ? "" : $" ORDER BY {string.Join(", ", sort.Select(s => $"{s.Column}{(s.Descending ? " DESC" : " ASC")} NULLS LAST"))}")
        + LimitOffset(limit, offset);
}
