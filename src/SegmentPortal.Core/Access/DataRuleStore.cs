using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>Reads what the data rules need from the metadata store, fresh for every query: the subject and a dataset's rules.</summary>
public sealed class DataRuleStore(IPortalDbFactory dbFactory)
{
    /// <summary>The user behind a principal with their current roles and attributes; null when signed out, unknown or disabled.</summary>
    public async Task<AccessSubject?> SubjectAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default)
    {
        if (principal.Identity?.IsAuthenticated != true || principal.UserId() is not { } id)
        {
            return null;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.Id, u.Email, u.DisplayName, u.IsDisabled }).SingleOrDefaultAsync(cancellationToken);
        if (user is null || user.IsDisabled)
        {
            return null;
        }
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           where ur.UserId == id
                           select r.Name).ToListAsync(cancellationToken);
        var attributes = await db.UserAttributes.AsNoTracking().Where(a => a.UserId == id).ToListAsync(cancellationToken);
        return new AccessSubject(user.Id, user.Email, user.DisplayName, roles.OfType<string>().ToHashSet(StringComparer.Ordinal),
            attributes.GroupBy(a => a.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.OrdinalIgnoreCase));
    }

    public async Task<DatasetRules> ForDatasetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await db.RowRules.AsNoTracking().Where(r => r.DatasetId == datasetId).OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var columns = await db.ColumnRules.AsNoTracking().Where(r => r.DatasetId == datasetId).ToListAsync(cancellationToken);
        return rows.Count == 0 && columns.Count == 0 ? DatasetRules.None : new DatasetRules(rows, columns);
    }
}
