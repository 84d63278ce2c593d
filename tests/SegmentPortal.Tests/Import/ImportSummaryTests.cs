using System.Text;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Import;

/// <summary>The import summary says how a text file was read (encoding, delimiter, date order), so a wrong guess can be corrected.</summary>
public sealed class ImportSummaryTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    /// <summary>Imports <paramref name="bytes"/> and returns the dataset and the last progress message (the job's summary).</summary>
    private async Task<(Dataset Dataset, string Summary)> ImportAsync(string fileName, byte[] bytes, FileImportOptions? options = null)
    {
        var messages = new List<string>();
        var upload = await _harness.UploadAsync(fileName, new MemoryStream(bytes));
        var dataset = await _harness.ImportAsync(new FileImportRequest([upload.Id], Options: options), new SyncProgress(p => messages.Add(p.Message)));
        return (dataset, messages[^1]);
    }

    [Fact]
    public async Task A_tab_separated_file_with_day_first_dates_says_so()
    {
        var text = "id\tname\tjoined\n1\tAnn\t25-12-2023\n2\tBo\t03-01-2024\n3\tCy\t14-02-2024\n";

        var (dataset, summary) = await ImportAsync("people.txt", Encoding.UTF8.GetBytes(text));

        Assert.Equal(ColumnType.Date, dataset.Columns.Single(c => c.Name == "joined").Type);
        Assert.Contains("separated by tabs (detected).", summary);
        Assert.Contains("Dates in \"joined\" were read as day-month-year (dd-mm-yyyy).", summary);
        Assert.Equal(new DateOnly(2024, 1, 3), (await _harness.RowsAsync($"SELECT joined FROM \"{dataset.TableName}\" WHERE id = 2"))[0][0]);
    }

    [Fact]
    public async Task A_semicolon_file_with_a_byte_order_mark_says_so()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("Kunde;Betrag\n1;12,5\n2;7\n")).ToArray();

        var (dataset, summary) = await ImportAsync("umsatz.csv", bytes);

        Assert.Equal(["Kunde", "Betrag"], dataset.Columns.OrderBy(c => c.Ordinal).Select(c => c.Name));
        Assert.Contains("Read as UTF-8 with BOM, separated by semicolons (detected).", summary);
        Assert.DoesNotContain("Dates in", summary);
    }

    [Fact]
    public async Task A_plain_ascii_file_is_said_to_be_read_as_utf8_once()
    {
        var (_, summary) = await ImportAsync("plain.csv", Encoding.ASCII.GetBytes("id,name\n1,Ann\n2,Bo\n"));

        Assert.Contains("Read as UTF-8 (plain ASCII text), separated by commas (detected).", summary);
        Assert.DoesNotContain("read as UTF-8", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chosen_date_order_overrides_the_guess_and_the_summary_says_it_was_chosen()
    {
        // Every day is 12 or less: the file alone cannot tell 03/04 from 04/03.
        var text = "id,day\n1,03/04/2024\n2,05/06/2024\n";

        var (guessed, guessedSummary) = await ImportAsync("orders.csv", Encoding.UTF8.GetBytes(text));
        var (chosen, chosenSummary) = await ImportAsync("orders.csv", Encoding.UTF8.GetBytes(text), new FileImportOptions(DateFormat: "%d/%m/%Y"));

        Assert.Contains("Dates in \"day\" were read as", guessedSummary);
        Assert.Contains("Dates in \"day\" were read as day-month-year (dd/mm/yyyy), as chosen.", chosenSummary);
        Assert.Equal(ColumnType.Date, chosen.Columns.Single(c => c.Name == "day").Type);
        Assert.Equal(new DateOnly(2024, 4, 3), (await _harness.RowsAsync($"SELECT day FROM \"{chosen.TableName}\" WHERE id = 1"))[0][0]);
        Assert.NotEqual(guessed.TableName, chosen.TableName);
    }

    [Theory]
    [InlineData("%d-%m-%Y", "day-month-year (dd-mm-yyyy)")]
    [InlineData("%m/%d/%Y", "month-day-year (mm/dd/yyyy)")]
    [InlineData("%Y-%m-%d %H:%M:%S", "year-month-day (yyyy-mm-dd HH:MM:SS)")]
    public void Date_formats_read_as_people_write_them(string format, string expected) =>
        Assert.Equal(expected, FileImporter.DescribeDateFormat(format));

    private sealed class SyncProgress(Action<JobProgress> report) : IProgress<JobProgress>
    {
        public void Report(JobProgress value) => report(value);
    }
}
