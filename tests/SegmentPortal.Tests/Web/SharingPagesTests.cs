using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

/// <summary>Share links and public links as a browser meets them: status codes and what the HTML gives away.</summary>
public sealed class SharingPagesTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _ = _factory.Server;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    private async Task<string> AdminIdAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(PortalFactory.AdminEmail))!.Id;
    }

    private async Task<T> AsAdminAsync<TService, T>(Func<TService, Task<T>> action) where TService : notnull
    {
        T result = default!;
        await _factory.AsUserAsync<TService>(await AdminIdAsync(), PortalFactory.AdminEmail, [Roles.Admin], async s => result = await action(s));
        return result;
    }

    [Fact]
    public async Task A_dashboard_address_gives_403_without_the_title_to_people_without_access_and_opens_once_shared()
    {
        var title = $"Board secret {Guid.NewGuid():N}";
        var id = await AsAdminAsync<DashboardService, int>(s => s.CreateAsync(title, null, Ct));
        var person = await _factory.CreateUserAsync("person@test.local", "Person-pass-246", Roles.Analyst);
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, "person@test.local", "Person-pass-246");

        var refused = await client.GetAsync($"/dashboards/{id}", Ct);
        var body = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain(title, body);
        Assert.DoesNotContain("Board secret", body);
        Assert.Contains("This dashboard cannot be opened", body);
        var missing = await client.GetAsync("/dashboards/999999", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode); // missing and forbidden look the same

        await AsAdminAsync<SharingService, bool>(async s => { await s.ShareAsync(SharedItem.Dashboard, id, person.Id, null, ShareLevel.Viewer, Ct); return true; });
        var opened = await client.GetAsync($"/dashboards/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Contains(title, await opened.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_segment_address_gives_403_without_the_name_to_people_it_is_not_shared_with()
    {
        var name = $"Segment secret {Guid.NewGuid():N}";
        int id;
        await using (var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var dataset = new SegmentPortal.Core.Datasets.Dataset
            {
                Name = "Customers", TableName = "t_customers", Kind = SegmentPortal.Core.Datasets.DatasetKind.Customers, Source = "Test",
                CreatedAt = DateTimeOffset.UtcNow, RefreshedAt = DateTimeOffset.UtcNow,
            };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            var segment = new Segment { Name = name, DatasetId = dataset.Id, RuleJson = new RuleTree().ToJson(), OwnerId = await AdminIdAsync() };
            db.Segments.Add(segment);
            await db.SaveChangesAsync(Ct);
            id = segment.Id;
        }
        await _factory.CreateUserAsync("nosy@test.local", "Nosy-pass-2468", Roles.Analyst);
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, "nosy@test.local", "Nosy-pass-2468");

        var refused = await client.GetAsync($"/segments/{id}", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("Segment secret", body);
        Assert.Contains("This segment cannot be opened", body);
    }

    [Fact]
    public async Task A_public_link_shows_the_board_to_anyone_while_valid_and_410_otherwise()
    {
        var title = $"Public board {Guid.NewGuid():N}";
        var id = await AsAdminAsync<DashboardService, int>(s => s.CreateAsync(title, null, Ct));
        await AsAdminAsync<PublicLinkService, bool>(async s => { await s.SetEnabledAsync(true, Ct); return true; });
        var link = await AsAdminAsync<PublicLinkService, NewPublicLink>(s => s.CreateAsync(id, 7, Ct));
        var anonymous = _factory.CreateBrowserClient();

        var page = await anonymous.GetAsync($"/public/{link.Token}", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.Contains(title, html);
        Assert.DoesNotContain("data-testid=\"dashboard-export\"", html);
        Assert.DoesNotContain("data-testid=\"add-tile\"", html);

        var unknown = await anonymous.GetAsync("/public/not-a-real-token", Ct);
        Assert.Equal(HttpStatusCode.Gone, unknown.StatusCode);
        var unknownHtml = await unknown.Content.ReadAsStringAsync(Ct);
        Assert.True(unknownHtml.Contains("This link is no longer valid", StringComparison.Ordinal), System.Text.RegularExpressions.Regex.Replace(unknownHtml, "<script.*?</script>|<style.*?</style>|<link[^>]*>", "", System.Text.RegularExpressions.RegexOptions.Singleline));

        await AsAdminAsync<PublicLinkService, bool>(async s => { await s.RevokeAsync(link.Link.Id, Ct); return true; });
        var revoked = await anonymous.GetAsync($"/public/{link.Token}", Ct);
        Assert.Equal(HttpStatusCode.Gone, revoked.StatusCode);
        var revokedHtml = await revoked.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain(title, revokedHtml);
        Assert.Contains("This link is no longer valid", revokedHtml);
    }
}
