using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Delivery;

/// <summary>The SMTP settings as the Admin page shows them: never the password, only whether one is set.</summary>
public sealed record SmtpSettingsView(string? Host, int Port, string? User, bool HasPassword, string? From, SmtpTls Tls, bool SavedInPortal)
{
    /// <summary>No host: e-mail is written to the data folder's outbox/mail as .eml files.</summary>
    public bool WritesToFolder => string.IsNullOrWhiteSpace(Host);
}

/// <summary>SMTP settings to save. An empty <see cref="Password"/> keeps the stored one unless <see cref="ClearPassword"/>.</summary>
public sealed record SmtpSettingsInput
{
    public string? Host { get; init; }

    public int Port { get; init; } = 587;

    public string? User { get; init; }

    public string? Password { get; init; }

    public bool ClearPassword { get; init; }

    public string? From { get; init; }

    public SmtpTls Tls { get; init; } = SmtpTls.StartTls;
}

/// <summary>The settings the sender uses, the password in clear (never leaves Core).</summary>
internal sealed record SmtpSettings(string? Host, int Port, string? User, string? Password, string From, SmtpTls Tls)
{
    public const string DefaultFrom = "SegmentPortal <portal@segmentportal.local>";
}

/// <summary>
/// Reads and stores the SMTP settings: those saved on Admin &gt; Delivery settings (in the metadata store, the password
/// encrypted with <see cref="ISecretProtector"/>) replace the <c>Smtp</c> configuration section as a whole.
/// </summary>
internal sealed class SmtpSettingsStore(IPortalDbFactory dbFactory, ISecretProtector secrets, IOptions<SmtpOptions> configured)
{
    public const string SettingKey = "Delivery.Smtp";

    private sealed record Stored(string? Host, int Port, string? User, string? ProtectedPassword, string? From, SmtpTls Tls);

    public async Task<SmtpSettingsView> GetViewAsync(CancellationToken cancellationToken)
    {
        if (await ReadAsync(cancellationToken) is { } saved)
        {
            return new SmtpSettingsView(saved.Host, saved.Port, saved.User, saved.ProtectedPassword is not null, saved.From, saved.Tls, true);
        }
        var c = configured.Value;
        return new SmtpSettingsView(Blank(c.Host), c.Port, Blank(c.User), !string.IsNullOrEmpty(c.Password), Blank(c.From), c.Tls, false);
    }

    public async Task<SmtpSettings> GetAsync(CancellationToken cancellationToken)
    {
        if (await ReadAsync(cancellationToken) is { } saved)
        {
            return new SmtpSettings(saved.Host, saved.Port, saved.User,
                saved.ProtectedPassword is null ? null : secrets.Unprotect(saved.ProtectedPassword), saved.From ?? SmtpSettings.DefaultFrom, saved.Tls);
        }
        var c = configured.Value;
        return new SmtpSettings(Blank(c.Host), c.Port, Blank(c.User), string.IsNullOrEmpty(c.Password) ? null : c.Password,
            Blank(c.From) ?? SmtpSettings.DefaultFrom, c.Tls);
    }

    /// <summary>Stores the settings; returns what changed, in words, for the audit log.</summary>
    public async Task<string> SaveAsync(SmtpSettingsInput input, CancellationToken cancellationToken)
    {
        var before = await GetViewAsync(cancellationToken);
        var previous = await ReadAsync(cancellationToken);
        string? protectedPassword;
        if (input.ClearPassword)
        {
            protectedPassword = null;
        }
        else if (!string.IsNullOrEmpty(input.Password))
        {
            protectedPassword = secrets.Protect(input.Password);
        }
        else if (previous is not null)
        {
            protectedPassword = previous.ProtectedPassword;
        }
        else
        {
            // First save from the page: keep the configured password, now kept encrypted.
            protectedPassword = string.IsNullOrEmpty(configured.Value.Password) ? null : secrets.Protect(configured.Value.Password);
        }
        var stored = new Stored(Blank(input.Host), input.Port, Blank(input.User), protectedPassword, Blank(input.From), input.Tls);
        var json = JsonSerializer.Serialize(stored);

        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var setting = await db.PortalSettings.SingleOrDefaultAsync(s => s.Key == SettingKey, cancellationToken);
            if (setting is null)
            {
                db.PortalSettings.Add(new PortalSetting { Key = SettingKey, Value = json });
            }
            else
            {
                setting.Value = json;
            }
            await db.SaveChangesAsync(cancellationToken);
        }

        var changes = new List<string>();
        void Compare(string name, object? a, object? b)
        {
            if (!Equals(a, b))
            {
                changes.Add($"{name}: {a ?? "—"} → {b ?? "—"}");
            }
        }
        Compare("host", before.Host, stored.Host);
        Compare("port", before.Port, stored.Port);
        Compare("user", before.User, stored.User);
        Compare("from", before.From, stored.From);
        Compare("TLS", before.Tls, stored.Tls);
        if (input.ClearPassword && before.HasPassword)
        {
            changes.Add("password removed");
        }
        else if (!string.IsNullOrEmpty(input.Password))
        {
            changes.Add("password changed");
        }
        return changes.Count == 0 ? "No change" : string.Join("; ", changes);
    }

    private async Task<Stored?> ReadAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var json = await db.PortalSettings.AsNoTracking().Where(s => s.Key == SettingKey).Select(s => s.Value).SingleOrDefaultAsync(cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<Stored>(json);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
