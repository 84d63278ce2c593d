using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

public sealed class HostingTests
{
    [Fact]
    public async Task Uses_the_top_level_wwwroot_and_appsettings()
    {
        await using var factory = new PortalFactory();
        var client = factory.CreateBrowserClient();

        var css = await client.GetAsync("/app.css", TestContext.Current.CancellationToken);
        var mud = await client.GetAsync("/_content/MudBlazor/MudBlazor.min.css", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        var repoCss = await File.ReadAllTextAsync(Path.Combine(RepoRoot(), "wwwroot", "app.css"), TestContext.Current.CancellationToken);
        Assert.Equal(repoCss, await css.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.OK, mud.StatusCode);
        var configuration = factory.Services.GetRequiredService<IConfiguration>();
        Assert.Equal("http://localhost:5080", configuration["Urls"]);
    }

    [Fact]
    public async Task Creates_the_metadata_database_and_warehouse_in_the_data_folder()
    {
        await using var factory = new PortalFactory();
        _ = factory.Server;

        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "portal.db")));
        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "warehouse.duckdb")));
    }

    [Fact]
    public async Task Production_refuses_to_start_with_a_known_default_admin_password()
    {
        await using var factory = new PortalFactory("Production", new Dictionary<string, string?> { ["Admin:Password"] = "ChangeMe123!" });

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("well-known default", error.ToString());
    }

    [Fact]
    public async Task Production_refuses_to_start_without_an_admin_secret()
    {
        await using var factory = new PortalFactory("Production", new Dictionary<string, string?> { ["Admin:Password"] = "" });

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("Admin__Password", error.ToString());
    }

    [Fact]
    public async Task Production_shows_friendly_status_pages_without_details()
    {
        await using var factory = new PortalFactory("Production");
        var client = factory.CreateBrowserClient();

        var missing = await client.GetAsync("/account/no-such-page", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Page not found", await missing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_unknown_metadata_provider_stops_the_start_with_the_choices()
    {
        await using var factory = new PortalFactory(settings: new Dictionary<string, string?> { ["Database:Provider"] = "Oracle" });

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("Use 'Sqlite'", error.ToString());
    }

    private static string RepoRoot() =>
        SegmentPortal.Core.Storage.StoragePaths.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("Tests run from a clone of the repository.");
}
