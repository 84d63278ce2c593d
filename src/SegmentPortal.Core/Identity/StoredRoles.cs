using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Identity;

internal static class StoredRoles
{
    /// <summary>A user's roles as stored now (not as their sign-in cookie says): what data rules, view-as and public links go by.</summary>
    public static async Task<IReadOnlyList<string>> RolesOfAsync(this IPortalDb db, string userId, CancellationToken cancellationToken = default) =>
        (await (from ur in db.UserRoles
                join r in db.Roles on ur.RoleId equals r.Id
                where ur.UserId == userId
                select r.Name).ToListAsync(cancellationToken)).OfType<string>().ToList();
}
