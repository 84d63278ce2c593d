namespace SegmentPortal.Web.Api;

/// <summary>The REST API's limits (section "Api").</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Requests one token (or signed-in user, or client address without either) may make a minute.</summary>
    public int RequestsPerMinute { get; set; } = 120;

    /// <summary>The largest request body of an endpoint without its own limit (uploads have Import:MaxUploadBytes).</summary>
    public long MaxRequestBytes { get; set; } = 1024 * 1024;
}
