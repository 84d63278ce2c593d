namespace SegmentPortal.Core.Delivery;

/// <summary>The shape of a webhook's body.</summary>
public enum WebhookFormat
{
    /// <summary><c>{"type", "timestamp", "data"}</c>, signed with the Standard Webhooks scheme.</summary>
    StandardJson,

    /// <summary><c>{"text"}</c>, what a Slack incoming webhook takes.</summary>
    Slack,

    /// <summary><c>{"title", "text"}</c>, what a Microsoft Teams incoming webhook takes.</summary>
    Teams,
}

/// <summary>A URL the portal posts events to, with the secret its payloads are signed with (kept encrypted).</summary>
public class WebhookEndpoint
{
    public const int MaxNameLength = 200;
    public const int MaxUrlLength = 2000;

    public int Id { get; set; }

    public required string Name { get; set; }

    public required string Url { get; set; }

    public WebhookFormat Format { get; set; }

    /// <summary>The <c>whsec_…</c> secret, encrypted with the portal's secret protector. Shown once, when the endpoint is made.</summary>
    public required string ProtectedSecret { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}
