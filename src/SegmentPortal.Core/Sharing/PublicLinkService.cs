using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Sharing;

public sealed class SharingOptions
{
    public const string Section = "Sharing";

    /// <summary>The account public-link visitors act as; its roles, row rules and attributes apply to them.</summary>
    public string PublicUserEmail { get; set; } = "public@segmentportal.local";
}

public enum PublicLinkState
{
    Active,
    Expired,
    Revoked,
}

public sealed record PublicLinkRow(
    int Id, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt, int Uses, PublicLinkState State)
{
    /// <summary>Visitors may list the customers behind a mark, masked (see <see cref="PublicLink.AllowRows"/>).</summary>
    public bool AllowRows { get; init; }
}

/// <summary>A new link: the token is shown once and never stored.</summary>
public sealed record NewPublicLink(PublicLinkRow Link, string Token);

/// <summary>A valid link opened: who the visitor acts as, and the dashboard they may view.</summary>
public sealed record PublicVisit(ClaimsPrincipal Principal, int DashboardId);

/// <summary>
/// Read-only public links to dashboards. Off until an Admin turns them on; turning them off stops every link (none is
/// deleted). A link is a random token of which only the SHA-256 is stored, with an expiry and a revocation. Visitors act
/// as the configured public account (role Viewer, no password, locked against sign-in), so its row rules apply, and
/// they may only view the link's dashboard (see <see cref="SharingService"/>): no editing and no exports, and no list of
/// the customers behind a mark unless the owner allows it for that link (<see cref="SetRowsAllowedAsync"/>).
/// </summary>
public sealed class PublicLinkService(
    ICurrentUser currentUser,
    IPortalDbFactory dbFactory,
    Authorizer authorizer,
    SharedItems items,
    IDashboardDatasets dashboardDatasets,
    PortalSettings settings,
    AuditLog audit,
    IServiceScopeFactory scopes,
    IOptions<SharingOptions> options,
    TimeProvider clock)
{
    public const string PublicDashboardClaim = PublicLinkValidity.DashboardClaim;

    /// <summary>How long a link may live, in days.</summary>
    public static IReadOnlyList<int> ExpiryChoices { get; } = [1, 7, 30, 90];

    public Task<bool> EnabledAsync(CancellationToken cancellationToken = default) =>
        settings.GetFlagAsync(PortalSettings.PublicLinksEnabled, fallback: false, cancellationToken);

    /// <summary>Turns public links on or off for the whole portal (Admins only).</summary>
    public async Task SetEnabledAsync(bool enabled, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageUsers);
        if (!user.IsInRole(Roles.Admin))
        {
            throw new PermissionDeniedException("Only Admins can turn public links on or off.");
        }
        await settings.SetAsync(PortalSettings.PublicLinksEnabled, enabled ? "true" : "false", cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, "Public links", enabled ? "Public links turned on" : "Public links turned off (existing links stop working)",
            cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<PublicLinkRow>> ListAsync(int dashboardId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(dashboardId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var links = await db.PublicLinks.AsNoTracking().Where(l => l.DashboardId == dashboardId).ToListAsync(cancellationToken);
        return links.OrderByDescending(l => l.CreatedAt).Select(Row).ToList();
    }

    /// <summary>Makes a link that expires after <paramref name="days"/> days. The token is returned once.</summary>
    public async Task<NewPublicLink> CreateAsync(int dashboardId, int days, CancellationToken cancellationToken = default)
    {
        if (!ExpiryChoices.Contains(days))
        {
            throw new PortalException("A public link expires after 1, 7, 30 or 90 days.");
        }
        var name = await RequireOwnerAsync(dashboardId, cancellationToken);
        if (!await EnabledAsync(cancellationToken))
        {
            throw new PortalException("Public links are turned off. An Admin can turn them on.");
        }
        await PublicUserIdAsync(cancellationToken);
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var user = await currentUser.GetPrincipalAsync();
        var now = clock.GetUtcNow();
        var link = new PublicLink { DashboardId = dashboardId, TokenHash = Hash(token), CreatedById = user.UserId(), CreatedAt = now, ExpiresAt = now.AddDays(days) };
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        db.PublicLinks.Add(link);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, $"Dashboard {dashboardId} “{name}”",
            $"Public link {link.Id} made, expires {link.ExpiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC", cancellationToken: cancellationToken);
        return new NewPublicLink(Row(link), token);
    }

    public async Task RevokeAsync(int linkId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var link = await db.PublicLinks.SingleOrDefaultAsync(l => l.Id == linkId, cancellationToken) ?? throw new PortalException("That link no longer exists.");
        var name = await RequireOwnerAsync(link.DashboardId, cancellationToken);
        if (link.RevokedAt is not null)
        {
            return;
        }
        link.RevokedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, $"Dashboard {link.DashboardId} “{name}”", $"Public link {link.Id} revoked", cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Lets the link's visitors list the customers behind a mark (underlying rows, with every column that has a column
    /// rule on the dataset masked), or stops it. Off for every new link.
    /// </summary>
    public async Task SetRowsAllowedAsync(int linkId, bool allowed, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var link = await db.PublicLinks.SingleOrDefaultAsync(l => l.Id == linkId, cancellationToken) ?? throw new PortalException("That link no longer exists.");
        var name = await RequireOwnerAsync(link.DashboardId, cancellationToken);
        if (link.AllowRows == allowed)
        {
            return;
        }
        link.AllowRows = allowed;
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.SharingChanged, $"Dashboard {link.DashboardId} “{name}”",
            allowed ? $"Public link {link.Id}: visitors may list the customers behind a mark (columns with rules masked)"
                : $"Public link {link.Id}: visitors may no longer list customers", cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The link the current public visitor came by, if it is still valid now (not revoked or expired, public links on);
    /// null for anyone else. Read afresh on every call.
    /// </summary>
    public async Task<PublicLink?> CurrentLinkAsync(CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        if (!SharingService.IsPublicVisitor(user))
        {
            return null;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await PublicLinkValidity.ValidLinkAsync(db, user, clock.GetUtcNow(), cancellationToken);
    }

    /// <summary>The datasets of the dashboard that the public account cannot read (its tiles on them stay empty for visitors).</summary>
    public async Task<IReadOnlyList<string>> UnreadableDatasetsAsync(int dashboardId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(dashboardId, cancellationToken);
        var publicId = await PublicUserIdAsync(cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var ids = await dashboardDatasets.DatasetsOfAsync(dashboardId, cancellationToken);
        var roles = await db.RolesOfAsync(publicId, cancellationToken);
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, publicId), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], "PublicLink"));
        var datasets = await db.Datasets.AsNoTracking().Where(d => ids.Contains(d.Id)).ToListAsync(cancellationToken);
        var grants = await db.DatasetGrants.AsNoTracking().Where(g => ids.Contains(g.DatasetId)).ToListAsync(cancellationToken);
        return datasets.Where(d => !Authorizer.CanRead(principal, d, grants)).Select(d => d.Name).Order().ToList();
    }

    /// <summary>
    /// Opens a link: null when it is unknown, revoked, expired or public links are off. With <paramref name="countUse"/>
    /// (a page load, not the live connection that follows it) the use is counted and audited.
    /// </summary>
    public async Task<PublicVisit?> OpenAsync(string token, bool countUse, string? address = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 100 || !await EnabledAsync(cancellationToken))
        {
            return null;
        }
        var hash = Hash(token);
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var link = await db.PublicLinks.SingleOrDefaultAsync(l => l.TokenHash == hash, cancellationToken);
        if (link is null || link.RevokedAt is not null || link.ExpiresAt <= now
            || await items.FindAsync(db, SharedItem.Dashboard, link.DashboardId, cancellationToken) is not { } dashboard)
        {
            return null;
        }
        var publicId = await PublicUserIdAsync(cancellationToken);
        var account = await db.Users.AsNoTracking().Where(u => u.Id == publicId).Select(u => new { u.IsDisabled }).SingleAsync(cancellationToken);
        if (account.IsDisabled)
        {
            return null;
        }
        var roles = await db.RolesOfAsync(publicId, cancellationToken);
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, publicId),
                new Claim(ClaimTypes.Name, "Public link"),
                new Claim(SharingService.PublicLinkClaim, link.Id.ToString(CultureInfo.InvariantCulture)),
                new Claim(PublicDashboardClaim, link.DashboardId.ToString(CultureInfo.InvariantCulture)),
                .. roles.Select(r => new Claim(ClaimTypes.Role, r)),
            ], authenticationType: "PublicLink"));
        if (countUse)
        {
            link.Uses++;
            link.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordForAsync(publicId, "Public link", AuditActions.PublicLinkUsed, $"Dashboard {link.DashboardId} “{dashboard.Name}”",
                $"Public link {link.Id}", address: address, cancellationToken: cancellationToken);
        }
        return new PublicVisit(principal, link.DashboardId);
    }

    /// <summary>The public account's id; made on first need with role Viewer, no password, and locked against sign-in.</summary>
    public async Task<string> PublicUserIdAsync(CancellationToken cancellationToken = default)
    {
        var email = options.Value.PublicUserEmail;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            if (await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == email.ToUpperInvariant()).Select(u => u.Id).FirstOrDefaultAsync(cancellationToken) is { } id)
            {
                return id;
            }
        }
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(Roles.Viewer))
        {
            await roles.CreateAsync(new IdentityRole(Roles.Viewer));
        }
        var user = new AppUser
        {
            UserName = email,
            Email = email,
            EmailConfirmed = true,
            DisplayName = "Public link",
            CreatedAt = clock.GetUtcNow(),
            LockoutEnabled = true,
            // No password and locked for good: nobody signs in as this account; only public links act as it.
            LockoutEnd = AppUser.LockedForGood,
        };
        var created = await users.CreateAsync(user);
        if (!created.Succeeded)
        {
            // Made by another request at the same moment.
            return (await users.FindByEmailAsync(email))?.Id ?? throw new PortalException("The public account could not be made: " + created.Errors.First().Description);
        }
        await users.AddToRoleAsync(user, Roles.Viewer);
        return user.Id;
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private async Task<string> RequireOwnerAsync(int dashboardId, CancellationToken cancellationToken)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var access = await authorizer.RequireViewAsync(SharedItem.Dashboard, dashboardId, cancellationToken);
        if (!access.CanShare)
        {
            throw new PermissionDeniedException("Only the dashboard's owner or an Admin can manage its public links.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return (await items.FindAsync(db, SharedItem.Dashboard, dashboardId, cancellationToken)
            ?? throw new PortalException("That dashboard does not exist or you do not have access to it.")).Name;
    }

    private PublicLinkRow Row(PublicLink l) => new(l.Id, l.CreatedAt, l.ExpiresAt, l.RevokedAt, l.LastUsedAt, l.Uses,
        l.RevokedAt is not null ? PublicLinkState.Revoked : l.ExpiresAt <= clock.GetUtcNow() ? PublicLinkState.Expired : PublicLinkState.Active)
    {
        AllowRows = l.AllowRows,
    };

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
