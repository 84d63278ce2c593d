using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Users;

/// <summary>
/// Starts and stops "view as user". Only Admins may start it; start and stop are audited, and so is a session (circuit)
/// that ends while viewing as someone (the tab closed or reloaded), when its scope is disposed.
/// </summary>
public sealed class ViewAsService(ICurrentUser currentUser, ViewAsState state, IPortalDbFactory dbFactory, AuditLog audit) : IAsyncDisposable, IDisposable
{
    public async Task StartAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (state.IsActive)
        {
            throw new PortalException($"You are already viewing as {state.TargetLabel}. Stop first.");
        }
        // ManageUsers is refused to a view-as principal, so this also stops viewing-as from nesting.
        var admin = await currentUser.RequireAsync(Permissions.ManageUsers);
        if (admin.UserId() == userId)
        {
            throw new PortalException("That is you; pick another user to view as.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.Id, u.Email, u.DisplayName, u.IsDisabled }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new PortalException("That user no longer exists.");
        if (user.IsDisabled)
        {
            throw new PortalException($"{user.Email} is disabled and sees nothing; enable them first to view as them.");
        }
        var roles = await db.RolesOfAsync(userId, cancellationToken);
        var adminName = admin.Identity?.Name ?? admin.UserId() ?? "";
        var email = user.Email ?? user.Id;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id),
            new(ClaimTypes.Name, email),
            new(ClaimTypes.Email, email),
            new(ViewAsState.AdminClaim, admin.UserId() ?? ""),
            new(ViewAsState.AdminNameClaim, adminName),
        };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var label = string.IsNullOrWhiteSpace(user.DisplayName) || user.DisplayName == email ? email : $"{user.DisplayName} ({email})";
        await audit.RecordAsync(AuditActions.ViewAs, $"User {email}", $"Started viewing as {email} (roles: {string.Join(", ", roles)})", cancellationToken: cancellationToken);
        state.Set(new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType: "ViewAs")), label);
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => EndAsync("Stopped viewing as", cancellationToken);

    private async Task EndAsync(string what, CancellationToken cancellationToken)
    {
        if (state.Principal is not { } principal)
        {
            return;
        }
        var target = principal.Identity?.Name;
        state.Set(null, null);
        await audit.RecordForAsync(principal.FindFirstValue(ViewAsState.AdminClaim), principal.FindFirstValue(ViewAsState.AdminNameClaim),
            AuditActions.ViewAs, $"User {target}", $"{what} {target}", cancellationToken: cancellationToken);
    }

    /// <summary>The session ended while viewing as someone: the log says so, as a Stop would have.</summary>
    public async ValueTask DisposeAsync() => await EndAsync("Session ended while viewing as", CancellationToken.None);

    /// <summary>Only a synchronous scope disposal (not a circuit's) lands here; it cannot write the log and leaves it.</summary>
    public void Dispose()
    {
    }
}
