namespace SegmentPortal.Core.Queries;

/// <summary>
/// Everything that differs between SQL engines, in one place: quoting, parameter syntax, and the few functions the
/// compiler uses. DuckDB (the embedded warehouse) today; SQL Server and PostgreSQL dialects implement the same members.
/// </summary>
public abstract class SqlDialect
{
    public abstract string Quote(string identifier);

    public abstract string Parameter(string name);

    public abstract string Lower(string expression);

    public abstract string ContainsText(string haystack, string needle);

    public abstract string StartsWithText(string text, string prefix);

    public abstract string EndsWithText(string text, string suffix);

    public abstract string AsDate(string expression);

    public abstract string AsText(string expression);

    public abstract string AsDouble(string expression);

    /// <summary>True when the text is empty or only whitespace (as <see cref="string.IsNullOrWhiteSpace"/> sees it: tabs, line breaks, Unicode spaces).</summary>
    public abstract string IsBlank(string text);

    public abstract string DaysBetween(string from, string to);

    public abstract string Truncate(DateBucket bucket, string expression);

    public abstract string Median(string expression);

    /// <summary>An interpolated quantile. <paramref name="fraction"/> is always a constant of the compiler, never a user's value.</summary>
    public abstract string Quantile(string expression, double fraction);

    /// <summary>An aggregate over only the rows a condition matches.</summary>
    public abstract string Filtered(string aggregate, string condition);

    public abstract string LimitOffset(int? limit, int offset);

    /// <summary>
    /// Text partly hidden: an e-mail keeps its first letter and domain (<c>j***@example.com</c>), a longer value its
    /// first 3 and last 4 characters (<c>138****5678</c>), a short one is all stars.
    /// </summary>
    public abstract string Mask(string text);

    /// <summary>A keyed hash of text (16 hex digits): equal values give equal hashes. <paramref name="key"/> is a parameter.</summary>
    public abstract string Hash(string text, string key);
}

public sealed class DuckDbDialect : SqlDialect
{
    public static DuckDbDialect Instance { get; } = new();

    public override string Quote(string identifier) => Common.SqlIdentifiers.DoubleQuote(identifier);

    public override string Parameter(string name) => "$" + name;

    public override string Lower(string expression) => $"lower({expression})";

    public override string ContainsText(string haystack, string needle) => $"contains(lower({haystack}), lower({needle}))";

    public override string StartsWithText(string text, string prefix) => $"starts_with(lower({text}), lower({prefix}))";

    public override string EndsWithText(string text, string suffix) => $"ends_with(lower({text}), lower({suffix}))";

    public override string AsDate(string expression) => $"CAST({expression} AS DATE)";

    public override string AsText(string expression) => $"CAST({expression} AS VARCHAR)";

    public override string AsDouble(string expression) => $"CAST({expression} AS DOUBLE)";

    // RE2: \s is ASCII whitespace without \v; \p{Z} the Unicode space, line and paragraph separators; \x{85} next line.
    public override string IsBlank(string text) => $@"regexp_full_match({text}, '[\s\v\x{{85}}\p{{Z}}]*')";

    public override string DaysBetween(string from, string to) => $"date_diff('day', {from}, {to})";

    public override string Truncate(DateBucket bucket, string expression) =>
        $"CAST(date_trunc('{bucket.ToString().ToLowerInvariant()}', {expression}) AS DATE)";

    public override string Median(string expression) => $"median({expression})";

    public override string Quantile(string expression, double fraction) =>
        $"quantile_cont({expression}, {fraction.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})";

    public override string Filtered(string aggregate, string condition) => $"{aggregate} FILTER (WHERE {condition})";

    public override string LimitOffset(int? limit, int offset) =>
        (limit is { } l ? $" LIMIT {l}" : "") + (offset > 0 ? $" OFFSET {offset}" : "");

    public override string Mask(string text) =>
        $"CASE WHEN {text} IS NULL THEN NULL WHEN strpos({text}, '@') > 1 THEN left({text}, 1) || '***' || substr({text}, strpos({text}, '@')) " +
        $"WHEN length({text}) > 7 THEN left({text}, 3) || repeat('*', length({text}) - 7) || right({text}, 4) ELSE repeat('*', length({text})) END";

    public override string Hash(string text, string key) => $"left(md5({key} || {text}), 16)";
}
