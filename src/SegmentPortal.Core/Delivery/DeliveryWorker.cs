using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Delivery;

/// <summary>
/// Sends due outbox messages, one at a time, oldest first. A failed attempt is retried after a wait that doubles each
/// time (<see cref="DeliveryOptions.Backoff"/>, capped); after <see cref="DeliveryOptions.MaxAttempts"/> the message is
/// Failed with the last error. Each message is marked Sending before it goes out, so on start messages a stopped
/// process left in Sending are sent again, with the same idempotency key (at least once).
/// </summary>
internal sealed class DeliveryWorker(
    IPortalDbFactory dbFactory,
    EmailDelivery email,
    WebhookDelivery webhooks,
    OutboxSignal signal,
    IOptions<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private const int BatchSize = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "The outbox could not put back messages left in Sending; trying again on the next round");
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? next = null;
            try
            {
                next = await RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "The outbox worker failed a round; trying again shortly");
            }
            var wait = TimeSpan.FromSeconds(Math.Max(1, options.Value.PollSeconds));
            if (next is { } due && due - clock.GetUtcNow() < wait)
            {
                wait = due - clock.GetUtcNow();
            }
            if (wait > TimeSpan.Zero)
            {
                using var waitOver = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var woken = signal.WaitAsync(waitOver.Token);
                var delay = Task.Delay(wait, clock, waitOver.Token);
                await Task.WhenAny(woken, delay);
                await waitOver.CancelAsync();
                stoppingToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Puts messages a stopped process left in Sending back to Pending, due now. Returns how many.</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var left = await db.OutboxMessages.Where(m => m.State == OutboxState.Sending).ToListAsync(cancellationToken);
        foreach (var message in left)
        {
            message.State = OutboxState.Pending;
            message.NextAttemptAt = now;
            message.LastError ??= "Interrupted while sending (the portal stopped); sent again with the same key.";
        }
        await db.SaveChangesAsync(cancellationToken);
        if (left.Count > 0)
        {
            logger.LogWarning("{Count} outbox message(s) were being sent when the portal stopped; sending them again", left.Count);
        }
        return left.Count;
    }

    /// <summary>Sends every message due now. Returns when the next pending message is due, or null when none waits.</summary>
    public async Task<DateTimeOffset?> RunDueAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var now = clock.GetUtcNow();
            List<long> due;
            await using (var db = await dbFactory.CreateAsync(cancellationToken))
            {
                due = await db.OutboxMessages.AsNoTracking()
                    .Where(m => m.State == OutboxState.Pending && m.NextAttemptAt <= now)
                    .OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id)
                    .Select(m => m.Id).Take(BatchSize).ToListAsync(cancellationToken);
            }
            foreach (var id in due)
            {
                await SendOneAsync(id, cancellationToken);
            }
            if (due.Count < BatchSize)
            {
                break;
            }
        }
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            var pending = await db.OutboxMessages.AsNoTracking().Where(m => m.State == OutboxState.Pending)
                .Select(m => m.NextAttemptAt).ToListAsync(cancellationToken);
            return pending.Count == 0 ? null : pending.Min();
        }
    }

    private async Task SendOneAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var message = await db.OutboxMessages.SingleOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (message is null || message.State != OutboxState.Pending)
        {
            return;
        }
        message.State = OutboxState.Sending;
        message.Attempts++;
        message.LastAttemptAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        try
        {
            if (message.Channel == DeliveryChannel.Email)
            {
                message.WrittenTo = await email.SendAsync(message, cancellationToken);
            }
            else
            {
                await webhooks.SendAsync(message, cancellationToken);
            }
            message.State = OutboxState.Delivered;
            message.DeliveredAt = clock.GetUtcNow();
            message.LastError = null;
            logger.LogInformation("Outbox message {Id} ({Channel}) delivered on attempt {Attempt}", message.Id, message.Channel, message.Attempts);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: left in Sending, sent again on the next start.
            throw;
        }
        catch (Exception ex)
        {
            var permanent = ex is PermanentDeliveryException;
            message.LastError = Describe(ex);
            if (permanent || message.Attempts >= Math.Max(1, options.Value.MaxAttempts))
            {
                message.State = OutboxState.Failed;
                logger.LogWarning(ex, "Outbox message {Id} ({Channel}) failed after {Attempts} attempt(s): {Error}", message.Id, message.Channel, message.Attempts, message.LastError);
            }
            else
            {
                message.State = OutboxState.Pending;
                message.NextAttemptAt = clock.GetUtcNow() + options.Value.Backoff(message.Attempts);
                logger.LogInformation("Outbox message {Id} ({Channel}) attempt {Attempt} failed, retrying at {Next}: {Error}", message.Id, message.Channel, message.Attempts, message.NextAttemptAt, message.LastError);
            }
        }
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>The error in words an Admin can act on (no stack traces).</summary>
    internal static string Describe(Exception ex)
    {
        var text = ex switch
        {
            PermanentDeliveryException or PortalException => ex.Message,
            HttpRequestException { StatusCode: not null } => ex.Message,
            HttpRequestException { InnerException: PortalException refused } => refused.Message,
            HttpRequestException { InnerException: SocketException socket } => $"Could not connect: {socket.Message}",
            HttpRequestException => $"Could not reach the endpoint: {ex.Message}",
            TaskCanceledException => "No answer in time.",
            SmtpCommandException smtp => $"The SMTP server refused the message ({(int)smtp.StatusCode}): {smtp.Message}",
            SmtpProtocolException => $"The SMTP server broke off: {ex.Message}",
            MailKit.Security.AuthenticationException => "The SMTP server refused the user name or password.",
            MailKit.Security.SslHandshakeException => $"TLS with the SMTP server failed: {ex.Message}",
            SocketException => $"Could not connect: {ex.Message}",
            IOException => $"Connection lost: {ex.Message}",
            System.Security.Cryptography.CryptographicException => "The stored secret could not be decrypted (the data folder's keys changed). Save the settings or endpoint again.",
            _ => $"{ex.GetType().Name}: {ex.Message}",
        };
        text = text.ReplaceLineEndings(" ");
        return text.Length > OutboxMessage.MaxErrorLength ? text[..(OutboxMessage.MaxErrorLength - 1)] + "…" : text;
    }
}
