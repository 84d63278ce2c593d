using System.Globalization;
using System.Text.RegularExpressions;
using SegmentPortal.Core;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Queries;

/// <summary>What dashboards added to the compiler: bins, quartiles, and groups by a customer's first-order month.</summary>
public sealed class DashboardCompilerTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<QueryResult> RunAsync(QuerySpec spec) => shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec, Ct));

    private Task<(CompiledQuery Query, string User)> CompileAsync(QuerySpec spec) =>
        shop.Harness.WithAsync<QueryService, (CompiledQuery, string)>(q => q.CompileAsync(spec, Ct));

    private static Dictionary<double, long> Bins(QueryResult result) =>
        result.Rows.Where(r => r[0] is not null).ToDictionary(r => Convert.ToDouble(r[0], CultureInfo.InvariantCulture), r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture));

    [Fact]
    public async Task Numbers_group_into_bins_named_by_their_lower_edge_with_the_width_as_a_parameter()
    {
        var spec = new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            GroupBy = [new GroupBy("birth_year", Alias: "bin") { BinWidth = 10 }],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("bin")],
        };

        var result = await RunAsync(spec);
        var (compiled, _) = await CompileAsync(spec);

        // 1975 | 1980, 1988 | 1992 | 2001; customer 3 has no birth year.
        Assert.Equal(new Dictionary<double, long> { [1970] = 1, [1980] = 2, [1990] = 1, [2000] = 1 }, Bins(result));
        // The width is not written into the SQL text: no number token 10 outside quoted identifiers (table names carry random hex).
        var unquoted = Regex.Replace(compiled.Sql, "\"[^\"]*\"", "\"\"");
        Assert.DoesNotMatch(@"(?<![\w$])10(?![\w.])", unquoted);
        Assert.Contains(10.0, compiled.Parameters.Values);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-5.0)]
    [InlineData(double.NaN)]
    public async Task A_bin_width_must_be_above_zero(double width)
    {
        var error = await Assert.ThrowsAsync<PortalException>(() => RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            GroupBy = [new GroupBy("birth_year") { BinWidth = width }],
            Measures = [new Measure(MeasureKind.Count, "n")],
        }));
        Assert.Contains("above 0", error.Message);
    }

    [Fact]
    public async Task Only_numbers_go_in_bins_and_only_dates_in_periods()
    {
        await Assert.ThrowsAsync<PortalException>(() => RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id, GroupBy = [new GroupBy("region") { BinWidth = 1 }], Measures = [new Measure(MeasureKind.Count, "n")],
        }));
        await Assert.ThrowsAsync<PortalException>(() => RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id, GroupBy = [new GroupBy("signup", DateBucket.Month) { BinWidth = 1 }], Measures = [new Measure(MeasureKind.Count, "n")],
        }));
    }

    [Fact]
    public async Task Quartiles_are_interpolated_like_the_median()
    {
        var result = await RunAsync(new QuerySpec
        {
            DatasetId = shop.OrderData.Id,
            Filter = All(FieldIn("category", RuleOperator.In, "Toys")),
            Measures =
            [
                new Measure(MeasureKind.LowerQuartile, "q1", "amount"),
                new Measure(MeasureKind.Median, "median", "amount"),
                new Measure(MeasureKind.UpperQuartile, "q3", "amount"),
            ],
        });

        // Toys: 0, 50, 500.
        Assert.Equal(25.0, QueryValue.ToDouble(result.Scalar("q1")));
        Assert.Equal(50.0, QueryValue.ToDouble(result.Scalar("median")));
        Assert.Equal(275.0, QueryValue.ToDouble(result.Scalar("q3")));
    }

    [Fact]
    public async Task Orders_group_by_their_customers_first_order_month()
    {
        var result = await RunAsync(new QuerySpec
        {
            DatasetId = shop.OrderData.Id,
            GroupBy =
            [
                new GroupBy("cohort", DateBucket.Month) { Fact = new FactColumn("cohort", CustomerMeasure.FirstOrderDate) },
                new GroupBy("order_date", DateBucket.Month, "month"),
            ],
            Measures = [new Measure(MeasureKind.Customers, "customers"), new Measure(MeasureKind.Count, "orders")],
            Sort = [new SortBy("cohort"), new SortBy("month")],
        });

        var rows = result.Rows.Select(r => $"{Text(r[0])} {Text(r[1])} {r[2]} {r[3]}").ToList();
        // Customer 4 from January 2023; 2 from November 2023 (back in February); 1 from May 2024 (back in June); 3 from June.
        Assert.Equal(
        [
            "2023-01-01 2023-01-01 1 1",
            "2023-11-01 2023-11-01 1 1",
            "2023-11-01 2024-02-01 1 1",
            "2024-05-01 2024-05-01 1 1",
            "2024-05-01 2024-06-01 1 2",
            "2024-06-01 2024-06-01 1 1",
        ], rows);
    }

    [Fact]
    public async Task A_first_order_date_column_matches_the_first_order_date_condition()
    {
        var result = await RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            Filter = All(Fact(CustomerFact.FirstOrderDate, RuleOperator.Before, "2024-01-01")),
            Columns = ["id"],
            Facts = [new FactColumn("first", CustomerMeasure.FirstOrderDate)],
            Sort = [new SortBy("id")],
        });

        Assert.Equal(["2 2023-11-05", "4 2023-01-01"], result.Rows.Select(r => $"{r[0]} {Text(r[1])}"));
    }

    private static string? Text(object? value) => value switch
    {
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };
}
