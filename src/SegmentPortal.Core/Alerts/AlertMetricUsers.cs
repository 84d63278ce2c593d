using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Alerts;

/// <summary>The alerts on a metric, for its page ("used by") and so a metric an alert watches is not deleted under it.</summary>
internal sealed class AlertMetricUsers(ICurrentUser currentUser, IPortalDbFactory dbFactory) : IMetricUsers
{
    public async Task<IReadOnlyList<MetricUse>> UsesAsync(int metricId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var alerts = await db.Alerts.AsNoTracking().Where(a => a.MetricId == metricId)
            .Select(a => new { a.Id, a.Name, a.OwnerId }).ToListAsync(cancellationToken);
        return alerts.OrderBy(a => a.Name, StringComparer.CurrentCultureIgnoreCase)
            .Select(a => new MetricUse(MetricUseKind.Alert, a.Id, a.Name, null, null, a.OwnerId == user.UserId() || user.IsInRole(Roles.Admin)))
            .ToList();
    }
}
