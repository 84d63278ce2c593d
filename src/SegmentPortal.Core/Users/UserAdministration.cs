using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Users;

public sealed record UserRow(
    string Id,
    string Email,
    string DisplayName,
    IReadOnlyList<string> Roles,
    bool IsDisabled,
    bool IsLockedOut,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt);

public sealed record NewUser(string Email, string DisplayName, string Password, IReadOnlyCollection<string> Roles);

/// <summary>A change an admin asked for could not be made; the message says why, for people.</summary>
internal sealed class UserAdministrationException(string message) : PortalException(message);

/// <summary>
/// Admin work on users. Every method checks the caller may manage users, whatever page called it.
/// Each operation gets its own short-lived <see cref="UserManager{TUser}"/> (a circuit lives too long to keep one).
/// </summary>
public sealed class UserAdministration(
    ICurrentUser currentUser,
    IServiceScopeFactory scopes,
    IPortalDbFactory dbFactory,
    TimeProvider clock,
    AuditLog audit)
{
    public async Task<IReadOnlyList<UserRow>> ListAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var roleNames = await db.Roles.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.Name ?? "", cancellationToken);
        var memberships = await db.UserRoles.AsNoTracking().ToListAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.Email).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        return users.Select(u => new UserRow(
            u.Id,
            u.Email ?? u.UserName ?? "",
            u.DisplayName,
            memberships.Where(m => m.UserId == u.Id).Select(m => roleNames.GetValueOrDefault(m.RoleId, "")).Order().ToList(),
            u.IsDisabled,
            u.LockoutEnd is { } end && end > now,
            u.CreatedAt,
            u.LastSignInAt)).ToList();
    }

    public async Task<string> CreateAsync(NewUser request)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        var email = request.Email.Trim();
        if (email.Length == 0 || !email.Contains('@', StringComparison.Ordinal))
        {
            throw new UserAdministrationException("Enter the user's email address.");
        }
        var roles = CheckRoles(request.Roles);

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        if (await users.FindByEmailAsync(email) is not null)
        {
            throw new UserAdministrationException($"A user with the email {email} already exists.");
        }
        var user = new AppUser
        {
            UserName = email,
            Email = email,
            EmailConfirmed = true,
            DisplayName = string.IsNullOrWhiteSpace(request.DisplayName) ? email : request.DisplayName.Trim(),
            CreatedAt = clock.GetUtcNow(),
        };
        Check(await users.CreateAsync(user, request.Password));
        Check(await users.AddToRolesAsync(user, roles));
        await audit.RecordAsync(AuditActions.UserChanged, $"User {email}", $"Created with roles {string.Join(", ", roles)}");
        return user.Id;
    }

    /// <summary>Disabling also renews the security stamp, which ends the user's open sessions.</summary>
    public async Task SetDisabledAsync(string userId, bool disabled)
    {
        var actor = await currentUser.RequireAsync(Permissions.ManageUsers);
        if (disabled && actor.UserId() == userId)
        {
            throw new UserAdministrationException("You cannot disable your own account.");
        }
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await FindAsync(users, userId);
        if (disabled && await users.IsInRoleAsync(user, Roles.Admin))
        {
            await EnsureAnotherActiveAdminAsync(users, userId);
        }
        user.IsDisabled = disabled;
        Check(await users.UpdateAsync(user));
        Check(await users.UpdateSecurityStampAsync(user));
        await audit.RecordAsync(AuditActions.UserChanged, $"User {user.Email}", disabled ? "Disabled" : "Enabled");
    }

    public async Task ResetPasswordAsync(string userId, string newPassword)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await FindAsync(users, userId);
        var token = await users.GeneratePasswordResetTokenAsync(user);
        Check(await users.ResetPasswordAsync(user, token, newPassword));
        // A reset also lifts a lockout: the admin has just vouched for the user.
        Check(await users.SetLockoutEndDateAsync(user, null));
        Check(await users.ResetAccessFailedCountAsync(user));
        await audit.RecordAsync(AuditActions.UserChanged, $"User {user.Email}", "Password reset");
    }

    public async Task SetRolesAsync(string userId, IReadOnlyCollection<string> roles)
    {
        var actor = await currentUser.RequireAsync(Permissions.ManageUsers);
        var wanted = CheckRoles(roles);
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await FindAsync(users, userId);
        var current = await users.GetRolesAsync(user);
        if (current.Contains(Roles.Admin) && !wanted.Contains(Roles.Admin))
        {
            if (actor.UserId() == userId)
            {
                throw new UserAdministrationException("You cannot remove your own Admin role.");
            }
            await EnsureAnotherActiveAdminAsync(users, userId);
        }
        Check(await users.RemoveFromRolesAsync(user, current.Except(wanted).ToList()));
        Check(await users.AddToRolesAsync(user, wanted.Except(current).ToList()));
        // Open sessions pick up the new roles at their next check.
        Check(await users.UpdateSecurityStampAsync(user));
        await audit.RecordAsync(AuditActions.UserChanged, $"User {user.Email}",
            $"Roles changed from {(current.Count == 0 ? "none" : string.Join(", ", current.Order()))} to {string.Join(", ", wanted.Order())}");
    }

    private static async Task<AppUser> FindAsync(UserManager<AppUser> users, string userId) =>
        await users.FindByIdAsync(userId) ?? throw new UserAdministrationException("That user no longer exists.");

    private static async Task EnsureAnotherActiveAdminAsync(UserManager<AppUser> users, string userId)
    {
        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        if (!admins.Any(a => a.Id != userId && !a.IsDisabled))
        {
            throw new UserAdministrationException("This is the last active administrator; make someone else an Admin first.");
        }
    }

    private static List<string> CheckRoles(IReadOnlyCollection<string> roles)
    {
        if (roles.Count == 0)
        {
            throw new UserAdministrationException("Choose at least one role.");
        }
        var unknown = roles.Where(r => !Roles.IsKnown(r)).ToList();
        if (unknown.Count > 0)
        {
            throw new UserAdministrationException($"Unknown role: {string.Join(", ", unknown)}.");
        }
        return roles.Distinct().ToList();
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new UserAdministrationException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }
    }
}
