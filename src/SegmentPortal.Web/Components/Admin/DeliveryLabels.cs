using MudBlazor;
using SegmentPortal.Core.Delivery;

namespace SegmentPortal.Web.Components.Admin;

/// <summary>Words and colours for outbox states, channels and webhook formats.</summary>
internal static class DeliveryLabels
{
    public static Color StateColor(OutboxState state) => state switch
    {
        OutboxState.Delivered => Color.Success,
        OutboxState.Failed => Color.Error,
        OutboxState.Sending => Color.Info,
        _ => Color.Warning,
    };

    public static string State(OutboxState state) => state switch
    {
        OutboxState.Pending => "Waiting",
        _ => state.ToString(),
    };

    public static string Channel(DeliveryChannel channel) => channel == DeliveryChannel.Email ? "E-mail" : "Webhook";

    public static string Recipient(OutboxMessageSummary message) =>
        message.Channel == DeliveryChannel.Webhook ? $"Endpoint #{message.Recipient}" : message.Recipient;

    public static string Format(WebhookFormat format) => format switch
    {
        WebhookFormat.Slack => "Slack-compatible",
        WebhookFormat.Teams => "Teams-compatible",
        _ => "Standard JSON",
    };

    public static string Tls(SmtpTls tls) => tls switch
    {
        SmtpTls.None => "None (plain SMTP)",
        SmtpTls.StartTls => "STARTTLS (port 587)",
        SmtpTls.SslOnConnect => "TLS on connect (port 465)",
        _ => "Auto",
    };
}
