using System.Text;
using System.Text.RegularExpressions;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>A piece of text inside a block.</summary>
public abstract record MarkdownInline;

public sealed record MarkdownText(string Text) : MarkdownInline;

public sealed record MarkdownStrong(IReadOnlyList<MarkdownInline> Content) : MarkdownInline;

public sealed record MarkdownEmphasis(IReadOnlyList<MarkdownInline> Content) : MarkdownInline;

public sealed record MarkdownCode(string Text) : MarkdownInline;

/// <summary>A link; only ever to an absolute http or https address.</summary>
public sealed record MarkdownLink(Uri Href, IReadOnlyList<MarkdownInline> Content) : MarkdownInline;

public abstract record MarkdownBlock;

public sealed record MarkdownHeading(int Level, IReadOnlyList<MarkdownInline> Content) : MarkdownBlock;

public sealed record MarkdownParagraph(IReadOnlyList<MarkdownInline> Content) : MarkdownBlock;

public sealed record MarkdownList(bool Ordered, IReadOnlyList<IReadOnlyList<MarkdownInline>> Items) : MarkdownBlock;

public sealed record MarkdownRule : MarkdownBlock;

/// <summary>
/// The Markdown text tiles understand: headings (#), paragraphs, bulleted and numbered lists, rules (---), bold,
/// italic, inline code and http/https links. There is no HTML: the result is a tree of plain strings that
/// <see cref="MarkdownView"/> writes as text, so markup in the source shows as the characters typed. Links to any
/// other scheme (javascript:, data:, relative paths) keep their text and lose the link.
/// </summary>
public static partial class Markdown
{
    public static IReadOnlyList<MarkdownBlock> Parse(string? source)
    {
        var blocks = new List<MarkdownBlock>();
        var paragraph = new List<string>();
        List<IReadOnlyList<MarkdownInline>>? items = null;
        var ordered = false;

        void Flush()
        {
            if (paragraph.Count > 0)
            {
                blocks.Add(new MarkdownParagraph(Inlines(string.Join(" ", paragraph))));
                paragraph.Clear();
            }
            if (items is not null)
            {
                blocks.Add(new MarkdownList(ordered, items));
                items = null;
            }
        }

        foreach (var raw in (source ?? "").ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                Flush();
            }
            else if (HeadingLine().Match(line) is { Success: true } heading)
            {
                Flush();
                blocks.Add(new MarkdownHeading(heading.Groups[1].Length, Inlines(heading.Groups[2].Value.TrimEnd('#', ' '))));
            }
            else if (RuleLine().IsMatch(line))
            {
                Flush();
                blocks.Add(new MarkdownRule());
            }
            else if (ListLine().Match(line) is { Success: true } item)
            {
                var isOrdered = char.IsDigit(item.Groups[1].Value[0]);
                if (paragraph.Count > 0 || (items is not null && ordered != isOrdered))
                {
                    Flush();
                }
                items ??= [];
                ordered = isOrdered;
                items.Add(Inlines(item.Groups[2].Value));
            }
            else if (items is not null && raw.StartsWith("  ", StringComparison.Ordinal))
            {
                // An indented line continues the list item above.
                items[^1] = Inlines(Plain(items[^1]) + " " + line);
            }
            else
            {
                if (items is not null)
                {
                    Flush();
                }
                paragraph.Add(line);
            }
        }
        Flush();
        return blocks;
    }

    /// <summary>Bold (** or __), italic (* or _), `code`, [text](http…) and backslash escapes in one line of text.</summary>
    public static IReadOnlyList<MarkdownInline> Inlines(string text)
    {
        var result = new List<MarkdownInline>();
        var plain = new StringBuilder();

        void Add(MarkdownInline inline)
        {
            if (plain.Length > 0)
            {
                result.Add(new MarkdownText(plain.ToString()));
                plain.Clear();
            }
            result.Add(inline);
        }

        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length && (char.IsPunctuation(text[i + 1]) || char.IsSymbol(text[i + 1])))
            {
                plain.Append(text[i + 1]);
                i += 2;
            }
            else if (c == '`' && text.IndexOf('`', i + 1) is var end && end > i)
            {
                Add(new MarkdownCode(text[(i + 1)..end]));
                i = end + 1;
            }
            else if ((c == '*' || c == '_') && i + 1 < text.Length && text[i + 1] == c && Closing(text, i + 2, new string(c, 2)) is var strongEnd && strongEnd > i + 2)
            {
                Add(new MarkdownStrong(Inlines(text[(i + 2)..strongEnd])));
                i = strongEnd + 2;
            }
            else if ((c == '*' || c == '_') && OpensEmphasis(text, i) && Closing(text, i + 1, c.ToString()) is var emEnd && emEnd > i + 1)
            {
                Add(new MarkdownEmphasis(Inlines(text[(i + 1)..emEnd])));
                i = emEnd + 1;
            }
            else if (c == '[' && LinkAt(text, i) is { } link)
            {
                var content = Inlines(link.Text);
                if (SafeAddress(link.Address) is { } href)
                {
                    Add(new MarkdownLink(href, content));
                }
                else
                {
                    // Not a web address: keep the words, drop the link.
                    foreach (var inline in content)
                    {
                        Add(inline);
                    }
                }
                i = link.End;
            }
            else
            {
                plain.Append(c);
                i++;
            }
        }
        if (plain.Length > 0)
        {
            result.Add(new MarkdownText(plain.ToString()));
        }
        return result;
    }

    /// <summary>An absolute http or https address, or null for anything else.</summary>
    public static Uri? SafeAddress(string address) =>
        Uri.TryCreate(address.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : null;

    /// <summary>The text of inlines without their formatting.</summary>
    public static string Plain(IEnumerable<MarkdownInline> inlines) => string.Concat(inlines.Select(inline => inline switch
    {
        MarkdownText t => t.Text,
        MarkdownCode c => c.Text,
        MarkdownStrong s => Plain(s.Content),
        MarkdownEmphasis e => Plain(e.Content),
        MarkdownLink l => Plain(l.Content),
        _ => "",
    }));

    /// <summary>Where the closing <paramref name="delimiter"/> starts (not right after whitespace), or −1.</summary>
    private static int Closing(string text, int from, string delimiter)
    {
        for (var at = text.IndexOf(delimiter, from, StringComparison.Ordinal); at >= 0; at = text.IndexOf(delimiter, at + 1, StringComparison.Ordinal))
        {
            var single = delimiter.Length == 1;
            // A single * must not be half of a ** pair.
            var doubled = single && at + 1 < text.Length && text[at + 1] == delimiter[0];
            if (at > from && !char.IsWhiteSpace(text[at - 1]) && !doubled)
            {
                return at;
            }
            if (doubled)
            {
                at++;
            }
        }
        return -1;
    }

    /// <summary>A * or _ opens emphasis before a non-space; _ only at the start of a word (snake_case stays as typed).</summary>
    private static bool OpensEmphasis(string text, int i) =>
        i + 1 < text.Length && !char.IsWhiteSpace(text[i + 1]) && (text[i] == '*' || i == 0 || !char.IsLetterOrDigit(text[i - 1]));

    private static (string Text, string Address, int End)? LinkAt(string text, int i)
    {
        var close = text.IndexOf(']', i + 1);
        if (close < 0 || close + 1 >= text.Length || text[close + 1] != '(')
        {
            return null;
        }
        // The address may hold balanced brackets of its own (…/wiki/Cohort_(statistics)).
        var depth = 0;
        for (var end = close + 2; end < text.Length; end++)
        {
            if (text[end] == '(')
            {
                depth++;
            }
            else if (text[end] == ')' && depth-- == 0)
            {
                return (text[(i + 1)..close], text[(close + 2)..end], end + 1);
            }
        }
        return null;
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.*)$")]
    private static partial Regex HeadingLine();

    [GeneratedRegex(@"^([-*+]|\d{1,9}[.)])\s+(.*)$")]
    private static partial Regex ListLine();

    [GeneratedRegex(@"^(-{3,}|\*{3,}|_{3,})$")]
    private static partial Regex RuleLine();
}
