using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Datasets;

public sealed class DatasetUnderstandingTests : IAsyncLifetime
{
    private const string Retail = "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
        "536365,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n" +
        "536366,2,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n" +
        "C536379,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom\n" +
        "536370,24,2011-01-05 08:45:00,3.75,12583.0,France\n" +
        "536371,12,2011-02-05 09:00:00,2.1,,France\n";

    private CoreHarness _harness = null!;
    private Dataset _dataset = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        _dataset = await _harness.ImportTextAsync("retail.csv", Retail);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private Task<T> Profiler<T>(Func<DatasetProfiler, Task<T>> action) => _harness.WithAsync(action);

    private Task<T> Schema<T>(Func<DatasetSchemaService, Task<T>> action) => _harness.WithAsync(action);

    private List<ColumnSetting> Settings() => _dataset.Columns.OrderBy(c => c.Ordinal)
        .Select(c => new ColumnSetting(c.SourceName!, c.Name, c.Type, c.Role, c.IsExcluded)).ToList();

    [Fact]
    public async Task Preview_shows_the_first_rows_and_the_total()
    {
        var preview = await Profiler(p => p.PreviewAsync(_dataset.Id, TestContext.Current.CancellationToken));

        Assert.Equal(["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"], preview.Columns);
        Assert.Equal(5, preview.Rows.Count);
        Assert.Equal(5, preview.TotalRows);
    }

    [Fact]
    public async Task Profile_reports_missing_distinct_range_top_values_and_a_histogram()
    {
        var profile = await Profiler(p => p.ProfileAsync(_dataset.Id, TestContext.Current.CancellationToken));

        var customer = profile.Single(c => c.Name == "CustomerID");
        Assert.Equal(ColumnType.Decimal, customer.Type);
        Assert.Equal(1, customer.Nulls);
        Assert.Equal(0.2, customer.NullShare, 3);
        Assert.Equal("1 of 5 (20%)", customer.MissingText);
        Assert.Equal(3, customer.Distinct);
        var country = profile.Single(c => c.Name == "Country");
        Assert.Equal(new ValueCount("United Kingdom", 3), country.TopValues[0]);
        Assert.Equal("France", country.Min);
        var date = profile.Single(c => c.Name == "InvoiceDate");
        Assert.Equal(ColumnType.Timestamp, date.Type);
        Assert.Equal(["2010-12", "2011-01", "2011-02"], date.Histogram.Select(b => b.Label));
        Assert.Equal([3L, 1, 1], date.Histogram.Select(b => b.Count));
    }

    [Theory]
    [InlineData(24, 2_240, "24 of 2,240 (1.1%)")]
    [InlineData(0, 2_240, "0 of 2,240 (0%)")]
    [InlineData(1, 1_000_000, "1 of 1,000,000 (<0.1%)")]
    [InlineData(999_999, 1_000_000, "999,999 of 1,000,000 (>99.9%)")]
    [InlineData(7, 7, "7 of 7 (100%)")]
    public void Missing_values_are_shown_as_a_count_and_a_share(long nulls, long rows, string expected)
    {
        var profile = new ColumnProfile("Income", ColumnType.Decimal, "DOUBLE", rows, nulls, 10, null, null, [], []);

        Assert.Equal(expected, profile.MissingText);
    }

    [Fact]
    public async Task Numeric_histograms_have_twenty_equal_bins()
    {
        var rows = string.Concat(Enumerable.Range(1, 100).Select(i => $"{i},{i * 10}\n"));
        var dataset = await _harness.ImportTextAsync("numbers.csv", "id,value\n" + rows);

        var value = (await Profiler(p => p.ProfileAsync(dataset.Id, TestContext.Current.CancellationToken))).Single(c => c.Name == "value");

        Assert.Equal(20, value.Histogram.Count);
        Assert.Equal(100, value.Histogram.Sum(b => b.Count));
        Assert.Equal("10–59.5", value.Histogram[0].Label);
    }

    [Fact]
    public async Task Ids_written_as_decimals_become_whole_numbers_and_the_count_of_values_that_would_not_convert_is_shown()
    {
        Assert.Equal(0, await Schema(s => s.CountUnconvertibleAsync(_dataset.Id, "CustomerID", ColumnType.Integer, TestContext.Current.CancellationToken)));
        Assert.Equal(1, await Schema(s => s.CountUnconvertibleAsync(_dataset.Id, "InvoiceNo", ColumnType.Integer, TestContext.Current.CancellationToken)));

        var settings = Settings();
        settings[4] = settings[4] with { Name = "customer_id", Type = ColumnType.Integer, Role = FieldRole.CustomerId };
        settings[2] = settings[2] with { Role = FieldRole.EventDate };
        settings[3] = settings[3] with { Role = FieldRole.Amount };
        settings[5] = settings[5] with { IsExcluded = true };
        var saved = await Schema(s => s.SaveColumnsAsync(_dataset.Id, settings, TestContext.Current.CancellationToken));

        Assert.Equal(DatasetKind.Transactions, saved.Kind);
        var rows = await _harness.RowsAsync($"SELECT customer_id FROM \"{_dataset.TableName}\" ORDER BY InvoiceNo LIMIT 1");
        Assert.Equal(17850L, rows[0][0]);
        var live = await _harness.RowsAsync($"SELECT column_name FROM information_schema.columns WHERE table_name = '{_dataset.TableName}'");
        Assert.DoesNotContain(live, r => (string)r[0]! == "Country");
        var raw = await _harness.RowsAsync($"SELECT column_name FROM information_schema.columns WHERE table_name = '{_dataset.RawTableName}'");
        Assert.Contains(raw, r => (string)r[0]! == "Country");

        // Undo: the raw copy brings the column back.
        await Schema(s => s.SaveColumnsAsync(_dataset.Id, Settings(), TestContext.Current.CancellationToken));
        live = await _harness.RowsAsync($"SELECT column_name FROM information_schema.columns WHERE table_name = '{_dataset.TableName}'");
        Assert.Contains(live, r => (string)r[0]! == "Country");
    }

    [Fact]
    public async Task A_plain_import_is_a_view_over_the_raw_rows_until_a_change_needs_a_copy()
    {
        async Task<string> KindAsync() => (string)(await _harness.RowsAsync(
            $"SELECT table_type FROM information_schema.tables WHERE table_name = '{_dataset.TableName}'"))[0][0]!;
        Assert.Equal("VIEW", await KindAsync());

        var renamed = Settings();
        renamed[5] = renamed[5] with { Name = "country" };
        await Schema(s => s.SaveColumnsAsync(_dataset.Id, renamed, TestContext.Current.CancellationToken));
        Assert.Equal("VIEW", await KindAsync());

        var retyped = renamed.ToList();
        retyped[4] = retyped[4] with { Type = ColumnType.Integer };
        await Schema(s => s.SaveColumnsAsync(_dataset.Id, retyped, TestContext.Current.CancellationToken));
        Assert.Equal("BASE TABLE", await KindAsync());
        Assert.Equal(5L, (await _harness.RowsAsync($"SELECT count(*) FROM \"{_dataset.TableName}\""))[0][0]);

        await Schema(s => s.SaveColumnsAsync(_dataset.Id, renamed, TestContext.Current.CancellationToken));
        Assert.Equal("VIEW", await KindAsync());
        Assert.Single(await _harness.RowsAsync($"SELECT country FROM \"{_dataset.TableName}\" WHERE InvoiceNo = '536370'"));
    }

    [Fact]
    public async Task Text_that_does_not_convert_becomes_empty()
    {
        var settings = Settings();
        settings[0] = settings[0] with { Type = ColumnType.Integer };

        await Schema(s => s.SaveColumnsAsync(_dataset.Id, settings, TestContext.Current.CancellationToken));

        var rows = await _harness.RowsAsync($"SELECT count(*) FILTER (WHERE InvoiceNo IS NULL) FROM \"{_dataset.TableName}\"");
        Assert.Equal(1L, rows[0][0]);
    }

    [Theory]
    [InlineData(1, "", "Give the column")]
    [InlineData(1, "Country", "Two columns are called \"Country\"")]
    public async Task Bad_names_are_refused(int index, string name, string message)
    {
        var settings = Settings();
        settings[index] = settings[index] with { Name = name };

        var error = await Assert.ThrowsAsync<PortalException>(() => Schema(s => s.SaveColumnsAsync(_dataset.Id, settings, TestContext.Current.CancellationToken)));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task One_column_per_single_role()
    {
        var settings = Settings();
        settings[0] = settings[0] with { Role = FieldRole.Amount };
        settings[3] = settings[3] with { Role = FieldRole.Amount };

        var error = await Assert.ThrowsAsync<PortalException>(() => Schema(s => s.SaveColumnsAsync(_dataset.Id, settings, TestContext.Current.CancellationToken)));

        Assert.Equal("Only one column can be the amount (now: InvoiceNo, UnitPrice).", error.Message);
    }

    [Fact]
    public async Task Viewers_see_a_dataset_only_once_it_is_shared_and_may_look_but_not_change()
    {
        var owner = _harness.CurrentUser.Principal;
        await _harness.SignInAsNewUserAsync("viewer@example.com", Roles.Viewer);
        await Assert.ThrowsAsync<PortalException>(() => Profiler(p => p.PreviewAsync(_dataset.Id, TestContext.Current.CancellationToken)));
        Assert.Empty(await _harness.WithAsync<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(TestContext.Current.CancellationToken)));
        var viewer = _harness.CurrentUser.Principal;
        await Assert.ThrowsAnyAsync<PortalException>(() =>
            _harness.WithAsync<DatasetSharing>(s => s.SetAsync(_dataset.Id, [Roles.Viewer], [], TestContext.Current.CancellationToken)));

        _harness.CurrentUser.Principal = owner;
        await _harness.WithAsync<DatasetSharing>(s => s.SetAsync(_dataset.Id, [Roles.Viewer], [], TestContext.Current.CancellationToken));
        _harness.CurrentUser.Principal = viewer;

        Assert.Equal(5, (await Profiler(p => p.PreviewAsync(_dataset.Id, TestContext.Current.CancellationToken))).Rows.Count);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Schema(s => s.SaveColumnsAsync(_dataset.Id, Settings(), TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task Unknown_datasets_are_refused_without_saying_whether_they_exist()
    {
        var error = await Assert.ThrowsAsync<PortalException>(() => Profiler(p => p.PreviewAsync(999, TestContext.Current.CancellationToken)));

        Assert.Contains("does not exist or you do not have access", error.Message);
    }
}
