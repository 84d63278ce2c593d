using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>
/// Reads what the data rules need from the metadata store: the subject and a dataset's rules, as of the last change
/// (<see cref="AccessCache"/>: a saved change applies to the next query).
/// </summary>
public sealed class DataRuleStore(IPortalDbFactory dbFactory, AccessCache cache)
{
    /// <summary>The user behind a principal with their current roles and attributes; null when signed out, unknown or disabled.</summary>
    public async Task<AccessSubject?> SubjectAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default)
    {
        if (principal.Identity?.IsAuthenticated != true || principal.UserId() is not { } id)
        {
            return null;
        }
        return await cache.GetAsync($"subject:{id}", () => LoadSubjectAsync(id, cancellationToken));
    }

    public Task<DatasetRules> ForDatasetAsync(int datasetId, CancellationToken cancellationToken = default) =>
        cache.GetAsync($"rules:{datasetId}", () => LoadRulesAsync(datasetId, cancellationToken));

    private async Task<AccessSubject?> LoadSubjectAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.Id, u.Email, u.DisplayName, u.IsDisabled }).SingleOrDefaultAsync(cancellationToken);
        if (user is null || user.IsDisabled)
        {
            return null;
        }
        var roles = await db.RolesOfAsync(id, cancellationToken);
        var attributes = await db.UserAttributes.AsNoTracking().Where(a => a.UserId == id).ToListAsync(cancellationToken);
        return new AccessSubject(user.Id, user.Email, user.DisplayName, roles.ToHashSet(StringComparer.Ordinal),
            attributes.GroupBy(a => a.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.OrdinalIgnoreCase));
    }

    private async Task<DatasetRules> LoadRulesAsync(int datasetId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await db.RowRules.AsNoTracking().Where(r => r.DatasetId == datasetId).OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var columns = await db.ColumnRules.AsNoTracking().Where(r => r.DatasetId == datasetId).ToListAsync(cancellationToken);
        return rows.Count == 0 && columns.Count == 0 ? DatasetRules.None : new DatasetRules(rows, columns);
    }
}
