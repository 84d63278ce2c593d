using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>
/// Whether a public-link visitor's link still opens its dashboard: not revoked or expired, public links on, and the
/// dashboard the visit was opened for. Read afresh on every call, so revoking, expiry or turning public links off ends
/// an open visit too. The links themselves are made and revoked in <c>Sharing</c>.
/// </summary>
internal static class PublicLinkValidity
{
    /// <summary>On a public visitor's principal: the dashboard its link opens.</summary>
    public const string DashboardClaim = "segmentportal:public-dashboard";

    /// <summary>A public visitor's link, if it is still valid now; null otherwise.</summary>
    internal static async Task<PublicLink?> ValidLinkAsync(IPortalDb db, ClaimsPrincipal visitor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!int.TryParse(visitor.FindFirstValue(PublicBoardScope.LinkClaim), CultureInfo.InvariantCulture, out var linkId))
        {
            return null;
        }
        var enabled = await db.PortalSettings.AsNoTracking().Where(s => s.Key == PortalSettings.PublicLinksEnabled).Select(s => s.Value).SingleOrDefaultAsync(cancellationToken);
        if (!bool.TryParse(enabled, out var on) || !on)
        {
            return null;
        }
        var link = await db.PublicLinks.AsNoTracking().SingleOrDefaultAsync(l => l.Id == linkId, cancellationToken);
        return link is not null && link.RevokedAt is null && link.ExpiresAt > now && link.DashboardId.ToString(CultureInfo.InvariantCulture) == visitor.FindFirstValue(DashboardClaim)
            ? link : null;
    }
}
