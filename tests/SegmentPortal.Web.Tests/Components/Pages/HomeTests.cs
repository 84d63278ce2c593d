using Bunit;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Pages;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Pages;

/// <summary>The home page over a real (empty or seeded) metadata store.</summary>
public sealed class HomeTests : PortalTestContext, IAsyncLifetime
{
    private static readonly DateTimeOffset Yesterday = DateTimeOffset.UtcNow.AddDays(-1);
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSingleton(_store.Db);
        Services.AddSingleton(_store.Warehouse);
        Services.AddSingleton(_store.Changes);
        Services.AddPortalAccess();
        Services.AddScoped<DatasetCatalog>();
    }

    [Fact]
    public void Without_data_an_analyst_is_offered_the_demo_data()
    {
        SignInAs("ann@example.com", Roles.Analyst);

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Contains("No data yet", cut.Find(".empty-state").TextContent));
        Assert.NotNull(cut.Find(".empty-state [data-testid=load-demo-data]"));
        Assert.DoesNotContain("Ask an Analyst or an Admin", cut.Markup);
    }

    [Fact]
    public void Without_data_a_viewer_is_told_who_can_bring_data_in()
    {
        SignInAs("vic@example.com", Roles.Viewer);

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Contains("Ask an Analyst or an Admin to bring data in.", cut.Find(".empty-state").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=load-demo-data]"));
    }

    [Fact]
    public async Task With_data_it_shows_datasets_customers_and_rows()
    {
        await _store.AddDatasetAsync("Old customers", DatasetKind.Customers, 500, Yesterday.AddDays(-7));
        await _store.AddDatasetAsync("Customers", DatasetKind.Customers, 1_000, Yesterday);
        await _store.AddDatasetAsync("Orders", DatasetKind.Transactions, 12_000, Yesterday);
        SignInAs("vic@example.com", Roles.Viewer);

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Equal(3.ToString("N0"), StatValue(cut, "stat-datasets")));
        // Customers are the rows of the newest customer dataset, not all of them.
        Assert.Equal(1_000.ToString("N0"), StatValue(cut, "stat-customers"));
        Assert.Equal(13_500.ToString("N0"), StatValue(cut, "stat-rows"));
        Assert.Equal("/data", cut.Find("[data-testid=stat-datasets] a").GetAttribute("href"));
        Assert.Empty(cut.FindAll(".empty-state"));
    }

    [Fact]
    public async Task Without_a_customer_dataset_the_customer_count_is_a_dash()
    {
        await _store.AddDatasetAsync("Orders", DatasetKind.Transactions, 10, Yesterday);
        SignInAs("vic@example.com", Roles.Viewer);

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Equal("—", StatValue(cut, "stat-customers")));
    }

    [Fact]
    public async Task With_data_an_analyst_may_reload_the_demo_data()
    {
        await _store.AddDatasetAsync("Customers", DatasetKind.Customers, 10, Yesterday);
        SignInAs("ann@example.com", Roles.Analyst);

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Contains("Reload the demo data", cut.Markup));
        Assert.NotNull(cut.Find("[data-testid=load-demo-data]"));
    }

    [Fact]
    public async Task With_data_a_viewer_is_not_offered_a_reload()
    {
        await _store.AddDatasetAsync("Customers", DatasetKind.Customers, 10, Yesterday);
        SignInAs("vic@example.com", Roles.Viewer);

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Contains("Next steps", cut.Markup));
        Assert.DoesNotContain("Reload the demo data", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=load-demo-data]"));
    }

    [Fact]
    public async Task Starting_the_demo_data_shows_its_progress()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = Render<Home>();
        cut.WaitForElement("[data-testid=load-demo-data]");

        await cut.InvokeAsync(() => cut.Find("[data-testid=load-demo-data]").Click());

        cut.WaitForAssertion(() =>
            Assert.Contains("Load demo data (100,000 customers)", cut.Find("[data-testid=job-progress]").TextContent));
        Assert.Equal(DemoDataService.JobKey, Assert.Single(Jobs.List()).Key);
    }

    [Fact]
    public async Task When_the_demo_data_job_finishes_the_counts_appear()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = Render<Home>();
        cut.WaitForElement(".empty-state");
        await StartJobRunnerAsync();

        // Stands in for the demo data load: same key, and it leaves a dataset behind.
        Jobs.Enqueue(Job(DemoDataService.JobKey, "Load demo data", async (_, _, _) =>
            await _store.AddDatasetAsync("Customers", DatasetKind.Customers, 42, DateTimeOffset.UtcNow)));

        cut.WaitForAssertion(() => Assert.Equal(42.ToString("N0"), StatValue(cut, "stat-customers")));
        Assert.Empty(cut.FindAll(".empty-state"));
    }

    [Fact]
    public void When_the_overview_is_refused_the_user_is_told_and_can_retry()
    {
        // The UI thinks someone is signed in, Core's current user has no permission.
        SignInAs("ann@example.com", Roles.Analyst);
        CurrentUser.Principal = Principal("ann@example.com");

        var cut = Render<Home>();

        cut.WaitForAssertion(() => Assert.Contains("You do not have permission to do that.", SnackbarMessages));
        Assert.Contains("The overview could not be loaded", cut.Find(".empty-state").TextContent);
        Assert.Empty(cut.FindAll(".mud-skeleton"));
    }

    private static string StatValue(IRenderedComponent<Home> cut, string testId) =>
        cut.Find($"[data-testid={testId}] .stat-value").TextContent.Trim();
}
