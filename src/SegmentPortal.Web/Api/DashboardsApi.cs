namespace SegmentPortal.Web.Api;

/// <summary>The dashboards endpoints of <see cref="ApiV1"/>.</summary>
public static class DashboardsApi
{
    public static RouteGroupBuilder MapDashboardsApi(this RouteGroupBuilder v1)
    {
        return v1;
    }
}
