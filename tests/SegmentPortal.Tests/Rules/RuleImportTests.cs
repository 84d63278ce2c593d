using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using static SegmentPortal.Tests.Rules.RuleTrees;

namespace SegmentPortal.Tests.Rules;

public sealed class RuleImportTests
{
    // The basic example of jQuery QueryBuilder's documentation, as getRules() returns it.
    private const string JQueryBasic = """
        {
          "condition": "AND",
          "rules": [
            { "id": "price", "field": "price", "type": "double", "input": "number", "operator": "less", "value": 10.25 },
            {
              "condition": "OR",
              "rules": [
                { "id": "category", "field": "category", "type": "integer", "input": "select", "operator": "equal", "value": 2 },
                { "id": "category", "field": "category", "type": "integer", "input": "select", "operator": "equal", "value": 1 }
              ]
            }
          ],
          "valid": true
        }
        """;

    // The not-group plugin, the negative operators and the types the portal has no single operator for.
    private const string JQueryRewrites = """
        {
          "condition": "OR",
          "not": true,
          "rules": [
            { "id": "name", "field": "name", "type": "string", "input": "text", "operator": "not_begins_with", "value": "Test" },
            { "id": "name", "field": "name", "type": "string", "input": "text", "operator": "not_ends_with", "value": "son" },
            { "id": "age", "field": "age", "type": "integer", "input": "number", "operator": "not_between", "value": [18, 65] },
            { "id": "email", "field": "email", "type": "string", "input": "text", "operator": "is_null", "value": null },
            { "id": "email", "field": "email", "type": "string", "input": "text", "operator": "is_not_null", "value": null },
            { "id": "signup", "field": "signup", "type": "date", "input": "text", "operator": "less_or_equal", "value": "2024-01-01" },
            { "id": "signup", "field": "signup", "type": "date", "input": "text", "operator": "greater_or_equal", "value": "2023-01-01" },
            { "id": "signup", "field": "signup", "type": "date", "input": "text", "operator": "not_equal", "value": "2023-12-25" },
            { "id": "in_stock", "field": "in_stock", "type": "integer", "input": "radio", "operator": "in", "value": [1, 2] },
            { "id": "in_stock", "field": "in_stock", "type": "integer", "input": "radio", "operator": "not_in", "value": [0] },
            { "id": "newsletter", "field": "newsletter", "type": "boolean", "input": "radio", "operator": "not_equal", "value": true },
            { "id": "vip", "field": "vip", "type": "boolean", "input": "radio", "operator": "equal", "value": 0 },
            { "id": "city", "field": "city", "type": "string", "input": "select", "operator": "not_in", "value": ["Paris", "Rome"] },
            { "id": "last_login", "field": "last_login", "type": "datetime", "input": "text", "operator": "between",
              "value": ["2024-01-01 00:00:00", "2024-01-31 23:59:59"] }
          ],
          "valid": true
        }
        """;

    // react-querybuilder's documentation example shape: ids, valueSource, comma-separated lists, a nested group.
    private const string React = """
        {
          "id": "6ab5e4e4-0c3a-4e5b-9d3d-8a8e3c1c9f01",
          "combinator": "and",
          "not": false,
          "rules": [
            { "id": "r-1", "field": "firstName", "operator": "beginsWith", "value": "Stev", "valueSource": "value" },
            { "id": "r-2", "field": "lastName", "operator": "in", "value": "Vai, Vaughan" },
            { "id": "r-3", "field": "age", "operator": ">", "value": "28" },
            {
              "id": "g-1",
              "combinator": "or",
              "rules": [
                { "id": "r-4", "field": "isMusician", "operator": "=", "value": true },
                { "id": "r-5", "field": "instrument", "operator": "=", "value": "Guitar" }
              ]
            },
            { "id": "r-6", "field": "birthdate", "operator": "between", "value": "1954-10-03,1960-06-06" },
            { "id": "r-7", "field": "height", "operator": "notBetween", "value": [150, 200] },
            { "id": "r-8", "field": "alsoPlays", "operator": "notNull", "value": "" },
            { "id": "r-9", "field": "lastName", "operator": "doesNotEndWith", "value": "son" },
            { "id": "r-10", "field": "lastName", "operator": "doesNotBeginWith", "value": "Mc" },
            { "id": "r-11", "field": "instrument", "operator": "notIn", "value": ["Drums", "Bass"] },
            { "id": "r-12", "field": "gender", "operator": "null", "value": "" },
            { "id": "r-13", "field": "description", "operator": "doesNotContain", "value": "session" },
            { "id": "r-14", "field": "age", "operator": "<=", "value": 60 }
          ]
        }
        """;

    // Independent combinators: "and"/"or" between the rules, AND binding tighter.
    private const string ReactIndependent = """
        {
          "rules": [
            { "field": "firstName", "operator": "=", "value": "Steve" },
            "and",
            { "field": "lastName", "operator": "=", "value": "Vai" },
            "or",
            { "field": "age", "operator": ">", "value": "30" },
            "and",
            { "not": true, "rules": [{ "field": "city", "operator": "=", "value": "Rome" }, "or", { "field": "city", "operator": "=", "value": "Oslo" }] }
          ]
        }
        """;

    [Fact]
    public void The_jquery_documentation_example_imports_as_the_same_rule()
    {
        var result = RuleInterchange.Import(JQueryBasic);

        Assert.Equal(RuleFormat.JQueryQueryBuilder, result.Format);
        Assert.Empty(result.Warnings);
        RuleTreeAssert.Equal(
            Tree(
                Field("price", RuleOperator.Less, "10.25"),
                Any(Field("category", RuleOperator.Equals, "2"), Field("category", RuleOperator.Equals, "1"))),
            result.Tree);
    }

    [Fact]
    public void JQuery_operators_without_a_portal_operator_are_rewritten_faithfully()
    {
        var result = RuleInterchange.Import(JQueryRewrites);

        RuleTreeAssert.Equal(
            Tree(Not(Any(
                Not(All(Field("name", RuleOperator.StartsWith, "Test"))),
                Not(All(Field("name", RuleOperator.EndsWith, "son"))),
                Not(All(Field("age", RuleOperator.Between, "18", "65"))),
                Field("email", RuleOperator.IsEmpty),
                Field("email", RuleOperator.IsNotEmpty),
                Any(Field("signup", RuleOperator.Before, "2024-01-01"), Field("signup", RuleOperator.On, "2024-01-01")),
                Any(Field("signup", RuleOperator.After, "2023-01-01"), Field("signup", RuleOperator.On, "2023-01-01")),
                Not(All(Field("signup", RuleOperator.On, "2023-12-25"))),
                Any(Field("in_stock", RuleOperator.Equals, "1"), Field("in_stock", RuleOperator.Equals, "2")),
                Not(All(Field("in_stock", RuleOperator.Equals, "0"))),
                Not(All(Field("newsletter", RuleOperator.IsTrue))),
                Field("vip", RuleOperator.IsFalse),
                FieldIn("city", RuleOperator.NotIn, "Paris", "Rome"),
                Field("last_login", RuleOperator.Between, "2024-01-01 00:00:00", "2024-01-31 23:59:59")))),
            result.Tree);
    }

    [Fact]
    public void JQuery_rules_without_a_type_or_field_use_the_filter_id_and_the_values()
    {
        // setRules() accepts rules with only id, operator and value, as in the documentation's rules_basic.
        const string json = """
            {
              "condition": "AND",
              "rules": [
                { "id": "price", "operator": "less", "value": 10.25 },
                { "id": "joined", "operator": "greater", "value": "2024-02-01" },
                { "id": "active", "operator": "equal", "value": true },
                { "id": "tags", "operator": "in", "value": ["a", "b"] },
                { "id": "name", "operator": "is_empty", "value": null }
              ]
            }
            """;

        RuleTreeAssert.Equal(
            Tree(
                Field("price", RuleOperator.Less, "10.25"),
                Field("joined", RuleOperator.After, "2024-02-01"),
                Field("active", RuleOperator.IsTrue),
                FieldIn("tags", RuleOperator.In, "a", "b"),
                Field("name", RuleOperator.IsEmpty)),
            RuleInterchange.Import(json).Tree);
    }

    [Fact]
    public void A_rule_jquery_marked_invalid_imports_with_a_warning()
    {
        const string json = """{ "condition": "AND", "rules": [{ "id": "name", "operator": "equal", "value": "" }], "valid": false }""";

        var result = RuleInterchange.Import(json);

        Assert.Equal(["jQuery QueryBuilder marked this rule as not valid (a value may be missing); check the conditions before saving."], result.Warnings);
        // The missing value stays missing, so the builder shows the condition as unfinished.
        RuleTreeAssert.Equal(Tree(Field("name", RuleOperator.Equals)), result.Tree);
    }

    [Fact]
    public void The_react_querybuilder_example_imports_as_the_same_rule()
    {
        var result = RuleInterchange.Import(React);

        Assert.Equal(RuleFormat.ReactQueryBuilder, result.Format);
        RuleTreeAssert.Equal(
            Tree(
                Field("firstName", RuleOperator.StartsWith, "Stev"),
                FieldIn("lastName", RuleOperator.In, "Vai", "Vaughan"),
                Field("age", RuleOperator.Greater, "28"),
                Any(Field("isMusician", RuleOperator.IsTrue), Field("instrument", RuleOperator.Equals, "Guitar")),
                Field("birthdate", RuleOperator.Between, "1954-10-03", "1960-06-06"),
                Not(All(Field("height", RuleOperator.Between, "150", "200"))),
                Field("alsoPlays", RuleOperator.IsNotEmpty),
                Not(All(Field("lastName", RuleOperator.EndsWith, "son"))),
                Not(All(Field("lastName", RuleOperator.StartsWith, "Mc"))),
                FieldIn("instrument", RuleOperator.NotIn, "Drums", "Bass"),
                Field("gender", RuleOperator.IsEmpty),
                Field("description", RuleOperator.NotContains, "session"),
                Field("age", RuleOperator.LessOrEqual, "60")),
            result.Tree);
    }

    [Fact]
    public void Independent_combinators_read_with_and_before_or()
    {
        var result = RuleInterchange.Import(ReactIndependent);

        Assert.Equal(RuleFormat.ReactQueryBuilder, result.Format);
        RuleTreeAssert.Equal(
            Tree(Any(
                All(Field("firstName", RuleOperator.Equals, "Steve"), Field("lastName", RuleOperator.Equals, "Vai")),
                All(
                    Field("age", RuleOperator.Greater, "30"),
                    Not(Any(Field("city", RuleOperator.Equals, "Rome"), Field("city", RuleOperator.Equals, "Oslo")))))),
            result.Tree);
    }

    [Fact]
    public void React_lists_and_ranges_are_accepted_as_arrays_or_comma_separated_text()
    {
        const string json = """
            {
              "combinator": "and",
              "rules": [
                { "field": "region", "operator": "in", "value": ["North", "East"] },
                { "field": "region", "operator": "in", "value": "North,East" },
                { "field": "age", "operator": "between", "value": ["18", "65"] },
                { "field": "age", "operator": "between", "value": "18, 65" }
              ]
            }
            """;

        RuleTreeAssert.Equal(
            Tree(
                FieldIn("region", RuleOperator.In, "North", "East"),
                FieldIn("region", RuleOperator.In, "North", "East"),
                Field("age", RuleOperator.Between, "18", "65"),
                Field("age", RuleOperator.Between, "18", "65")),
            RuleInterchange.Import(json).Tree);
    }

    [Fact]
    public void The_dataset_types_decide_operators_that_react_querybuilder_leaves_open()
    {
        const string json = """
            {
              "combinator": "and",
              "rules": [
                { "field": "signup", "operator": "<", "value": "2024-01-01" },
                { "field": "signup", "operator": ">=", "value": "2023-01-01" },
                { "field": "score", "operator": "in", "value": "1,2,3" },
                { "field": "subscribed", "operator": "=", "value": "yes" },
                { "field": "postcode", "operator": "=", "value": "2024-01-01" }
              ]
            }
            """;
        var types = new Dictionary<string, ColumnType>
        {
            ["signup"] = ColumnType.Date, ["score"] = ColumnType.Integer, ["subscribed"] = ColumnType.Boolean, ["postcode"] = ColumnType.Text,
        };
        var options = new RuleInterchangeOptions { FieldType = field => types.TryGetValue(field, out var type) ? type : null };

        RuleTreeAssert.Equal(
            Tree(
                Field("signup", RuleOperator.Before, "2024-01-01"),
                Any(Field("signup", RuleOperator.After, "2023-01-01"), Field("signup", RuleOperator.On, "2023-01-01")),
                Any(Field("score", RuleOperator.Equals, "1"), Field("score", RuleOperator.Equals, "2"), Field("score", RuleOperator.Equals, "3")),
                Field("subscribed", RuleOperator.IsTrue),
                Field("postcode", RuleOperator.Equals, "2024-01-01")),
            RuleInterchange.Import(json, options: options).Tree);
    }

    [Fact]
    public void Comments_and_trailing_commas_from_javascript_source_are_tolerated()
    {
        const string json = """
            // copied from the page's script
            { "combinator": "and", "rules": [ { "field": "a", "operator": "=", "value": "1", }, ], }
            """;

        RuleTreeAssert.Equal(Tree(Field("a", RuleOperator.Equals, "1")), RuleInterchange.Import(json).Tree);
    }

    [Fact]
    public void An_explicit_format_is_used_without_detection()
    {
        // Undecidable by itself ("in" exists in both); react-querybuilder splits the text, jQuery QueryBuilder does not.
        const string json = """{ "rules": [{ "field": "region", "operator": "in", "value": "North,East" }] }""";

        RuleTreeAssert.Equal(Tree(FieldIn("region", RuleOperator.In, "North,East")),
            RuleInterchange.Import(json, RuleFormat.JQueryQueryBuilder).Tree);
        RuleTreeAssert.Equal(Tree(FieldIn("region", RuleOperator.In, "North", "East")),
            RuleInterchange.Import(json, RuleFormat.ReactQueryBuilder).Tree);
    }

    [Theory]
    [InlineData("""{ "condition": "AND", "rules": [ """, "This is not valid JSON (line 1, character")]
    [InlineData("{ condition: 'AND', rules: [] }", "This is not valid JSON (line 1, character 3).")]
    [InlineData("", "There is nothing to import: the text is empty.")]
    [InlineData("   ", "There is nothing to import: the text is empty.")]
    [InlineData("[1, 2]", "This is not a rule the portal can read")]
    [InlineData("""{ "name": "my rule" }""", "This is not a rule the portal can read")]
    [InlineData("42", "This is not a rule the portal can read")]
    public void Text_that_is_not_a_rule_is_refused_with_a_clear_message(string json, string message)
    {
        var error = Assert.Throws<PortalException>(() => RuleInterchange.Import(json));
        Assert.StartsWith(message, error.Message);
    }

    [Theory]
    // The rule is named by its position (depth first, from 1) and its field.
    [InlineData("""
        { "condition": "AND", "rules": [
          { "id": "name", "operator": "equal", "value": "A" },
          { "condition": "OR", "rules": [
            { "id": "city", "operator": "equal", "value": "B" },
            { "id": "age", "field": "age", "type": "integer", "operator": "regex", "value": "^1" } ] } ] }
        """, "Rule 3 (field “age”): the operator “regex” has no equivalent here.")]
    [InlineData("""{ "condition": "XOR", "rules": [] }""", "Group 1: the condition “XOR” has no equivalent here; use AND or OR.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "condition": "OR", "not": "yes", "rules": [] }] }""", "Group 2: \"not\" should be true or false.")]
    [InlineData("""{ "condition": "AND", "rules": "everything" }""", "Group 1 has no list of rules.")]
    [InlineData("""{ "condition": "AND", "rules": [42] }""", "Group 1: entry 1 is neither a rule nor a group.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "operator": "equal", "value": 1 }] }""", "Rule 1: it names no field (\"id\" or \"field\").")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "age", "value": 1 }] }""", "Rule 1 (field “age”): it has no operator.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "opens", "type": "time", "operator": "less", "value": "09:00" }] }""",
        "Rule 1 (field “opens”): the type “time” has no equivalent here.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "age", "type": "integer", "operator": "between", "value": [1, 2, 3] }] }""",
        "Rule 1 (field “age”): “between” needs exactly two values, a lower and an upper bound.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "age", "type": "integer", "operator": "between", "value": "1,2" }] }""",
        "Rule 1 (field “age”): “between” needs exactly two values, a lower and an upper bound.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "vip", "type": "boolean", "operator": "equal", "value": "maybe" }] }""",
        "Rule 1 (field “vip”): “maybe” is not true or false.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "vip", "type": "boolean", "operator": "is_null", "value": null }] }""",
        "Rule 1 (field “vip”): the operator “is_null” does not apply to true/false fields here.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "age", "type": "integer", "operator": "contains", "value": 1 }] }""",
        "Rule 1 (field “age”): the operator “contains” does not apply to number fields here.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "name", "type": "string", "operator": "less", "value": "M" }] }""",
        "Rule 1 (field “name”): the operator “less” does not apply to text fields here.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "signup", "type": "date", "operator": "begins_with", "value": "2024" }] }""",
        "Rule 1 (field “signup”): the operator “begins_with” does not apply to date fields here.")]
    [InlineData("""{ "condition": "AND", "rules": [{ "id": "a", "operator": "equal", "value": { "x": 1 } }] }""",
        "Rule 1 (field “a”): the value should be a single value, not a list or an object.")]
    public void JQuery_rules_the_portal_cannot_express_are_refused_naming_the_rule(string json, string message)
    {
        var error = Assert.Throws<PortalException>(() => RuleInterchange.Import(json));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("""{ "combinator": "and", "rules": [{ "field": "a", "operator": "=", "value": 1 }, { "field": "name", "operator": "matches", "value": "^A" }] }""",
        "Rule 2 (field “name”): the operator “matches” has no equivalent here.")]
    [InlineData("""{ "combinator": "xor", "rules": [] }""", "Group 1: the combinator “xor” has no equivalent here; use and or or.")]
    [InlineData("""{ "combinator": "and", "rules": [{ "field": "firstName", "operator": "=", "value": "lastName", "valueSource": "field" }] }""",
        "Rule 1 (field “firstName”): comparing with another field has no equivalent here.")]
    [InlineData("""{ "combinator": "and", "rules": [{ "field": "tags", "operator": "=", "value": "x", "match": { "mode": "all" } }] }""",
        "Rule 1 (field “tags”): matching inside lists (“match”) has no equivalent here.")]
    [InlineData("""{ "rules": ["and", { "field": "a", "operator": "=", "value": 1 }] }""",
        "Group 1: combinators must stand between rules (rule, \"and\", rule, …).")]
    [InlineData("""{ "rules": [{ "field": "a", "operator": "=", "value": 1 }, { "field": "b", "operator": "=", "value": 2 }, "and"] }""",
        "Group 1: combinators must stand between rules (rule, \"and\", rule, …).")]
    [InlineData("""{ "rules": [{ "field": "a", "operator": "=", "value": 1 }, "nand", { "field": "b", "operator": "=", "value": 2 }] }""",
        "Group 1: the combinator “nand” has no equivalent here; use and or or.")]
    [InlineData("""{ "combinator": "and", "rules": [{ "operator": "=", "value": 1 }] }""", "Rule 1: it names no field.")]
    [InlineData("""{ "combinator": "and", "rules": [{ "field": "height", "operator": "between", "value": "150" }] }""",
        "Rule 1 (field “height”): “between” needs exactly two values, a lower and an upper bound.")]
    public void React_rules_the_portal_cannot_express_are_refused_naming_the_rule(string json, string message)
    {
        var error = Assert.Throws<PortalException>(() => RuleInterchange.Import(json));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_portal_rule_from_a_newer_version_is_refused()
    {
        var error = Assert.Throws<PortalException>(() => RuleInterchange.Import("""{ "version": 2, "root": { "kind": "group", "children": [] } }"""));
        Assert.Equal("This rule has version 2; this portal reads version 1.", error.Message);
    }

    [Fact]
    public void A_foreign_rule_read_as_the_portal_format_is_refused_rather_than_read_as_empty()
    {
        var error = Assert.Throws<PortalException>(() => RuleInterchange.Import(JQueryBasic, RuleFormat.SegmentPortal));
        Assert.Equal("This is not a rule in SegmentPortal's format: it has no \"root\" group.", error.Message);
    }

    [Theory]
    [InlineData(JQueryBasic, RuleFormat.JQueryQueryBuilder)]
    [InlineData(JQueryRewrites, RuleFormat.JQueryQueryBuilder)]
    [InlineData(React, RuleFormat.ReactQueryBuilder)]
    [InlineData(ReactIndependent, RuleFormat.ReactQueryBuilder)]
    [InlineData("""{ "version": 1, "root": { "kind": "group", "combinator": "and", "children": [] } }""", RuleFormat.SegmentPortal)]
    [InlineData("""{ "Root": { "kind": "group" } }""", RuleFormat.SegmentPortal)]
    [InlineData("""{ "rules": [{ "id": "a", "operator": "equal", "value": 1 }] }""", RuleFormat.JQueryQueryBuilder)]
    [InlineData("""{ "rules": [{ "id": "a", "type": "string", "operator": "in", "value": ["x"] }] }""", RuleFormat.JQueryQueryBuilder)]
    [InlineData("""{ "rules": [{ "rules": [{ "field": "a", "operator": "notNull", "value": "" }] }] }""", RuleFormat.ReactQueryBuilder)]
    [InlineData("""{ "rules": [{ "field": "a", "operator": "=", "value": 1 }] }""", RuleFormat.ReactQueryBuilder)]
    [InlineData("""{ "rules": [] }""", RuleFormat.ReactQueryBuilder)]
    public void Each_format_is_recognised(string json, RuleFormat format) => Assert.Equal(format, RuleInterchange.Detect(json));

    [Fact]
    public void Detection_of_the_portal_format_works_on_its_own_export()
    {
        var json = Tree(Segment(3), Fact(CustomerFact.OrderCount, RuleOperator.Greater, "2")).ToJson();
        Assert.Equal(RuleFormat.SegmentPortal, RuleInterchange.Detect(json));
    }

    [Theory]
    [InlineData("{ \"condition\": ", "This is not valid JSON")]
    [InlineData("[]", "This is not a rule the portal can read")]
    [InlineData("""{ "rules": 3 }""", "This is not a rule the portal can read")]
    public void Detection_refuses_what_is_not_a_rule(string json, string message)
    {
        var error = Assert.Throws<PortalException>(() => RuleInterchange.Detect(json));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Imported_nodes_get_fresh_unique_ids()
    {
        var tree = RuleInterchange.Import(React).Tree;
        var ids = tree.Root.Descendants().Select(n => n.Id).Append(tree.Root.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
