using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Rules;

/// <summary>The JSON formats a rule tree can be imported from and exported to.</summary>
public enum RuleFormat
{
    /// <summary>The portal's own versioned JSON (<see cref="RuleTree.ToJson"/>): everything a rule can hold.</summary>
    SegmentPortal,

    /// <summary>jQuery QueryBuilder's <c>getRules()</c> / <c>setRules()</c> JSON (querybuilder.js.org).</summary>
    JQueryQueryBuilder,

    /// <summary>react-querybuilder's query object as JSON (react-querybuilder.js.org), including independent combinators.</summary>
    ReactQueryBuilder,
}

/// <summary>An exported rule, with what could not be carried over in words for the person exporting it.</summary>
/// <param name="Json">The rule in the chosen format.</param>
/// <param name="Warnings">One sentence per condition left out; empty when the export is faithful.</param>
public sealed record InterchangeResult(string Json, IReadOnlyList<string> Warnings);

/// <summary>An imported rule tree, the format it was read from, and notes for the person importing it.</summary>
public sealed record RuleImportResult(RuleTree Tree, RuleFormat Format, IReadOnlyList<string> Warnings);

/// <summary>What the portal knows about the dataset a rule is for, so imports and exports pick the right operators.</summary>
public sealed class RuleInterchangeOptions
{
    /// <summary>
    /// A field's column type, or null when the field is unknown. Without it types are taken from the foreign rule
    /// (jQuery QueryBuilder's <c>type</c>) or guessed from the operator and values (2024-01-01 is a date).
    /// </summary>
    public Func<string, ColumnType?>? FieldType { get; init; }

    /// <summary>Names conditions in export warnings; by default field names and segment ids are shown as they are.</summary>
    public RuleSummary? Summary { get; init; }
}

/// <summary>
/// Imports and exports rule trees as JSON: the portal's own format, jQuery QueryBuilder's and react-querybuilder's.
/// Exports never fail: what a foreign format cannot express (customer facts, segment membership, relative dates) is
/// left out and reported in <see cref="InterchangeResult.Warnings"/>. Imports either give a tree that means what the
/// foreign rule meant, rewriting where the portal has no single operator (not between → NOT of between), or refuse
/// with a <see cref="PortalException"/> naming the rule.
/// </summary>
public static class RuleInterchange
{
    /// <summary>The name of a format as people know it.</summary>
    public static string DisplayName(RuleFormat format) => format switch
    {
        RuleFormat.JQueryQueryBuilder => "jQuery QueryBuilder",
        RuleFormat.ReactQueryBuilder => "react-querybuilder",
        _ => "SegmentPortal",
    };

    /// <summary>Which format a JSON text is in, so one text box or file picker accepts all three.</summary>
    /// <exception cref="PortalException">The text is not JSON, or not a rule in any of the formats.</exception>
    public static RuleFormat Detect(string json) => Detect(ForeignJson.Parse(json));

    /// <summary>Writes the tree in the given format (indented, for reading and pasting).</summary>
    public static InterchangeResult Export(RuleTree tree, RuleFormat format, RuleInterchangeOptions? options = null)
    {
        if (format == RuleFormat.SegmentPortal)
        {
            return new InterchangeResult(tree.ToIndentedJson(), []);
        }
        var exporter = new ForeignExporter(DisplayName(format), options ?? new RuleInterchangeOptions(),
            supportsIsEmpty: format == RuleFormat.JQueryQueryBuilder);
        var neutral = exporter.Convert(tree.Root);
        var json = format == RuleFormat.JQueryQueryBuilder ? JQueryQueryBuilderFormat.Write(neutral) : ReactQueryBuilderFormat.Write(neutral);
        return new InterchangeResult(ForeignJson.Write(json), exporter.Warnings);
    }

    /// <summary>
    /// The most text a rule import takes. A pasted rule travels from the browser in one message of the page's connection,
    /// which must stay well under its 32 KB limit (quotes are escaped on the way); real rules are far shorter.
    /// </summary>
    public const int MaxImportLength = 10_000;

    /// <summary>Why text longer than <see cref="MaxImportLength"/> is not imported.</summary>
    public static string TooLong(int length) => string.Format(CultureInfo.InvariantCulture,
        "This text has {0:N0} characters; a rule to import may have at most {1:N0} characters.", length, MaxImportLength);

    /// <summary>Reads a rule tree in the given format, or in whichever format <see cref="Detect(string)"/> finds.</summary>
    /// <exception cref="PortalException">Malformed JSON, or a rule the portal cannot express; the message names the rule.</exception>
    public static RuleImportResult Import(string json, RuleFormat? format = null, RuleInterchangeOptions? options = null)
    {
        if (json is { Length: > MaxImportLength })
        {
            throw new PortalException(TooLong(json.Length));
        }
        var node = ForeignJson.Parse(json);
        var actual = format ?? Detect(node);
        if (actual == RuleFormat.SegmentPortal)
        {
            // Without "root" the deserializer would quietly give an empty rule, which matches every customer.
            if (node is not JsonObject own || !own.Any(p => p.Key.Equals("root", StringComparison.OrdinalIgnoreCase)))
            {
                throw new PortalException("This is not a rule in SegmentPortal's format: it has no \"root\" group.");
            }
            return new RuleImportResult(RuleTree.FromJson(json), actual, []);
        }
        var warnings = new List<string>();
        var neutral = actual == RuleFormat.JQueryQueryBuilder
            ? JQueryQueryBuilderFormat.Read(node, warnings)
            : ReactQueryBuilderFormat.Read(node);
        var importer = new ForeignImporter(options ?? new RuleInterchangeOptions(), splitCommas: actual == RuleFormat.ReactQueryBuilder);
        return new RuleImportResult(new RuleTree { Root = importer.Convert(neutral) }, actual, warnings);
    }

    private static RuleFormat Detect(JsonNode? node)
    {
        if (node is not JsonObject root)
        {
            throw NotARule();
        }
        if (root.Any(p => p.Key.Equals("root", StringComparison.OrdinalIgnoreCase)))
        {
            return RuleFormat.SegmentPortal;
        }
        if (root.ContainsKey("condition"))
        {
            return RuleFormat.JQueryQueryBuilder;
        }
        if (root.ContainsKey("combinator"))
        {
            return RuleFormat.ReactQueryBuilder;
        }
        if (root["rules"] is not JsonArray rules)
        {
            throw NotARule();
        }
        // A group without "condition" or "combinator": jQuery QueryBuilder always writes "condition", so this is most
        // likely react-querybuilder with independent combinators; the rules themselves usually settle it.
        return Clues(rules) ?? RuleFormat.ReactQueryBuilder;
    }

    private static readonly HashSet<string> JQueryOnlyOperators = new(StringComparer.Ordinal)
    {
        "equal", "not_equal", "less", "less_or_equal", "greater", "greater_or_equal", "not_in", "not_between",
        "begins_with", "not_begins_with", "not_contains", "ends_with", "not_ends_with", "is_empty", "is_not_empty",
        "is_null", "is_not_null",
    };

    private static readonly HashSet<string> ReactOnlyOperators = new(StringComparer.Ordinal)
    {
        "=", "!=", "<", ">", "<=", ">=", "beginsWith", "endsWith", "doesNotContain", "doesNotBeginWith",
        "doesNotEndWith", "null", "notNull", "notIn", "notBetween",
    };

    private static RuleFormat? Clues(JsonArray rules)
    {
        foreach (var entry in rules)
        {
            if (entry is JsonValue)
            {
                // Combinators between rules ("and", "or") exist only in react-querybuilder.
                return RuleFormat.ReactQueryBuilder;
            }
            if (entry is not JsonObject item)
            {
                continue;
            }
            if (item.ContainsKey("condition") || item.ContainsKey("input") || item.ContainsKey("type"))
            {
                return RuleFormat.JQueryQueryBuilder;
            }
            if (item.ContainsKey("combinator") || item.ContainsKey("valueSource"))
            {
                return RuleFormat.ReactQueryBuilder;
            }
            if (item["operator"] is JsonValue op && op.TryGetValue<string>(out var name))
            {
                if (JQueryOnlyOperators.Contains(name))
                {
                    return RuleFormat.JQueryQueryBuilder;
                }
                if (ReactOnlyOperators.Contains(name))
                {
                    return RuleFormat.ReactQueryBuilder;
                }
            }
            if (item["rules"] is JsonArray nested && Clues(nested) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    private static PortalException NotARule() => new(
        "This is not a rule the portal can read: paste or upload a rule from SegmentPortal, jQuery QueryBuilder or react-querybuilder.");
}

/// <summary>Parsing and writing the JSON of all formats, with messages for people.</summary>
internal static class ForeignJson
{
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        // Keeps "Zürich" and react-querybuilder's "<=" readable instead of \u escapes. The text goes to a file or a
        // text box that Blazor encodes, never raw into a page or script, so the relaxed escaping is safe here.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonNode? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new PortalException("There is nothing to import: the text is empty.");
        }
        try
        {
            // Lenient about comments and trailing commas: rules are often copied out of JavaScript source.
            return JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, character {(ex.BytePositionInLine ?? 0) + 1})" : "";
            throw new PortalException($"This is not valid JSON{where}.", ex);
        }
    }

    public static string Write(JsonNode node) => node.ToJsonString(WriteOptions);
}
