namespace SegmentPortal.Core.Queries;

/// <summary>
/// Everything that differs between SQL engines, in one place: quoting, parameter syntax, and the few functions the
/// compiler uses. The compiler writes SQL only through this interface: <see cref="DuckDbDialect"/> (the embedded
/// warehouse) is the first implementation; a PostgreSQL or SQL Server dialect implements the same members.
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

    /// <summary>An aggregate over only the rows a condition matches.</summary>
    string Filtered(string aggregate, string condition);

    string LimitOffset(int? limit, int offset);

    /// <summary>
    /// Text partly hidden: an e-mail keeps its first letter and domain (<c>j***@example.com</c>), a longer value its
    /// first 3 and last 4 characters (<c>138****5678</c>), a short one is all stars.
    /// </summary>
    string Mask(string text);

    /// <summary>A keyed hash of text (16 hex digits): equal values give equal hashes. <paramref name="key"/> is a parameter.</summary>
    string Hash(string text, string key);
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

    public string Filtered(string aggregate, string condition) => $"{aggregate} FILTER (WHERE {condition})";

    public string LimitOffset(int? limit, int offset) =>
        (limit is { } l ? $" LIMIT {l}" : "") + (offset > 0 ? $" OFFSET {offset}" : "");

    public string Mask(string text) =>
        $"CASE WHEN {text} IS NULL THEN NULL WHEN strpos({text}, '@') > 1 THEN left({text}, 1) || '***' || substr({text}, strpos({text}, '@')) " +
        $"WHEN length({text}) > 7 THEN left({text}, 3) || repeat('*', length({text}) - 7) || right({text}, 4) ELSE repeat('*', length({text})) END";

    public string Hash(string text, string key) => $"left(md5({key} || {text}), 16)";
}
