using SegmentPortal.Core.Delivery;
using StandardWebhooks;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// Signs webhook payloads with the StandardWebhooks package (the Standard Webhooks scheme: HMAC-SHA256 over
/// <c>id.timestamp.body</c>, header value <c>v1,&lt;base64&gt;</c>), so receivers can verify them with any Standard Webhooks
/// library. Lives in the web host because the package depends on ASP.NET Core.
/// </summary>
internal sealed class StandardWebhookSigner : IWebhookSigner
{
    public string Sign(string secret, string messageId, DateTimeOffset timestamp, string body) =>
        new StandardWebhook(secret).Sign(messageId, timestamp, body);
}
