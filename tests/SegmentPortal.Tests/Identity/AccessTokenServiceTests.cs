using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Users;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Identity;

/// <summary>Personal access tokens: made, listed, revoked, and checked per request, over the real metadata store.</summary>
public sealed class AccessTokenServiceTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 3, 2, 9, 15, 0, TimeSpan.Zero));
    private CoreHarness _harness = null!;
    private AppUser _ann = null!;
    private AppUser _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync(clock: _clock);
        _admin = await _harness.CreateUserAsync("admin@example.com", "Correct-horse-9", Roles.Admin);
        _ann = await _harness.SignInAsNewUserAsync("ann@example.com", Roles.Analyst);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<T> Tokens<T>(Func<AccessTokenService, Task<T>> action) => _harness.WithAsync(action);

    private Task<AccessTokenCheck> ValidateAsync(string token) => _harness.WithAsync<AccessTokenValidator, AccessTokenCheck>(v => v.ValidateAsync(token, "10.0.0.1", Ct));

    private Task<CreatedAccessToken> CreateAsync(string name = "CRM sync", int days = 90, params string[] scopes) =>
        Tokens(s => s.CreateAsync(new NewAccessToken(name, scopes.Length == 0 ? [ApiScopes.ReadSegments] : scopes, _clock.GetUtcNow().AddDays(days)), Ct));

    private async Task<List<AuditEntry>> AuditAsync(string action)
    {
        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return await db.AuditEntries.Where(e => e.Action == action).ToListAsync(Ct);
    }

    [Fact]
    public async Task A_new_token_is_shown_once_and_only_its_hash_is_stored()
    {
        var created = await CreateAsync("CRM sync", 90, ApiScopes.ReadSegments, ApiScopes.ReadData);

        Assert.StartsWith("sp_", created.Token);
        Assert.Equal(46, created.Token.Length); // "sp_" and 32 bytes in base64url
        Assert.Equal(created.Token[..10], created.Row.Prefix);
        Assert.Equal([ApiScopes.ReadData, ApiScopes.ReadSegments], created.Row.Scopes);
        Assert.Equal(AccessTokenStatus.Active, created.Row.Status);
        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        var stored = await db.AccessTokens.SingleAsync(Ct);
        Assert.Equal(AccessTokenService.HashOf(created.Token), stored.Hash);
        Assert.DoesNotContain(created.Token, stored.Hash + stored.Prefix + stored.Name);
        var entry = Assert.Single(await AuditAsync(AuditActions.AccessTokenChanged));
        Assert.Contains("CRM sync", entry.Subject);
        Assert.DoesNotContain(created.Token, entry.Subject + entry.Detail);
    }

    [Fact]
    public async Task A_valid_token_acts_as_its_user_with_their_roles_and_its_scopes()
    {
        var created = await CreateAsync("CRM sync", 30, ApiScopes.ReadSegments);

        var check = await ValidateAsync(created.Token);

        var principal = Assert.IsType<ClaimsPrincipal>(check.Principal);
        Assert.True(principal.Identity!.IsAuthenticated);
        Assert.Equal(_ann.Id, principal.UserId());
        Assert.Equal("ann@example.com", principal.Identity.Name);
        Assert.True(principal.IsInRole(Roles.Analyst));
        Assert.True(ApiScopes.IsToken(principal));
        Assert.True(ApiScopes.Allows(principal, ApiScopes.ReadSegments));
        Assert.False(ApiScopes.Allows(principal, ApiScopes.ReadData));
        Assert.Equal(created.Row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), principal.FindFirstValue(ApiScopes.TokenClaimType));
    }

    [Theory]
    [InlineData("sp_not-a-token")]
    [InlineData("ghp_something")]
    [InlineData("")]
    public async Task Unknown_tokens_are_refused(string token)
    {
        await CreateAsync();
        var check = await ValidateAsync(token);
        Assert.Null(check.Principal);
        Assert.Equal("The access token is not valid.", check.Refusal);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var created = await CreateAsync(days: 7);
        Assert.NotNull((await ValidateAsync(created.Token)).Principal);

        _clock.Advance(TimeSpan.FromDays(7));

        var check = await ValidateAsync(created.Token);
        Assert.Null(check.Principal);
        Assert.Contains("expired", check.Refusal);
        Assert.Equal(AccessTokenStatus.Expired, Assert.Single(await Tokens(s => s.ListMineAsync(Ct))).Status);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_and_revoking_is_audited()
    {
        var created = await CreateAsync();

        await _harness.WithAsync<AccessTokenService>(s => s.RevokeAsync(created.Row.Id, Ct));

        var check = await ValidateAsync(created.Token);
        Assert.Null(check.Principal);
        Assert.Contains("revoked", check.Refusal);
        var row = Assert.Single(await Tokens(s => s.ListMineAsync(Ct)));
        Assert.Equal(AccessTokenStatus.Revoked, row.Status);
        Assert.Equal("ann@example.com", row.RevokedBy);
        Assert.Contains(await AuditAsync(AuditActions.AccessTokenChanged), e => e.Detail == "Revoked");
    }

    [Fact]
    public async Task A_disabled_or_locked_out_users_tokens_stop_at_once()
    {
        var created = await CreateAsync();
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            await db.Users.Where(u => u.Id == _ann.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsDisabled, true), Ct);
        }
        Assert.Contains("disabled", (await ValidateAsync(created.Token)).Refusal);

        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            await db.Users.Where(u => u.Id == _ann.Id).ExecuteUpdateAsync(s => s
                .SetProperty(u => u.IsDisabled, false).SetProperty(u => u.LockoutEnd, _clock.GetUtcNow().AddMinutes(10)), Ct);
        }
        Assert.Null((await ValidateAsync(created.Token)).Principal);

        _clock.Advance(TimeSpan.FromMinutes(11));
        Assert.NotNull((await ValidateAsync(created.Token)).Principal);
    }

    [Fact]
    public async Task Users_see_and_revoke_only_their_own_tokens_and_Admins_all()
    {
        var anns = await CreateAsync("Ann's");
        _harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, "admin@example.com", Roles.Admin);
        var admins = await CreateAsync("Admin's");
        var bob = await _harness.CreateUserAsync("bob@example.com", "Correct-horse-9", Roles.Viewer);
        _harness.CurrentUser.Principal = CoreHarness.Principal(bob.Id, "bob@example.com", Roles.Viewer);

        Assert.Empty(await Tokens(s => s.ListMineAsync(Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Tokens(s => s.ListAllAsync(Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => _harness.WithAsync<AccessTokenService>(s => s.RevokeAsync(anns.Row.Id, Ct)));

        _harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, "admin@example.com", Roles.Admin);
        var all = await Tokens(s => s.ListAllAsync(Ct));
        Assert.Equal(["Admin's", "Ann's"], all.Select(t => t.Name).Order());
        Assert.Equal("ann@example.com", all.Single(t => t.Name == "Ann's").UserEmail);
        Assert.Equal(["Admin's"], (await Tokens(s => s.ListMineAsync(Ct))).Select(t => t.Name));
        await _harness.WithAsync<AccessTokenService>(s => s.RevokeAsync(anns.Row.Id, Ct));

        Assert.Null((await ValidateAsync(anns.Token)).Principal);
        Assert.NotNull((await ValidateAsync(admins.Token)).Principal);
        Assert.Contains(await AuditAsync(AuditActions.AccessTokenChanged), e => e.Detail == "Revoked" && e.Subject!.Contains("of ann@example.com"));
    }

    [Fact]
    public async Task A_token_cannot_revoke_someone_elses_token_even_for_an_Admin()
    {
        var anns = await CreateAsync("Ann's");
        _harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, "admin@example.com", Roles.Admin);
        var admins = await CreateAsync("Admin's", 30, ApiScopes.ReadData);
        _harness.CurrentUser.Principal = (await ValidateAsync(admins.Token)).Principal!;

        await Assert.ThrowsAsync<PermissionDeniedException>(() => _harness.WithAsync<AccessTokenService>(s => s.RevokeAsync(anns.Row.Id, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => CreateAsync("Another"));
    }

    [Theory]
    [InlineData("", 30, "data:read", "name")]
    [InlineData("x", 30, "", "at least one scope")]
    [InlineData("x", 30, "admin:all", "Unknown scope")]
    [InlineData("x", 0, "data:read", "future")]
    [InlineData("x", 400, "data:read", "at most a year")]
    public async Task Bad_requests_are_refused_with_a_clear_message(string name, int days, string scope, string message)
    {
        var error = await Assert.ThrowsAnyAsync<PortalException>(() => Tokens(s =>
            s.CreateAsync(new NewAccessToken(name, scope.Length == 0 ? [] : [scope], _clock.GetUtcNow().AddDays(days)), Ct)));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task Use_is_stamped_at_most_once_a_minute_and_audited_at_most_once_an_hour()
    {
        var created = await CreateAsync();

        await ValidateAsync(created.Token);
        await ValidateAsync(created.Token);
        var first = Assert.Single(await Tokens(s => s.ListMineAsync(Ct))).LastUsedAt;
        Assert.Equal(_clock.GetUtcNow(), first);

        _clock.Advance(TimeSpan.FromSeconds(30));
        await ValidateAsync(created.Token);
        Assert.Equal(first, Assert.Single(await Tokens(s => s.ListMineAsync(Ct))).LastUsedAt);

        _clock.Advance(TimeSpan.FromMinutes(2));
        await ValidateAsync(created.Token);
        Assert.Equal(_clock.GetUtcNow(), Assert.Single(await Tokens(s => s.ListMineAsync(Ct))).LastUsedAt);
        var used = Assert.Single(await AuditAsync(AuditActions.AccessTokenUsed));
        Assert.Equal(_ann.Id, used.UserId);
        Assert.Equal("10.0.0.1", used.Address);

        _clock.Advance(TimeSpan.FromHours(1));
        await ValidateAsync(created.Token);
        Assert.Equal(2, (await AuditAsync(AuditActions.AccessTokenUsed)).Count);
    }
}
