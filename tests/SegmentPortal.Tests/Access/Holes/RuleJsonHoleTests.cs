using System.Text;
using System.Text.Json.Nodes;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12 B6: rule JSON from a paste (or a damaged store) is refused with a message naming what is wrong and where;
/// nothing but the portal's own <see cref="PortalException"/> comes out of a parser, whatever the input.
/// </summary>
public sealed class RuleJsonHoleTests
{
    private const string PortalRule = """
        {"version":1,"root":{"kind":"group","combinator":"and","not":false,"children":[
          {"kind":"condition","id":"c1","field":"region","operator":"in","values":["North","South"]},
          {"kind":"fact","id":"f1","fact":"totalAmount","operator":"greater","value":"100","windowDays":90},
          {"kind":"segment","id":"s1","segmentId":3,"in":true},
          {"kind":"group","id":"g1","combinator":"or","not":true,"children":[
            {"kind":"condition","id":"c2","field":"signup","operator":"inLast","value":"3","unit":"months"},
            {"kind":"condition","id":"c3","field":"age","operator":"between","value":"18","value2":"65"}]}]}}
        """;

    private const string JQueryRule = """
        {"condition":"AND","rules":[
          {"id":"price","field":"price","type":"double","input":"number","operator":"less","value":10.25},
          {"condition":"OR","not":true,"rules":[
            {"id":"category","field":"category","type":"integer","operator":"in","value":[1,2]},
            {"id":"name","field":"name","type":"string","operator":"not_begins_with","value":"Test"},
            {"id":"age","field":"age","type":"integer","operator":"between","value":[18,65]}]}],"valid":true}
        """;

    private const string ReactRule = """
        {"id":"g0","combinator":"and","not":false,"rules":[
          {"id":"r-1","field":"firstName","operator":"beginsWith","value":"Stev","valueSource":"value"},
          {"id":"r-2","field":"lastName","operator":"in","value":"Vai, Vaughan"},
          {"id":"g-1","combinator":"or","rules":[{"field":"isMusician","operator":"=","value":true},"and",{"field":"age","operator":"between","value":"18,65"}]},
          {"id":"r-7","field":"height","operator":"notBetween","value":[150,200]}]}
        """;

    private const string Tiles = """
        [{"id":"t1","type":"bar","title":"Sales","datasetId":3,"segmentIds":[1,2],"dimensions":[{"field":"region"}],
          "measures":[{"kind":"sum","field":"amount","label":"Sales"}],"filterJson":null}]
        """;

    private const string Filters = """
        [{"kind":"dateRange","column":"order_date","preset":"last30Days","label":"When"},{"kind":"category","column":"region","values":["North"]},
         {"kind":"numericRange","column":"amount","min":10,"max":500}]
        """;

    private const string Steps = """
        {"steps":[{"step":"removeDuplicates"},{"step":"missing","column":"email","action":"FillConstant","value":"none"},
          {"step":"dedupeOnKey","columns":["id"],"keepLast":true},{"step":"cast","column":"age","type":"Integer"}],"version":1}
        """;

    [Fact]
    public void B6_a_rule_node_without_kind_is_refused_with_what_is_missing_and_where()
    {
        const string json = """{"version":1,"root":{"kind":"group","children":[{"kind":"condition","field":"a","operator":"isEmpty"},{"field":"region","operator":"equals","value":"North"}]}}""";

        var error = Assert.IsType<PortalException>(Record.Exception(() => RuleTree.FromJson(json)), exactMatch: false);
        Assert.Contains("\"kind\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("root.children[1]", error.Message, StringComparison.Ordinal);

        var imported = Assert.IsType<PortalException>(Record.Exception(() => RuleInterchange.Import(json)), exactMatch: false);
        Assert.Contains("root.children[1]", imported.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"version":1,"root":{"kind":"group","children":[{"kind":"banana"}]}}""", "root.children[0]")]
    [InlineData("""{"version":1,"root":{"kind":"group","children":[null]}}""", "root.children[0]")]
    [InlineData("""{"version":1,"root":{"kind":"group","children":null}}""", "root.children")]
    [InlineData("""{"version":1,"root":{"kind":"condition","field":"a"}}""", "root")]
    [InlineData("""{"version":1,"root":{"kind":"group","children":[{"kind":"condition","field":"a","operator":77}]}}""", "root.children[0]")]
    [InlineData("""{"version":1,"root":{"kind":"group","children":[{"kind":"condition","field":"a","operator":"equals","values":null}]}}""", "root.children[0]")]
    public void B6_a_damaged_rule_node_is_refused_with_its_path(string json, string path)
    {
        var error = Assert.IsType<PortalException>(Record.Exception(() => RuleTree.FromJson(json)), exactMatch: false);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void B6_kind_need_not_come_first_and_repeated_ids_do_not_break_the_rule()
    {
        var tree = RuleTree.FromJson("""{"root":{"children":[{"field":"a","operator":"isEmpty","kind":"condition","id":"x"},{"id":"x","kind":"condition","field":"b","operator":"isEmpty"}],"kind":"group"},"version":1}""");

        var ids = tree.Root.Descendants().Select(n => n.Id).ToList();
        Assert.Equal(2, ids.Distinct().Count());
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
    }

    [Fact]
    public void B6_an_oversized_paste_is_refused_with_the_limit()
    {
        var conditions = string.Join(",", Enumerable.Range(0, 400).Select(i => $$"""{"kind":"condition","field":"f{{i}}","operator":"equals","value":"{{i}}"}"""));
        var json = $$$"""{"version":1,"root":{"kind":"group","children":[{{{conditions}}}]}}""";
        Assert.True(json.Length > 20_000);

        var error = Assert.IsType<PortalException>(Record.Exception(() => RuleInterchange.Import(json)), exactMatch: false);
        Assert.Contains("10,000 characters", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Parsers => new()
    {
        "RuleTree.FromJson", "RuleInterchange.Import", "Import as SegmentPortal", "Import as jQuery QueryBuilder", "Import as react-querybuilder",
        "RuleInterchange.Detect", "DashboardJson tiles", "DashboardJson layout", "DashboardJson filters", "Recipe.FromJson", "RfmSettings.FromJson",
    };

    /// <summary>Seeded random, truncated and structurally damaged inputs: each parses or throws a <see cref="PortalException"/>.</summary>
    [Theory]
    [MemberData(nameof(Parsers))]
    public void B6_fuzzed_json_parses_or_is_refused_with_a_portal_message(string parser)
    {
        Action<string> parse = parser switch
        {
            "RuleTree.FromJson" => json => Walk(RuleTree.FromJson(json)),
            "RuleInterchange.Import" => json => Walk(RuleInterchange.Import(json).Tree),
            "Import as SegmentPortal" => json => Walk(RuleInterchange.Import(json, RuleFormat.SegmentPortal).Tree),
            "Import as jQuery QueryBuilder" => json => Walk(RuleInterchange.Import(json, RuleFormat.JQueryQueryBuilder).Tree),
            "Import as react-querybuilder" => json => Walk(RuleInterchange.Import(json, RuleFormat.ReactQueryBuilder).Tree),
            "RuleInterchange.Detect" => json => RuleInterchange.Detect(json),
            "DashboardJson tiles" => json => Assert.All(DashboardJson.Read<TileDefinition>(json), Assert.NotNull),
            "DashboardJson layout" => json => Assert.All(DashboardJson.Read<TileLayout>(json), Assert.NotNull),
            "DashboardJson filters" => json => Assert.All(DashboardJson.Read<DashboardFilter>(json), Assert.NotNull),
            "Recipe.FromJson" => json => Assert.All(Recipe.FromJson(json).Steps, s => Assert.NotNull(s.Describe())),
            _ => json => RfmSettings.FromJson(json),
        };
        string[] samples = parser switch
        {
            "DashboardJson tiles" or "DashboardJson layout" or "DashboardJson filters" => [Tiles, """[{"tileId":"t1","x":0,"y":0,"w":4,"h":3}]""", Filters],
            "Recipe.FromJson" => [Steps],
            "RfmSettings.FromJson" => [RfmSettings.Default.ToJson()],
            _ => [PortalRule, JQueryRule, ReactRule],
        };

        var failures = new List<string>();
        foreach (var input in Inputs(samples, new Random(20261206)))
        {
            try
            {
                parse(input);
            }
            catch (PortalException)
            {
            }
            catch (Exception ex)
            {
                failures.Add($"{ex.GetType().Name}: {ex.Message}\n  input: {(input.Length > 300 ? input[..300] + "…" : input)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} inputs escaped as other exceptions, e.g.:\n{string.Join("\n", failures.Take(5))}");
    }

    /// <summary>What the builder and the pages do with a parsed tree; none of it may fail on a tree a parser let through.</summary>
    private static void Walk(RuleTree tree)
    {
        var nodes = tree.Root.Descendants().ToList();
        Assert.All(nodes, n => Assert.False(string.IsNullOrEmpty(n.Id)));
        Assert.Equal(nodes.Count, nodes.Select(n => n.Id).Distinct().Count());
        _ = new RuleSummary(_ => null).Describe(tree);
        _ = RuleTree.FromJson(tree.Clone().ToJson());
        foreach (var format in Enum.GetValues<RuleFormat>())
        {
            try
            {
                RuleInterchange.Export(tree, format);
            }
            catch (PortalException)
            {
            }
        }
    }

    private static IEnumerable<string> Inputs(IReadOnlyList<string> samples, Random random)
    {
        string[] tokens = ["{", "}", "[", "]", ",", ":", "null", "\"kind\"", "\"group\"", "\"condition\"", "\"fact\"", "\"segment\"", "-1", "1e400",
            "\"x\"", "true", "\"children\"", "\"rules\"", "\"root\"", "99999999999", "\"\\u0000\"", "\"step\"", "0.5", "\"\""];
        JsonNode?[] values = [null, 0, -1, 77, 1e300, "", "banana", "x,y", true, false, new JsonArray(), new JsonObject(), new JsonArray(1, "a", null),
            new JsonObject { ["kind"] = "group" }, new JsonObject { ["kind"] = "condition" }, new JsonObject { ["rules"] = new JsonArray() }];
        foreach (var sample in samples)
        {
            for (var cut = 0; cut < sample.Length; cut++)
            {
                yield return sample[..cut];
            }
            for (var i = 0; i < 600; i++)
            {
                var text = new StringBuilder(sample);
                for (var edits = random.Next(1, 4); edits > 0 && text.Length > 0; edits--)
                {
                    var at = random.Next(text.Length);
                    switch (random.Next(3))
                    {
                        case 0:
                            text.Remove(at, Math.Min(random.Next(1, 12), text.Length - at));
                            break;
                        case 1:
                            text.Insert(at, tokens[random.Next(tokens.Length)]);
                            break;
                        default:
                            text[at] = (char)random.Next(32, 127);
                            break;
                    }
                }
                yield return text.ToString();
            }
            for (var i = 0; i < 1500; i++)
            {
                var root = JsonNode.Parse(sample)!;
                for (var edits = random.Next(1, 4); edits > 0; edits--)
                {
                    var all = Nodes(root).ToList();
                    var target = all[random.Next(all.Count)];
                    var value = values[random.Next(values.Length)]?.DeepClone();
                    switch (target)
                    {
                        case JsonObject obj when obj.Count > 0:
                            var key = obj.ElementAt(random.Next(obj.Count)).Key;
                            if (random.Next(2) == 0)
                            {
                                obj.Remove(key);
                            }
                            else
                            {
                                obj[key] = value;
                            }
                            break;
                        case JsonArray array when array.Count > 0:
                            array[random.Next(array.Count)] = value;
                            break;
                        case JsonArray array:
                            array.Add(value);
                            break;
                    }
                }
                yield return root.ToJsonString();
            }
        }
        for (var i = 0; i < 300; i++)
        {
            yield return new string(Enumerable.Range(0, random.Next(1, 80)).Select(_ => (char)random.Next(32, 127)).ToArray());
        }
    }

    private static IEnumerable<JsonNode> Nodes(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value),
            JsonArray array => array,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>().ToList())
        {
            foreach (var nested in Nodes(child))
            {
                yield return nested;
            }
        }
    }
}
