namespace SegmentPortal.Web.Api;

/// <summary>The segments endpoints of <see cref="ApiV1"/>.</summary>
public static class SegmentsApi
{
    public static RouteGroupBuilder MapSegmentsApi(this RouteGroupBuilder v1)
    {
        return v1;
    }
}
