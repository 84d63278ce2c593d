using MimeKit;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Delivery;

/// <summary>Admin &gt; Delivery settings: the SMTP server (password kept encrypted, never shown) and a test e-mail.</summary>
public sealed class DeliverySettingsService
{
    private readonly ICurrentUser _currentUser;
    private readonly SmtpSettingsStore _store;
    private readonly HostGuard _hosts;
    private readonly IOutbox _outbox;
    private readonly AuditLog _audit;

    internal DeliverySettingsService(ICurrentUser currentUser, SmtpSettingsStore store, HostGuard hosts, IOutbox outbox, AuditLog audit)
    {
        _currentUser = currentUser;
        _store = store;
        _hosts = hosts;
        _outbox = outbox;
        _audit = audit;
    }

    public async Task<SmtpSettingsView> GetSmtpAsync(CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageDelivery);
        return await _store.GetViewAsync(cancellationToken);
    }

    /// <summary>Checks and saves the SMTP settings (an empty host means: write e-mail to the development outbox folder).</summary>
    public async Task SaveSmtpAsync(SmtpSettingsInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        await _currentUser.RequireAsync(Permissions.ManageDelivery);
        if (!string.IsNullOrWhiteSpace(input.Host))
        {
            input = input with { Host = HostGuard.NormalizeHost(input.Host) };
            await _hosts.CheckAsync(input.Host!, cancellationToken);
        }
        if (input.Port is < 1 or > 65535)
        {
            throw new PortalException("The port is a number from 1 to 65535.");
        }
        if (!string.IsNullOrWhiteSpace(input.From) && !(MailboxAddress.TryParse(input.From.Trim(), out var from) && from.Address.Contains('@', StringComparison.Ordinal)))
        {
            throw new PortalException("Enter the sender as an address, e.g. Portal <portal@example.com>.");
        }
        var changes = await _store.SaveAsync(input, cancellationToken);
        await _audit.RecordAsync(AuditActions.DeliveryChanged, "SMTP settings", changes, cancellationToken: cancellationToken);
    }

    /// <summary>Puts a test e-mail to <paramref name="to"/> in the _outbox; returns its id (follow it on the Outbox page).</summary>
    public async Task<long> SendTestEmailAsync(string to, CancellationToken cancellationToken = default)
    {
        var principal = await _currentUser.RequireAsync(Permissions.ManageDelivery);
        var address = to?.Trim() ?? "";
        if (!MailboxAddress.TryParse(address, out var parsed) || !parsed.Address.Contains('@', StringComparison.Ordinal))
        {
            throw new PortalException("Enter the e-mail address to send the test to.");
        }
        var by = principal.Identity?.Name ?? "an Admin";
        var message = await _outbox.EnqueueAsync(OutboxRequest.Email(
            address,
            "SegmentPortal test e-mail",
            $"<p>This is a test e-mail from SegmentPortal, sent by {System.Net.WebUtility.HtmlEncode(by)}.</p><p>If you can read it, e-mail delivery works.</p>",
            $"This is a test e-mail from SegmentPortal, sent by {by}.\nIf you can read it, e-mail delivery works.",
            $"test-email:{Guid.NewGuid():N}"), cancellationToken);
        return message?.Id ?? throw new PortalException("The test e-mail could not be added to the _outbox.");
    }
}
