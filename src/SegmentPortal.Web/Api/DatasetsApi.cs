namespace SegmentPortal.Web.Api;

/// <summary>The datasets endpoints of <see cref="ApiV1"/>.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder v1)
    {
        return v1;
    }
}
