namespace SegmentPortal.Core.Queries;

/// <summary>
/// SQL Server's T-SQL (2017 and later; hashing non-ASCII text needs 2019's UTF-8 collations), for live datasets on SQL
/// Server and its family. It has no boolean values (conditions become 1/0 flags), no <c>FILTER</c> (the condition moves
/// into the aggregate's argument), no array parameters (one parameter per value), no <c>NULLS LAST</c> or
/// <c>DISTINCT ON</c>, and compares text by the database's collation ignoring trailing spaces (text is compared in a
/// binary collation, after a sentinel character that keeps trailing spaces significant).
/// Medians and quartiles are refused: <c>PERCENTILE_CONT</c> is only a window function.
/// </summary>
internal sealed class TSqlDialect : ISqlDialect
{
    public static TSqlDialect Instance { get; } = new();

    // .NET's white space (string.IsNullOrWhiteSpace): tab to carriage return, next line and Unicode's space separators.
    private static readonly int[] WhiteSpace =
        [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
         0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000];

    private static readonly string WhiteSpaceChars = string.Join(" + ", WhiteSpace.Select(c => $"NCHAR({c})"));

    public string Quote(string identifier) => "[" + identifier.Replace("]", "]]", StringComparison.Ordinal) + "]";

    public string Parameter(string name) => "@" + name;

    public string Lower(string expression) => $"LOWER({expression})";

    // "=" and LEN ignore trailing spaces; a sentinel after each side keeps them, DATALENGTH counts them (n-types: 2 bytes a
    // character). A binary collation compares code points, as DuckDB does, whatever the database's collation (case- or
    // accent-insensitive ones would find "élise" equal to "Elise", or "gold" in ["Gold"]).
    private const string Exact = "COLLATE Latin1_General_100_BIN2";

    private static string Kept(string text) => $"({text} + N'|')";

    private static string Length(string text) => $"(DATALENGTH({text}) / 2)";

    public string EqualsText(string text, string value) => $"{Kept($"LOWER({text})")} {Exact} = {Kept($"LOWER({value})")}";

    public string ContainsText(string haystack, string needle) => $"CHARINDEX(LOWER({needle}), LOWER({haystack}) {Exact}) > 0";

    public string StartsWithText(string text, string prefix) =>
        $"{Kept($"LEFT(LOWER({text}), {Length(AsText(prefix))})")} {Exact} = {Kept($"LOWER({prefix})")}";

    public string EndsWithText(string text, string suffix) =>
        $"{Kept($"RIGHT(LOWER({text}), {Length(AsText(suffix))})")} {Exact} = {Kept($"LOWER({suffix})")}";

    public string AsDate(string expression) => $"CAST({expression} AS date)";

    public string AsText(string expression) => $"CAST({expression} AS nvarchar(max))";

    public string AsDouble(string expression) => $"CAST({expression} AS float)";

    // Every white space character becomes a space, and "=" ignores trailing spaces: only blank text equals ''.
    public string IsBlank(string text) => $"TRANSLATE({text}, {WhiteSpaceChars}, REPLICATE(N' ', {WhiteSpace.Length})) {Exact} = N''";

    // DATEDIFF(day) counts day boundaries, as DuckDB's date_diff('day') on dates.
    public string DaysBetween(string from, string to) => $"DATEDIFF(day, {from}, {to})";

    // DATETRUNC needs SQL Server 2022; these forms work on 2016 and later. Weeks start on Monday (ISO, as DuckDB),
    // whatever the session's DATEFIRST.
    public string Truncate(DateBucket bucket, string expression)
    {
        var d = AsDate(expression);
        return bucket switch
        {
            DateBucket.Day => d,
            DateBucket.Week => $"DATEADD(day, -((DATEPART(weekday, {d}) + @@DATEFIRST - 2) % 7), {d})",
            DateBucket.Month => $"DATEFROMPARTS(YEAR({d}), MONTH({d}), 1)",
            DateBucket.Quarter => $"DATEFROMPARTS(YEAR({d}), (DATEPART(quarter, {d}) - 1) * 3 + 1, 1)",
            DateBucket.Year => $"DATEFROMPARTS(YEAR({d}), 1, 1)",
            _ => throw new ArgumentOutOfRangeException(nameof(bucket)),
        };
    }

    public string Median(string expression) => throw NoQuantiles();

    public string Quantile(string expression, double fraction) => throw NoQuantiles();

    private static PortalException NoQuantiles() => new(
        "SQL Server cannot compute a median or quartile as an aggregate (PERCENTILE_CONT is only a window function there). " +
        "Use an average, minimum or maximum on this live dataset, or import it.");

    public string Filtered(Func<string, string> aggregate, string argument, string condition) =>
        aggregate($"CASE WHEN {condition} THEN {(argument == "*" ? "1" : argument)} END");

    public string Filtered(string aggregate, string condition) =>
        throw new PortalException("SQL Server has no FILTER on aggregates, and this question needs one; import the dataset to ask it.");

    /// <summary>OFFSET … FETCH, which SQL Server only takes after an ORDER BY (see <see cref="Page"/>).</summary>
    public string LimitOffset(int? limit, int offset) =>
        $" OFFSET {offset} ROWS" + (limit is { } l ? $" FETCH NEXT {l} ROWS ONLY" : "");

    public string Mask(string text)
    {
        var n = Length(text);
        return $"CASE WHEN {text} IS NULL THEN NULL WHEN CHARINDEX(N'@', {text}) > 1 THEN LEFT({text}, 1) + N'***' + SUBSTRING({text}, CHARINDEX(N'@', {text}), {n}) " +
            $"WHEN {n} > 7 THEN LEFT({text}, 3) + REPLICATE(N'*', {n} - 7) + RIGHT({text}, 4) ELSE REPLICATE(N'*', {n}) END";
    }

    // MD5 of the UTF-8 bytes (as DuckDB's md5): nvarchar to varchar through a UTF-8 collation (SQL Server 2019), then
    // the hash's hex digits in lower case. NULL stays NULL ("+" with NULL is NULL).
    public string Hash(string text, string key) =>
        $"LOWER(LEFT(CONVERT(varchar(32), HASHBYTES('MD5', CAST((CAST({key} AS nvarchar(max)) + {text}) COLLATE Latin1_General_100_BIN2_UTF8 AS varchar(max))), 2), 16))";

    public string Condition(bool value) => value ? "(1 = 1)" : "(1 = 0)";

    public string Boolean(bool value) => value ? "1" : "0";

    public string Flag(string condition) => $"CASE WHEN {condition} THEN 1 ELSE 0 END";

    public string AnyTrue(string flag) => $"max({flag})";

    public string Holds(string flag) => $"(coalesce({flag}, 0) = 1)";

    public string InList(string expression, IReadOnlyList<string> values, Func<object, string> parameter) =>
        $"{Kept(expression)} {Exact} IN ({string.Join(", ", values.Select(v => $"{parameter(v)} + N'|'"))})";

    public string Divide(string dividend, string divisor) => $"{AsDouble(dividend)} / {divisor}";

    public string Average(string expression) => $"avg({AsDouble(expression)})";

    // No DISTINCT ON: the first row of each key by ROW_NUMBER. A derived table keeps no order here, so the key order
    // is not promised (Page sorts when asked to).
    public string OnePerKey(string key, IReadOnlyList<string> select, IReadOnlyList<string> columns, string fromWhere, bool distinct) =>
        distinct
            ? $"SELECT {string.Join(", ", columns.Select(c => $"members.{c}"))} FROM (SELECT {string.Join(", ", select)}, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {key}) AS [row#] {fromWhere}) AS members WHERE members.[row#] = 1"
            : $"SELECT {string.Join(", ", select)} {fromWhere}";

    // ORDER BY cannot use a result column's name inside an expression, so a sorted query is read as a derived table;
    // empty values go last by a CASE before each column. OFFSET/FETCH needs an ORDER BY: without a sort, (SELECT NULL).
    public string Page(string query, IReadOnlyList<(string Column, bool Descending)> sort, int? limit, int offset)
    {
        if (sort.Count == 0 && limit is null && offset == 0)
        {
            return query;
        }
        var order = sort.Count == 0
            ? "(SELECT NULL)"
            : string.Join(", ", sort.Select(s => $"CASE WHEN q.{s.Column} IS NULL THEN 1 ELSE 0 END, q.{s.Column}{(s.Descending ? " DESC" : " ASC")}"));
        return $"SELECT * FROM ({query}) AS q ORDER BY {order}" + (limit is null && offset == 0 ? "" : LimitOffset(limit, offset));
    }
}
