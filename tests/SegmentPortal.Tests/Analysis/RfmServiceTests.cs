using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core;
using SegmentPortal.TestData;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Queries;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Analysis;

/// <summary>RFM through the query layer on real warehouse data, its customer fields, and groups saved as segments.</summary>
public sealed class RfmServiceTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private Task<T> Rfm<T>(Func<RfmService, Task<T>> action) => shop.Harness.WithAsync(action);

    [Fact]
    public async Task Recency_frequency_and_monetary_come_from_the_orders_before_the_reference_date()
    {
        var view = await Rfm(s => s.ComputeAsync(shop.OrderData.Id, new RfmInput { ReferenceDate = new DateOnly(2024, 6, 2) }, RfmSettings.Default,
            TestContext.Current.CancellationToken));

        // Order 105 (customer 3, 2024-06-14) is after the reference date; customers 5 and 6 never ordered.
        Assert.Equal(3, view.Result!.Customers);
        Assert.Equal(500 + 700 + 0 + 50 + 30 + 100, view.Result.TotalRevenue);
        Assert.Equal(6, view.Result.RowsCounted);
        var fields = await FieldValuesAsync(["id", "RFM recency (days)", "RFM frequency (orders)", "RFM monetary"]);
        Assert.Equal(new object?[] { 1L, 1L, 3L, 1200.0 }, fields[1]);
        Assert.Equal(new object?[] { 2L, 113L, 2L, 80.0 }, fields[2]);
        Assert.Equal(new object?[] { 4L, 518L, 1L, 100.0 }, fields[4]);
        Assert.Equal(new object?[] { 5L, null, null, null }, fields[5]);
    }

    [Fact]
    public async Task The_default_reference_date_is_the_day_after_the_last_order_that_counts_and_rows_can_be_left_out()
    {
        var notElectronics = new RuleTree { Root = All(FieldIn("category", RuleOperator.NotIn, "Electronics")) };
        var view = await Rfm(s => s.ComputeAsync(shop.OrderData.Id, new RfmInput { RowsJson = notElectronics.ToJson() }, RfmSettings.Default,
            TestContext.Current.CancellationToken));

        Assert.Equal(new DateOnly(2024, 6, 2), view.Result!.ReferenceDate);
        Assert.Equal(3, view.Result.Customers);
        Assert.Equal(view.Result.Customers, view.Result.Groups.Sum(g => g.Customers));
    }

    [Fact]
    public async Task A_group_saved_as_a_segment_selects_that_groups_customers_on_the_customer_list()
    {
        var view = await Rfm(s => s.ComputeAsync(shop.OrderData.Id, new RfmInput(), RfmSettings.Default, TestContext.Current.CancellationToken));
        var group = view.Result!.Groups.First(g => g.Customers > 0).Group.Name;
        var expected = (await FieldValuesAsync(["id", RfmService.GroupField])).Values.Where(r => (string?)r[1] == group).Select(r => (long)r[0]!).Order().ToList();

        var id = await Rfm(s => s.SaveGroupAsSegmentAsync(shop.OrderData.Id, group, cancellationToken: TestContext.Current.CancellationToken));

        var (segment, rule, _) = await shop.Harness.WithAsync<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(id, TestContext.Current.CancellationToken));
        Assert.Equal(shop.CustomerData.Id, segment.DatasetId);
        Assert.Equal($"RFM: {group}", segment.Name);
        Assert.Equal(expected, await shop.IdsAsync(rule.Root));
        Assert.Equal(expected.Count, segment.Size);
    }

    [Fact]
    public async Task Bad_settings_are_refused_before_anything_is_read()
    {
        var incomplete = new RuleTree { Root = All(Field("category", RuleOperator.Contains)) };
        var ex = await Assert.ThrowsAsync<PortalException>(() => Rfm(s => s.ComputeAsync(shop.OrderData.Id, new RfmInput { RowsJson = incomplete.ToJson() },
            RfmSettings.Default, TestContext.Current.CancellationToken)));
        Assert.Contains("not complete", ex.Message);

        ex = await Assert.ThrowsAsync<PortalException>(() => Rfm(s => s.ComputeAsync(shop.CustomerData.Id, new RfmInput(), RfmSettings.Default,
            TestContext.Current.CancellationToken)));
        Assert.Contains("needs Customer ID, date and amount roles", ex.Message);

        var badCuts = RfmSettings.Default.With(RfmDimension.Frequency, RfmDimensionScoring.Thresholds(5, 3, 2, 1));
        await Assert.ThrowsAsync<PortalException>(() => Rfm(s => s.ComputeAsync(shop.OrderData.Id, new RfmInput(), badCuts, TestContext.Current.CancellationToken)));
    }

    private async Task<Dictionary<long, object?[]>> FieldValuesAsync(IReadOnlyList<string> columns)
    {
        var result = await shop.Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = shop.CustomerData.Id,
            Columns = columns,
        }, TestContext.Current.CancellationToken));
        return result.Rows.ToDictionary(r => Convert.ToInt64(r[0]), r => r.Select(v => v is int or long ? Convert.ToInt64(v) : v).ToArray());
    }
}

/// <summary>The known answer on the UCI Online Retail file.</summary>
public sealed class RfmOnlineRetailTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Online_retail_gives_4338_customers_and_8911407_90_in_total()
    {
        await using var content = File.OpenRead(TestDatasets.Path(TestDatasets.OnlineRetail));
        var upload = await _harness.UploadAsync("online-retail.csv", content);
        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));
        var roles = new Dictionary<string, FieldRole>
        {
            ["InvoiceNo"] = FieldRole.OrderId,
            ["Quantity"] = FieldRole.Quantity,
            ["InvoiceDate"] = FieldRole.EventDate,
            ["UnitPrice"] = FieldRole.Amount,
            ["CustomerID"] = FieldRole.CustomerId,
        };
        await _harness.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id,
            DatasetRebuilder.SettingsOf(dataset).Select(c => c with { Role = roles.GetValueOrDefault(c.Name) }).ToList()));

        // Cancelled invoices (InvoiceNo starting with C) and non-positive quantity or price left out; missing CustomerID
        // never counts. Amount = Quantity × UnitPrice.
        var cancelled = new RuleGroup { Not = true, Children = [Field("InvoiceNo", RuleOperator.StartsWith, "C")] };
        var rows = new RuleTree { Root = All(cancelled, Field("Quantity", RuleOperator.Greater, "0"), Field("UnitPrice", RuleOperator.Greater, "0")) };
        var view = await _harness.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(dataset.Id,
            new RfmInput { ReferenceDate = new DateOnly(2011, 12, 10), RowsJson = rows.ToJson(), QuantityColumn = "Quantity" },
            RfmSettings.Default, TestContext.Current.CancellationToken));

        Assert.Equal(4_338, view.Result!.Customers);
        Assert.Equal(8_911_407.90, view.Result.TotalRevenue, 0.005);
        Assert.Equal(397_884, view.Result.RowsCounted);
        Assert.Equal(4_338, view.Result.Groups.Sum(g => g.Customers));

        // Frequency is distinct invoices per customer. Reference computed once with pandas 1.5 on the same file and the same
        // cleaning (CustomerID present, InvoiceNo not starting with "C", Quantity > 0, UnitPrice > 0):
        // df.groupby("CustomerID").InvoiceNo.nunique() → median 2, max 209 (customer 12748), sum 18,532, 1,493 customers with 1.
        // Counting rows instead gives median 41 and max 7,847 (invoice lines, not orders).
        var invoices = await FrequenciesAsync(dataset.Id);
        Assert.Equal(4_338, invoices.Count);
        Assert.Equal(2, Median(invoices.Values));
        Assert.Equal(209, invoices[12748]);
        Assert.Equal(209, invoices.Values.Max());
        Assert.Equal(18_532, invoices.Values.Sum());
        Assert.Equal(1_493, invoices.Values.Count(f => f == 1));
        Assert.Equal(4.272, view.Result.Groups.Sum(g => (g.AverageFrequency ?? 0) * g.Customers) / 4_338, 0.001);
        Assert.Equal(RfmFrequencyUnit.Orders, view.Result.FrequencyUnit);
    }

    [Fact]
    public async Task Without_an_order_number_frequency_counts_purchase_days_not_invoice_lines()
    {
        var dataset = await ImportAsync(new Dictionary<string, FieldRole>
        {
            ["Quantity"] = FieldRole.Quantity,
            ["InvoiceDate"] = FieldRole.EventDate,
            ["UnitPrice"] = FieldRole.Amount,
            ["CustomerID"] = FieldRole.CustomerId,
        });
        var cancelled = new RuleGroup { Not = true, Children = [Field("InvoiceNo", RuleOperator.StartsWith, "C")] };
        var rows = new RuleTree { Root = All(cancelled, Field("Quantity", RuleOperator.Greater, "0"), Field("UnitPrice", RuleOperator.Greater, "0")) };

        // The defaults a new analysis starts from: Monetary is Quantity × UnitPrice (UnitPrice is a price, Quantity has its
        // role), and identifiers are not offered as quantities.
        var defaults = await _harness.WithAsync<RfmService, RfmView>(s => s.GetAsync(dataset.Id, TestContext.Current.CancellationToken));
        Assert.Equal("Quantity", defaults.Input.QuantityColumn);
        Assert.DoesNotContain("CustomerID", defaults.Source.NumberColumns);
        Assert.StartsWith("purchase days", defaults.Source.FrequencyCounts);

        var view = await _harness.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(dataset.Id,
            defaults.Input with { ReferenceDate = new DateOnly(2011, 12, 10), RowsJson = rows.ToJson() },
            RfmSettings.Default, TestContext.Current.CancellationToken));

        Assert.Equal(4_338, view.Result!.Customers);
        Assert.Equal(8_911_407.90, view.Result.TotalRevenue, 0.005);
        // pandas, same cleaning: df.groupby("CustomerID").InvoiceDate.apply(lambda s: s.dt.normalize().nunique())
        // → median 2, max 132, sum 16,763 (rows would give median 41, max 7,847).
        var days = await FrequenciesAsync(dataset.Id);
        Assert.Equal(2, Median(days.Values));
        Assert.Equal(132, days.Values.Max());
        Assert.Equal(16_763, days.Values.Sum());

        // What was counted is called so, in the result and in the saved result read back (bins, averages).
        Assert.Equal(RfmFrequencyUnit.PurchaseDays, view.Result.FrequencyUnit);
        var saved = await _harness.WithAsync<RfmService, RfmView>(s => s.GetAsync(dataset.Id, TestContext.Current.CancellationToken));
        Assert.Equal(RfmFrequencyUnit.PurchaseDays, saved.Result!.FrequencyUnit);
        var bins = saved.Result.Dimensions[(int)RfmDimension.Frequency].Describe(saved.Result.FrequencyUnit ?? RfmFrequencyUnit.Orders).ToList();
        Assert.Contains(bins, b => b.Contains("purchase days", StringComparison.Ordinal));
        Assert.DoesNotContain(bins, b => b.Contains("order", StringComparison.Ordinal));
    }

    private async Task<Dataset> ImportAsync(Dictionary<string, FieldRole> roles)
    {
        await using var content = File.OpenRead(TestDatasets.Path(TestDatasets.OnlineRetail));
        var upload = await _harness.UploadAsync("online-retail.csv", content);
        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));
        return await _harness.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id,
            DatasetRebuilder.SettingsOf(dataset).Select(c => c with { Role = roles.GetValueOrDefault(c.Name) }).ToList()));
    }

    /// <summary>The RFM frequency customer field of each customer, read back through the query layer.</summary>
    private async Task<Dictionary<long, long>> FrequenciesAsync(int datasetId)
    {
        var result = await _harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = new RuleGroup { Children = [new FieldCondition { Field = "RFM frequency (orders)", Operator = RuleOperator.IsNotEmpty }] },
            GroupBy = [new GroupBy("CustomerID")],
            Measures = [new Measure(MeasureKind.Max, "frequency", "RFM frequency (orders)")],
        }, TestContext.Current.CancellationToken));
        return result.Rows.ToDictionary(r => Convert.ToInt64(r[0], System.Globalization.CultureInfo.InvariantCulture), r => Convert.ToInt64(r[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static double Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2.0;
    }
}
