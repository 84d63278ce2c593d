using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Access;

/// <summary>The data rules as pure functions: who sees which rows and columns.</summary>
public sealed class DataPolicyTests
{
    private static readonly QueryDataset Customers = new(7, "Customers", "customers_t",
    [
        new QueryField("id", ColumnType.Integer, FieldRole.CustomerId),
        new QueryField("region", ColumnType.Text, FieldRole.Dimension),
        new QueryField("email", ColumnType.Text, FieldRole.None),
        new QueryField("phone", ColumnType.Text, FieldRole.None),
        new QueryField("spend", ColumnType.Decimal, FieldRole.None),
    ], DateTimeOffset.UnixEpoch);

    private static AccessSubject Subject(string id = "u1", string[]? roles = null, Dictionary<string, string>? attributes = null) =>
        new(id, "ann@example.com", "Ann", (roles ?? [Roles.Viewer]).ToHashSet(),
            attributes ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Region"] = "North" });

    private static RowRule Rule(string field, string value, string? role = Roles.Viewer, string? userId = null, RuleOperator op = RuleOperator.Equals) => new()
    {
        DatasetId = 7,
        Role = role,
        UserId = userId,
        RuleJson = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = field, Operator = op, Value = value, Values = op == RuleOperator.In ? [value] : [] }] } }.ToJson(),
    };

    private static ColumnRule Column(string column, ColumnTreatment treatment, string role = Roles.Viewer) =>
        new() { DatasetId = 7, Column = column, Role = role, Treatment = treatment };

    [Theory]
    [InlineData("{user.Region}", "Region")]
    [InlineData(" {user.Sales rep} ", "Sales rep")]
    [InlineData("North", null)]
    [InlineData("x{user.Region}", null)]
    [InlineData("{user.Region}{user.City}", null)]
    [InlineData(null, null)]
    public void A_value_names_a_user_attribute_only_when_it_is_a_whole_token(string? value, string? attribute) =>
        Assert.Equal(attribute, DataPolicy.AttributeOf(value));

    [Fact]
    public void A_dataset_without_rules_is_not_restricted()
    {
        var seen = DataPolicy.Restrict(Customers, DatasetRules.None, Subject(), adminsExempt: true, "k");

        Assert.False(seen.IsRestricted);
        Assert.Equal(Customers.Fields.Select(f => f.Name), seen.Fields.Select(f => f.Name));
    }

    [Fact]
    public void Hidden_columns_vanish_and_masked_or_hashed_ones_become_text()
    {
        var rules = new DatasetRules([], [Column("email", ColumnTreatment.Masked), Column("phone", ColumnTreatment.Hidden), Column("spend", ColumnTreatment.Hashed)]);

        var seen = DataPolicy.Restrict(Customers, rules, Subject(), adminsExempt: true, "k");

        Assert.Equal(["id", "region", "email", "spend"], seen.Fields.Select(f => f.Name));
        Assert.Equal(["phone"], seen.HiddenColumns);
        Assert.Equal((ColumnType.Text, ColumnTreatment.Masked), (seen.Field("email")!.Type, seen.Field("email")!.Treatment));
        Assert.Equal((ColumnType.Text, ColumnTreatment.Hashed, FieldKind.Text), (seen.Field("spend")!.Type, seen.Field("spend")!.Treatment, seen.Field("spend")!.Kind));
        Assert.Equal(Customers.Fields.Select(f => f.Name), seen.StoredFields!.Select(f => f.Name));
        Assert.True(seen.IsRestricted);
        Assert.Null(seen.RowFilter);
    }

    [Fact]
    public void With_several_roles_the_most_open_column_treatment_wins()
    {
        var rules = new List<ColumnRule> { Column("email", ColumnTreatment.Hidden), Column("email", ColumnTreatment.Masked, Roles.Analyst) };

        Assert.Equal(ColumnTreatment.Masked, DataPolicy.TreatmentFor("email", rules, Subject(roles: [Roles.Viewer, Roles.Analyst])));
        Assert.Equal(ColumnTreatment.Hidden, DataPolicy.TreatmentFor("email", rules, Subject(roles: [Roles.Viewer])));
        // A role without a rule for the column sees it as it is.
        Assert.Equal(ColumnTreatment.Visible, DataPolicy.TreatmentFor("email", rules, Subject(roles: [Roles.Viewer, Roles.Admin])));
    }

    [Fact]
    public void Row_rules_for_the_users_roles_and_for_the_user_combine_with_or()
    {
        var rules = new DatasetRules([Rule("region", "{user.Region}"), Rule("region", "East", role: null, userId: "u1"), Rule("region", "West", role: Roles.Analyst)], []);

        var seen = DataPolicy.Restrict(Customers, rules, Subject(), adminsExempt: true, "k");

        Assert.False(seen.NoRows);
        Assert.Equal(Combinator.Or, seen.RowFilter!.Combinator);
        var values = seen.RowFilter.Descendants().OfType<FieldCondition>().Select(c => c.Value).ToList();
        Assert.Equal(["North", "East"], values);
    }

    [Fact]
    public void A_rule_without_conditions_gives_every_row()
    {
        var all = new RowRule { DatasetId = 7, Role = Roles.Analyst, RuleJson = new RuleTree().ToJson() };
        var rules = new DatasetRules([Rule("region", "{user.Region}"), all], []);

        var analyst = DataPolicy.Restrict(Customers, rules, Subject(roles: [Roles.Analyst, Roles.Viewer]), adminsExempt: true, "k");

        Assert.Null(analyst.RowFilter);
        Assert.False(analyst.NoRows);
        Assert.Null(DataPolicy.Problem(new RuleGroup(), ["region"]));
    }

    [Fact]
    public void A_restricted_dataset_shows_no_rows_to_someone_no_rule_covers()
    {
        var rules = new DatasetRules([Rule("region", "North", role: Roles.Analyst)], []);

        var seen = DataPolicy.Restrict(Customers, rules, Subject(), adminsExempt: true, "k");

        Assert.True(seen.NoRows);
        Assert.True(seen.IsRestricted);
    }

    [Fact]
    public void Admins_are_exempt_only_by_the_setting()
    {
        var rules = new DatasetRules([Rule("region", "North")], [Column("email", ColumnTreatment.Hidden, Roles.Admin)]);
        var admin = Subject(roles: [Roles.Admin]);

        var exempt = DataPolicy.Restrict(Customers, rules, admin, adminsExempt: true, "k");
        var ruled = DataPolicy.Restrict(Customers, rules, admin, adminsExempt: false, "k");

        Assert.False(exempt.IsRestricted);
        Assert.True(ruled.NoRows);
        Assert.Equal(["email"], ruled.HiddenColumns);
    }

    [Fact]
    public void A_condition_naming_an_attribute_the_user_lacks_matches_nothing()
    {
        var rule = new RuleGroup
        {
            Combinator = Combinator.Or,
            Children =
            [
                new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "{user.Territory}" },
                new FieldCondition { Field = "email", Operator = RuleOperator.Equals, Value = "{user.Email}" },
            ],
        };

        var resolved = DataPolicy.Resolve(rule, Subject());

        Assert.IsType<RuleGroup>(resolved.Children[0]);
        Assert.True(((RuleGroup)resolved.Children[0]).Not);
        Assert.Empty(((RuleGroup)resolved.Children[0]).Children);
        Assert.Equal("ann@example.com", ((FieldCondition)resolved.Children[1]).Value);
        // The stored rule is not changed.
        Assert.Equal("{user.Territory}", ((FieldCondition)rule.Children[0]).Value);
    }

    [Fact]
    public void A_list_attribute_fills_an_in_list()
    {
        var rule = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["{user.Regions}", "South"] }] };
        var subject = Subject(attributes: new Dictionary<string, string> { ["regions"] = "North, East" });

        var resolved = (FieldCondition)DataPolicy.Resolve(rule, subject).Children[0];

        Assert.Equal(["North", "East", "South"], resolved.Values);
    }

    [Theory]
    [InlineData("fact", "order facts")]
    [InlineData("unknown", "no column \"nope\"")]
    [InlineData("no field", "needs a field")]
    public void Row_rules_compare_only_the_datasets_own_columns(string kind, string message)
    {
        var rule = kind switch
        {
            "fact" => new RuleGroup { Children = [new FactCondition { Fact = CustomerFact.OrderCount, Operator = RuleOperator.Greater, Value = "1" }] },
            "unknown" => new RuleGroup { Children = [new FieldCondition { Field = "nope", Operator = RuleOperator.Equals, Value = "x" }] },
            "no field" => new RuleGroup { Children = [new FieldCondition { Operator = RuleOperator.Equals, Value = "x" }] },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        Assert.Contains(message, DataPolicy.Problem(rule, ["region", "email"]));
        Assert.Null(DataPolicy.Problem(new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "{user.Region}" }] }, ["region"]));
    }

    [Fact]
    public void A_tile_or_rule_naming_a_hidden_column_is_refused_with_a_clear_message()
    {
        var seen = DataPolicy.Restrict(Customers, new DatasetRules([], [Column("phone", ColumnTreatment.Hidden)]), Subject(), adminsExempt: true, "k");
        var spec = new QuerySpec { DatasetId = 7, GroupBy = [new GroupBy("phone")], Measures = [new Measure(MeasureKind.Count, "n")] };

        var error = Assert.Throws<PortalException>(() => QueryCompiler.Compile(spec, new CompileContext { Dataset = seen, Today = new DateOnly(2024, 6, 15) }));

        Assert.Equal("You do not have access to the column \"phone\" of Customers.", error.Message);
    }

    [Fact]
    public void A_restricted_dataset_is_read_through_a_derived_table_with_its_rule_values_as_parameters()
    {
        var rules = new DatasetRules([Rule("region", "{user.Region}")], [Column("email", ColumnTreatment.Masked), Column("phone", ColumnTreatment.Hashed)]);
        var seen = DataPolicy.Restrict(Customers, rules, Subject(), adminsExempt: true, "secret-key");
        var spec = new QuerySpec { DatasetId = 7, Columns = ["id", "email", "phone"] };

        var compiled = QueryCompiler.Compile(spec, new CompileContext { Dataset = seen, Today = new DateOnly(2024, 6, 15) });

        Assert.Contains("FROM (SELECT ", compiled.Sql);
        Assert.DoesNotContain("North", compiled.Sql);
        Assert.DoesNotContain("secret-key", compiled.Sql);
        Assert.Contains("North", compiled.Parameters.Values);
        Assert.Contains("secret-key", compiled.Parameters.Values);
        Assert.Contains("md5(", compiled.Sql);
        Assert.Contains("'***'", compiled.Sql);
    }
}
