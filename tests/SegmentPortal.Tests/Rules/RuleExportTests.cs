using System.Text.Json.Nodes;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Tests.Rules.RuleTrees;

namespace SegmentPortal.Tests.Rules;

public sealed class RuleExportTests
{
    private static readonly Dictionary<string, ColumnType> Columns = new()
    {
        ["region"] = ColumnType.Text,
        ["name"] = ColumnType.Text,
        ["email"] = ColumnType.Text,
        ["phone"] = ColumnType.Text,
        ["postcode"] = ColumnType.Text,
        ["age"] = ColumnType.Integer,
        ["spent"] = ColumnType.Decimal,
        ["signup"] = ColumnType.Date,
        ["last_login"] = ColumnType.Timestamp,
        ["subscribed"] = ColumnType.Boolean,
        ["vip"] = ColumnType.Boolean,
        ["city"] = ColumnType.Text,
        ["country"] = ColumnType.Text,
    };

    private static readonly RuleInterchangeOptions WithColumns = new() { FieldType = field => Columns.TryGetValue(field, out var type) ? type : null };

    /// <summary>Every field operator the foreign formats can express, with nesting, negation and an empty group.</summary>
    private static RuleTree Representable() => Tree(
        FieldIn("region", RuleOperator.In, "North", "East"),
        FieldIn("region", RuleOperator.NotIn, "South"),
        Field("name", RuleOperator.Equals, "Ann"),
        Field("name", RuleOperator.NotEquals, "Bo"),
        Field("email", RuleOperator.Contains, "@example.com"),
        Field("email", RuleOperator.NotContains, "test"),
        Field("name", RuleOperator.StartsWith, "A"),
        Field("name", RuleOperator.EndsWith, "son"),
        Field("phone", RuleOperator.IsEmpty),
        Field("phone", RuleOperator.IsNotEmpty),
        Field("age", RuleOperator.Less, "30"),
        Field("age", RuleOperator.LessOrEqual, "30"),
        Field("spent", RuleOperator.Greater, "1000.50"),
        Field("spent", RuleOperator.GreaterOrEqual, "-5"),
        Field("age", RuleOperator.Between, "18", "65"),
        Field("signup", RuleOperator.On, "2024-01-01"),
        Field("signup", RuleOperator.Before, "2024-01-01"),
        Field("signup", RuleOperator.After, "2023-06-30"),
        Field("signup", RuleOperator.Between, "2024-01-01", "2024-03-31"),
        Field("subscribed", RuleOperator.IsTrue),
        Field("vip", RuleOperator.IsFalse),
        Any(
            Field("city", RuleOperator.Equals, "Paris"),
            Not(All(Field("city", RuleOperator.Equals, "Rome"), Field("age", RuleOperator.Greater, "40")))),
        All(),
        Not(Any(Field("country", RuleOperator.Equals, "FR"))));

    /// <summary>What only the dataset's types make unambiguous: numbers compared with "is", dates and numbers that are empty.</summary>
    private static RuleTree RepresentableWithTypes()
    {
        var tree = Representable();
        tree.Root.Children.AddRange(
        [
            Field("age", RuleOperator.Equals, "30"),
            Field("age", RuleOperator.NotEquals, "31"),
            Field("postcode", RuleOperator.Equals, "007"),
            Field("signup", RuleOperator.IsEmpty),
            Field("age", RuleOperator.IsNotEmpty),
            Field("last_login", RuleOperator.Between, "2024-01-01 00:00:00", "2024-01-31 23:59:59"),
        ]);
        return tree;
    }

    [Theory]
    [InlineData(RuleFormat.JQueryQueryBuilder)]
    [InlineData(RuleFormat.ReactQueryBuilder)]
    [InlineData(RuleFormat.SegmentPortal)]
    public void Everything_the_format_can_express_survives_a_round_trip(RuleFormat format)
    {
        var tree = Representable();

        var exported = RuleInterchange.Export(tree, format);
        var imported = RuleInterchange.Import(exported.Json);

        Assert.Empty(exported.Warnings);
        Assert.Equal(format, imported.Format);
        Assert.Empty(imported.Warnings);
        RuleTreeAssert.Equal(tree, imported.Tree);
    }

    [Theory]
    [InlineData(RuleFormat.JQueryQueryBuilder)]
    [InlineData(RuleFormat.ReactQueryBuilder)]
    public void With_the_dataset_types_numbers_dates_and_timestamps_survive_a_round_trip_too(RuleFormat format)
    {
        var tree = RepresentableWithTypes();

        var exported = RuleInterchange.Export(tree, format, WithColumns);
        var imported = RuleInterchange.Import(exported.Json, format, WithColumns);

        Assert.Empty(exported.Warnings);
        RuleTreeAssert.Equal(tree, imported.Tree);
    }

    [Fact]
    public void A_top_level_or_survives_a_round_trip()
    {
        var tree = Tree(Any(Field("region", RuleOperator.Equals, "North"), Field("age", RuleOperator.Greater, "40")));
        foreach (var format in new[] { RuleFormat.JQueryQueryBuilder, RuleFormat.ReactQueryBuilder })
        {
            RuleTreeAssert.Equal(tree, RuleInterchange.Import(RuleInterchange.Export(tree, format).Json).Tree);
        }
    }

    [Fact]
    public void The_portal_format_keeps_ids_and_everything_else()
    {
        var tree = Tree(
            Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", windowDays: 90),
            Relative("signup", RuleOperator.InLast, "3", RelativeUnit.Months),
            Segment(7, isIn: false));

        var exported = RuleInterchange.Export(tree, RuleFormat.SegmentPortal);
        var imported = RuleInterchange.Import(exported.Json);

        Assert.Equal(tree.ToIndentedJson(), exported.Json);
        Assert.Equal(tree.ToJson(), imported.Tree.ToJson());
    }

    [Fact]
    public void JQuery_export_writes_types_inputs_and_typed_values()
    {
        var tree = Tree(
            FieldIn("region", RuleOperator.In, "North", "East"),
            Any(Field("age", RuleOperator.Less, "30"), Field("signup", RuleOperator.Before, "2024-01-01")),
            Field("subscribed", RuleOperator.IsTrue),
            Field("phone", RuleOperator.IsEmpty));

        var json = RuleInterchange.Export(tree, RuleFormat.JQueryQueryBuilder).Json;

        AssertJson("""
            {
              "condition": "AND", "not": false,
              "rules": [
                { "id": "region", "field": "region", "type": "string", "input": "select", "operator": "in", "value": ["North", "East"] },
                {
                  "condition": "OR", "not": false,
                  "rules": [
                    { "id": "age", "field": "age", "type": "integer", "input": "number", "operator": "less", "value": 30 },
                    { "id": "signup", "field": "signup", "type": "date", "input": "text", "operator": "less", "value": "2024-01-01" }
                  ]
                },
                { "id": "subscribed", "field": "subscribed", "type": "boolean", "input": "radio", "operator": "equal", "value": true },
                { "id": "phone", "field": "phone", "type": "string", "input": "text", "operator": "is_empty", "value": null }
              ],
              "valid": true
            }
            """, json);
    }

    [Fact]
    public void JQuery_export_takes_types_from_the_dataset_when_given()
    {
        var tree = Tree(
            Field("spent", RuleOperator.Equals, "19.90"),
            Field("last_login", RuleOperator.After, "2024-01-01"),
            Field("signup", RuleOperator.IsEmpty));

        var json = RuleInterchange.Export(tree, RuleFormat.JQueryQueryBuilder, WithColumns).Json;

        AssertJson("""
            {
              "condition": "AND", "not": false,
              "rules": [
                { "id": "spent", "field": "spent", "type": "double", "input": "number", "operator": "equal", "value": 19.90 },
                { "id": "last_login", "field": "last_login", "type": "datetime", "input": "text", "operator": "greater", "value": "2024-01-01" },
                { "id": "signup", "field": "signup", "type": "date", "input": "text", "operator": "is_null", "value": null }
              ],
              "valid": true
            }
            """, json);
    }

    [Fact]
    public void React_export_writes_arrays_for_lists_and_ranges()
    {
        var tree = Tree(
            FieldIn("region", RuleOperator.NotIn, "North", "East"),
            Not(Any(Field("age", RuleOperator.Between, "18", "65"), Field("name", RuleOperator.StartsWith, "A"))),
            Field("phone", RuleOperator.IsEmpty),
            Field("vip", RuleOperator.IsFalse));

        var json = RuleInterchange.Export(tree, RuleFormat.ReactQueryBuilder).Json;

        AssertJson("""
            {
              "combinator": "and", "not": false,
              "rules": [
                { "field": "region", "operator": "notIn", "value": ["North", "East"] },
                {
                  "combinator": "or", "not": true,
                  "rules": [
                    { "field": "age", "operator": "between", "value": [18, 65] },
                    { "field": "name", "operator": "beginsWith", "value": "A" }
                  ]
                },
                { "field": "phone", "operator": "null", "value": "" },
                { "field": "vip", "operator": "=", "value": false }
              ]
            }
            """, json);
    }

    [Fact]
    public void Export_keeps_text_readable()
    {
        var json = RuleInterchange.Export(
            Tree(Field("city", RuleOperator.Equals, "Zürich"), Field("age", RuleOperator.LessOrEqual, "30")), RuleFormat.ReactQueryBuilder).Json;

        Assert.Contains("\"Zürich\"", json);
        Assert.Contains("\"<=\"", json);
    }

    [Theory]
    [InlineData(RuleFormat.JQueryQueryBuilder, "jQuery QueryBuilder")]
    [InlineData(RuleFormat.ReactQueryBuilder, "react-querybuilder")]
    public void What_a_foreign_format_cannot_express_is_left_out_with_a_warning_naming_it(RuleFormat format, string name)
    {
        var tree = Tree(
            Field("region", RuleOperator.Equals, "North"),
            Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", windowDays: 90),
            Any(Segment(7, isIn: false), Relative("signup", RuleOperator.InLast, "3", RelativeUnit.Months)),
            Relative("signup", RuleOperator.InThis, null, RelativeUnit.Quarters),
            Field("", RuleOperator.Equals, "x"));
        var options = new RuleInterchangeOptions { Summary = new RuleSummary(id => id == 7 ? "Staff" : null) };

        var result = RuleInterchange.Export(tree, format, options);

        Assert.Equal(
        [
            $"Left out: who spent more than 1,000 in the last 90 days — customer facts (orders, spending, categories bought) have no equivalent in {name}.",
            $"Left out: who are not in segment “Staff” — segment membership has no equivalent in {name}.",
            $"Left out: whose signup is in the last 3 months — relative dates (in the last…, this…, the previous…) have no equivalent in {name}.",
            $"Left out: whose signup is in this quarter — relative dates (in the last…, this…, the previous…) have no equivalent in {name}.",
            $"Left out: (incomplete condition) — a condition without a field has no equivalent in {name}.",
        ], result.Warnings);
        // The rest is still there, and the group that lost its conditions is kept (empty) where it stood.
        RuleTreeAssert.Equal(Tree(Field("region", RuleOperator.Equals, "North"), Any()), RuleInterchange.Import(result.Json).Tree);
    }

    [Fact]
    public void Every_fact_and_relative_operator_is_left_out_rather_than_failing()
    {
        var tree = new RuleTree();
        foreach (var fact in Enum.GetValues<CustomerFact>())
        {
            tree.Root.Children.Add(Fact(fact, RuleOperator.Greater, "1"));
        }
        foreach (var op in new[] { RuleOperator.InLast, RuleOperator.NotInLast, RuleOperator.InThis, RuleOperator.InPrevious })
        {
            tree.Root.Children.Add(Relative("signup", op, "2", RelativeUnit.Weeks));
        }

        foreach (var format in new[] { RuleFormat.JQueryQueryBuilder, RuleFormat.ReactQueryBuilder })
        {
            var result = RuleInterchange.Export(tree, format);
            Assert.Equal(tree.Root.Children.Count, result.Warnings.Count);
            Assert.Empty(RuleInterchange.Import(result.Json).Tree.Root.Children);
        }
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"Expected:\n{expected}\nActual:\n{actual}");
}
