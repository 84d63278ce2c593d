using System.Globalization;
using System.Text;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Analysis.Survival;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Web.Components.Analysis;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Analysis;

/// <summary>
/// The Survival page over the real Core services: 12 North customers who buy twice and stop, and 12 South customers who
/// keep buying every 10 days to the end.
/// </summary>
public sealed class SurvivalPageTests : PortalTestContext, IAsyncLifetime
{
    private const string Owner = "ann@example.com";
    private static readonly DateOnly End = new(2025, 6, 14);
    private PortalStore _store = null!;
    private int _orders;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddSingleton(_store.Changes);
        SignInAs(Owner, Roles.Analyst);
        await _store.AddUserAsync(Owner, Roles.Analyst);
        var rows = new StringBuilder();
        var id = 1;
        for (var i = 0; i < 12; i++)
        {
            var first = End.AddDays(-200 - i);
            foreach (var day in new[] { first, first.AddDays(10) })
            {
                rows.Append(CultureInfo.InvariantCulture, $"({id++}, {100 + i}, 'North', DATE '{day:yyyy-MM-dd}'),");
            }
            for (var day = End.AddDays(-150 - i); day <= End; day = day.AddDays(10))
            {
                rows.Append(CultureInfo.InvariantCulture, $"({id++}, {200 + i}, 'South', DATE '{day:yyyy-MM-dd}'),");
            }
        }
        await _store.Warehouse.ReplaceTablesAsync(["survival_orders"], async (connection, staging, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE "{staging[0]}" (order_id BIGINT, customer_id BIGINT, region VARCHAR, order_date DATE);
                INSERT INTO "{staging[0]}" VALUES {rows.ToString().TrimEnd(',')};
                """;
            await command.ExecuteNonQueryAsync(ct);
            return null;
        }, Ct);
        var ownerId = Principal(Owner).FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;
        var orders = await Services.GetRequiredService<DatasetCatalog>().RegisterAsync(new DatasetRegistration("Web orders", "survival_orders", DatasetKind.Transactions, "Test",
            OwnerId: ownerId, Roles: new Dictionary<string, FieldRole>
            {
                ["order_id"] = FieldRole.OrderId,
                ["customer_id"] = FieldRole.CustomerId,
                ["region"] = FieldRole.Dimension,
                ["order_date"] = FieldRole.EventDate,
            }), Ct);
        _orders = orders.Id;
    }

    private SurvivalRequest ByRegion => new()
    {
        DatasetId = _orders,
        ChurnDays = 30,
        Grouping = new SurvivalGrouping(SurvivalGroupingKind.Field, "region", _orders),
    };

    [Fact]
    public async Task The_page_shows_the_last_result_with_its_curves_table_and_sentence_and_a_run_starts_a_job()
    {
        // The job's work, done here (no job runner in these tests); the page shows what it kept.
        await Services.GetRequiredService<SurvivalService>().ComputeAsync(ByRegion, null, Ct);

        Render<MudPopoverProvider>();
        var page = Render<SurvivalPage>();

        page.WaitForAssertion(() => Assert.Equal("North customers churn faster than South customers; p < 0.001.", page.Find("[data-testid=survival-sentence]").TextContent.Trim()));
        var rows = page.FindAll("[data-testid=survival-group-row]");
        Assert.Equal(2, rows.Count);
        Assert.Contains("North", rows[0].TextContent);
        Assert.Equal("40", rows[0].QuerySelector("[data-testid=survival-median]")!.TextContent.Trim());
        Assert.Equal("not reached", rows[1].QuerySelector("[data-testid=survival-median]")!.TextContent.Trim());
        Assert.Contains("no purchase for 30 days", page.Find("[data-testid=survival-definition]").TextContent);
        Assert.Contains("χ²", page.Find("[data-testid=survival-logrank]").TextContent);
        Assert.NotNull(page.Find("[data-testid=chart-survival]"));

        await page.Find("[data-testid=survival-run]").ClickAsync(new());

        var key = await Services.GetRequiredService<SurvivalService>().JobKeyAsync(_orders);
        var jobs = Services.GetRequiredService<JobQueue>();
        page.WaitForAssertion(() => Assert.True(jobs.Latest(key) is { IsActive: true, Kind: SurvivalService.JobKind }, string.Join("; ", SnackbarMessages)));
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=job-progress]")));
        Assert.True(page.Find("[data-testid=survival-run]").HasAttribute("disabled"));
        var recorded = System.Text.Json.JsonSerializer.Deserialize<SurvivalRequest>(jobs.Latest(key)!.RetryTarget!, SurvivalService.Json);
        Assert.Equal(ByRegion, recorded);
    }

    [Fact]
    public void The_results_say_when_there_is_one_group_only_and_when_a_median_is_not_reached()
    {
        var curve = SurvivalEngine.KaplanMeier([new(5, true), new(9, false), new(12, false), new(20, false)]);
        var result = new SurvivalResult(new SurvivalRequest { DatasetId = 1, Event = SurvivalEvent.SecondPurchase }, "Orders", "No grouping", null, false,
            End, 4, [new SurvivalGroupResult("All customers", "all customers", 4, 1, 3, curve.Median, curve, null)], null,
            "There is one group only, so there is no test between groups.", DateTimeOffset.UnixEpoch);

        var cut = Render<SurvivalResults>(p => p.Add(r => r.Result, result));

        Assert.Contains("one group only", cut.Find("[data-testid=survival-sentence]").TextContent);
        Assert.Equal("not reached", cut.Find("[data-testid=survival-median]").TextContent.Trim());
        Assert.Contains("second purchase", cut.Find("[data-testid=survival-definition]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=survival-logrank]"));
    }

    [Fact]
    public void Censoring_crosses_are_one_per_time_until_there_are_many_then_one_per_stretch_with_the_count()
    {
        var few = SurvivalResults.CensoringMarks([new CensoringMark(3, 2, 0.9), new CensoringMark(7, 1, 0.8)]);
        Assert.Equal([(3.0, 0.9, "2 censored at 3 days"), (7.0, 0.8, "1 censored at 7 days")], few);

        // A cross on each of 400 days: 40 crosses, every censored customer counted once, each at its stretch's first day.
        var daily = Enumerable.Range(0, 400).Select(d => new CensoringMark(d, 3, 1 - d / 1000.0)).ToList();
        var marks = SurvivalResults.CensoringMarks(daily);
        Assert.Equal(40, marks.Count);
        Assert.Equal(1200, marks.Sum(m => int.Parse(m.Text.Split(' ')[0], System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal((0.0, 1.0, "30 censored from 0 to 9 days"), marks[0]);
        Assert.All(marks, m => Assert.Equal(1 - m.Time / 1000.0, m.Survival, 12));
    }
}
