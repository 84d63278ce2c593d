using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Users;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Queries;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Access;

public sealed class ViewAsTests : IAsyncLifetime
{
    private readonly ShopFixture _shop = new();
    private AppUser _admin = null!;
    private AppUser _viewer = null!;

    private CoreHarness Harness => _shop.Harness;

    public async ValueTask InitializeAsync()
    {
        await _shop.InitializeAsync();
        _viewer = await Harness.CreateUserAsync("viewer@example.com", "Correct-horse-9", Roles.Viewer);
        _admin = await Harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(_shop.CustomerData.Id, [Roles.Viewer], []));
        await Harness.WithAsync<DataPermissionService>(async s =>
        {
            await s.SaveRowRuleAsync(_shop.CustomerData.Id, null, Roles.Viewer, null, All(Field("region", RuleOperator.Equals, DataPolicy.Token("Region"))));
            await s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "South" });
        });
    }

    public ValueTask DisposeAsync() => _shop.DisposeAsync();

    /// <summary>
    /// Starts viewing as the viewer in one scope (a circuit) and makes its principal the current user, as the web host does.
    /// Returns the principal: the scope ends here, which ends viewing-as in it, but the test goes on as that principal.
    /// </summary>
    private async Task<System.Security.Claims.ClaimsPrincipal> StartAsync()
    {
        await using var scope = Harness.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ViewAsService>().StartAsync(_viewer.Id, TestContext.Current.CancellationToken);
        var principal = scope.ServiceProvider.GetRequiredService<ViewAsState>().Principal!;
        Harness.CurrentUser.Principal = principal;
        return principal;
    }

    [Fact]
    public async Task Viewing_as_a_user_queries_with_their_rows_and_roles()
    {
        Assert.Equal(6, (await _shop.IdsAsync(new RuleGroup())).Count);

        var principal = await StartAsync();

        Assert.Equal(_viewer.Id, principal.UserId());
        Assert.True(principal.IsInRole(Roles.Viewer));
        Assert.False(principal.IsInRole(Roles.Admin));
        Assert.Equal([2L], await _shop.IdsAsync(new RuleGroup()));
    }

    [Theory]
    [InlineData(Permissions.ManageData)]
    [InlineData(Permissions.ManageUsers)]
    [InlineData(Permissions.ManageConnections)]
    public async Task A_view_as_principal_cannot_write_even_with_the_targets_roles(string permission)
    {
        var target = await Harness.CreateUserAsync("other-admin@example.com", "Correct-horse-9", Roles.Admin);
        await using var scope = Harness.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ViewAsService>().StartAsync(target.Id, TestContext.Current.CancellationToken);
        Harness.CurrentUser.Principal = scope.ServiceProvider.GetRequiredService<ViewAsState>().Principal!;

        var error = await Assert.ThrowsAsync<PermissionDeniedException>(() => Harness.CurrentUser.RequireAsync(permission));
        Assert.Contains("viewing the portal as another user", error.Message);
        await Harness.CurrentUser.RequireAsync(Permissions.ViewData);
        await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            Harness.WithAsync<DataPermissionService>(s => s.SetAdminsSeeAllDataAsync(false)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            Harness.WithAsync<UserAdministration>(s => s.SetDisabledAsync(_viewer.Id, true)));
    }

    [Fact]
    public async Task Only_admins_may_start_and_start_and_stop_are_audited()
    {
        Harness.CurrentUser.Principal = CoreHarness.Principal(_viewer.Id, _viewer.Email!, Roles.Analyst);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Harness.WithAsync<ViewAsService>(s => s.StartAsync(_admin.Id)));
        Harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, _admin.Email!, Roles.Admin);
        await Assert.ThrowsAsync<PortalException>(() => Harness.WithAsync<ViewAsService>(s => s.StartAsync("no-such-user")));

        await using var scope = Harness.Services.CreateAsyncScope();
        var service = scope.ServiceProvider.GetRequiredService<ViewAsService>();
        var state = scope.ServiceProvider.GetRequiredService<ViewAsState>();
        await service.StartAsync(_viewer.Id, TestContext.Current.CancellationToken);
        Assert.True(state.IsActive);
        Assert.Equal("viewer@example.com", state.TargetLabel);
        await service.StopAsync(TestContext.Current.CancellationToken);
        Assert.False(state.IsActive);

        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken);
        var entries = await db.AuditEntries.Where(e => e.Action == AuditActions.ViewAs).OrderBy(e => e.Id).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal(_admin.Id, e.UserId));
        Assert.All(entries, e => Assert.Equal("User viewer@example.com", e.Subject));
        Assert.StartsWith("Started viewing as viewer@example.com", entries[0].Detail);
        Assert.Equal("Stopped viewing as viewer@example.com", entries[1].Detail);
    }

    [Fact]
    public async Task A_session_that_ends_while_viewing_as_is_audited()
    {
        await using (var scope = Harness.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ViewAsService>().StartAsync(_viewer.Id, TestContext.Current.CancellationToken);
        }

        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken);
        var last = await db.AuditEntries.Where(e => e.Action == AuditActions.ViewAs).OrderBy(e => e.Id).LastAsync(TestContext.Current.CancellationToken);
        Assert.Equal("Session ended while viewing as viewer@example.com", last.Detail);
        Assert.Equal(_admin.Id, last.UserId);
    }

    [Fact]
    public async Task What_an_admin_does_while_viewing_as_is_recorded_as_the_admin()
    {
        await StartAsync();

        await Harness.WithAsync<AuditLog>(a => a.RecordAsync(AuditActions.Export, "Dataset customers", rows: 1));

        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken);
        var entry = await db.AuditEntries.Where(e => e.Action == AuditActions.Export).SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(_admin.Id, entry.UserId);
        Assert.Equal("admin@example.com as viewer@example.com", entry.UserName);
    }
}
