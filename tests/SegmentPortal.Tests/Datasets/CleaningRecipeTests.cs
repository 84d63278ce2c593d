using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.TestData;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Datasets;

public sealed class CleaningRecipeTests : IAsyncLifetime
{
    private const string People =
        "id,name,city,age,spent,joined\n" +
        "1, Ann ,Paris,34,100,03/01/2024\n" +
        "2,Bo,,41,250,15/02/2024\n" +
        "2,Bo,,41,250,15/02/2024\n" +
        "3,Cy,Rome,,90,bad date\n" +
        "4,Di,Oslo,29,5000,01/12/2023\n" +
        "5,Ed,Rome,52,120,20/06/2024\n" +
        "6,Fi,Paris,38,110,21/06/2024\n" +
        "7,Gu,Oslo,45,95,22/06/2024\n" +
        "8,Ha,Rome,33,105,23/06/2024\n";

    private CoreHarness _harness = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private Task<IReadOnlyList<StepPreview>> PreviewAsync(Dataset dataset, params RecipeStep[] steps) =>
        _harness.WithAsync<DatasetRecipeService, IReadOnlyList<StepPreview>>(s => s.PreviewAsync(dataset.Id, steps, TestContext.Current.CancellationToken));

    private Task<Dataset> SaveAsync(Dataset dataset, params RecipeStep[] steps) =>
        _harness.WithAsync<DatasetRecipeService, Dataset>(s => s.SaveAsync(dataset.Id, steps, TestContext.Current.CancellationToken));

    private async Task<List<object?>> ColumnAsync(Dataset dataset, string column) =>
        (await _harness.RowsAsync($"SELECT \"{column}\" FROM \"{dataset.TableName}\"")).Select(r => r[0]).ToList();

    [Fact]
    public async Task The_online_retail_recipe_gives_the_expected_counts()
    {
        await using var content = File.OpenRead(TestDatasets.Path(TestDatasets.OnlineRetail));
        var upload = await _harness.UploadAsync("online-retail.csv", content);
        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id]));
        var expected = ExpectedRetailCounts();

        var preview = await PreviewAsync(dataset,
            new HandleMissing("CustomerID", MissingAction.DropRows),
            new FilterRows("InvoiceNo", FilterOperator.NotStartsWith, "C"),
            new RemoveDuplicateRows());

        Assert.Equal(541_909, preview[0].RowsBefore);
        Assert.Equal(135_080, preview[0].RowsRemoved);
        Assert.Equal(expected.WithCustomer, preview[0].RowsAfter);
        Assert.Equal(expected.NotCancelled, preview[1].RowsAfter);
        Assert.Equal(expected.Distinct, preview[2].RowsAfter);

        var cleaned = await SaveAsync(dataset, preview.Select((_, i) => (RecipeStep)(i switch
        {
            0 => new HandleMissing("CustomerID", MissingAction.DropRows),
            1 => new FilterRows("InvoiceNo", FilterOperator.NotStartsWith, "C"),
            _ => new RemoveDuplicateRows(),
        })).ToArray());
        Assert.Equal(expected.Distinct, cleaned.RowCount);
        Assert.Equal(541_909L, (await _harness.RowsAsync($"SELECT count(*) FROM \"{dataset.RawTableName}\""))[0][0]);
    }

    /// <summary>The same three steps done line by line in C#, independently of the SQL path.</summary>
    private static (long WithCustomer, long NotCancelled, long Distinct) ExpectedRetailCounts()
    {
        var lines = File.ReadLines(TestDatasets.Path(TestDatasets.OnlineRetail)).Skip(1)
            .Select(line => (Line: line, Fields: CsvLayoutReader.Split(line, ',')))
            .Where(r => r.Fields[6].Length > 0)
            .ToList();
        var notCancelled = lines.Where(r => !r.Fields[0].StartsWith('C')).ToList();
        return (lines.Count, notCancelled.Count, notCancelled.Select(r => r.Line).Distinct().Count());
    }

    [Fact]
    public async Task Each_step_reports_the_rows_it_affects()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);

        var preview = await PreviewAsync(dataset,
            new RemoveDuplicateRows(),
            new TrimText([]),
            new HandleMissing("city", MissingAction.FillUnknown),
            new HandleMissing("age", MissingAction.FillMedian),
            new ParseDates("joined", "%d/%m/%Y"),
            new HandleOutliers("spent", OutlierMethod.Iqr, Drop: false),
            new FilterRows("spent", FilterOperator.GreaterOrEqual, "100"));

        Assert.Equal([1L, 0, 0, 0, 0, 0, 2], preview.Select(p => p.RowsRemoved));
        Assert.Equal(1, preview[1].ValuesChanged); // " Ann "
        Assert.Equal(1, preview[2].ValuesChanged); // one empty city left after de-duplication
        Assert.Equal(1, preview[3].ValuesChanged);
        Assert.Equal(1, preview[4].ValuesChanged); // "bad date" does not parse
        Assert.Equal(2, preview[5].ValuesChanged); // 250 and 5000 lie beyond 1.5 IQR above the upper quartile
        Assert.Equal("Keep rows where spent ≥ 100", preview[6].Description);
        Assert.Equal("Keep rows where InvoiceNo does not start with \"C\"", new FilterRows("InvoiceNo", FilterOperator.NotStartsWith, "C").Describe());
        Assert.Equal("Keep rows where Quantity > 0", new FilterRows("Quantity", FilterOperator.GreaterThan, "0").Describe());
        Assert.Equal("Keep rows where Country is \"France\"", new FilterRows("Country", FilterOperator.Equals, "France").Describe());
    }

    [Fact]
    public async Task Saved_steps_shape_the_live_table_and_removing_them_undoes_it()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);

        var cleaned = await SaveAsync(dataset,
            new RemoveDuplicateRows(),
            new TrimText(["name"]),
            new ParseDates("joined", "%d/%m/%Y"),
            new HandleOutliers("spent", OutlierMethod.ThreeSigma, Drop: false),
            new KeepOnePerKey(["city"], KeepLast: true));

        Assert.Equal(4, cleaned.RowCount); // Paris, NULL, Oslo, Rome
        Assert.Equal(ColumnType.Date, cleaned.Columns.Single(c => c.Name == "joined").Type);
        Assert.Contains(cleaned.Columns, c => c.Name == "spent_outlier" && c.Type == ColumnType.Boolean && c.SourceName is null);
        Assert.Contains("Fi", await ColumnAsync(cleaned, "name"));
        Assert.Equal(["2", "6", "7", "8"], (await ColumnAsync(cleaned, "id")).Select(v => v!.ToString())); // file order kept

        var undone = await SaveAsync(dataset);
        Assert.Equal(9, undone.RowCount);
        Assert.DoesNotContain(undone.Columns, c => c.Name == "spent_outlier");
        Assert.Equal(ColumnType.Text, undone.Columns.Single(c => c.Name == "joined").Type);
    }

    [Fact]
    public async Task A_refresh_reapplies_the_recipe()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);
        await SaveAsync(dataset, new FilterRows("city", FilterOperator.Equals, "Rome"));
        var next = await _harness.UploadAsync("people.csv", People + "9,Ivo,Rome,60,70,01/07/2024\n10,Jo,Oslo,20,80,02/07/2024\n");

        var refreshed = await _harness.ImportAsync(new FileImportRequest([next.Id], RefreshDatasetId: dataset.Id));

        Assert.Equal(4, refreshed.RowCount);
        Assert.All(await ColumnAsync(refreshed, "city"), c => Assert.Equal("Rome", c));
    }

    [Fact]
    public async Task Dropping_outliers_and_filling_with_a_constant()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);

        var cleaned = await SaveAsync(dataset,
            new HandleOutliers("spent", OutlierMethod.Iqr, Drop: true),
            new HandleMissing("age", MissingAction.FillConstant, "0"),
            new HandleMissing("city", MissingAction.DropRows));

        Assert.Equal(6, cleaned.RowCount);
        Assert.DoesNotContain(5000L, await ColumnAsync(cleaned, "spent"));
        Assert.Contains(0L, await ColumnAsync(cleaned, "age"));
    }

    [Fact]
    public async Task A_step_on_an_unknown_column_is_refused()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);

        var error = await Assert.ThrowsAsync<PortalException>(() => PreviewAsync(dataset, new RemoveDuplicateRows(), new TrimText(["nope"])));

        Assert.Equal("Cleaning step 2: there is no column \"nope\" at this point.", error.Message);
    }

    [Theory]
    [InlineData("age", "ten", "Cleaning step 1: \"ten\" is not a whole number, and age holds whole numbers.")]
    [InlineData("name", null, "Cleaning step 1: give a value for name.")]
    public async Task Filter_values_must_fit_the_column(string column, string? value, string message)
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);

        var error = await Assert.ThrowsAsync<PortalException>(() => PreviewAsync(dataset, new FilterRows(column, FilterOperator.Equals, value)));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Values_in_steps_stay_parameters()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);

        var preview = await PreviewAsync(dataset, new FilterRows("name", FilterOperator.Equals, "x'; DROP TABLE t; --"));

        Assert.Equal(9, preview[0].RowsRemoved);
        Assert.Equal(9, dataset.RowCount);
    }

    [Fact]
    public async Task A_step_after_a_renamed_column_uses_the_new_name_and_the_old_one_is_refused()
    {
        var dataset = await _harness.ImportTextAsync("people.csv", People);
        var settings = dataset.Columns.OrderBy(c => c.Ordinal).Select(c => new ColumnSetting(c.SourceName!, c.Name == "city" ? "town" : c.Name, c.Type, c.Role, false)).ToList();
        await _harness.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id, settings, TestContext.Current.CancellationToken));

        Assert.Equal(2, (await PreviewAsync(dataset, new HandleMissing("town", MissingAction.DropRows)))[0].RowsRemoved);
        await Assert.ThrowsAsync<PortalException>(() => PreviewAsync(dataset, new HandleMissing("city", MissingAction.DropRows)));
    }

    [Fact]
    public void Recipes_round_trip_as_versioned_json()
    {
        var recipe = new Recipe([new RemoveDuplicateRows(), new FilterRows("InvoiceNo", FilterOperator.NotStartsWith, "C"), new CastColumn("CustomerID", ColumnType.Integer)]);

        var json = recipe.ToJson();

        Assert.Contains("\"version\":1", json);
        Assert.Contains("\"step\":\"filter\"", json);
        Assert.Equal(recipe.Steps, Recipe.FromJson(json).Steps);
        Assert.Throws<PortalException>(() => Recipe.FromJson("{\"version\":2,\"steps\":[]}"));
    }
}
