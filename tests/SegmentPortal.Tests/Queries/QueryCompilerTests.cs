using SegmentPortal.Core;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Queries;

/// <summary>Every operator and type through the real compiler and warehouse, against a fixed clock (2024-06-15).</summary>
public sealed class QueryCompilerTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static long[] Expect(string ids) => ids.Length == 0 ? [] : ids.Split(',').Select(long.Parse).ToArray();

    [Theory]
    [InlineData("birth_year", RuleOperator.Equals, "1975", null, "4")]
    [InlineData("birth_year", RuleOperator.NotEquals, "1975", null, "1,2,3,5,6")]
    [InlineData("birth_year", RuleOperator.Less, "1980", null, "4")]
    [InlineData("birth_year", RuleOperator.LessOrEqual, "1980", null, "1,4")]
    [InlineData("birth_year", RuleOperator.Greater, "1985", null, "2,5,6")]
    [InlineData("birth_year", RuleOperator.GreaterOrEqual, "2001", null, "5")]
    [InlineData("birth_year", RuleOperator.Between, "1980", "1990", "1,6")]
    [InlineData("birth_year", RuleOperator.IsEmpty, null, null, "3")]
    [InlineData("birth_year", RuleOperator.IsNotEmpty, null, null, "1,2,4,5,6")]
    [InlineData("birth_year", RuleOperator.Greater, "1,985", null, "2,5,6")]
    public async Task Number_operators(string field, RuleOperator op, string? value, string? value2, string ids) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(Field(field, op, value, value2))));

    [Theory]
    [InlineData(RuleOperator.Equals, "ann", "1")]
    [InlineData(RuleOperator.NotEquals, "Ann", "2,3,4,5,6")]
    [InlineData(RuleOperator.Contains, "I", "4,6")]
    [InlineData(RuleOperator.NotContains, "i", "1,2,3,5")]
    [InlineData(RuleOperator.StartsWith, "b", "2")]
    [InlineData(RuleOperator.NotStartsWith, "B", "1,3,4,5,6")]
    [InlineData(RuleOperator.EndsWith, "N", "1")]
    public async Task Text_operators_ignore_case(RuleOperator op, string value, string ids) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(Field("name", op, value))));

    [Theory]
    [InlineData(RuleOperator.In, "1,3,4", "North", "East")]
    [InlineData(RuleOperator.NotIn, "2,3,5,6", "North")]
    public async Task Category_lists(RuleOperator op, string ids, params string[] values) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(FieldIn("region", op, values))));

    [Theory]
    [InlineData("region", RuleOperator.IsEmpty, "6")]
    [InlineData("city", RuleOperator.IsEmpty, "3")]
    [InlineData("city", RuleOperator.IsNotEmpty, "1,2,4,5,6")]
    [InlineData("vip", RuleOperator.IsTrue, "1,3,6")]
    [InlineData("vip", RuleOperator.IsFalse, "2,5")]
    [InlineData("vip", RuleOperator.IsEmpty, "4")]
    public async Task Empty_values_and_booleans(string field, RuleOperator op, string ids) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(Field(field, op))));

    [Theory]
    [InlineData(RuleOperator.On, "2024-06-10", null, null, "1")]
    [InlineData(RuleOperator.Before, "2023-01-01", null, null, "5")]
    [InlineData(RuleOperator.After, "2024-06-01", null, null, "1,6")]
    [InlineData(RuleOperator.Between, "2024-01-01", "2024-04-01", null, "2,4")]
    [InlineData(RuleOperator.InLast, "30", null, RelativeUnit.Days, "1,6")]
    [InlineData(RuleOperator.InLast, "1", null, RelativeUnit.Weeks, "1,6")]
    [InlineData(RuleOperator.InLast, "2", null, RelativeUnit.Months, "1,6")]
    [InlineData(RuleOperator.InLast, "6", null, RelativeUnit.Months, "1,2,4,6")]
    [InlineData(RuleOperator.InLast, "1", null, RelativeUnit.Quarters, "1,4,6")]
    [InlineData(RuleOperator.InLast, "2", null, RelativeUnit.Years, "1,2,3,4,5,6")]
    [InlineData(RuleOperator.NotInLast, "30", null, RelativeUnit.Days, "2,3,4,5")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Weeks, "1,6")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Months, "1,6")]
    [InlineData(RuleOperator.InPrevious, null, null, RelativeUnit.Months, "")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Quarters, "1,4,6")]
    [InlineData(RuleOperator.InPrevious, null, null, RelativeUnit.Quarters, "2")]
    [InlineData(RuleOperator.InThis, null, null, RelativeUnit.Years, "1,2,4,6")]
    [InlineData(RuleOperator.InPrevious, null, null, RelativeUnit.Years, "3")]
    public async Task Date_operators_against_a_fixed_today(RuleOperator op, string? value, string? value2, RelativeUnit? unit, string ids) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(Field("signup", op, value, value2, unit))));

    [Fact]
    public async Task Not_is_the_exact_complement_even_over_empty_values()
    {
        var inner = Any(FieldIn("region", RuleOperator.In, "North"), Field("vip", RuleOperator.IsTrue));
        var negated = Any(FieldIn("region", RuleOperator.In, "North"), Field("vip", RuleOperator.IsTrue));
        negated.Not = true;

        Assert.Equal(Expect("1,3,4,6"), await shop.IdsAsync(All(inner)));
        Assert.Equal(Expect("2,5"), await shop.IdsAsync(All(negated)));
        var nested = All(negated);
        nested.Not = true;
        Assert.Equal(Expect("1,3,4,6"), await shop.IdsAsync(All(nested)));
    }

    [Fact]
    public async Task Groups_nest_to_any_depth()
    {
        var rule = All(
            FieldIn("region", RuleOperator.In, "North", "East"),
            Any(Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", window: 90), Field("birth_year", RuleOperator.Less, "1980")));

        Assert.Equal(Expect("1,3,4"), await shop.IdsAsync(rule));
        Assert.Equal(Expect("1,2,3,4,5,6"), await shop.IdsAsync(All(All(), Any())));
    }

    [Theory]
    [InlineData(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", 90, "1,3")]
    [InlineData(CustomerFact.TotalAmount, RuleOperator.Equals, "0", null, "5,6")]
    [InlineData(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "2", null, "1,2")]
    [InlineData(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "2", 30, "1")]
    [InlineData(CustomerFact.OrderCount, RuleOperator.Equals, "0", null, "5,6")]
    [InlineData(CustomerFact.AverageAmount, RuleOperator.Greater, "300", null, "1,3")]
    [InlineData(CustomerFact.DaysSinceLastOrder, RuleOperator.Greater, "30", null, "2,4")]
    [InlineData(CustomerFact.LastOrderDate, RuleOperator.NotInLast, "30", null, "2,4,5,6")]
    [InlineData(CustomerFact.FirstOrderDate, RuleOperator.Before, "2024-01-01", null, "2,4")]
    [InlineData(CustomerFact.LastOrderDate, RuleOperator.IsEmpty, null, null, "5,6")]
    public async Task Customer_facts_from_related_orders(CustomerFact fact, RuleOperator op, string? value, int? window, string ids) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(Fact(fact, op, value, window, op == RuleOperator.NotInLast ? RelativeUnit.Days : null))));

    [Theory]
    [InlineData(RuleOperator.In, null, "1,2", "Toys")]
    [InlineData(RuleOperator.NotIn, null, "3,4,5,6", "Toys")]
    [InlineData(RuleOperator.In, 60, "1", "Toys", "Garden")]
    public async Task Bought_category(RuleOperator op, int? window, string ids, params string[] categories) =>
        Assert.Equal(Expect(ids), await shop.IdsAsync(All(new FactCondition
        {
            Fact = CustomerFact.BoughtCategory, Operator = op, Column = "category", Values = [.. categories], WindowDays = window,
        })));

    [Fact]
    public async Task Counts_agree_with_the_members_and_use_a_plain_count_over_unique_keys()
    {
        var rules = new[]
        {
            All(FieldIn("region", RuleOperator.In, "North", "East"), Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "1", null)),
            All(Field("vip", RuleOperator.IsTrue), Any(Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "100", 90), Fact(CustomerFact.DaysSinceLastOrder, RuleOperator.Greater, "30", null))),
            Any(FieldIn("region", RuleOperator.In, "West"), Fact(CustomerFact.OrderCount, RuleOperator.Equals, "0", null)),
        };
        foreach (var rule in rules)
        {
            var counted = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
            {
                DatasetId = shop.CustomerData.Id, Filter = rule, Measures = [new Measure(MeasureKind.Customers, "n")],
            }));
            Assert.Equal((long)(await shop.IdsAsync(rule)).Count, counted.Scalar("n"));
        }

        var spec = new QuerySpec { DatasetId = shop.CustomerData.Id, Filter = rules[0], Measures = [new Measure(MeasureKind.Customers, "n")] };
        var context = (await shop.Harness.WithAsync<PermissionPolicy, AuthorizedQuery>(p => p.AuthorizeAsync(spec))).Context;
        var unique = QueryCompiler.Compile(spec, context with { CustomerKeyUnique = true }).Sql;
        var general = QueryCompiler.Compile(spec, context).Sql;
        Assert.Contains("count(t0.\"id\")", unique);
        Assert.DoesNotContain("SELECT DISTINCT", unique);
        Assert.DoesNotContain("count(DISTINCT t0.", unique);
        Assert.Contains("count(DISTINCT t0.\"id\")", general);
        Assert.Contains("SELECT DISTINCT", general);
    }

    [Fact]
    public async Task Orders_as_the_dataset_count_each_customer_once()
    {
        var result = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = shop.OrderData.Id,
            Filter = All(FieldIn("category", RuleOperator.In, "Toys")),
            Measures = [new Measure(MeasureKind.Customers, "customers"), new Measure(MeasureKind.Count, "rows")],
        }));

        Assert.Equal(2L, result.Scalar("customers"));
        Assert.Equal(3L, result.Scalar("rows"));
        Assert.Equal(Expect("1,2"), await shop.IdsAsync(All(FieldIn("category", RuleOperator.In, "Toys")), shop.OrderData));
    }

    [Fact]
    public async Task Segment_membership_and_loops()
    {
        var big = await shop.SaveSegmentAsync($"Big spenders {Guid.NewGuid():N}", All(Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", window: 90)));

        Assert.Equal(Expect("1,3"), await shop.IdsAsync(All(new SegmentCondition { SegmentId = big })));
        Assert.Equal(Expect("2,4,5,6"), await shop.IdsAsync(All(new SegmentCondition { SegmentId = big, In = false })));

        var other = await shop.SaveSegmentAsync($"Loop {Guid.NewGuid():N}", All(new SegmentCondition { SegmentId = big }));
        await shop.UpdateSegmentAsync(big, All(new SegmentCondition { SegmentId = other }));
        var error = await Assert.ThrowsAsync<PortalException>(() => shop.IdsAsync(All(new SegmentCondition { SegmentId = big })));
        Assert.Contains("loop", error.Message);
    }

    [Fact]
    public async Task Values_are_parameters_and_unknown_fields_are_refused()
    {
        Assert.Empty(await shop.IdsAsync(All(Field("name", RuleOperator.Equals, "x'; DROP TABLE customers; --"))));
        Assert.Empty(await shop.IdsAsync(All(FieldIn("region", RuleOperator.In, "North') OR 1=1 --"))));
        Assert.Equal(6, (await shop.IdsAsync(All())).Count);

        var error = await Assert.ThrowsAsync<PortalException>(() => shop.IdsAsync(All(Field("name\" = name OR \"1", RuleOperator.IsNotEmpty))));
        Assert.Contains("has no field", error.Message);
        await Assert.ThrowsAsync<PortalException>(() => shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            Columns = ["name; DROP TABLE x"],
        })));
    }

    [Fact]
    public async Task Incomplete_conditions_are_skipped_and_reported()
    {
        var noValue = Field("birth_year", RuleOperator.Greater);
        var badNumber = Field("birth_year", RuleOperator.Greater, "old");
        var wrongOperator = Field("signup", RuleOperator.Contains, "x");
        var noField = new FieldCondition { Operator = RuleOperator.Equals, Value = "x" };
        var rule = All(FieldIn("region", RuleOperator.In, "North"), noValue, badNumber, wrongOperator, noField);

        Assert.Equal(Expect("1,4"), await shop.IdsAsync(rule));
        var problems = await shop.Harness.WithAsync<QueryService, IReadOnlyList<RuleProblem>>(q => q.CheckAsync(shop.CustomerData.Id, rule));
        Assert.Equal([noValue.Id, badNumber.Id, wrongOperator.Id, noField.Id], problems.Select(p => p.NodeId));
        Assert.Contains(problems, p => p.Message.Contains("not a number"));
    }

    [Fact]
    public async Task Filtered_measures_count_many_conditions_in_one_query()
    {
        var north = FieldIn("region", RuleOperator.In, "North");
        var vip = Field("vip", RuleOperator.IsTrue);
        var result = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            Measures =
            [
                new Measure(MeasureKind.Customers, "all"),
                new Measure(MeasureKind.Customers, "north", Where: north),
                new Measure(MeasureKind.Customers, "vip", Where: vip),
                new Measure(MeasureKind.Customers, "both", Where: All(north, vip)),
            ],
        }));

        Assert.Equal([6L, 2L, 3L, 1L], result.Rows[0].Select(v => Convert.ToInt64(v)));
    }

    [Fact]
    public async Task Results_are_cached_by_the_effective_query()
    {
        var spec = new QuerySpec { DatasetId = shop.CustomerData.Id, Filter = All(Field("name", RuleOperator.StartsWith, "a")), Measures = [new Measure(MeasureKind.Count, "n")] };

        var first = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec));
        var second = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec));
        var other = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec with { Filter = All(Field("name", RuleOperator.StartsWith, "b")) }));

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.False(other.FromCache);
    }

    [Fact]
    public void Relative_periods()
    {
        Assert.Equal((new DateOnly(2024, 6, 10), new DateOnly(2024, 6, 17)), RelativeDates.Period(Today, RelativeUnit.Weeks, previous: false));
        Assert.Equal((new DateOnly(2024, 4, 1), new DateOnly(2024, 7, 1)), RelativeDates.Period(Today, RelativeUnit.Quarters, previous: false));
        Assert.Equal((new DateOnly(2023, 1, 1), new DateOnly(2024, 1, 1)), RelativeDates.Period(Today, RelativeUnit.Years, previous: true));
        Assert.Equal(new DateOnly(2024, 3, 15), RelativeDates.Back(Today, 1, RelativeUnit.Quarters));
    }
}
