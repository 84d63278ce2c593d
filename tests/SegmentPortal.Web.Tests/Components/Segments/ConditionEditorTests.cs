using AngleSharp.Dom;
using Bunit;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using static SegmentPortal.Web.Tests.Components.Segments.BuilderDriver;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// Each kind of field gets its own operators and value editor: numbers, dates (fixed and relative), categories with
/// values from the data, yes/no, text; and order facts and segment membership. A between whose bounds are the wrong way
/// round is marked on the spot.
/// </summary>
public sealed class ConditionEditorTests : BuilderTestContext
{
    private const string Value = "[data-testid=condition-value]";
    private const string Value2 = "[data-testid=condition-value2]";
    private const string Operator = "[data-testid=condition-operator]";
    private const string Values = "[data-testid=condition-values]";
    private const string Unit = "[data-testid=condition-unit]";
    private const string Date = "[data-testid=condition-date]";
    private const string Date2 = "[data-testid=condition-date2]";

    [Fact]
    public async Task The_field_picker_suggests_fields_grouped_by_what_they_are()
    {
        var cut = RenderBuilder(All(new FieldCondition()));

        var all = await cut.FieldSuggestionsAsync(() => cut.Conditions()[0]);

        Assert.Equal(
            ["customer_id Customer ID", "region Dimension", "signup Date", "balance Number", "birth_year Number", "city Text", "vip Yes/no"],
            all);

        // Typing filters by name or by group.
        await InputAsync(() => FieldInput(cut.Conditions()[0]), "date");
        cut.WaitForAssertion(() => Assert.Equal(["signup Date"], cut.Options(FieldInput(cut.Conditions()[0]))));
        await InputAsync(() => FieldInput(cut.Conditions()[0]), "YEAR");
        cut.WaitForAssertion(() => Assert.Equal(["birth_year Number"], cut.Options(FieldInput(cut.Conditions()[0]))));
    }

    [Fact]
    public async Task A_number_field_gets_number_operators_and_a_numeric_input()
    {
        var cut = RenderBuilder(All(new FieldCondition()));

        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "birth", "birth_year");

        var condition = Assert.IsType<FieldCondition>(Assert.Single(Root.Children));
        Assert.Equal(("birth_year", RuleOperator.Equals), (condition.Field, condition.Operator));
        Assert.Equal("is", cut.Find(Operator).TextContent.Trim());
        await cut.OpenSelectAsync(() => cut.Find(Operator));
        Assert.Equal(["is", "is not", "less than", "at most", "more than", "at least", "between", "is empty", "is not empty"],
            cut.Options(cut.Find(Operator)));
        Assert.Equal("decimal", cut.Find(Value).GetAttribute("inputmode"));
        Assert.Equal("Number", LabelOf(cut.Find(Value)));
        Assert.Empty(cut.FindAll(Value2));

        await InputAsync(() => cut.Find(Value), "1980");

        cut.WaitForAssertion(() => Assert.Equal("1980", condition.Value));
    }

    [Fact]
    public async Task Between_shows_two_number_inputs_for_the_bounds()
    {
        var condition = Field("birth_year", RuleOperator.Greater, "1970");
        var cut = RenderBuilder(All(condition));

        await cut.ChooseAsync(() => cut.Find(Operator), "between");

        Assert.Equal(RuleOperator.Between, condition.Operator);
        Assert.Equal("between", cut.Find(Operator).TextContent.Trim());
        Assert.Equal("1970", cut.Find(Value).GetAttribute("value"));
        Assert.Equal("decimal", cut.Find(Value2).GetAttribute("inputmode"));
        Assert.Contains("and", cut.Conditions()[0].QuerySelectorAll("p").Select(p => p.TextContent.Trim()));

        await InputAsync(() => cut.Find(Value2), "1990");

        cut.WaitForAssertion(() => Assert.Equal("1990", condition.Value2));
        Assert.Equal("1970", condition.Value);
        Assert.Equal("false", cut.Find(Value2).GetAttribute("aria-invalid"));
    }

    [Fact]
    public async Task Between_with_the_bounds_the_wrong_way_round_marks_the_second_number()
    {
        var condition = Field("birth_year", RuleOperator.Between, "1990");
        var cut = RenderBuilder(All(condition));

        await InputAsync(() => cut.Find(Value2), "1,970");

        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find(Value2).GetAttribute("aria-invalid")));
        Assert.Equal("1,970", condition.Value2);
        Assert.Contains("mud-input-error", cut.Find(Value2).Closest(".mud-input-control")!.ClassList);
        Assert.Equal("Smaller than the first value: nothing is between them.", HelperTextOf(cut.Find(Value2)));
        Assert.Equal("false", cut.Find(Value).GetAttribute("aria-invalid"));

        await InputAsync(() => cut.Find(Value2), "2000");

        cut.WaitForAssertion(() => Assert.Equal("false", cut.Find(Value2).GetAttribute("aria-invalid")));
        Assert.Equal("2000", condition.Value2);
        Assert.Null(HelperTextOf(cut.Find(Value2)));
    }

    [Fact]
    public async Task A_decimal_field_is_a_number_too_and_takes_no_text_operators()
    {
        var cut = RenderBuilder(All(Field("balance", RuleOperator.GreaterOrEqual, "10.5")));

        await cut.OpenSelectAsync(() => cut.Find(Operator));

        Assert.Contains("between", cut.Options(cut.Find(Operator)));
        Assert.DoesNotContain("contains", cut.Options(cut.Find(Operator)));
        Assert.Equal("at least", cut.Find(Operator).TextContent.Trim());
        Assert.Equal("10.5", cut.Find(Value).GetAttribute("value"));
    }

    [Fact]
    public async Task A_date_field_gets_date_operators_and_an_editable_date_picker()
    {
        var cut = RenderBuilder(All(new FieldCondition()));

        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "sign", "signup");

        var condition = Assert.IsType<FieldCondition>(Root.Children[0]);
        Assert.Equal(RuleOperator.On, condition.Operator);
        await cut.OpenSelectAsync(() => cut.Find(Operator));
        Assert.Equal(["on", "before", "after", "between", "in the last", "not in the last", "in this", "in the previous", "is empty", "is not empty"],
            cut.Options(cut.Find(Operator)));
        Assert.Empty(cut.FindAll(Value));
        Assert.NotNull(cut.Find(Date).Closest(".mud-picker"));
        Assert.Equal("Date", LabelOf(cut.Find(Date)));

        await ChangeAsync(() => cut.Find(Date), "2025-01-31");

        cut.WaitForAssertion(() => Assert.Equal("2025-01-31", condition.Value));
        Assert.Equal("2025-01-31", cut.Find(Date).GetAttribute("value"));
    }

    [Fact]
    public async Task Between_two_dates_shows_a_second_date_picker_marked_when_it_is_the_earlier()
    {
        var condition = Field("signup", RuleOperator.After, "2025-01-01");
        var cut = RenderBuilder(All(condition));

        await cut.ChooseAsync(() => cut.Find(Operator), "between");
        await ChangeAsync(() => cut.Find(Date2), "2025-03-31");

        cut.WaitForAssertion(() => Assert.Equal(("2025-01-01", "2025-03-31"), (condition.Value, condition.Value2)));
        Assert.Equal("2025-01-01", cut.Find(Date).GetAttribute("value"));
        Assert.Equal("2025-03-31", cut.Find(Date2).GetAttribute("value"));
        Assert.Equal("false", cut.Find(Date2).GetAttribute("aria-invalid"));

        await ChangeAsync(() => cut.Find(Date2), "2024-12-31");

        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find(Date2).GetAttribute("aria-invalid")));
        Assert.Equal("2024-12-31", condition.Value2);
        Assert.Equal("Smaller than the first value: nothing is between them.", HelperTextOf(cut.Find(Date2)));
    }

    [Fact]
    public async Task In_the_last_asks_for_an_amount_and_a_unit_of_time()
    {
        var condition = Field("signup", RuleOperator.On);
        var cut = RenderBuilder(All(condition));

        await cut.ChooseAsync(() => cut.Find(Operator), "in the last");

        Assert.Equal((RuleOperator.InLast, RelativeUnit.Days), (condition.Operator, condition.Unit));
        Assert.Empty(cut.FindAll(Date));
        Assert.Equal("numeric", cut.Find(Value).GetAttribute("inputmode"));
        Assert.Equal("How many", LabelOf(cut.Find(Value)));
        Assert.Equal("days", cut.Find(Unit).TextContent.Trim());
        await cut.OpenSelectAsync(() => cut.Find(Unit));
        Assert.Equal(["days", "weeks", "months", "quarters", "years"], cut.Options(cut.Find(Unit)));

        await cut.PickOptionAsync(() => cut.Find(Unit), "months");
        await InputAsync(() => cut.Find(Value), "3");

        cut.WaitForAssertion(() => Assert.Equal(("3", RelativeUnit.Months), (condition.Value, condition.Unit)));
        Assert.Equal("months", cut.Find(Unit).TextContent.Trim());
    }

    [Fact]
    public async Task In_this_asks_only_for_a_calendar_period()
    {
        var condition = Field("signup", RuleOperator.On);
        var cut = RenderBuilder(All(condition));

        await cut.ChooseAsync(() => cut.Find(Operator), "in the previous");

        // Days are no calendar period: it starts on months.
        Assert.Equal((RuleOperator.InPrevious, RelativeUnit.Months), (condition.Operator, condition.Unit));
        Assert.Empty(cut.FindAll(Value));
        Assert.Empty(cut.FindAll(Date));
        await cut.OpenSelectAsync(() => cut.Find(Unit));
        Assert.Equal(["week", "month", "quarter", "year"], cut.Options(cut.Find(Unit)));

        await cut.PickOptionAsync(() => cut.Find(Unit), "quarter");

        Assert.Equal(RelativeUnit.Quarters, condition.Unit);
        Assert.Equal("quarter", cut.Find(Unit).TextContent.Trim());
    }

    [Fact]
    public async Task A_category_field_offers_a_multi_select_of_the_values_in_the_data()
    {
        var cut = RenderBuilder(All(new FieldCondition()));

        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "reg", "region");

        var condition = Assert.IsType<FieldCondition>(Root.Children[0]);
        Assert.Equal(RuleOperator.In, condition.Operator);
        Assert.Equal("is any of", cut.Find(Operator).TextContent.Trim());
        Assert.Equal([(DatasetId, "region")], ValueLoads);
        await cut.OpenSelectAsync(() => cut.Find(Values));
        Assert.Equal(["North", "East", "South", "West"], cut.Options(cut.Find(Values)));

        await cut.PickOptionAsync(() => cut.Find(Values), "North");
        await cut.PickOptionAsync(() => cut.Find(Values), "South");

        Assert.Equal(["North", "South"], condition.Values);
        Assert.Equal("North, South", cut.Find(Values).GetAttribute("value"));

        // Picking one again takes it out.
        await cut.PickOptionAsync(() => cut.Find(Values), "North");
        Assert.Equal(["South"], condition.Values);
        Assert.Equal("South", cut.Find(Values).GetAttribute("value"));
    }

    [Fact]
    public async Task Category_values_are_loaded_once_per_column_and_keep_chosen_values_no_longer_in_the_data()
    {
        var kept = new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["Atlantis"] };
        var cut = RenderBuilder(All(kept, new FieldCondition { Field = "region", Operator = RuleOperator.NotIn }));

        Assert.Equal([(DatasetId, "region")], ValueLoads);
        await cut.OpenSelectAsync(() => cut.FindAll(Values)[0]);
        Assert.Equal(["North", "East", "South", "West", "Atlantis"], cut.Options(cut.FindAll(Values)[0]));
        Assert.Equal("Atlantis", cut.FindAll(Values)[0].GetAttribute("value"));
    }

    [Fact]
    public async Task A_category_compared_with_is_takes_typed_text_instead()
    {
        var condition = new FieldCondition { Field = "region", Operator = RuleOperator.In };
        var cut = RenderBuilder(All(condition));
        await cut.OpenSelectAsync(() => cut.Find(Operator));
        Assert.Equal(["is any of", "is none of", "is", "is not", "is empty", "is not empty"], cut.Options(cut.Find(Operator)));

        await cut.PickOptionAsync(() => cut.Find(Operator), "is");

        Assert.Equal(RuleOperator.Equals, condition.Operator);
        Assert.Empty(cut.FindAll(Values));
        Assert.Equal("Text", LabelOf(cut.Find(Value)));
    }

    [Fact]
    public async Task A_yes_no_field_needs_no_value()
    {
        var cut = RenderBuilder(All(new FieldCondition()));

        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "vi", "vip");

        Assert.Equal(RuleOperator.IsTrue, ((FieldCondition)Root.Children[0]).Operator);
        await cut.OpenSelectAsync(() => cut.Find(Operator));
        Assert.Equal(["is true", "is false", "is empty", "is not empty"], cut.Options(cut.Find(Operator)));
        Assert.Empty(cut.FindAll($"{Value}, {Value2}, {Values}, {Date}, {Unit}"));

        await cut.PickOptionAsync(() => cut.Find(Operator), "is false");

        Assert.Equal(RuleOperator.IsFalse, ((FieldCondition)Root.Children[0]).Operator);
        Assert.Empty(cut.FindAll(Value));
    }

    [Fact]
    public async Task A_text_field_gets_text_operators_and_a_text_input()
    {
        var cut = RenderBuilder(All(new FieldCondition()));

        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "cit", "city");
        await cut.OpenSelectAsync(() => cut.Find(Operator));

        Assert.Equal(["is", "is not", "contains", "does not contain", "starts with", "does not start with", "ends with", "is any of", "is none of", "is empty", "is not empty"],
            cut.Options(cut.Find(Operator)));
        await cut.PickOptionAsync(() => cut.Find(Operator), "contains");
        Assert.Equal("text", cut.Find(Value).GetAttribute("inputmode"));
        Assert.Equal("Text", LabelOf(cut.Find(Value)));

        await InputAsync(() => cut.Find(Value), "sl");

        var condition = (FieldCondition)Root.Children[0];
        cut.WaitForAssertion(() => Assert.Equal((RuleOperator.Contains, "sl"), (condition.Operator, condition.Value)));
    }

    [Fact]
    public async Task Choosing_another_field_resets_the_operator_and_values_to_suit_it()
    {
        var condition = Field("birth_year", RuleOperator.Between, "1970", "1990");
        var cut = RenderBuilder(All(condition));

        await cut.ChooseFieldAsync(() => cut.Conditions()[0], "reg", "region");

        Assert.Equal(("region", RuleOperator.In, null, null), (condition.Field, condition.Operator, condition.Value, condition.Value2));
        Assert.Empty(cut.FindAll($"{Value}, {Value2}"));
        Assert.NotNull(cut.Find(Values));
        Assert.Equal(1, cut.Instance.Changes);
    }

    [Fact]
    public async Task An_order_fact_gets_its_own_picker_a_value_and_a_window()
    {
        var cut = RenderBuilder(All(), Options(facts: true));

        await cut.AddFromMenuAsync(() => cut.Groups()[0], "add-fact-condition");

        var fact = Assert.IsType<FactCondition>(Assert.Single(Root.Children));
        Assert.Equal((CustomerFact.TotalAmount, RuleOperator.Greater), (fact.Fact, fact.Operator));
        Assert.Equal("AND[Total spent]", cut.Outline());
        Assert.Equal("more than", cut.Find(Operator).TextContent.Trim());
        Assert.Equal("Number", LabelOf(cut.Find(Value)));

        await InputAsync(() => cut.Find(Value), "1000");
        await ChangeAsync(() => cut.Find("[data-testid=fact-window]"), "90");

        cut.WaitForAssertion(() => Assert.Equal(("1000", (int?)90), (fact.Value, fact.WindowDays)));

        await cut.ChooseAsync(() => cut.Find("[data-testid=condition-fact]"), "Last order date");

        Assert.Equal((CustomerFact.LastOrderDate, RuleOperator.On, null), (fact.Fact, fact.Operator, fact.Value));
        Assert.NotNull(cut.Find(Date));
        Assert.Equal("AND[Last order date]", cut.Outline());
    }

    [Fact]
    public async Task Bought_offers_the_categories_in_the_orders()
    {
        var cut = RenderBuilder(All(new FactCondition { Fact = CustomerFact.TotalAmount, Operator = RuleOperator.Greater }), Options(facts: true));

        await cut.ChooseAsync(() => cut.Find("[data-testid=condition-fact]"), "Bought");

        var fact = (FactCondition)Root.Children[0];
        Assert.Equal((CustomerFact.BoughtCategory, RuleOperator.In, "category"), (fact.Fact, fact.Operator, fact.Column));
        Assert.Contains((OrdersDatasetId, "category"), ValueLoads);
        await cut.OpenSelectAsync(() => cut.Find(Values));
        Assert.Equal(["Toys", "Books"], cut.Options(cut.Find(Values)));
        await cut.PickOptionAsync(() => cut.Find(Values), "Toys");
        Assert.Equal(["Toys"], fact.Values);
    }

    [Fact]
    public async Task Segment_membership_picks_another_saved_segment()
    {
        var cut = RenderBuilder(All(), Options(false, new SegmentChoice(3, "VIPs"), new SegmentChoice(4, "Lapsed")));

        await cut.AddFromMenuAsync(() => cut.Groups()[0], "add-segment-condition");

        var segment = Assert.IsType<SegmentCondition>(Assert.Single(Root.Children));
        Assert.Equal((3, true), (segment.SegmentId, segment.In));
        Assert.Equal("VIPs", cut.Find("[data-testid=condition-segment]").TextContent.Trim());

        await cut.ChooseAsync(() => cut.Find("[data-testid=condition-segment]"), "Lapsed");

        Assert.Equal(4, segment.SegmentId);
        Assert.Equal("AND[segment 4]", Outline(Root));
    }

    /// <summary>The floating label of an input (or picker).</summary>
    private static string LabelOf(IElement input) =>
        input.Closest(".mud-input-control")!.QuerySelector("label.mud-input-label")!.TextContent.Trim();

    /// <summary>The helper (or error) text under an input, if any.</summary>
    private static string? HelperTextOf(IElement input) =>
        input.Closest(".mud-input-control")!.QuerySelector(".mud-input-helper-text")?.TextContent.Trim() is { Length: > 0 } text ? text : null;
}
