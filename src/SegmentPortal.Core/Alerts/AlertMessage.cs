using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Alerts;

/// <summary>
/// The words of one alert message, with or without figures: a recipient who does not see the data as the owner does is
/// told that the alert fired or cleared and where to look, and nothing of the value, the threshold's side or customers.
/// </summary>
internal sealed class AlertMessage(Alert alert, AlertCheck check, AlertResult result, AlertTransition transition, PortalPerson owner, Delivery.PortalAddress? address = null)
{
    public const string ChartFileName = "chart.png";

    private bool Fired => transition == AlertTransition.Fired;

    public string EventType => Fired ? "alert.fired" : "alert.cleared";

    /// <summary>The page the alert is about, relative to the portal.</summary>
    public string Link => alert.Subject switch
    {
        AlertSubject.Metric => $"/metrics/{alert.MetricId}?alert={alert.Id}",
        AlertSubject.Tile => $"/dashboards/{alert.DashboardId}?alert={alert.Id}",
        _ => $"/segments/{alert.SegmentId}?alert={alert.Id}",
    };

    public (string Title, string Body) Text(bool figures)
    {
        // The title carries the figure only for those who may see it: "Revenue misses its target: €30".
        var title = !Fired ? $"{alert.Name}: back to normal"
            : figures && result.Reading.Value is { } value ? $"{alert.Name}: {result.Format(value)}"
            : $"{alert.Name}: fired";
        if (!figures)
        {
            return (title, $"The alert “{alert.Name}” on {result.SubjectName} {(Fired ? "fired" : "cleared")}. Its figures are not included because you see "
                + "different data than the alert's owner; open it in the portal to see yours.");
        }
        var body = new StringBuilder(result.Reading.Reason);
        if (result.Period is { } period)
        {
            body.Append(CultureInfo.InvariantCulture, $" ({period}.)");
        }
        if (result.Customers.Count > 0)
        {
            body.Append(" Customers: ").AppendJoin(", ", result.Customers);
            if (result.CustomersNotListed > 0)
            {
                body.Append(CultureInfo.InvariantCulture, $" and {result.CustomersNotListed:N0} more");
            }
            body.Append('.');
        }
        body.Append(CultureInfo.InvariantCulture, $" Checked as {owner.Label} sees the data.");
        return (title, body.ToString());
    }

    public byte[]? ChartPng() => result.Trend.Count < 2 ? null : AlertChart.Png(result.Trend, result.Reading.Band, Fired);

    public string Html(bool figures, bool withChart)
    {
        var (title, body) = Text(figures);
        var link = address?.Link(Link) ?? Link;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><body style=\"font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#212121;max-width:560px\">");
        html.Append(CultureInfo.InvariantCulture, $"<h2 style=\"margin:0 0 8px;color:{(Fired ? "#c62828" : "#2e7d32")}\">{E(title)}</h2>");
        if (figures && result.Reading.Value is { } value)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p style=\"font-size:28px;margin:8px 0\"><b>{E(result.Format(value))}</b>");
            if (result.Period is { } period)
            {
                html.Append(CultureInfo.InvariantCulture, $" <span style=\"font-size:14px;color:#616161\">{E(period)}</span>");
            }
            html.Append("</p>");
            html.Append(CultureInfo.InvariantCulture, $"<p style=\"margin:4px 0;color:#616161\">Alert when {E(result.SubjectName)} is {E(result.Threshold)}.</p>");
        }
        if (withChart)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p><img src=\"cid:{ChartFileName}\" width=\"{AlertChart.Width}\" height=\"{AlertChart.Height}\" alt=\"Recent values of {E(result.SubjectName)}\"></p>");
        }
        html.Append(CultureInfo.InvariantCulture, $"<p>{E(body)}</p>");
        html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{E(link)}\" style=\"background:#594ae2;color:#fff;padding:8px 16px;border-radius:4px;text-decoration:none\">Open in SegmentPortal</a></p>");
        html.Append(CultureInfo.InvariantCulture, $"<p style=\"font-size:12px;color:#9e9e9e\">Alert “{E(alert.Name)}”, check {check.Id}. Mute or snooze it on its page.</p>");
        html.Append("</body></html>");
        return html.ToString();
    }

    /// <summary>The webhook event: what fired, the figures as the owner sees them, and links.</summary>
    public string PayloadJson()
    {
        var (title, body) = Text(figures: true);
        return JsonSerializer.Serialize(new
        {
            type = EventType,
            title,
            text = body,
            alert = new { id = alert.Id, name = alert.Name, subject = alert.Subject.ToString().ToLowerInvariant(), subjectName = result.SubjectName },
            check = new
            {
                id = check.Id,
                at = check.CheckedAt,
                value = result.Reading.Value,
                compared = result.Reading.Compared,
                condition = result.Threshold,
                period = result.Period,
                firing = Fired,
            },
            url = address?.Link(Link) ?? Link,
        }, AlertService.JsonOptions);
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
