using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using MimeKit;
using SegmentPortal.Core;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Connections;
using SegmentPortal.Tests.Infrastructure;
using StandardWebhooks;

namespace SegmentPortal.Tests.Delivery;

/// <summary>
/// The outbox over a real metadata store, sending through a real SMTP server (SmtpServer package) and a real Kestrel
/// webhook receiver on free loopback ports. The worker's clock is a <see cref="ManualClock"/>: a retry is made due by
/// moving it, never by waiting.
/// </summary>
public sealed class DeliveryTests : IAsyncLifetime
{
    // Now (webhook receivers check the signed timestamp against it), in whole seconds as SQLite keeps times to the millisecond.
    private readonly ManualClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
    private readonly List<IAsyncDisposable> _owned = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    private T Own<T>(T resource) where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    /// <summary>Core over a temp data folder, as Development (webhooks to loopback http allowed) unless told otherwise.</summary>
    private async Task<CoreHarness> HarnessAsync(Dictionary<string, string?>? settings = null, bool development = true, FakeResolver? dns = null)
    {
        return Own(await CoreHarness.CreateAsync(settings, _clock, services =>
        {
            services.AddSingleton<IHostEnvironment>(new Environment(development ? Environments.Development : Environments.Production));
            if (dns is not null)
            {
                services.AddSingleton<IHostAddressResolver>(dns);
            }
        }));
    }

    private static Dictionary<string, string?> Smtp(TestSmtpServer server) => new()
    {
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Smtp:Tls"] = "None",
        ["Smtp:From"] = "Portal <portal@example.com>",
    };

    private static async Task<OutboxMessage> MessageAsync(CoreHarness harness, long id)
    {
        await using var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == id, Ct);
    }

    [Fact]
    public async Task The_worker_sends_e_mail_over_SMTP_and_a_retry_keeps_the_Message_ID()
    {
        var smtp = Own(TestSmtpServer.Start());
        smtp.RefuseNext = 1;
        var harness = await HarnessAsync(Smtp(smtp));
        var outbox = harness.Services.GetRequiredService<IOutbox>();
        var worker = harness.Services.GetRequiredService<DeliveryWorker>();

        var message = await outbox.EnqueueAsync(OutboxRequest.Email("ann@example.com", "Weekly revenue", "<p>Revenue is <b>up</b>.</p>",
            "Revenue is up.", "alert:7:2026-12-07",
            [new OutboxFile("revenue.csv", "text/csv", "region,revenue\nNorth,10\n"u8.ToArray())]), Ct);
        Assert.NotNull(message);

        // First attempt: the server takes the data, then answers 451. The message waits for its retry.
        var next = await worker.RunDueAsync(Ct);
        var failed = await MessageAsync(harness, message.Id);
        Assert.Equal(OutboxState.Pending, failed.State);
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("451", failed.LastError);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(30), failed.NextAttemptAt);
        Assert.Equal(failed.NextAttemptAt, next);

        // Not due yet: nothing is sent.
        await worker.RunDueAsync(Ct);
        Assert.Single(smtp.Received);

        _clock.Advance(TimeSpan.FromSeconds(30));
        await worker.RunDueAsync(Ct);
        await smtp.WaitForAsync(2, Ct);

        var delivered = await MessageAsync(harness, message.Id);
        Assert.Equal(OutboxState.Delivered, delivered.State);
        Assert.Equal(2, delivered.Attempts);
        Assert.Null(delivered.LastError);

        var received = smtp.Received.ToArray();
        Assert.False(received[0].Accepted);
        Assert.True(received[1].Accepted);
        var mail = received[1].Message;
        Assert.Equal("Weekly revenue", mail.Subject);
        Assert.Equal("ann@example.com", mail.To.Mailboxes.Single().Address);
        Assert.Equal("portal@example.com", mail.From.Mailboxes.Single().Address);
        Assert.Contains("Revenue is up.", mail.TextBody);
        Assert.Contains("<b>up</b>", mail.HtmlBody);
        Assert.Equal("revenue.csv", mail.Attachments.OfType<MimePart>().Single().FileName);
        Assert.Equal(EmailDelivery.MessageIdFor("alert:7:2026-12-07"), mail.MessageId);
        Assert.Equal(received[0].Message.MessageId, mail.MessageId);
    }

    [Fact]
    public async Task A_message_keeps_failing_with_growing_waits_until_it_is_marked_failed_then_an_admin_retries_it()
    {
        // Nothing listens on this port: every attempt fails to connect.
        using var closed = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var harness = await HarnessAsync(new()
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = ((IPEndPoint)closed.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Tls"] = "None",
            ["Delivery:MaxAttempts"] = "4",
        });
        var worker = harness.Services.GetRequiredService<DeliveryWorker>();
        var message = await harness.Services.GetRequiredService<IOutbox>().EnqueueAsync(
            OutboxRequest.Email("bob@example.com", "Hello", null, "Hi", "k-fail"), Ct);

        var waits = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            await worker.RunDueAsync(Ct);
            var stored = await MessageAsync(harness, message!.Id);
            Assert.Equal(attempt, stored.Attempts);
            Assert.StartsWith("Could not connect", stored.LastError);
            if (attempt < 4)
            {
                Assert.Equal(OutboxState.Pending, stored.State);
                waits.Add(stored.NextAttemptAt - _clock.GetUtcNow());
                _clock.Advance(stored.NextAttemptAt - _clock.GetUtcNow());
            }
            else
            {
                Assert.Equal(OutboxState.Failed, stored.State);
            }
        }
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120)], waits);
        Assert.Equal(TimeSpan.FromHours(1), new DeliveryOptions().Backoff(20));

        await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        await harness.WithAsync<OutboxService>(s => s.RetryAsync(message!.Id, Ct));
        var retried = await MessageAsync(harness, message!.Id);
        Assert.Equal(OutboxState.Pending, retried.State);
        Assert.Equal(0, retried.Attempts);
        Assert.Equal(_clock.GetUtcNow(), retried.NextAttemptAt);
    }

    [Fact]
    public async Task Messages_left_in_Sending_by_a_stopped_process_are_delivered_by_a_new_worker_with_the_same_key()
    {
        var smtp = Own(TestSmtpServer.Start());
        var harness = await HarnessAsync(Smtp(smtp));
        long id;
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            // As a process that stopped mid-send leaves it: marked Sending, one attempt counted.
            var message = await harness.Services.GetRequiredService<IOutbox>().EnqueueAsync(db,
                OutboxRequest.Email("cy@example.com", "Interrupted", null, "Sent twice at most", "restart-key"), Ct);
            message!.State = OutboxState.Sending;
            message.Attempts = 1;
            await db.SaveChangesAsync(Ct);
            id = message.Id;
        }

        var worker = ActivatorUtilities.CreateInstance<DeliveryWorker>(harness.Services);
        await worker.StartAsync(Ct);
        try
        {
            await smtp.WaitForAsync(1, Ct);
            var stored = await WaitForStateAsync(harness, id, OutboxState.Delivered);
            Assert.Equal(2, stored.Attempts);
            Assert.Equal("restart-key", stored.IdempotencyKey);
            var mail = smtp.Received.Single().Message;
            Assert.Equal("Interrupted", mail.Subject);
            Assert.Equal(EmailDelivery.MessageIdFor("restart-key"), mail.MessageId);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
            worker.Dispose();
        }
    }

    [Fact]
    public async Task Without_an_SMTP_host_e_mail_is_written_as_eml_files_the_outbox_page_can_open()
    {
        var harness = await HarnessAsync();
        await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        var user = await harness.CreateUserAsync("dora@example.com", "Correct-horse-9", Roles.Viewer);
        var message = await harness.Services.GetRequiredService<IOutbox>().EnqueueAsync(
            OutboxRequest.Email(user.Id, "Your segment changed", "<h1>Big spenders</h1><script>alert(1)</script>", "Big spenders", "seg:1"), Ct);

        await harness.Services.GetRequiredService<DeliveryWorker>().RunDueAsync(Ct);

        var stored = await MessageAsync(harness, message!.Id);
        Assert.Equal(OutboxState.Delivered, stored.State);
        Assert.NotNull(stored.WrittenTo);
        var folder = Path.Combine(harness.Folder.Path, "outbox", "mail");
        Assert.Equal(folder, Path.GetDirectoryName(stored.WrittenTo));
        Assert.EndsWith(".eml", stored.WrittenTo);
        var eml = await MimeMessage.LoadAsync(stored.WrittenTo!, Ct);
        Assert.Equal("Your segment changed", eml.Subject);
        Assert.Equal("dora@example.com", eml.To.Mailboxes.Single().Address); // the user id became their address

        var details = await harness.WithAsync<OutboxService, OutboxMessageDetails>(s => s.GetAsync(message.Id, Ct));
        Assert.Contains("Subject: Your segment changed", details.Eml);
        Assert.True(details.Summary.WrittenToFolder);
        var list = await harness.WithAsync<OutboxService, IReadOnlyList<OutboxMessageSummary>>(s => s.ListAsync(cancellationToken: Ct));
        Assert.Equal("Your segment changed", Assert.Single(list).Subject);

        // "Send test email" goes the same way.
        var testId = await harness.WithAsync<DeliverySettingsService, long>(s => s.SendTestEmailAsync("admin@example.com", Ct));
        await harness.Services.GetRequiredService<DeliveryWorker>().RunDueAsync(Ct);
        var test = await MessageAsync(harness, testId);
        Assert.Equal(OutboxState.Delivered, test.State);
        Assert.Equal("SegmentPortal test e-mail", (await MimeMessage.LoadAsync(test.WrittenTo!, Ct)).Subject);
    }

    [Fact]
    public async Task Enqueueing_joins_the_callers_unit_of_work_and_a_key_is_added_once()
    {
        var harness = await HarnessAsync();
        var outbox = harness.Services.GetRequiredService<IOutbox>();
        var factory = harness.Services.GetRequiredService<IPortalDbFactory>();

        await using (var db = await factory.CreateAsync(Ct))
        {
            Assert.NotNull(await outbox.EnqueueAsync(db, OutboxRequest.Email("a@example.com", "One", null, "1", "same-key"), Ct));
            Assert.Null(await outbox.EnqueueAsync(db, OutboxRequest.Email("a@example.com", "One again", null, "1", "same-key"), Ct));
            // Not saved: the caller's work was abandoned, so was the message.
        }
        await using (var db = await factory.CreateAsync(Ct))
        {
            Assert.Equal(0, await db.OutboxMessages.CountAsync(Ct));
            await outbox.EnqueueAsync(db, OutboxRequest.Email("a@example.com", "One", null, "1", "same-key"), Ct);
            await db.SaveChangesAsync(Ct);
        }
        Assert.Null(await outbox.EnqueueAsync(OutboxRequest.Email("a@example.com", "Repeat", null, "1", "same-key"), Ct));
        await using (var db = await factory.CreateAsync(Ct))
        {
            Assert.Equal("One", (await db.OutboxMessages.SingleAsync(Ct)).Subject);
        }
    }

    [Fact]
    public async Task Webhooks_are_signed_with_Standard_Webhooks_and_retried_after_a_500_with_the_same_id()
    {
        var receiver = Own(await TestWebhookReceiver.StartAsync());
        receiver.Statuses.Enqueue(500);
        var harness = await HarnessAsync();
        await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        var created = await harness.WithAsync<WebhookService, CreatedWebhook>(s =>
            s.CreateAsync(new WebhookEndpointInput("Ops", receiver.Url, WebhookFormat.StandardJson), Ct));
        Assert.StartsWith("whsec_", created.Secret);
        var id = await harness.WithAsync<WebhookService, long>(s => s.SendTestEventAsync(created.Id, Ct));
        var worker = harness.Services.GetRequiredService<DeliveryWorker>();

        await worker.RunDueAsync(Ct);
        var first = await MessageAsync(harness, id);
        Assert.Equal(OutboxState.Pending, first.State);
        Assert.StartsWith("The endpoint answered 500", first.LastError);

        _clock.Advance(first.NextAttemptAt - _clock.GetUtcNow());
        await worker.RunDueAsync(Ct);
        await receiver.WaitForAsync(2, Ct);
        Assert.Equal(OutboxState.Delivered, (await MessageAsync(harness, id)).State);

        var requests = receiver.Received.ToArray();
        Assert.Equal([500, 200], requests.Select(r => r.Status));
        Assert.Equal(first.IdempotencyKey, requests[0].Headers["webhook-id"].ToString());
        Assert.Equal(first.IdempotencyKey, requests[1].Headers["webhook-id"].ToString());
        var verifier = new StandardWebhook(created.Secret);
        foreach (var (headers, body, _) in requests)
        {
            verifier.Verify(body, headers); // throws when the signature does not match
        }
        // The scheme itself, as any receiver's library computes it: HMAC-SHA256 keyed with the secret's bytes after whsec_.
        var headers1 = requests[1].Headers;
        var expected = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
            Convert.FromBase64String(created.Secret["whsec_".Length..]),
            System.Text.Encoding.UTF8.GetBytes($"{headers1["webhook-id"]}.{headers1["webhook-timestamp"]}.{requests[1].Body}")));
        Assert.Equal($"v1,{expected}", headers1["webhook-signature"].ToString());
        using var json = System.Text.Json.JsonDocument.Parse(requests[1].Body);
        Assert.Equal(WebhookService.TestEventType, json.RootElement.GetProperty("type").GetString());
        Assert.Equal("Ops", json.RootElement.GetProperty("data").GetProperty("endpoint").GetString());

        // Tampered with, the body no longer verifies.
        Assert.ThrowsAny<Exception>(() => verifier.Verify(requests[1].Body.Replace("Ops", "Evil"), requests[1].Headers));

        var history = await harness.WithAsync<WebhookService, IReadOnlyList<OutboxMessageSummary>>(s => s.HistoryAsync(created.Id, cancellationToken: Ct));
        Assert.Equal(OutboxState.Delivered, Assert.Single(history).State);
        var endpoint = Assert.Single(await harness.WithAsync<WebhookService, IReadOnlyList<WebhookEndpointSummary>>(s => s.ListAsync(Ct)));
        Assert.Equal(1, endpoint.Delivered);
    }

    [Fact]
    public async Task Slack_and_Teams_endpoints_get_their_own_body()
    {
        var message = new OutboxMessage { Recipient = "1", IdempotencyKey = "k", Subject = "Revenue dropped", TextBody = "North is down 12%" };

        Assert.Equal("{\"text\":\"Revenue dropped\\nNorth is down 12%\"}", WebhookDelivery.Body(message, WebhookFormat.Slack));
        Assert.Equal("{\"title\":\"Revenue dropped\",\"text\":\"North is down 12%\"}", WebhookDelivery.Body(message, WebhookFormat.Teams));
    }

    [Theory]
    [InlineData("https://169.254.169.254/latest/meta-data", "link-local or cloud metadata")]
    [InlineData("https://[fe80::1]/hook", "link-local or cloud metadata")]
    [InlineData("https://metadata.google.internal/hook", "link-local or cloud metadata")]
    [InlineData("https://hooks.internal.example/hook", "link-local or cloud metadata")] // resolves to 169.254.10.10
    [InlineData("https://127.0.0.1/hook", "loopback")]
    [InlineData("https://localhost.example/hook", "loopback")] // resolves to 127.0.0.1
    [InlineData("http://hooks.example.com/hook", "https://")]
    [InlineData("https://user:pw@hooks.example.com/hook", "no user name")]
    [InlineData("hooks.example.com/hook", "full URL")]
    public async Task Outside_Development_webhook_URLs_are_checked_like_connection_hosts(string url, string reason)
    {
        var dns = new FakeResolver();
        dns.Answers["hooks.internal.example"] = [IPAddress.Parse("169.254.10.10")];
        dns.Answers["localhost.example"] = [IPAddress.Loopback];
        dns.Answers["hooks.example.com"] = [IPAddress.Parse("203.0.113.10")];
        var harness = await HarnessAsync(development: false, dns: dns);
        await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);

        var error = await Assert.ThrowsAnyAsync<PortalException>(() => harness.WithAsync<WebhookService, CreatedWebhook>(s =>
            s.CreateAsync(new WebhookEndpointInput("Bad", url, WebhookFormat.StandardJson), Ct)));

        Assert.Contains(reason, error.Message);
        Assert.NotNull(await harness.WithAsync<WebhookService, CreatedWebhook>(s =>
            s.CreateAsync(new WebhookEndpointInput("Good", "https://hooks.example.com/hook", WebhookFormat.Slack), Ct)));
    }

    [Fact]
    public async Task Settings_and_endpoints_changes_are_audited_and_the_password_is_kept_encrypted()
    {
        var harness = await HarnessAsync();
        await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);

        await harness.WithAsync<DeliverySettingsService>(s => s.SaveSmtpAsync(new SmtpSettingsInput
        {
            Host = "127.0.0.1", Port = 2525, User = "mailer", Password = "Smtp-secret-1", From = "Portal <portal@example.com>", Tls = SmtpTls.StartTls,
        }, Ct));
        var view = await harness.WithAsync<DeliverySettingsService, SmtpSettingsView>(s => s.GetSmtpAsync(Ct));
        Assert.Equal(("127.0.0.1", 2525, "mailer", true), (view.Host, view.Port, view.User, view.HasPassword));
        await using (var db = await harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var stored = await db.PortalSettings.SingleAsync(s => s.Key == SmtpSettingsStore.SettingKey, Ct);
            Assert.DoesNotContain("Smtp-secret-1", stored.Value);
        }
        Assert.Equal("Smtp-secret-1", (await harness.Services.GetRequiredService<SmtpSettingsStore>().GetAsync(Ct)).Password);

        // Saving again without a password keeps it.
        await harness.WithAsync<DeliverySettingsService>(s => s.SaveSmtpAsync(new SmtpSettingsInput { Host = "127.0.0.1", Port = 587, User = "mailer" }, Ct));
        Assert.Equal("Smtp-secret-1", (await harness.Services.GetRequiredService<SmtpSettingsStore>().GetAsync(Ct)).Password);

        var created = await harness.WithAsync<WebhookService, CreatedWebhook>(s =>
            s.CreateAsync(new WebhookEndpointInput("Ops", "http://127.0.0.1:9/hook", WebhookFormat.Teams), Ct));
        await harness.WithAsync<WebhookService>(s => s.DeleteAsync(created.Id, Ct));

        var entries = await harness.WithAsync<AuditLog, AuditResults>(a => a.SearchAsync(new AuditQuery { Action = AuditActions.DeliveryChanged }, 0, 50, Ct));
        var details = entries.Entries.Select(e => $"{e.Subject}: {e.Detail}").ToList();
        Assert.Equal(4, details.Count);
        Assert.Contains(details, d => d.StartsWith("SMTP settings: host: — → 127.0.0.1", StringComparison.Ordinal) && d.Contains("password changed"));
        Assert.Contains(details, d => d.Contains("Endpoint added: http://127.0.0.1:9/hook (Teams)"));
        Assert.Contains(details, d => d.Contains("Endpoint removed"));
        Assert.All(entries.Entries, e => Assert.Equal("admin@example.com", e.UserName));
        Assert.DoesNotContain(details, d => d.Contains("Smtp-secret-1"));
    }

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Viewer)]
    public async Task Only_admins_reach_the_delivery_services(string role)
    {
        var harness = await HarnessAsync();
        await harness.SignInAsNewUserAsync($"{role.ToLowerInvariant()}@example.com", role);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<OutboxService, IReadOnlyList<OutboxMessageSummary>>(s => s.ListAsync(cancellationToken: Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<OutboxService>(s => s.RetryAsync(1, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<WebhookService, IReadOnlyList<WebhookEndpointSummary>>(s => s.ListAsync(Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<WebhookService, CreatedWebhook>(s =>
            s.CreateAsync(new WebhookEndpointInput("X", "http://127.0.0.1/hook", WebhookFormat.StandardJson), Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<DeliverySettingsService, SmtpSettingsView>(s => s.GetSmtpAsync(Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<DeliverySettingsService>(s => s.SaveSmtpAsync(new SmtpSettingsInput(), Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.WithAsync<DeliverySettingsService, long>(s => s.SendTestEmailAsync("x@example.com", Ct)));
    }

    private static async Task<OutboxMessage> WaitForStateAsync(CoreHarness harness, long id, OutboxState state)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2)); // only a guard against a hang
        while (true)
        {
            var message = await MessageAsync(harness, id);
            if (message.State == state)
            {
                return message;
            }
            await Task.Delay(20, limit.Token);
        }
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "SegmentPortal.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
