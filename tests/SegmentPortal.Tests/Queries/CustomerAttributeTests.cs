using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Queries;

/// <summary>Analysis results as customer fields, customer measures as output columns, and sums of products.</summary>
public sealed class CustomerAttributeTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static readonly AttributeColumn[] Columns =
    [
        new("Score group", "grp", ColumnType.Text, FieldRole.Dimension),
        new("Score", "score", ColumnType.Integer),
    ];

    private Task<CustomerAttributeSet> WriteAsync(params (long Key, string Group, int Score)[] rows) =>
        shop.Harness.WithAsync<CustomerAttributeStore, CustomerAttributeSet>(s => s.WriteAsync(
            AttributeSetKind.Rfm, sourceId: 1, shop.OrderData.Id, "RFM", ColumnType.Integer, Columns,
            rows.Select(r => new object?[] { r.Key, r.Group, r.Score }), TestContext.Current.CancellationToken));

    private Task<QueryResult> RunAsync(QuerySpec spec) => shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec, TestContext.Current.CancellationToken));

    [Fact]
    public async Task Attribute_fields_filter_the_analysed_dataset_and_related_ones_and_a_rewrite_applies_at_once()
    {
        await WriteAsync((1, "Champions", 5), (2, "At risk", 2), (3, "Champions", 4));

        Assert.Equal([1L, 3], await shop.IdsAsync(All(FieldIn("Score group", RuleOperator.In, "Champions"))));
        Assert.Equal([1L, 3], await shop.IdsAsync(All(FieldIn("Score group", RuleOperator.In, "Champions")), shop.OrderData));
        // Customers without a row have empty attributes.
        Assert.Equal([4L, 5, 6], await shop.IdsAsync(All(Field("Score", RuleOperator.IsEmpty))));
        Assert.Equal([1L], await shop.IdsAsync(All(Field("Score", RuleOperator.Greater, "4"), FieldIn("region", RuleOperator.In, "North"))));

        await WriteAsync((1, "At risk", 2), (4, "Champions", 5));

        Assert.Equal([4L], await shop.IdsAsync(All(FieldIn("Score group", RuleOperator.In, "Champions"))));
    }

    [Fact]
    public async Task A_write_with_a_repeated_or_empty_customer_key_fails_and_the_previous_fields_stay()
    {
        await WriteAsync((1, "Champions", 5), (2, "At risk", 2));

        await Assert.ThrowsAnyAsync<Exception>(() => WriteAsync((1, "At risk", 2), (1, "Champions", 5)));
        await Assert.ThrowsAnyAsync<Exception>(() => shop.Harness.WithAsync<CustomerAttributeStore, CustomerAttributeSet>(s => s.WriteAsync(
            AttributeSetKind.Rfm, sourceId: 1, shop.OrderData.Id, "RFM", ColumnType.Integer, Columns,
            [new object?[] { 3L, "Champions", 5 }, new object?[] { null, "At risk", 1 }], TestContext.Current.CancellationToken)));

        Assert.Equal([1L], await shop.IdsAsync(All(FieldIn("Score group", RuleOperator.In, "Champions"))));
    }

    [Fact]
    public async Task A_plain_preview_shows_the_datasets_own_columns_and_attributes_only_when_asked()
    {
        await WriteAsync((1, "Champions", 5));

        var plain = await RunAsync(new QuerySpec { DatasetId = shop.CustomerData.Id, Limit = 1 });
        Assert.DoesNotContain("Score group", plain.Columns);

        var asked = await RunAsync(new QuerySpec { DatasetId = shop.CustomerData.Id, Columns = ["id", "Score group"], Sort = [new SortBy("id")], Limit = 1 });
        Assert.Equal("Champions", asked.Rows[0][1]);
    }

    [Fact]
    public async Task Customer_measures_are_columns_with_zero_orders_for_customers_who_never_ordered()
    {
        var result = await RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            Columns = ["id"],
            Facts =
            [
                new FactColumn("orders", CustomerMeasure.OrderCount),
                new FactColumn("spent", CustomerMeasure.TotalAmount),
                new FactColumn("average", CustomerMeasure.AverageAmount),
                new FactColumn("recency", CustomerMeasure.DaysSinceLastOrder),
                new FactColumn("tenure", CustomerMeasure.DaysSinceFirstOrder),
                new FactColumn("toys", CustomerMeasure.CategoryShare, Column: "category", Values: ["Toys"]),
                new FactColumn("recent_orders", CustomerMeasure.OrderCount, WindowDays: 30),
            ],
            Sort = [new SortBy("id")],
        });

        var rows = result.Rows.ToDictionary(r => Convert.ToInt64(r[0]), r => r.Skip(1).Select(v => QueryValue.ToDouble(v)).ToArray());
        // Customer 1: orders 101 (500, Toys), 102 (700, Books), 107 (0, Toys); last 2024-06-01, first 2024-05-20.
        Assert.Equal(new double?[] { 3, 1200, 400, 14, 26, 500.0 / 1200, 3 }, rows[1]);
        Assert.Equal(new double?[] { 2, 80, 40, 126, 223, 50.0 / 80, 0 }, rows[2]);
        Assert.Equal(new double?[] { 0, 0, null, null, null, null, 0 }, rows[5]);
    }

    [Fact]
    public async Task A_sum_can_multiply_two_columns_row_by_row()
    {
        var result = await RunAsync(new QuerySpec
        {
            DatasetId = shop.OrderData.Id,
            Measures = [new Measure(MeasureKind.Sum, "x", "amount", Times: "order_id")],
            Filter = All(FieldIn("category", RuleOperator.In, "Books")),
        });
        Assert.Equal(700.0 * 102 + 100.0 * 106, QueryValue.ToDouble(result.Rows[0][0]));
    }
}
