using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Delivery;

public sealed record WebhookEndpointInput(string Name, string Url, WebhookFormat Format);

/// <summary>An endpoint as the Webhooks page lists it (never its secret).</summary>
public sealed record WebhookEndpointSummary(int Id, string Name, string Url, WebhookFormat Format, DateTimeOffset CreatedAt, string? CreatedBy,
    int Delivered, int Failed, int Waiting);

/// <summary>A new endpoint and its secret, the one time it is shown.</summary>
public sealed record CreatedWebhook(int Id, string Secret);

/// <summary>Admin &gt; Webhooks: endpoints the portal posts signed events to, their delivery history, a test event.</summary>
public sealed class WebhookService
{
    private readonly ICurrentUser _currentUser;
    private readonly IPortalDbFactory _dbFactory;
    private readonly ISecretProtector _secrets;
    private readonly WebhookUrlPolicy _policy;
    private readonly IOutbox _outbox;
    private readonly AuditLog _audit;
    private readonly TimeProvider _clock;

    internal WebhookService(
        ICurrentUser currentUser, IPortalDbFactory dbFactory, ISecretProtector secrets, WebhookUrlPolicy policy, IOutbox outbox, AuditLog audit, TimeProvider clock)
    {
        _currentUser = currentUser;
        _dbFactory = dbFactory;
        _secrets = secrets;
        _policy = policy;
        _outbox = outbox;
        _audit = audit;
        _clock = clock;
    }

    public const string TestEventType = "portal.test";

    /// <summary>In Development, http:// and this machine's addresses are allowed too.</summary>
    public bool AllowsLocalUrls => _policy.AllowLocal;

    public async Task<IReadOnlyList<WebhookEndpointSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageDelivery);
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var endpoints = await db.WebhookEndpoints.AsNoTracking().OrderBy(e => e.Name).ToListAsync(cancellationToken);
        var counts = await db.OutboxMessages.AsNoTracking().Where(m => m.Channel == DeliveryChannel.Webhook)
            .GroupBy(m => new { m.Recipient, m.State }).Select(g => new { g.Key.Recipient, g.Key.State, Count = g.Count() })
            .ToListAsync(cancellationToken);
        int Count(int id, params OutboxState[] states) =>
            counts.Where(c => c.Recipient == Key(id) && states.Contains(c.State)).Sum(c => c.Count);
        return endpoints.Select(e => new WebhookEndpointSummary(e.Id, e.Name, e.Url, e.Format, e.CreatedAt, e.CreatedBy,
            Count(e.Id, OutboxState.Delivered), Count(e.Id, OutboxState.Failed), Count(e.Id, OutboxState.Pending, OutboxState.Sending))).ToList();
    }

    /// <summary>Adds an endpoint after checking its URL; returns its <c>whsec_…</c> secret, which is never shown again.</summary>
    public async Task<CreatedWebhook> CreateAsync(WebhookEndpointInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var principal = await _currentUser.RequireAsync(Permissions.ManageDelivery);
        var name = input.Name?.Trim() ?? "";
        if (name.Length is 0 or > WebhookEndpoint.MaxNameLength)
        {
            throw new PortalException($"Give the endpoint a name of 1 to {WebhookEndpoint.MaxNameLength} characters.");
        }
        var uri = _policy.CheckUrl(input.Url);
        await _policy.CheckAsync(input.Url, cancellationToken);
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var endpoint = new WebhookEndpoint
        {
            Name = name,
            Url = uri.AbsoluteUri,
            Format = Enum.IsDefined(input.Format) ? input.Format : throw new PortalException("Choose the endpoint's format."),
            ProtectedSecret = _secrets.Protect(secret),
            CreatedAt = _clock.GetUtcNow(),
            CreatedBy = principal.Identity?.Name,
        };
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            db.WebhookEndpoints.Add(endpoint);
            await db.SaveChangesAsync(cancellationToken);
        }
        await _audit.RecordAsync(AuditActions.DeliveryChanged, $"Webhook {endpoint.Id} “{endpoint.Name}”",
            $"Endpoint added: {endpoint.Url} ({endpoint.Format})", cancellationToken: cancellationToken);
        return new CreatedWebhook(endpoint.Id, secret);
    }

    /// <summary>Removes an endpoint. Messages still waiting for it fail ("the endpoint was removed"); its history stays.</summary>
    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageDelivery);
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, cancellationToken)
            ?? throw new PortalException("That webhook endpoint no longer exists.");
        db.WebhookEndpoints.Remove(endpoint);
        await db.SaveChangesAsync(cancellationToken);
        await _audit.RecordAsync(AuditActions.DeliveryChanged, $"Webhook {endpoint.Id} “{endpoint.Name}”",
            $"Endpoint removed: {endpoint.Url}", cancellationToken: cancellationToken);
    }

    /// <summary>The endpoint's messages, newest first.</summary>
    public async Task<IReadOnlyList<OutboxMessageSummary>> HistoryAsync(int id, int take = 50, CancellationToken cancellationToken = default)
    {
        await _currentUser.RequireAsync(Permissions.ManageDelivery);
        await using var db = await _dbFactory.CreateAsync(cancellationToken);
        var key = Key(id);
        var messages = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.Channel == DeliveryChannel.Webhook && m.Recipient == key)
            .OrderByDescending(m => m.Id).Take(Math.Clamp(take, 1, OutboxService.MaxListed)).ToListAsync(cancellationToken);
        return messages.Select(OutboxService.Summarize).ToList();
    }

    /// <summary>Puts a signed <c>portal.test</c> event for the endpoint in the _outbox; returns the message's id.</summary>
    public async Task<long> SendTestEventAsync(int id, CancellationToken cancellationToken = default)
    {
        var principal = await _currentUser.RequireAsync(Permissions.ManageDelivery);
        string name;
        await using (var db = await _dbFactory.CreateAsync(cancellationToken))
        {
            name = await db.WebhookEndpoints.AsNoTracking().Where(e => e.Id == id).Select(e => e.Name).SingleOrDefaultAsync(cancellationToken)
                ?? throw new PortalException("That webhook endpoint no longer exists.");
        }
        var by = principal.Identity?.Name ?? "an Admin";
        var payload = JsonSerializer.Serialize(new { message = "This is a test event from SegmentPortal.", endpoint = name, sentBy = by });
        var message = await _outbox.EnqueueAsync(OutboxRequest.Webhook(id, TestEventType, "SegmentPortal test event",
            $"A test event sent by {by}.", payload, $"msg_{Guid.NewGuid():N}"), cancellationToken);
        return message?.Id ?? throw new PortalException("The test event could not be added to the _outbox.");
    }

    private static string Key(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
