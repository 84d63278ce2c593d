using System.Security.Claims;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Access;

/// <summary>Who is asking, as the data rules see them, and whether Admins are exempt; read once per query.</summary>
public sealed record DataSubject(AccessSubject Who, bool AdminsSeeAll);

/// <summary>
/// The row and column rules applied to one dataset for one subject, read from <see cref="DataRuleStore"/> (the access
/// cache: a saved change applies to the next query). Callers reach it through <see cref="Authorizer"/>.
/// </summary>
internal sealed class DataViews(DataRuleStore rules, PortalSettings settings)
{
    public async Task<DataSubject> SubjectAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var who = await rules.SubjectAsync(user, cancellationToken) ?? throw new PermissionDeniedException("Your account is disabled or no longer exists. Sign in again.");
        // The session's roles may be older than the store's: a role taken away stops the next query, not the next sign-in.
        if (!Permissions.RolesGranted(Permissions.ViewData).Any(who.Roles.Contains))
        {
            throw new PermissionDeniedException("Your roles no longer let you see data. Sign in again or ask an Admin.");
        }
        return new(who, await settings.GetFlagAsync(PortalSettings.AdminsSeeAllData, fallback: true, cancellationToken));
    }

    public async Task<QueryDataset> RestrictAsync(QueryDataset described, DataSubject subject, CancellationToken cancellationToken)
    {
        var datasetRules = await rules.ForDatasetAsync(described.Id, cancellationToken);
        var hashKey = datasetRules.ColumnRules.Any(r => r.Treatment == ColumnTreatment.Hashed) ? await settings.HashKeyAsync(cancellationToken) : "";
        return DataPolicy.Restrict(described, datasetRules, subject.Who, subject.AdminsSeeAll, hashKey);
    }
}
