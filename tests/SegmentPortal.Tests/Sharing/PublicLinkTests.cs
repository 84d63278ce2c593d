using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Subscriptions;

namespace SegmentPortal.Tests.Sharing;

/// <summary>Public links: off by default, token hash only, expiry, revocation, the global switch, the public identity.</summary>
public sealed class PublicLinkTests(SharingFixture f) : IClassFixture<SharingFixture>
{
    private async Task<System.Security.Claims.ClaimsPrincipal> EnableAsync(bool on = true)
    {
        var admin = await f.PersonAsync("admin", Roles.Admin);
        await f.With<PublicLinkService>(admin, s => s.SetEnabledAsync(on));
        return admin;
    }

    private Task<NewPublicLink> CreateAsync(int dashboardId, int days = 7) => f.With<PublicLinkService, NewPublicLink>(f.Owner, s => s.CreateAsync(dashboardId, days));

    private Task<PublicVisit?> OpenAsync(string token, bool count = true) =>
        f.Harness.WithAsync<PublicLinkService, PublicVisit?>(s => s.OpenAsync(token, count, "203.0.113.9"));

    private async Task<PublicLink> StoredAsync(int linkId)
    {
        await using var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return await db.PublicLinks.AsNoTracking().SingleAsync(l => l.Id == linkId);
    }

    [Fact]
    public async Task Links_are_off_until_an_Admin_turns_them_on_and_only_Admins_can()
    {
        var id = await f.DashboardAsync();
        await EnableAsync(on: false);

        Assert.Contains("turned off", (await Assert.ThrowsAsync<PortalException>(() => CreateAsync(id))).Message);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<PublicLinkService>(f.Owner, s => s.SetEnabledAsync(true)));

        await EnableAsync();
        Assert.False(string.IsNullOrEmpty((await CreateAsync(id)).Token));
    }

    [Fact]
    public async Task Only_the_hash_of_the_token_is_stored_and_a_visit_acts_as_the_public_account_and_is_counted()
    {
        await EnableAsync();
        var id = await f.DashboardAsync();
        var made = await CreateAsync(id, days: 30);

        var stored = await StoredAsync(made.Link.Id);
        Assert.Equal(PublicLinkService.Hash(made.Token), stored.TokenHash);
        Assert.Matches("^[0-9a-f]{64}$", stored.TokenHash);
        Assert.NotEqual(made.Token, stored.TokenHash);
        Assert.Equal(stored.CreatedAt.AddDays(30), stored.ExpiresAt);

        var visit = Assert.IsType<PublicVisit>(await OpenAsync(made.Token));
        Assert.Equal(id, visit.DashboardId);
        var account = await f.Harness.WithAsync<UserManager<AppUser>, AppUser?>(u => u.FindByIdAsync(visit.Principal.UserId()!));
        Assert.Equal("public@segmentportal.local", account!.Email);
        Assert.Null(account.PasswordHash); // nobody signs in as it
        Assert.True(account.LockoutEnd > DateTimeOffset.UtcNow.AddYears(100));
        Assert.True(visit.Principal.IsInRole(Roles.Viewer));
        // Row rules see the public account (enabled, with its roles), so its rules apply to every query of the visit.
        var subject = await f.Harness.WithAsync<DataRuleStore, AccessSubject?>(s => s.SubjectAsync(visit.Principal));
        Assert.Equal(account.Id, subject!.UserId);

        var seen = await f.With<DashboardService, DashboardView>(visit.Principal, s => s.GetAsync(id));
        Assert.False(seen.CanEdit);
        Assert.False(seen.CanExport);
        Assert.False(seen.CanShare);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<SharingService>(visit.Principal, s => s.RecordExportAsync(id, null, "PDF", null)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<DashboardService>(visit.Principal, s => s.SetAutoRefreshAsync(id, 5)));
        var other = await f.DashboardAsync("Not linked");
        await Assert.ThrowsAsync<PortalException>(() => f.With<DashboardService, DashboardView>(visit.Principal, s => s.GetAsync(other)));
        Assert.DoesNotContain(await f.With<DashboardService, IReadOnlyList<DashboardSummary>>(visit.Principal, s => s.ListAsync()), d => d.Id == other);

        await OpenAsync(made.Token, count: false); // the live connection after the page load
        var used = await StoredAsync(made.Link.Id);
        Assert.Equal(1, used.Uses);
        Assert.NotNull(used.LastUsedAt);
        var audit = Assert.Single(await f.AuditAsync(AuditActions.PublicLinkUsed), e => e.Detail == $"Public link {made.Link.Id}");
        Assert.Equal(account.Id, audit.UserId);
        Assert.Equal("203.0.113.9", audit.Address);
        Assert.Contains($"Dashboard {id} ", audit.Subject);
    }

    [Fact]
    public async Task Unknown_expired_revoked_and_globally_disabled_links_do_not_open()
    {
        await EnableAsync();
        var id = await f.DashboardAsync();
        Assert.Null(await OpenAsync("not-a-token"));

        var expiring = await CreateAsync(id);
        var ct = TestContext.Current.CancellationToken;
        await using (var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(ct))
        {
            var link = await db.PublicLinks.SingleAsync(l => l.Id == expiring.Link.Id, ct);
            link.ExpiresAt = DateTimeOffset.UtcNow.AddYears(-10);
            await db.SaveChangesAsync(ct);
        }
        Assert.Null(await OpenAsync(expiring.Token));
        Assert.Equal(PublicLinkState.Expired, (await f.With<PublicLinkService, IReadOnlyList<PublicLinkRow>>(f.Owner, s => s.ListAsync(id))).Single(l => l.Id == expiring.Link.Id).State);

        var revoked = await CreateAsync(id);
        var visit = Assert.IsType<PublicVisit>(await OpenAsync(revoked.Token));
        await f.With<PublicLinkService>(f.Owner, s => s.RevokeAsync(revoked.Link.Id));
        Assert.Null(await OpenAsync(revoked.Token));
        // A visit already open loses the board at its next read.
        await Assert.ThrowsAsync<PortalException>(() => f.With<DashboardService, DashboardView>(visit.Principal, s => s.GetAsync(id)));

        var live = await CreateAsync(id);
        var open = Assert.IsType<PublicVisit>(await OpenAsync(live.Token));
        await EnableAsync(on: false);
        Assert.Null(await OpenAsync(live.Token));
        await Assert.ThrowsAsync<PortalException>(() => f.With<DashboardService, DashboardView>(open.Principal, s => s.GetAsync(id)));
        Assert.Null((await StoredAsync(live.Link.Id)).RevokedAt); // kept, not deleted or revoked
        await EnableAsync();
        Assert.NotNull(await OpenAsync(live.Token));
    }

    [Fact]
    public async Task Only_the_owner_or_an_Admin_manages_links_and_the_dialog_names_datasets_the_public_account_cannot_read()
    {
        await EnableAsync();
        var id = await f.DashboardAsync();
        var editor = await f.PersonAsync("editor", Roles.Analyst);
        await f.With<SharingService>(f.Owner, s => s.ShareAsync(SharedItem.Dashboard, id, editor.UserId(), null, ShareLevel.Editor));

        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<PublicLinkService, NewPublicLink>(editor, s => s.CreateAsync(id, 7)));
        await Assert.ThrowsAsync<PortalException>(() => CreateAsync(id, days: 365));
        Assert.Equal([f.Shop.CustomerData.Name], await f.With<PublicLinkService, IReadOnlyList<string>>(f.Owner, s => s.UnreadableDatasetsAsync(id)));
    }

    [Fact]
    public async Task The_public_account_is_nobody_to_share_with_or_tell()
    {
        await EnableAsync();
        var id = await f.DashboardAsync();
        var visit = Assert.IsType<PublicVisit>(await OpenAsync((await CreateAsync(id)).Token));
        var publicId = visit.Principal.UserId()!;
        var colleague = await f.PersonAsync("colleague", Roles.Viewer);

        // A colleague is offered everywhere; the links' account (a Viewer nobody signs in as) nowhere.
        var candidates = await f.With<SharingService, IReadOnlyList<ShareCandidate>>(f.Owner, s => s.CandidatesAsync(SharedItem.Dashboard, id));
        Assert.Contains(candidates, c => c.Id == colleague.UserId());
        Assert.DoesNotContain(candidates, c => c.Id == publicId);
        var recipients = await f.With<AlertService, AlertRecipientChoices>(f.Owner, s => s.RecipientChoicesAsync());
        Assert.Contains(recipients.People, p => p.Id == colleague.UserId());
        Assert.DoesNotContain(recipients.People, p => p.Id == publicId);
        var subscribers = await f.With<SubscriptionService, IReadOnlyList<SubscriptionUserChoice>>(f.Owner, s => s.UserChoicesAsync(SubscriptionTarget.Dashboard, id));
        Assert.Contains(subscribers, c => c.Id == colleague.UserId());
        Assert.DoesNotContain(subscribers, c => c.Id == publicId);

        // Chosen by id anyway, it is refused.
        await Assert.ThrowsAsync<PortalException>(() => f.With<SharingService>(f.Owner, s => s.ShareAsync(SharedItem.Dashboard, id, publicId, null, ShareLevel.Viewer)));
    }
}
