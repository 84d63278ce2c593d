using System.Globalization;
using System.Net;
using System.Text;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Exports;

namespace SegmentPortal.Core.Subscriptions;

/// <summary>The e-mails subscriptions send: readable HTML with a plain-text twin.</summary>
internal static class SubscriptionEmails
{
    /// <summary>The board picture's file name, which is also its Content-ID (the HTML shows it as <c>cid:board.png</c>).</summary>
    public const string BoardImageId = "board.png";

    /// <summary>
    /// A board as the recipient sees it: the PNG inline and the PDF attached, with a link; without files (the board's
    /// exports are off for them) the link only, and a line saying why.
    /// </summary>
    public static OutboxRequest Board(string userId, string key, string name, string link, string manageLink, string why, byte[]? png, byte[]? pdf)
    {
        var files = new List<OutboxFile>();
        var html = new StringBuilder();
        var text = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<p>The board <b>{E(name)}</b>, as you see it in SegmentPortal.</p>");
        text.Append(CultureInfo.InvariantCulture, $"The board \"{name}\", as you see it in SegmentPortal.\n\n");
        if (png is not null && pdf is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{E(link)}\"><img src=\"cid:{BoardImageId}\" alt=\"{E(name)}\" style=\"max-width:100%;border:1px solid #ddd\"></a></p>");
            html.Append("<p>The whole board is attached as a PDF.</p>");
            text.Append("The whole board is attached as a PDF.\n");
            files.Add(new OutboxFile(BoardImageId, "image/png", png) { Inline = true });
            files.Add(new OutboxFile($"{FileName(name)}.pdf", "application/pdf", pdf));
        }
        else
        {
            html.Append("<p>Exports of this board are turned off for viewers, so this message carries the link only.</p>");
            text.Append("Exports of this board are turned off for viewers, so this message carries the link only.\n");
        }
        html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{E(link)}\">Open the board</a></p>");
        text.Append(CultureInfo.InvariantCulture, $"Open the board: {link}\n");
        Footer(html, text, why, manageLink);
        return OutboxRequest.Email(userId, $"{name} (board subscription)", html.ToString(), text.ToString(), key, files);
    }

    /// <summary>A segment's size, change, entered and left counts, and the member file when the recipient may have it.</summary>
    public static OutboxRequest Segment(string userId, string key, SegmentFigures figures, string link, string manageLink, string why, byte[]? csv)
    {
        var html = new StringBuilder();
        var text = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<p>The segment <b>{E(figures.Name)}</b>, as you see it in SegmentPortal.</p><table style=\"border-collapse:collapse\">");
        text.Append(CultureInfo.InvariantCulture, $"The segment \"{figures.Name}\", as you see it in SegmentPortal.\n\n");
        void Row(string label, string value)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td style=\"padding:2px 12px 2px 0;color:#555\">{E(label)}</td><td style=\"padding:2px 0\"><b>{E(value)}</b></td></tr>");
            text.Append(CultureInfo.InvariantCulture, $"{label}: {value}\n");
        }
        Row("Customers", figures.Size is { } size ? N(size) : "not counted yet");
        if (!figures.Restricted)
        {
            if (figures.RefreshedAt is { } at)
            {
                Row("Last refreshed", at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
            }
            Row("Change since the previous refresh", figures.Change is { } change ? (change > 0 ? "+" : "") + N(change) : "no earlier refresh");
            Row("Entered", figures.Entered is { } entered ? N(entered) : "–");
            Row("Left", figures.Left is { } left ? N(left) : "–");
        }
        html.Append("</table>");
        if (figures.Restricted)
        {
            html.Append("<p>The size is counted over the rows you may see. Changes, entered and left are counted over all rows, so they are not shown to you.</p>");
            text.Append("The size is counted over the rows you may see. Changes, entered and left are counted over all rows, so they are not shown to you.\n");
        }
        var files = new List<OutboxFile>();
        if (csv is not null)
        {
            files.Add(new OutboxFile($"{FileName(figures.Name)} members.csv", TableExport.CsvContentType, csv));
            html.Append("<p>The members are attached as a CSV file.</p>");
            text.Append("The members are attached as a CSV file.\n");
        }
        else if (figures.MembersTooMany)
        {
            html.Append("<p>The segment has too many members to attach; download them from the segment's page.</p>");
            text.Append("The segment has too many members to attach; download them from the segment's page.\n");
        }
        html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{E(link)}\">Open the segment</a></p>");
        text.Append(CultureInfo.InvariantCulture, $"\nOpen the segment: {link}\n");
        Footer(html, text, why, manageLink);
        return OutboxRequest.Email(userId, $"{figures.Name} (segment subscription)", html.ToString(), text.ToString(), key, files);
    }

    private static void Footer(StringBuilder html, StringBuilder text, string why, string manageLink)
    {
        html.Append(CultureInfo.InvariantCulture,
            $"<p style=\"color:#777;font-size:12px\">You get this {E(why)} because of a subscription. <a href=\"{E(manageLink)}\">Pause or delete your subscriptions</a>.</p>");
        text.Append(CultureInfo.InvariantCulture, $"\nYou get this {why} because of a subscription. Pause or delete your subscriptions: {manageLink}\n");
    }

    private static string FileName(string name)
    {
        var safe = string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_' ? c : '_')).Trim();
        return safe.Length == 0 ? "board" : safe;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
