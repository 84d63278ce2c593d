using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

/// <summary>The delivery pages and the outbox worker through the real host (Development, no SMTP host set).</summary>
public sealed class DeliveryWebTests : IAsyncLifetime
{
    private static readonly string[] Pages = ["/admin/delivery", "/admin/outbox", "/admin/webhooks"];
    private readonly PortalFactory _factory = new();

    public ValueTask InitializeAsync()
    {
        _ = _factory.Server;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Analyst)]
    public async Task Non_admins_get_403_from_the_delivery_pages(string role)
    {
        await _factory.CreateUserAsync($"{role}@test.local", "Member-pass-246", role);
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, $"{role}@test.local", "Member-pass-246");

        foreach (var page in Pages)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(page, TestContext.Current.CancellationToken)).StatusCode);
        }
        Assert.DoesNotContain("/admin/outbox", await client.GetStringAsync("/", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Admins_reach_the_pages_and_the_running_worker_writes_mail_to_the_outbox_folder()
    {
        var client = _factory.CreateBrowserClient();
        await PortalFactory.SignInAsync(client, PortalFactory.AdminEmail, PortalFactory.AdminPassword);
        var home = await client.GetStringAsync("/", TestContext.Current.CancellationToken);
        foreach (var page in Pages)
        {
            Assert.Contains(page, home);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(page, TestContext.Current.CancellationToken)).StatusCode);
        }

        var message = await _factory.Services.GetRequiredService<IOutbox>().EnqueueAsync(
            OutboxRequest.Email("ann@example.com", "Hosted delivery", "<p>Hi</p>", "Hi", "web-test-1"), TestContext.Current.CancellationToken);

        // The host's worker picks it up (woken by the enqueue); wait for the state, guarded against a hang.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        OutboxMessage stored;
        while (true)
        {
            await using (var db = await _factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(limit.Token))
            {
                stored = await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == message!.Id, limit.Token);
            }
            if (stored.State == OutboxState.Delivered)
            {
                break;
            }
            await Task.Delay(20, limit.Token);
        }
        Assert.Equal(Path.Combine(_factory.DataDirectory, "outbox", "mail"), Path.GetDirectoryName(stored.WrittenTo));
        Assert.Contains("Subject: Hosted delivery", await File.ReadAllTextAsync(stored.WrittenTo!, TestContext.Current.CancellationToken));
    }
}
