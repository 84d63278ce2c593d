namespace SegmentPortal.Core.Delivery;

/// <summary>The outbox worker's retry policy (<c>Delivery</c> in appsettings.json).</summary>
internal sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Attempts before a message is marked Failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait after the first failed attempt; it doubles after each further failure.</summary>
    public int FirstRetrySeconds { get; set; } = 30;

    /// <summary>The longest wait between two attempts.</summary>
    public int MaxRetrySeconds { get; set; } = 3600;

    /// <summary>How often the worker looks for due messages when nothing tells it one was added.</summary>
    public int PollSeconds { get; set; } = 15;

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1, after <paramref name="attempts"/> failed ones.</summary>
    public TimeSpan Backoff(int attempts)
    {
        var first = Math.Max(1, FirstRetrySeconds);
        var seconds = first * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, Math.Max(first, MaxRetrySeconds)));
    }
}

/// <summary>How the portal reaches its SMTP server.</summary>
public enum SmtpTls
{
    /// <summary>Plain SMTP, no encryption (a relay on the same host or network only).</summary>
    None,

    /// <summary>Connect in plain text, then require STARTTLS (usually port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (usually port 465).</summary>
    SslOnConnect,

    /// <summary>TLS on port 465, STARTTLS when the server offers it on other ports.</summary>
    Auto,
}

/// <summary>
/// The SMTP server (<c>Smtp</c> in appsettings.json); settings saved on Admin &gt; Delivery settings replace these.
/// Without a host, e-mail is written as .eml files to the data folder's <c>outbox/mail</c>.
/// </summary>
internal sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public string? User { get; set; }

    public string? Password { get; set; }

    public string? From { get; set; }

    public SmtpTls Tls { get; set; } = SmtpTls.StartTls;
}
