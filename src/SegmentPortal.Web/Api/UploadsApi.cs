namespace SegmentPortal.Web.Api;

/// <summary>The uploads endpoints of <see cref="ApiV1"/>.</summary>
public static class UploadsApi
{
    public static RouteGroupBuilder MapUploadsApi(this RouteGroupBuilder v1)
    {
        return v1;
    }
}
