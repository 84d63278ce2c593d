using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Tests.Rules.RuleTrees;

namespace SegmentPortal.Tests.Rules;

public sealed class RuleSummaryTests
{
    private static readonly Dictionary<int, string> Segments = new() { [7] = "Staff", [12] = "VIP" };

    private static readonly Dictionary<string, ColumnType> Types = new()
    {
        ["Score"] = ColumnType.Integer,
        ["Balance"] = ColumnType.Decimal,
        ["Postcode"] = ColumnType.Text,
    };

    private static readonly RuleSummary Summary = new(
        id => Segments.GetValueOrDefault(id),
        field => field == "email_address" ? "Email" : null,
        field => Types.TryGetValue(field, out var type) ? type : null);

    private static string Describe(params RuleNode[] children) => Summary.Describe(Tree(children));

    [Fact]
    public void A_mixed_rule_reads_as_one_sentence_with_each_condition_as_a_clause()
    {
        var tree = Tree(
            FieldIn("Region", RuleOperator.In, "North", "East"),
            Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", windowDays: 90),
            RelativeFact(CustomerFact.LastOrderDate, RuleOperator.NotInLast, "30", RelativeUnit.Days),
            Segment(7, isIn: false));

        Assert.Equal(
            "Customers whose Region is North or East, who spent more than 1,000 in the last 90 days, who have not ordered in the last 30 days, and who are not in segment “Staff”",
            Summary.Describe(tree));
    }

    [Fact]
    public void The_static_shortcut_gives_the_same_sentence() =>
        Assert.Equal("Customers who are in segment “VIP”", RuleSummary.Describe(Tree(Segment(12)), id => Segments.GetValueOrDefault(id)));

    [Fact]
    public void An_empty_tree_is_all_customers() => Assert.Equal("All customers", Summary.Describe(new RuleTree()));

    [Fact]
    public void A_negated_empty_tree_is_no_customers() => Assert.Equal("No customers", Summary.Describe(Tree(Not(All()))));

    [Theory]
    [InlineData(RuleOperator.Equals, "North", null, "whose Region is North")]
    [InlineData(RuleOperator.NotEquals, "North", null, "whose Region is not North")]
    [InlineData(RuleOperator.Contains, "orth", null, "whose Region contains “orth”")]
    [InlineData(RuleOperator.NotContains, "orth", null, "whose Region does not contain “orth”")]
    [InlineData(RuleOperator.StartsWith, "No", null, "whose Region starts with “No”")]
    [InlineData(RuleOperator.NotStartsWith, "C", null, "whose Region does not start with “C”")]
    [InlineData(RuleOperator.EndsWith, "th", null, "whose Region ends with “th”")]
    [InlineData(RuleOperator.IsEmpty, null, null, "whose Region is empty")]
    [InlineData(RuleOperator.IsNotEmpty, null, null, "whose Region is not empty")]
    public void Text_operators_read_naturally(RuleOperator op, string? value, string? value2, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Field("Region", op, value, value2)));

    [Theory]
    [InlineData(RuleOperator.Equals, "12345", null, "whose Score is 12,345")]
    [InlineData(RuleOperator.NotEquals, "0", null, "whose Score is not 0")]
    [InlineData(RuleOperator.Less, "1000", null, "whose Score is less than 1,000")]
    [InlineData(RuleOperator.LessOrEqual, "1000", null, "whose Score is at most 1,000")]
    [InlineData(RuleOperator.Greater, "2500000", null, "whose Score is more than 2,500,000")]
    [InlineData(RuleOperator.GreaterOrEqual, "-1500", null, "whose Score is at least -1,500")]
    [InlineData(RuleOperator.Between, "1000", "5000", "whose Score is between 1,000 and 5,000")]
    [InlineData(RuleOperator.IsEmpty, null, null, "whose Score is empty")]
    [InlineData(RuleOperator.IsNotEmpty, null, null, "whose Score is not empty")]
    public void Number_operators_read_naturally_with_thousands_separators(RuleOperator op, string? value, string? value2, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Field("Score", op, value, value2)));

    [Fact]
    public void Decimals_keep_the_digits_as_typed() =>
        Assert.Equal("Customers whose Balance is more than 1,234.50", Describe(Field("Balance", RuleOperator.Greater, "1234.50")));

    [Fact]
    public void Is_shows_a_text_value_as_typed_even_when_it_looks_like_a_number() =>
        Assert.Equal("Customers whose Postcode is 12345", Describe(Field("Postcode", RuleOperator.Equals, "12345")));

    [Theory]
    [InlineData(RuleOperator.On, "2024-01-01", null, "whose Signup is on 2024-01-01")]
    [InlineData(RuleOperator.Before, "2024-01-01", null, "whose Signup is before 2024-01-01")]
    [InlineData(RuleOperator.After, "2024-01-01", null, "whose Signup is after 2024-01-01")]
    [InlineData(RuleOperator.Between, "2024-01-01", "2024-03-31", "whose Signup is between 2024-01-01 and 2024-03-31")]
    [InlineData(RuleOperator.IsEmpty, null, null, "whose Signup is empty")]
    [InlineData(RuleOperator.IsNotEmpty, null, null, "whose Signup is not empty")]
    public void Date_operators_read_naturally_and_keep_dates_as_written(RuleOperator op, string? value, string? value2, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Field("Signup", op, value, value2)));

    [Theory]
    [InlineData(RuleOperator.InLast, "3", RelativeUnit.Days, "is in the last 3 days")]
    [InlineData(RuleOperator.InLast, "1", RelativeUnit.Days, "is in the last day")]
    [InlineData(RuleOperator.InLast, "2", RelativeUnit.Weeks, "is in the last 2 weeks")]
    [InlineData(RuleOperator.InLast, "3", RelativeUnit.Months, "is in the last 3 months")]
    [InlineData(RuleOperator.InLast, "1", RelativeUnit.Quarters, "is in the last quarter")]
    [InlineData(RuleOperator.InLast, "5", RelativeUnit.Years, "is in the last 5 years")]
    [InlineData(RuleOperator.NotInLast, "30", RelativeUnit.Days, "is not in the last 30 days")]
    [InlineData(RuleOperator.NotInLast, "1", RelativeUnit.Years, "is not in the last year")]
    [InlineData(RuleOperator.InThis, null, RelativeUnit.Days, "is today")]
    [InlineData(RuleOperator.InThis, null, RelativeUnit.Weeks, "is in this week")]
    [InlineData(RuleOperator.InThis, null, RelativeUnit.Months, "is in this month")]
    [InlineData(RuleOperator.InThis, null, RelativeUnit.Quarters, "is in this quarter")]
    [InlineData(RuleOperator.InThis, null, RelativeUnit.Years, "is in this year")]
    [InlineData(RuleOperator.InPrevious, null, RelativeUnit.Days, "is yesterday")]
    [InlineData(RuleOperator.InPrevious, null, RelativeUnit.Weeks, "is in the previous week")]
    [InlineData(RuleOperator.InPrevious, null, RelativeUnit.Months, "is in the previous month")]
    [InlineData(RuleOperator.InPrevious, null, RelativeUnit.Quarters, "is in the previous quarter")]
    [InlineData(RuleOperator.InPrevious, null, RelativeUnit.Years, "is in the previous year")]
    [InlineData(RuleOperator.InPrevious, "2", RelativeUnit.Months, "is in the previous month")]
    public void Relative_dates_name_the_period_in_words(RuleOperator op, string? amount, RelativeUnit unit, string predicate) =>
        Assert.Equal($"Customers whose Signup {predicate}", Describe(Relative("Signup", op, amount, unit)));

    [Theory]
    [InlineData(RuleOperator.IsTrue, "whose Subscribed is true")]
    [InlineData(RuleOperator.IsFalse, "whose Subscribed is false")]
    public void Boolean_operators_read_as_true_or_false(RuleOperator op, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Field("Subscribed", op)));

    [Theory]
    [InlineData(RuleOperator.In, new[] { "North" }, "whose Region is North")]
    [InlineData(RuleOperator.In, new[] { "North", "East" }, "whose Region is North or East")]
    [InlineData(RuleOperator.In, new[] { "North", "East", "West" }, "whose Region is North, East, or West")]
    [InlineData(RuleOperator.NotIn, new[] { "North" }, "whose Region is not North")]
    [InlineData(RuleOperator.NotIn, new[] { "North", "East" }, "whose Region is neither North nor East")]
    [InlineData(RuleOperator.NotIn, new[] { "North", "East", "West" }, "whose Region is not any of North, East, or West")]
    public void Lists_are_written_out_with_or(RuleOperator op, string[] values, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(FieldIn("Region", op, values)));

    [Fact]
    public void A_display_name_replaces_the_column_name() =>
        Assert.Equal("Customers whose Email is empty", Describe(Field("email_address", RuleOperator.IsEmpty)));

    [Theory]
    [InlineData(RuleOperator.Equals, "3", null, "who ordered exactly 3 times")]
    [InlineData(RuleOperator.Equals, "1", null, "who ordered exactly once")]
    [InlineData(RuleOperator.Equals, "0", null, "who have never ordered")]
    [InlineData(RuleOperator.NotEquals, "2", null, "who did not order exactly twice")]
    [InlineData(RuleOperator.Less, "3", null, "who ordered fewer than 3 times")]
    [InlineData(RuleOperator.LessOrEqual, "1", null, "who ordered at most once")]
    [InlineData(RuleOperator.Greater, "1", null, "who ordered more than once")]
    [InlineData(RuleOperator.GreaterOrEqual, "3", null, "who ordered at least 3 times")]
    [InlineData(RuleOperator.Between, "2", "5", "who ordered between 2 and 5 times")]
    [InlineData(RuleOperator.GreaterOrEqual, "1200", null, "who ordered at least 1,200 times")]
    [InlineData(RuleOperator.IsEmpty, null, null, "whose number of orders is empty")]
    public void Order_count_reads_as_how_often_the_customer_ordered(RuleOperator op, string? value, string? value2, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Fact(CustomerFact.OrderCount, op, value, value2)));

    [Fact]
    public void A_window_limits_the_fact_to_recent_orders() =>
        Assert.Equal("Customers who ordered at least 3 times in the last 30 days",
            Describe(Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "3", windowDays: 30)));

    [Fact]
    public void No_orders_in_a_window_reads_as_not_ordered_in_it() =>
        Assert.Equal("Customers who have not ordered in the last day",
            Describe(Fact(CustomerFact.OrderCount, RuleOperator.Equals, "0", windowDays: 1)));

    [Theory]
    [InlineData(RuleOperator.Equals, "100", null, "who spent exactly 100")]
    [InlineData(RuleOperator.NotEquals, "100", null, "who did not spend exactly 100")]
    [InlineData(RuleOperator.Less, "1000", null, "who spent less than 1,000")]
    [InlineData(RuleOperator.LessOrEqual, "1000", null, "who spent at most 1,000")]
    [InlineData(RuleOperator.Greater, "1000", null, "who spent more than 1,000")]
    [InlineData(RuleOperator.GreaterOrEqual, "1000.5", null, "who spent at least 1,000.5")]
    [InlineData(RuleOperator.Between, "1000", "25000", "who spent between 1,000 and 25,000")]
    public void Total_amount_reads_as_what_the_customer_spent(RuleOperator op, string? value, string? value2, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Fact(CustomerFact.TotalAmount, op, value, value2)));

    [Theory]
    [InlineData(RuleOperator.Greater, "50", null, null, "whose average order amount is more than 50")]
    [InlineData(RuleOperator.Between, "50", "1500", 90, "whose average order amount in the last 90 days is between 50 and 1,500")]
    [InlineData(RuleOperator.LessOrEqual, "20", null, null, "whose average order amount is at most 20")]
    public void Average_amount_reads_as_the_average_order(RuleOperator op, string? value, string? value2, int? window, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Fact(CustomerFact.AverageAmount, op, value, value2, window)));

    [Theory]
    [InlineData(RuleOperator.Greater, "30", null, "whose last order was more than 30 days ago")]
    [InlineData(RuleOperator.Less, "7", null, "whose last order was less than 7 days ago")]
    [InlineData(RuleOperator.LessOrEqual, "1", null, "whose last order was at most 1 day ago")]
    [InlineData(RuleOperator.GreaterOrEqual, "365", null, "whose last order was at least 365 days ago")]
    [InlineData(RuleOperator.Equals, "10", null, "whose last order was exactly 10 days ago")]
    [InlineData(RuleOperator.NotEquals, "10", null, "whose last order was not exactly 10 days ago")]
    [InlineData(RuleOperator.Between, "30", "60", "whose last order was between 30 and 60 days ago")]
    [InlineData(RuleOperator.IsEmpty, null, null, "who have never ordered")]
    [InlineData(RuleOperator.IsNotEmpty, null, null, "who have ordered")]
    public void Days_since_last_order_reads_as_how_long_ago(RuleOperator op, string? value, string? value2, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Fact(CustomerFact.DaysSinceLastOrder, op, value, value2)));

    [Theory]
    [InlineData(RuleOperator.On, "2024-01-01", null, null, "who first ordered on 2024-01-01")]
    [InlineData(RuleOperator.Before, "2024-01-01", null, null, "who first ordered before 2024-01-01")]
    [InlineData(RuleOperator.After, "2024-01-01", null, null, "who first ordered after 2024-01-01")]
    [InlineData(RuleOperator.Between, "2024-01-01", "2024-06-30", null, "who first ordered between 2024-01-01 and 2024-06-30")]
    [InlineData(RuleOperator.InLast, "3", null, RelativeUnit.Months, "who first ordered in the last 3 months")]
    [InlineData(RuleOperator.NotInLast, "1", null, RelativeUnit.Years, "who did not first order in the last year")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Quarters, "who first ordered this quarter")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Days, "who first ordered today")]
    [InlineData(RuleOperator.InPrevious, null, null, RelativeUnit.Years, "who first ordered in the previous year")]
    [InlineData(RuleOperator.IsEmpty, null, null, null, "who have never ordered")]
    public void First_order_date_reads_as_when_the_customer_first_ordered(RuleOperator op, string? value, string? value2, RelativeUnit? unit, string clause)
    {
        var fact = Fact(CustomerFact.FirstOrderDate, op, value, value2);
        fact.Unit = unit;
        Assert.Equal($"Customers {clause}", Describe(fact));
    }

    [Theory]
    [InlineData(RuleOperator.On, "2024-05-01", null, null, "who last ordered on 2024-05-01")]
    [InlineData(RuleOperator.Before, "2024-01-01", null, null, "who last ordered before 2024-01-01")]
    [InlineData(RuleOperator.After, "2024-01-01", null, null, "who last ordered after 2024-01-01")]
    [InlineData(RuleOperator.Between, "2024-01-01", "2024-06-30", null, "who last ordered between 2024-01-01 and 2024-06-30")]
    [InlineData(RuleOperator.InLast, "30", null, RelativeUnit.Days, "who have ordered in the last 30 days")]
    [InlineData(RuleOperator.NotInLast, "30", null, RelativeUnit.Days, "who have not ordered in the last 30 days")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Months, "who have ordered this month")]
    [InlineData(RuleOperator.InPrevious, null, null, RelativeUnit.Weeks, "who last ordered in the previous week")]
    [InlineData(RuleOperator.InPrevious, null, null, RelativeUnit.Days, "who last ordered yesterday")]
    [InlineData(RuleOperator.IsNotEmpty, null, null, null, "who have ordered")]
    public void Last_order_date_reads_as_when_the_customer_last_ordered(RuleOperator op, string? value, string? value2, RelativeUnit? unit, string clause)
    {
        var fact = Fact(CustomerFact.LastOrderDate, op, value, value2);
        fact.Unit = unit;
        Assert.Equal($"Customers {clause}", Describe(fact));
    }

    [Fact]
    public void A_window_on_a_date_fact_is_said_after_the_clause() =>
        Assert.Equal("Customers who first ordered before 2024-01-01 (counting only orders in the last 365 days)",
            Describe(Fact(CustomerFact.FirstOrderDate, RuleOperator.Before, "2024-01-01", windowDays: 365)));

    [Fact]
    public void Never_ordering_in_a_window_reads_as_not_ordered_in_it() =>
        Assert.Equal("Customers who have not ordered in the last 90 days",
            Describe(Fact(CustomerFact.LastOrderDate, RuleOperator.IsEmpty, windowDays: 90)));

    [Theory]
    [InlineData(RuleOperator.In, new[] { "Toys" }, "who bought Toys")]
    [InlineData(RuleOperator.In, new[] { "Toys", "Books" }, "who bought Toys or Books")]
    [InlineData(RuleOperator.In, new[] { "Toys", "Books", "Games" }, "who bought Toys, Books, or Games")]
    [InlineData(RuleOperator.NotIn, new[] { "Toys" }, "who did not buy Toys")]
    [InlineData(RuleOperator.NotIn, new[] { "Toys", "Books" }, "who did not buy Toys or Books")]
    public void Bought_category_reads_as_what_the_customer_bought(RuleOperator op, string[] categories, string clause) =>
        Assert.Equal($"Customers {clause}", Describe(Bought(op, "Category", categories)));

    [Fact]
    public void Bought_category_with_a_window_says_when()
    {
        var bought = Bought(RuleOperator.In, "Category", "Toys", "Books");
        bought.WindowDays = 60;
        Assert.Equal("Customers who bought Toys or Books in the last 60 days", Describe(bought));
    }

    [Fact]
    public void Segment_membership_names_the_segment_and_falls_back_to_its_id()
    {
        Assert.Equal("Customers who are in segment “VIP”", Describe(Segment(12)));
        Assert.Equal("Customers who are not in segment #99", Describe(Segment(99, isIn: false)));
    }

    [Fact]
    public void A_top_level_or_joins_clauses_with_or() =>
        Assert.Equal("Customers whose Region is North, who spent more than 1,000, or who are in segment “VIP”",
            Summary.Describe(Tree(Any(
                Field("Region", RuleOperator.Equals, "North"),
                Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000"),
                Segment(12)))));

    [Fact]
    public void Nested_groups_are_put_in_parentheses() =>
        Assert.Equal("Customers whose Country is France and (whose Email is empty or who ordered at least twice)",
            Describe(
                Field("Country", RuleOperator.Equals, "France"),
                Any(Field("email_address", RuleOperator.IsEmpty), Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "2"))));

    [Fact]
    public void Groups_inside_groups_keep_their_own_parentheses() =>
        Assert.Equal("Customers whose A is 1 or (whose B is 2 and (whose C is 3 or whose D is 4))",
            Summary.Describe(Tree(Any(
                Field("A", RuleOperator.Equals, "1"),
                All(Field("B", RuleOperator.Equals, "2"), Any(Field("C", RuleOperator.Equals, "3"), Field("D", RuleOperator.Equals, "4")))))));

    [Fact]
    public void A_group_with_one_child_needs_no_parentheses() =>
        Assert.Equal("Customers whose Country is France and whose Region is North",
            Describe(Field("Country", RuleOperator.Equals, "France"), Any(Field("Region", RuleOperator.Equals, "North"))));

    [Fact]
    public void A_root_that_only_wraps_a_group_reads_as_that_group() =>
        Assert.Equal("Customers whose Region is North or whose Region is East",
            Describe(Any(Field("Region", RuleOperator.Equals, "North"), Field("Region", RuleOperator.Equals, "East"))));

    [Fact]
    public void A_negated_root_reads_as_all_customers_except_those() =>
        Assert.Equal("All customers except those whose Region is North or who are in segment “Staff”",
            Summary.Describe(Tree(Not(Any(Field("Region", RuleOperator.Equals, "North"), Segment(7))))));

    [Fact]
    public void A_negated_group_inside_the_rule_reads_as_not_those() =>
        Assert.Equal("Customers whose Country is France and not those (whose Region is North and who spent more than 1,000)",
            Describe(
                Field("Country", RuleOperator.Equals, "France"),
                Not(All(Field("Region", RuleOperator.Equals, "North"), Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000")))));

    [Fact]
    public void A_negated_single_condition_reads_without_parentheses() =>
        Assert.Equal("Customers whose Country is France and not those whose Region is North",
            Describe(Field("Country", RuleOperator.Equals, "France"), Not(All(Field("Region", RuleOperator.Equals, "North")))));

    [Fact]
    public void A_double_negation_cancels_out() =>
        Assert.Equal("Customers whose Region is North",
            Summary.Describe(Tree(Not(All(Not(All(Field("Region", RuleOperator.Equals, "North"))))))));

    [Fact]
    public void Empty_nested_groups_say_what_they_match() =>
        Assert.Equal("Customers whose Region is North, (any customer), and (no customer)",
            Describe(Field("Region", RuleOperator.Equals, "North"), All(), Not(Any())));

    public static TheoryData<RuleNode> IncompleteConditions() =>
    [
        Field("", RuleOperator.Equals, "North"),
        Field("Region", RuleOperator.Equals),
        Field("Region", RuleOperator.Equals, "   "),
        Field("Score", RuleOperator.Between, "1"),
        Field("Score", RuleOperator.Greater),
        FieldIn("Region", RuleOperator.In),
        FieldIn("Region", RuleOperator.NotIn),
        Field("Region", RuleOperator.Contains),
        Relative("Signup", RuleOperator.InLast, "3", null),
        Relative("Signup", RuleOperator.InLast, null, RelativeUnit.Days),
        Relative("Signup", RuleOperator.InLast, "soon", RelativeUnit.Days),
        Relative("Signup", RuleOperator.InThis, null, null),
        Relative("Signup", RuleOperator.InPrevious, null, null),
        Field("Signup", RuleOperator.On),
        Fact(CustomerFact.TotalAmount, RuleOperator.Greater),
        Fact(CustomerFact.OrderCount, RuleOperator.Between, "2"),
        RelativeFact(CustomerFact.LastOrderDate, RuleOperator.InLast, null, RelativeUnit.Days),
        Bought(RuleOperator.In, "Category"),
        Bought(RuleOperator.In, "", "Toys"),
        Segment(0),
    ];

    [Theory]
    [MemberData(nameof(IncompleteConditions))]
    public void Unfinished_conditions_are_described_as_incomplete_instead_of_failing(RuleNode condition) =>
        Assert.Equal("Customers (incomplete condition)", Describe(condition));

    [Fact]
    public void An_incomplete_condition_does_not_hide_the_others() =>
        Assert.Equal("Customers whose Region is North and (incomplete condition)",
            Describe(Field("Region", RuleOperator.Equals, "North"), Field("Score", RuleOperator.Greater)));

    [Fact]
    public void Every_operator_on_every_fact_gives_a_sentence()
    {
        // Whatever a half-edited rule holds, the summary must read as a sentence rather than throw.
        foreach (var fact in Enum.GetValues<CustomerFact>())
        {
            foreach (var op in Enum.GetValues<RuleOperator>())
            {
                var condition = new FactCondition
                {
                    Fact = fact, Operator = op, Value = "3", Value2 = "5", Values = ["Toys"], Unit = RelativeUnit.Months,
                    Column = "Category", WindowDays = 30,
                };
                var sentence = Describe(condition);
                Assert.StartsWith("Customers ", sentence);
            }
        }
    }

    [Fact]
    public void Every_operator_on_a_field_gives_a_sentence_naming_the_field()
    {
        foreach (var op in Enum.GetValues<RuleOperator>())
        {
            var condition = new FieldCondition { Field = "Region", Operator = op, Value = "3", Value2 = "5", Values = ["North"], Unit = RelativeUnit.Weeks };
            Assert.StartsWith("Customers whose Region ", Describe(condition));
        }
    }
}
