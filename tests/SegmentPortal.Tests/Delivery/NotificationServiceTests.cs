using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Delivery;

/// <summary>In-portal notifications over a real metadata store: each user sees and marks only their own, once per event.</summary>
public sealed class NotificationServiceTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _harness = await CoreHarness.CreateAsync();

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private Task<T> With<T>(Func<NotificationService, Task<T>> action) => _harness.WithAsync(action);

    private static NotificationRequest Request(string title, string key, string? link = "/metrics/1") =>
        new(title, $"{title} body", link, NotificationKind.Warning, key);

    private void SignIn(string userId) => _harness.CurrentUser.Principal = CoreHarness.Principal(userId, $"{userId}@example.com", Roles.Viewer);

    [Fact]
    public async Task A_user_lists_and_counts_only_their_own_notifications_newest_first()
    {
        await With(s => s.AddAsync("ann", Request("Revenue below target", "alert:1:fired"), Ct));
        await With(s => s.AddAsync("ann", Request("Revenue back on target", "alert:1:cleared"), Ct));
        await With(s => s.AddAsync("bob", Request("Churn rising", "alert:2:fired"), Ct));

        SignIn("ann");
        var page = await With(s => s.ListAsync(cancellationToken: Ct));
        Assert.Equal(["Revenue back on target", "Revenue below target"], page.Items.Select(n => n.Title));
        Assert.Equal(2, page.Total);
        Assert.Equal(2, await With(s => s.UnreadCountAsync(Ct)));
        Assert.All(page.Items, n => Assert.Equal("/metrics/1", n.Link));

        SignIn("bob");
        Assert.Equal(["Churn rising"], (await With(s => s.ListAsync(cancellationToken: Ct))).Items.Select(n => n.Title));
        Assert.Equal(1, await With(s => s.UnreadCountAsync(Ct)));

        _harness.CurrentUser.Principal = new(new System.Security.Claims.ClaimsIdentity());
        Assert.Empty((await With(s => s.ListAsync(cancellationToken: Ct))).Items);
        Assert.Equal(0, await With(s => s.UnreadCountAsync(Ct)));
    }

    [Fact]
    public async Task The_same_event_notifies_a_user_once_even_when_added_twice_in_one_context()
    {
        Assert.NotNull(await With(s => s.AddAsync("ann", Request("Revenue below target", "alert:1:fired"), Ct)));
        Assert.Null(await With(s => s.AddAsync("ann", Request("Revenue below target", "alert:1:fired"), Ct)));
        // The same key for another user is their own notification.
        Assert.NotNull(await With(s => s.AddAsync("bob", Request("Revenue below target", "alert:1:fired"), Ct)));

        await _harness.WithAsync<NotificationService>(async s =>
        {
            await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
            Assert.NotNull(await s.AddAsync(db, "cem", Request("Segment shrank", "segment:3:size"), Ct));
            Assert.Null(await s.AddAsync(db, "cem", Request("Segment shrank", "segment:3:size"), Ct));
            Assert.Null(await s.AddAsync(db, "ann", Request("Revenue below target", "alert:1:fired"), Ct));
            await db.SaveChangesAsync(Ct);
        });

        SignIn("ann");
        Assert.Equal(1, (await With(s => s.ListAsync(cancellationToken: Ct))).Total);
        SignIn("cem");
        Assert.Equal(1, (await With(s => s.ListAsync(cancellationToken: Ct))).Total);
    }

    [Fact]
    public async Task Added_in_the_callers_context_a_notification_is_stored_only_when_the_caller_saves()
    {
        await _harness.WithAsync<NotificationService>(async s =>
        {
            await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
            await s.AddAsync(db, "ann", Request("Never saved", "k1"), Ct);
        });
        SignIn("ann");
        Assert.Equal(0, await With(s => s.UnreadCountAsync(Ct)));
    }

    [Fact]
    public async Task Marking_read_changes_only_the_users_own_notifications_and_announces_it()
    {
        var annFirst = await With(s => s.AddAsync("ann", Request("One", "k1"), Ct));
        await With(s => s.AddAsync("ann", Request("Two", "k2"), Ct));
        await With(s => s.AddAsync("ann", Request("Three", "k3"), Ct));
        var bobs = await With(s => s.AddAsync("bob", Request("Bob's", "k1"), Ct));
        var signals = _harness.Services.GetRequiredService<NotificationSignals>();
        var annSignals = 0;
        var bobSignals = 0;
        using var annSubscription = signals.Subscribe("ann", () => Interlocked.Increment(ref annSignals));
        using var bobSubscription = signals.Subscribe("bob", () => Interlocked.Increment(ref bobSignals));

        SignIn("ann");
        // Another user's notification is not found, never marked.
        await Assert.ThrowsAsync<PortalException>(() => With(s => s.MarkReadAsync(bobs!.Id, Ct)));
        Assert.True(await With(s => s.MarkReadAsync(annFirst!.Id, Ct)));
        Assert.False(await With(s => s.MarkReadAsync(annFirst!.Id, Ct)));
        Assert.Equal(2, await With(s => s.UnreadCountAsync(Ct)));
        Assert.Equal(["Three", "Two"], (await With(s => s.ListAsync(unreadOnly: true, cancellationToken: Ct))).Items.Select(n => n.Title));
        Assert.Equal(1, annSignals);

        Assert.Equal(2, await With(s => s.MarkAllReadAsync(Ct)));
        Assert.Equal(0, await With(s => s.UnreadCountAsync(Ct)));
        Assert.All((await With(s => s.ListAsync(cancellationToken: Ct))).Items, n => Assert.True(n.IsRead));
        Assert.Equal(2, annSignals);

        SignIn("bob");
        Assert.Equal(1, await With(s => s.UnreadCountAsync(Ct)));
        Assert.Equal(0, bobSignals);
    }

    [Fact]
    public async Task Pages_hold_the_page_size_and_count_every_notification()
    {
        for (var i = 1; i <= 25; i++)
        {
            await With(s => s.AddAsync("ann", Request($"N{i}", $"k{i}"), Ct));
        }
        SignIn("ann");

        var first = await With(s => s.ListAsync(page: 0, pageSize: 20, cancellationToken: Ct));
        var second = await With(s => s.ListAsync(page: 1, pageSize: 20, cancellationToken: Ct));

        Assert.Equal(25, first.Total);
        Assert.Equal(2, first.PageCount);
        Assert.Equal("N25", first.Items[0].Title);
        Assert.Equal(20, first.Items.Count);
        Assert.Equal(["N5", "N4", "N3", "N2", "N1"], second.Items.Select(n => n.Title));
    }

    [Theory]
    [InlineData("https://evil.example/x")]
    [InlineData("//evil.example/x")]
    [InlineData("/\\evil.example")]
    [InlineData("javascript:alert(1)")]
    public async Task Links_stay_inside_the_portal(string link)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => With(s => s.AddAsync("ann", Request("Bad link", "k1", link), Ct)));
    }

    [Fact]
    public async Task An_admin_viewing_as_someone_cannot_mark_their_notifications_read()
    {
        var notification = await With(s => s.AddAsync("ann", Request("One", "k1"), Ct));
        var principal = CoreHarness.Principal("ann", "ann@example.com", Roles.Viewer);
        ((System.Security.Claims.ClaimsIdentity)principal.Identity!).AddClaim(new System.Security.Claims.Claim(ViewAsState.AdminClaim, "admin-id"));
        _harness.CurrentUser.Principal = principal;

        await Assert.ThrowsAsync<PermissionDeniedException>(() => With(s => s.MarkReadAsync(notification!.Id, Ct)));
    }
}
