using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Delivery;

/// <summary>
/// Signs webhook payloads with the Standard Webhooks scheme (HMAC-SHA256 over <c>id.timestamp.body</c>). The web host
/// implements it with the StandardWebhooks package; Core stays free of ASP.NET Core, which that package brings.
/// </summary>
public interface IWebhookSigner
{
    /// <summary>The <c>webhook-signature</c> header's value (<c>v1,…</c>) for <paramref name="body"/> sent with this id and time.</summary>
    string Sign(string secret, string messageId, DateTimeOffset timestamp, string body);
}

/// <summary>
/// Which webhook URLs the portal posts to: https only (http too in Development), and hosts checked like database
/// connections' (<see cref="HostGuard"/>: never link-local or cloud-metadata addresses), plus no loopback outside
/// Development. Checked when an endpoint is saved and again at every connect, since DNS answers change.
/// </summary>
internal sealed class WebhookUrlPolicy(HostGuard hosts, bool allowLocal)
{
    public bool AllowLocal => allowLocal;

    public Uri CheckUrl(string? url)
    {
        var text = url?.Trim() ?? "";
        if (text.Length == 0)
        {
            throw new PortalException("Enter the webhook's URL.");
        }
        if (text.Length > WebhookEndpoint.MaxUrlLength || !Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new PortalException("Enter a full URL, such as https://hooks.example.com/portal.");
        }
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowLocal && uri.Scheme == Uri.UriSchemeHttp))
        {
            throw new PortalException(allowLocal ? "Webhook URLs start with https:// (or http:// in Development)." : "Webhook URLs must use https://.");
        }
        if (uri.UserInfo.Length > 0)
        {
            throw new PortalException("Put no user name or password in the URL; the portal signs each request instead.");
        }
        return uri;
    }

    /// <summary>Checks the URL and its host's addresses; returns the addresses (IPv4 first) that may be connected to.</summary>
    public async Task<IReadOnlyList<IPAddress>> CheckAsync(string? url, CancellationToken cancellationToken)
    {
        var uri = CheckUrl(url);
        return await CheckHostAsync(uri.IdnHost, cancellationToken);
    }

    public async Task<IReadOnlyList<IPAddress>> CheckHostAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = await hosts.CheckAsync(host, cancellationToken);
        if (!allowLocal)
        {
            foreach (var address in addresses)
            {
                if (IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4())))
                {
                    throw new PortalException($"The portal does not post webhooks to {host}: it is this machine (loopback), allowed only in Development.");
                }
            }
        }
        return addresses;
    }
}

/// <summary>
/// Posts outbox webhook messages: the body in the endpoint's format, with <c>webhook-id</c> (the idempotency key),
/// <c>webhook-timestamp</c> and <c>webhook-signature</c> headers. Connects only to an address the URL policy checked
/// at that moment, and follows no redirects.
/// </summary>
internal sealed class WebhookDelivery : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly IPortalDbFactory _dbFactory;
    private readonly ISecretProtector _secrets;
    private readonly IWebhookSigner _signer;
    private readonly TimeProvider _clock;
    private readonly HttpClient _http;

    public WebhookDelivery(IPortalDbFactory dbFactory, ISecretProtector secrets, IWebhookSigner signer, WebhookUrlPolicy policy, TimeProvider clock)
    {
        _dbFactory = dbFactory;
        _secrets = secrets;
        _signer = signer;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ConnectCallback = async (context, ct) =>
            {
                var addresses = await policy.CheckHostAsync(context.DnsEndPoint.Host, ct);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses.ToArray(), context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { Timeout = Timeout };
    }

    public async Task SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        WebhookEndpoint? endpoint = null;
        if (int.TryParse(message.Recipient, NumberStyles.None, CultureInfo.InvariantCulture, out var endpointId))
        {
            await using var db = await _dbFactory.CreateAsync(cancellationToken);
            endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == endpointId, cancellationToken);
        }
        if (endpoint is null)
        {
            throw new PermanentDeliveryException("The webhook endpoint was removed.");
        }
        await PostAsync(endpoint, message.IdempotencyKey, Body(message, endpoint.Format), cancellationToken);
    }

    /// <summary>
    /// Posts <paramref name="body"/> (JSON) to <paramref name="endpoint"/>, signed, with <paramref name="messageId"/> as
    /// <c>webhook-id</c> (receivers drop a repeated id); throws when the endpoint does not answer 2xx.
    /// </summary>
    internal async Task PostAsync(WebhookEndpoint endpoint, string messageId, string body, CancellationToken cancellationToken)
    {
        var timestamp = _clock.GetUtcNow();
        var secret = _secrets.Unprotect(endpoint.ProtectedSecret);

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("SegmentPortal", "1.0"));
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", _signer.Sign(secret, messageId, timestamp, body));

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await ReadSomeAsync(response, cancellationToken);
            throw new HttpRequestException($"The endpoint answered {(int)response.StatusCode} {response.ReasonPhrase}{(text.Length > 0 ? ": " + text : "")}",
                null, response.StatusCode);
        }
    }

    /// <summary>The request body for <paramref name="format"/>.</summary>
    internal static string Body(OutboxMessage message, WebhookFormat format)
    {
        var text = string.IsNullOrWhiteSpace(message.TextBody) ? message.Subject : $"{message.Subject}\n{message.TextBody}";
        JsonObject body = format switch
        {
            WebhookFormat.Slack => new JsonObject { ["text"] = text },
            WebhookFormat.Teams => new JsonObject { ["title"] = message.Subject, ["text"] = message.TextBody ?? message.Subject },
            _ => new JsonObject
            {
                ["type"] = message.EventType ?? "portal.event",
                ["timestamp"] = message.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["data"] = Data(message),
            },
        };
        return body.ToJsonString();
    }

    private static JsonNode Data(OutboxMessage message)
    {
        if (message.PayloadJson is { Length: > 0 } json)
        {
            try
            {
                if (JsonNode.Parse(json) is { } node)
                {
                    return node;
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: sent as text below.
            }
        }
        return new JsonObject { ["subject"] = message.Subject, ["text"] = message.TextBody };
    }

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            text = text.ReplaceLineEndings(" ").Trim();
            return text.Length > 200 ? text[..200] + "…" : text;
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    public void Dispose() => _http.Dispose();
}
