using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Queries;
using SegmentPortal.Web.Components.Metrics;
using SegmentPortal.Web.Components.Shared.Charts;
using SegmentPortal.Web.Tests.Components.Segments;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Metrics;

/// <summary>
/// The metrics pages over the real Core services and the shop's orders in a real DuckDB warehouse (<see cref="ShopData"/>,
/// owned by the Analyst <see cref="ShopData.Owner"/>): revenue is 2,500 in June 2025 (the latest month with orders) and
/// 700 in May 2025.
/// </summary>
public sealed class MetricPagesTests : PortalTestContext, IAsyncLifetime
{
    private const string Admin = "ada@example.com";
    private const string Viewer = "vic@example.com";
    private PortalStore _store = null!;
    private int _orders;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddSingleton(_store.Changes);
        Services.AddSingleton<ICurrentUser>(CurrentUser);
        SignInAs(ShopData.Owner, Roles.Analyst);
        await ShopData.SeedAsync(_store, Services, Ct);
        _orders = (await Services.GetRequiredService<DatasetCatalog>().ListAsync(Ct)).Single(d => d.Name == ShopData.OrdersName).Id;
        await _store.AddUserAsync(Admin, Roles.Admin);
        await _store.AddUserAsync(Viewer, Roles.Viewer);
    }

    private MetricService Metrics => Services.GetRequiredService<MetricService>();

    private MetricDefinition Revenue() => new()
    {
        Name = "Revenue",
        Description = "Order amounts, net of nothing",
        DatasetId = _orders,
        Measure = new MetricMeasure(MetricMeasureKind.Sum, "amount"),
        TimeColumn = "order_date",
        Grain = DateBucket.Month,
        Format = MetricFormat.Currency,
        Unit = "€",
        Direction = MetricDirection.HigherIsBetter,
        Target = 3000,
        WarnAt = 2000,
        BadAt = 1000,
    };

    private static string Money(double value) => MetricFormatting.Format(value, MetricFormat.Currency, "€", 0);

    [Fact]
    public async Task Without_metrics_the_list_says_so_and_offers_an_Analyst_a_new_metric_but_not_a_Viewer()
    {
        var cut = Render<MetricsPage>();

        cut.WaitForAssertion(() => Assert.Contains("No metrics yet", cut.Find(".empty-state").TextContent));
        Assert.Single(cut.FindAll("[data-testid=new-metric-empty]"));
        await DisposeComponentsAsync();

        SignInAs(Viewer, Roles.Viewer);
        var viewer = Render<MetricsPage>();
        viewer.WaitForAssertion(() => Assert.Contains("No metrics yet", viewer.Find(".empty-state").TextContent));
        Assert.Empty(viewer.FindAll("[data-testid=new-metric-empty]"));
        Assert.Empty(viewer.FindAll("[data-testid=new-metric]"));
    }

    [Fact]
    public async Task The_list_shows_each_metric_with_its_current_value_its_change_coloured_by_direction_and_the_certified_mark()
    {
        var revenue = await Metrics.CreateAsync(Revenue(), Ct);
        // Fewer orders is better here: the same rise from May to June is bad news.
        await Metrics.CreateAsync(new MetricDefinition
        {
            Name = "Returned revenue",
            DatasetId = _orders,
            Measure = new MetricMeasure(MetricMeasureKind.Sum, "amount"),
            TimeColumn = "order_date",
            Direction = MetricDirection.LowerIsBetter,
        }, Ct);
        SignInAs(Admin, Roles.Admin);
        await Metrics.CertifyAsync(revenue, true, Ct);
        SignInAs(ShopData.Owner, Roles.Analyst);

        var cut = Render<MetricsPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=metrics-table] tbody tr [data-testid=metric-change]").Count));
        var rows = cut.FindAll("[data-testid=metrics-table] tbody tr");
        // Certified metrics first.
        Assert.Contains("Revenue", rows[0].QuerySelector("[data-testid=metric-link]")!.TextContent);
        Assert.NotNull(rows[0].QuerySelector("[data-testid=metric-certified]"));
        Assert.Null(rows[1].QuerySelector("[data-testid=metric-certified]"));
        Assert.Contains(ShopData.OrdersName, rows[0].TextContent);
        Assert.Contains(ShopData.Owner, rows[0].TextContent);
        Assert.Contains(Money(2500), rows[0].QuerySelector("[data-testid=metric-current]")!.TextContent);
        Assert.Contains("Off target", rows[0].QuerySelector("[data-testid=metric-status]")!.TextContent);
        // June to date (through the 14th) against 1–14 May, which had no orders.
        Assert.Contains("+" + Money(2500), rows[0].QuerySelector("[data-testid=metric-change]")!.TextContent);
        Assert.Equal("good", rows[0].QuerySelector("[data-testid=metric-change]")!.GetAttribute("data-judgement"));
        Assert.Equal("bad", rows[1].QuerySelector("[data-testid=metric-change]")!.GetAttribute("data-judgement"));
        Assert.Equal($"/metrics/{revenue}", rows[0].QuerySelector("[data-testid=metric-link]")!.GetAttribute("href"));
    }

    [Fact]
    public async Task The_metric_page_shows_the_current_and_previous_period_the_change_the_trend_with_its_target_the_history_and_no_alerts()
    {
        var id = await Metrics.CreateAsync(Revenue(), Ct);

        var cut = Render<MetricPage>(p => p.Add(x => x.Id, id));

        cut.WaitForAssertion(() => Assert.Equal(Money(2500), cut.Find("[data-testid=metric-current-value]").TextContent.Trim()));
        Assert.Contains("June 2025", cut.Find("[data-testid=metric-current-card]").TextContent);
        // June runs through the 14th: it is compared with 1–14 May (no orders: the order of May 20 comes later), and the
        // whole of May (700) is still shown.
        Assert.Equal(Money(0), cut.Find("[data-testid=metric-previous-value]").TextContent.Trim());
        Assert.Equal("Previous · 1 May–14 May 2025", cut.Find("[data-testid=metric-previous-label]").TextContent.Trim());
        Assert.Equal($"Whole May 2025: {Money(700)} ({MetricFormatting.Relative(1800.0 / 700)} against it)", cut.Find("[data-testid=metric-previous-full]").TextContent.Trim());
        Assert.Equal("Month to date vs same days of May", cut.Find("[data-testid=metric-change-label]").TextContent.Trim());
        var change = cut.Find("[data-testid=metric-change]");
        Assert.Contains("+" + Money(2500), change.TextContent);
        Assert.DoesNotContain("%", change.TextContent); // from nothing, no percentage
        Assert.Equal("good", change.GetAttribute("data-judgement"));
        Assert.Contains("Off target", cut.Find("[data-testid=metric-status]").TextContent);

        // The trend: twelve months up to June 2025, then the target, warning and bad lines across them, and two shaded bands.
        var chart = cut.FindComponent<MetricTrendChart>();
        var traces = cut.FindComponent<Figure>().Instance.Drawn.Traces.Cast<Plotly.Blazor.Traces.Scatter>().ToList();
        Assert.Equal(12, traces[0].X.Count);
        Assert.Equal("June 2025", traces[0].X[^1]);
        Assert.Equal([700.0, 2500.0], traces[0].Y.TakeLast(2).Select(Convert.ToDouble));
        Assert.Contains(traces, t => t.Name == $"Target {Money(3000)}" && t.Y.All(y => Convert.ToDouble(y) == 3000));
        Assert.Contains(traces, t => t.Name == $"Warning below {Money(2000)}");
        Assert.Contains(traces, t => t.Name == $"Bad below {Money(1000)}");
        var bands = chart.Instance.Bands();
        Assert.Equal(2, bands.Count);
        Assert.Equal(1000, bands[0].To);
        Assert.True(bands[0].From < 0, "The bad band reaches below the lowest figure drawn (0 in the months without orders).");
        Assert.Equal((1000.0, 2000.0), (bands[1].From, bands[1].To));

        Assert.Contains("No alerts yet", cut.Find("[data-testid=metric-alerts] [data-testid=no-alerts]").TextContent);
        Assert.Contains("No tiles use this metric yet", cut.Find("[data-testid=metric-used-by]").TextContent);
        var history = cut.Find("[data-testid=metric-history]").TextContent;
        Assert.Contains("Created: Sum of amount of Shop orders", history);
        Assert.Contains(ShopData.Owner, history);
        Assert.Contains("Sum of amount", cut.Find("[data-testid=metric-definition]").TextContent);
        // The owner edits and deletes; only Admins certify.
        Assert.Single(cut.FindAll("[data-testid=metric-edit]"));
        Assert.Empty(cut.FindAll("[data-testid=metric-certify]"));
    }

    [Fact]
    public async Task The_metric_page_lists_the_tiles_showing_the_metric()
    {
        var id = await Metrics.CreateAsync(Revenue(), Ct);
        var dashboards = Services.GetRequiredService<SegmentPortal.Core.Dashboards.DashboardService>();
        var board = await dashboards.CreateAsync("Sales board", cancellationToken: Ct);
        await dashboards.AddTileAsync(board, new SegmentPortal.Core.Dashboards.TileDefinition
        {
            Id = "kpi", Type = SegmentPortal.Core.Dashboards.TileType.Kpi, Title = "Revenue this month", MetricId = id,
        }, cancellationToken: Ct);

        var cut = Render<MetricPage>(p => p.Add(x => x.Id, id));

        cut.WaitForAssertion(() => Assert.Contains("Sales board › Revenue this month", cut.Find("[data-testid=metric-tiles]").TextContent));
        Assert.Equal($"/dashboards/{board}", cut.Find("[data-testid=metric-tiles] a").GetAttribute("href"));
        Assert.Empty(cut.FindAll("[data-testid=metric-no-tiles]"));
    }

    [Fact]
    public async Task An_Admin_certifies_from_the_page_and_the_history_says_who()
    {
        var id = await Metrics.CreateAsync(Revenue(), Ct);
        SignInAs(Admin, Roles.Admin);

        var cut = Render<MetricPage>(p => p.Add(x => x.Id, id));
        cut.WaitForAssertion(() => cut.Find("[data-testid=metric-certify]"));
        Assert.Empty(cut.FindAll("[data-testid=metric-certified-badge]"));

        await cut.InvokeAsync(() => cut.Find("[data-testid=metric-certify]").Click());

        cut.WaitForAssertion(() => Assert.Contains($"Certified by {Admin}", cut.Find("[data-testid=metric-certified-badge]").TextContent));
        var latest = cut.FindAll("[data-testid=metric-history] tbody tr")[0].TextContent;
        Assert.Contains("Certified", latest);
        Assert.Contains(Admin, latest);
        Assert.Contains("Remove certification", cut.Find("[data-testid=metric-certify]").TextContent);
        Assert.True((await Metrics.GetAsync(id, Ct)).Certified);
    }

    [Fact]
    public void A_metric_that_does_not_exist_says_so()
    {
        var cut = Render<MetricPage>(p => p.Add(x => x.Id, 4242));

        cut.WaitForAssertion(() => Assert.Contains("That metric does not exist or you do not have access to it.", cut.Find(".empty-state").TextContent));
    }

    [Fact]
    public async Task The_editor_previews_the_value_refuses_bands_against_the_direction_with_a_clear_message_then_creates_the_metric()
    {
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<MetricsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=new-metric-empty]"));

        await cut.InvokeAsync(() => cut.Find("[data-testid=new-metric-empty]").Click());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=metric-name]"));
        // A first guess from the columns' roles: the sum of the amount along the order date, per month, of the orders.
        dialogs.WaitForAssertion(() => Assert.Equal(
            MetricFormatting.Format(2500, MetricFormat.Number, null, 0), dialogs.Find("[data-testid=metric-preview-value]").TextContent.Trim()));

        dialogs.Find("[data-testid=metric-name]").Input("Monthly revenue");
        await dialogs.InvokeAsync(() => dialogs.FindComponent<MudSelect<MetricDirection>>().Instance.ValueChanged.InvokeAsync(MetricDirection.HigherIsBetter));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=metric-warn]"));
        dialogs.Find("[data-testid=metric-target]").Change("1000");
        dialogs.Find("[data-testid=metric-warn]").Change("1500");

        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=metric-save]").Click());

        dialogs.WaitForAssertion(() => Assert.Contains(
            "With higher is better, the warning line (1,500) must be at or below the target (1,000).", dialogs.Find("[data-testid=metric-save-error]").TextContent));
        Assert.Empty(await Metrics.ListAsync(Ct));

        dialogs.Find("[data-testid=metric-warn]").Change("800");
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=metric-save]").Click());

        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=metric-name]")));
        var saved = Assert.Single(await Metrics.ListAsync(Ct));
        Assert.Equal(("Monthly revenue", _orders, "Sum of amount"), (saved.Name, saved.DatasetId, saved.MeasureLabel));
        Assert.Equal((MetricDirection.HigherIsBetter, 1000.0, 800.0), (saved.Direction, saved.Target, saved.WarnAt));
        Assert.EndsWith($"/metrics/{saved.Id}", Services.GetRequiredService<NavigationManager>().Uri);
        Assert.Contains("“Monthly revenue” saved.", SnackbarMessages);
    }

    [Fact]
    public async Task An_alert_is_set_from_the_metric_page_a_missing_threshold_is_said_in_words_and_its_band_is_drawn_on_the_trend()
    {
        var id = await Metrics.CreateAsync(Revenue(), Ct);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<MetricPage>(p => p.Add(x => x.Id, id));
        cut.WaitForAssertion(() => cut.Find("[data-testid=metric-alerts] [data-testid=new-alert]"));

        await cut.InvokeAsync(() => cut.Find("[data-testid=metric-alerts] [data-testid=new-alert]").Click());
        // It starts on this metric, "misses its target" (the metric has one), telling its author.
        dialogs.WaitForAssertion(() => Assert.Equal("Revenue misses its target", dialogs.Find("[data-testid=alert-name]").GetAttribute("value")));
        await dialogs.InvokeAsync(() => dialogs.FindComponent<MudSelect<SegmentPortal.Core.Alerts.AlertConditionKind>>().Instance
            .ValueChanged.InvokeAsync(SegmentPortal.Core.Alerts.AlertConditionKind.OutsideBand));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=alert-low]"));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=alert-save]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Enter the lowest or the highest value that is still fine (or both).", dialogs.Find("[data-testid=alert-save-error]").TextContent));
        Assert.Empty(await Services.GetRequiredService<SegmentPortal.Core.Alerts.AlertService>().ListAsync(cancellationToken: Ct));

        dialogs.Find("[data-testid=alert-low]").Change("1200");
        dialogs.Find("[data-testid=alert-high]").Change("2000");
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=alert-save]").Click());

        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=alert-name]")));
        cut.WaitForAssertion(() => Assert.Contains("outside €1,200 – €2,000", cut.Find("[data-testid=metric-alerts]").TextContent));
        // June's 2,500 is above the band: its lines are drawn, in the bad colour.
        cut.WaitForAssertion(() => Assert.Contains(cut.FindComponent<Figure>().Instance.Drawn.Traces.Cast<Plotly.Blazor.Traces.Scatter>(),
            t => t.Name == $"Revenue misses its target: fine range to {Money(2000)}"));
    }

    [Fact]
    public async Task Editing_a_metric_changes_it_and_the_history_lists_what_changed()
    {
        var id = await Metrics.CreateAsync(Revenue(), Ct);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<MetricPage>(p => p.Add(x => x.Id, id));
        cut.WaitForAssertion(() => cut.Find("[data-testid=metric-current-value]"));

        await cut.InvokeAsync(() => cut.Find("[data-testid=metric-edit]").Click());
        dialogs.WaitForAssertion(() => Assert.Equal("Revenue", dialogs.Find("[data-testid=metric-name]").GetAttribute("value")));
        Assert.Equal("3000", dialogs.Find("[data-testid=metric-target]").GetAttribute("value"));
        dialogs.Find("[data-testid=metric-target]").Change("2400");
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=metric-save]").Click());

        // Now June's 2,500 is past the target.
        cut.WaitForAssertion(() => Assert.Contains("On target", cut.Find("[data-testid=metric-status]").TextContent));
        var latest = cut.FindAll("[data-testid=metric-history] tbody tr")[0].TextContent;
        Assert.Contains($"Target: “{Money(3000)}” → “{Money(2400)}”", latest);
    }
}
