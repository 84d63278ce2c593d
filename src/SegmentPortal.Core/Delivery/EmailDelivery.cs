using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Delivery;

/// <summary>A delivery that will never succeed (no such user, no such endpoint): the message fails at once, without retries.</summary>
internal sealed class PermanentDeliveryException(string message) : Exception(message);

/// <summary>
/// Sends outbox e-mail through the SMTP server (MailKit), or, when no host is set, writes it as an .eml file to the
/// data folder's <c>outbox/mail</c> (the development outbox). The Message-ID is made from the idempotency key, so a
/// retried message is recognisably the same one.
/// </summary>
internal sealed class EmailDelivery(SmtpSettingsStore settings, IPortalDbFactory dbFactory, StoragePaths paths, HostGuard hosts)
{
    private const int TimeoutMilliseconds = 30_000;

    public static string MailFolder(StoragePaths paths) => Path.Combine(paths.DataDirectory, "outbox", "mail");

    /// <summary>The Message-ID (without angle brackets) of the message with this idempotency key.</summary>
    public static string MessageIdFor(string idempotencyKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..40] + "@segmentportal.outbox";

    /// <summary>Sends the message; returns the file it was written to when the development outbox took it.</summary>
    public async Task<string?> SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var smtp = await settings.GetAsync(cancellationToken);
        var mime = await BuildAsync(message, smtp.From, cancellationToken);
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            return await WriteToFolderAsync(message, mime, cancellationToken);
        }
        await SendSmtpAsync(smtp, mime, cancellationToken);
        return null;
    }

    /// <summary>Sends one message now through <paramref name="smtp"/> (the "Send test email" path goes through the outbox instead).</summary>
    private async Task SendSmtpAsync(SmtpSettings smtp, MimeMessage mime, CancellationToken cancellationToken)
    {
        // The server's name is checked like a connection's host: never link-local or cloud-metadata addresses.
        await hosts.CheckAsync(smtp.Host!, cancellationToken);
        using var client = new SmtpClient { Timeout = TimeoutMilliseconds };
        await client.ConnectAsync(smtp.Host!, smtp.Port, smtp.Tls switch
        {
            SmtpTls.None => SecureSocketOptions.None,
            SmtpTls.StartTls => SecureSocketOptions.StartTls,
            SmtpTls.SslOnConnect => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        }, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.User))
        {
            await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", cancellationToken);
        }
        await client.SendAsync(mime, cancellationToken);
        await client.DisconnectAsync(true, cancellationToken);
    }

    private async Task<string> WriteToFolderAsync(OutboxMessage message, MimeMessage mime, CancellationToken cancellationToken)
    {
        var folder = MailFolder(paths);
        Directory.CreateDirectory(folder);
        // Named by the message's id and key, so a retry overwrites its own file.
        var path = Path.Combine(folder, $"{message.Id:D8}-{MessageIdFor(message.IdempotencyKey)[..16]}.eml");
        var temp = path + ".tmp";
        await using (var stream = File.Create(temp))
        {
            await mime.WriteToAsync(stream, cancellationToken);
        }
        File.Move(temp, path, overwrite: true);
        return path;
    }

    internal async Task<MimeMessage> BuildAsync(OutboxMessage message, string from, CancellationToken cancellationToken)
    {
        var to = await AddressOfAsync(message.Recipient, cancellationToken);
        var mime = new MimeMessage();
        mime.From.Add(ParseAddress(from, "the sender (Smtp:From)"));
        mime.To.Add(to);
        mime.Subject = message.Subject;
        mime.MessageId = MessageIdFor(message.IdempotencyKey);
        mime.Date = message.CreatedAt;
        var body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody };
        if (message.AttachmentsJson is { Length: > 0 } json)
        {
            foreach (var attachment in JsonSerializer.Deserialize<List<OutboxAttachment>>(json) ?? [])
            {
                if (!File.Exists(attachment.Path))
                {
                    throw new PermanentDeliveryException($"The attachment {attachment.FileName} is no longer in the data folder.");
                }
                var content = await File.ReadAllBytesAsync(attachment.Path, cancellationToken);
                if (attachment.Inline)
                {
                    // Shown in the HTML where it says cid:<file name>.
                    body.LinkedResources.Add(attachment.FileName, content, ContentType.Parse(attachment.ContentType)).ContentId = attachment.FileName;
                }
                else
                {
                    body.Attachments.Add(attachment.FileName, content, ContentType.Parse(attachment.ContentType));
                }
            }
        }
        mime.Body = body.ToMessageBody();
        return mime;
    }

    private async Task<MailboxAddress> AddressOfAsync(string recipient, CancellationToken cancellationToken)
    {
        if (recipient.Contains('@', StringComparison.Ordinal))
        {
            return ParseAddress(recipient, "the recipient");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == recipient).Select(u => new { u.Email, u.DisplayName }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new PermanentDeliveryException("The recipient is no longer a user of the portal.");
        if (string.IsNullOrWhiteSpace(user.Email))
        {
            throw new PermanentDeliveryException("The recipient has no e-mail address.");
        }
        return new MailboxAddress(user.DisplayName ?? "", user.Email);
    }

    private static MailboxAddress ParseAddress(string text, string what) =>
        MailboxAddress.TryParse(text, out var address) && address.Address.Contains('@', StringComparison.Ordinal)
            ? address
            : throw new PermanentDeliveryException($"'{text}' is not a valid e-mail address for {what}.");
}
