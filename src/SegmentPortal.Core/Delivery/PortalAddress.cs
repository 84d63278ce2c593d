namespace SegmentPortal.Core.Delivery;

/// <summary>
/// Where people open the portal, for links in emails and webhook payloads: <c>Delivery:PortalUrl</c>, or else the first
/// address the app listens on (<c>Urls</c>).
/// </summary>
public sealed class PortalAddress(string url)
{
    public string Url { get; } = url.TrimEnd('/');

    /// <summary>An absolute link to a portal page (<paramref name="path"/> starts with '/').</summary>
    public string Link(string path) => Url + path;

    public static PortalAddress From(string? portalUrl, string? urls)
    {
        var url = !string.IsNullOrWhiteSpace(portalUrl) ? portalUrl.Trim()
            : urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "http://localhost:5080";
        // A wildcard listen address is not one a browser can open.
        return new PortalAddress(url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal));
    }
}
