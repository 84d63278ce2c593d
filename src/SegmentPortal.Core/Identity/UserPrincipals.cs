using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Identity;

/// <summary>A portal user as stored now, for work done in their name without a sign-in (an alert checked as its owner).</summary>
public sealed record PortalPerson(string Id, string Email, string DisplayName, IReadOnlyList<string> Roles)
{
    public string Label => string.IsNullOrWhiteSpace(DisplayName) || DisplayName == Email ? Email : $"{DisplayName} ({Email})";

    /// <summary>The principal the permission layer sees for them: their id, name, email and roles as stored now.</summary>
    public ClaimsPrincipal Principal() => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, Id),
            new Claim(ClaimTypes.Name, Email),
            new Claim(ClaimTypes.Email, Email),
            .. Roles.Select(r => new Claim(ClaimTypes.Role, r)),
        ], authenticationType: "PortalUser"));
}

internal static class UserPrincipals
{
    /// <summary>The users that are people one can share with or tell: enabled, and not an account nobody signs in to.</summary>
    public static IQueryable<AppUser> People(this IQueryable<AppUser> users) =>
        users.Where(u => !u.IsDisabled && u.LockoutEnd != AppUser.LockedForGood);

    /// <summary>The enabled user with that id, or null when they do not exist or are disabled (they see nothing).</summary>
    public static async Task<PortalPerson?> FindEnabledAsync(this IPortalDb db, string userId, CancellationToken cancellationToken = default)
    {
        var user = await db.Users.AsNoTracking().People().Where(u => u.Id == userId)
            .Select(u => new { u.Id, u.Email, u.DisplayName }).SingleOrDefaultAsync(cancellationToken);
        return user is null ? null : new PortalPerson(user.Id, user.Email ?? user.Id, user.DisplayName, await db.RolesOfAsync(user.Id, cancellationToken));
    }

    /// <summary>The enabled members of a role.</summary>
    public static async Task<IReadOnlyList<string>> EnabledMembersAsync(this IPortalDb db, string role, CancellationToken cancellationToken = default) =>
        await (from ur in db.UserRoles
               join r in db.Roles on ur.RoleId equals r.Id
               join u in db.Users.People() on ur.UserId equals u.Id
               where r.Name == role
               select u.Id).ToListAsync(cancellationToken);
}
