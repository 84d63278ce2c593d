using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Users;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Audit;

public sealed class AuditLogTests : IAsyncLifetime
{
    private readonly SettableClock _clock = new(new DateTimeOffset(2025, 3, 10, 9, 0, 0, TimeSpan.Zero));
    private CoreHarness _harness = null!;
    private AppUser _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync(clock: _clock);
        _admin = await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private Task RecordAsync(DateTimeOffset at, string user, string action, string subject, string? detail = null)
    {
        _clock.Now = at;
        return _harness.WithAsync<AuditLog>(a => a.RecordForAsync(null, user, action, subject, detail));
    }

    private Task<AuditResults> SearchAsync(AuditQuery query, int page = 0, int size = 50) =>
        _harness.WithAsync<AuditLog, AuditResults>(a => a.SearchAsync(query, page, size));

    private async Task SeedAsync()
    {
        await RecordAsync(new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero), "ann@example.com", AuditActions.SignIn, "");
        await RecordAsync(new(2025, 3, 2, 8, 0, 0, TimeSpan.Zero), "bo@example.com", AuditActions.SignInFailed, "", "Wrong password");
        await RecordAsync(new(2025, 3, 3, 8, 0, 0, TimeSpan.Zero), "ann@example.com", AuditActions.PermissionChanged, "Dataset 1 “Orders”", "Row rule for role Viewer");
        await RecordAsync(new(2025, 3, 4, 23, 59, 0, TimeSpan.Zero), "ann@example.com", AuditActions.Export, "Dashboard 2 “Sales”", "CSV");
        await RecordAsync(new(2025, 3, 5, 8, 0, 0, TimeSpan.Zero), "cy@example.com", AuditActions.SignIn, "");
    }

    [Fact]
    public async Task Search_filters_by_action_user_text_and_dates_newest_first()
    {
        await SeedAsync();

        var all = await SearchAsync(new AuditQuery());
        var signIns = await SearchAsync(new AuditQuery { Action = AuditActions.SignIn });
        var ann = await SearchAsync(new AuditQuery { User = "ANN@" });
        var orders = await SearchAsync(new AuditQuery { Text = "orders" });
        var detail = await SearchAsync(new AuditQuery { Text = "wrong PASSWORD" });
        var dates = await SearchAsync(new AuditQuery { From = new DateOnly(2025, 3, 2), To = new DateOnly(2025, 3, 4) });

        Assert.Equal(5, all.Total);
        Assert.Equal(["cy@example.com", "ann@example.com", "ann@example.com", "bo@example.com", "ann@example.com"], all.Entries.Select(e => e.UserName));
        Assert.Equal(["cy@example.com", "ann@example.com"], signIns.Entries.Select(e => e.UserName));
        Assert.Equal(3, ann.Total);
        Assert.Equal(AuditActions.PermissionChanged, Assert.Single(orders.Entries).Action);
        Assert.Equal("bo@example.com", Assert.Single(detail.Entries).UserName);
        Assert.Equal([AuditActions.Export, AuditActions.PermissionChanged, AuditActions.SignInFailed], dates.Entries.Select(e => e.Action));
    }

    [Fact]
    public async Task Search_pages_through_the_matches()
    {
        await SeedAsync();

        var first = await SearchAsync(new AuditQuery(), page: 0, size: 2);
        var third = await SearchAsync(new AuditQuery(), page: 2, size: 2);

        Assert.Equal(5, first.Total);
        Assert.Equal(["cy@example.com", "ann@example.com"], first.Entries.Select(e => e.UserName));
        Assert.Equal("ann@example.com", Assert.Single(third.Entries).UserName);
        Assert.Equal(AuditActions.SignIn, third.Entries[0].Action);
    }

    [Fact]
    public async Task Export_writes_the_filtered_entries_as_csv_with_formulas_escaped()
    {
        await SeedAsync();
        await RecordAsync(new(2025, 3, 6, 8, 0, 0, TimeSpan.Zero), "=HYPERLINK(\"http://x\")", AuditActions.SignInFailed, "", "No user with this email");

        using var stream = new MemoryStream();
        var rows = await _harness.WithAsync<AuditExport, long>(a => a.WriteCsvAsync(new AuditQuery { Action = AuditActions.SignInFailed }, stream));

        var lines = Encoding.UTF8.GetString(stream.ToArray()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, rows);
        Assert.Equal("Time (UTC),User,Action,Subject,Detail,Rows,Address", lines[0]);
        Assert.Equal("2025-03-06 08:00:00,\"'=HYPERLINK(\"\"http://x\"\")\",Failed sign-in,\"\",No user with this email,,", lines[1]);
        Assert.Equal("2025-03-02 08:00:00,bo@example.com,Failed sign-in,\"\",Wrong password,,", lines[2]);
    }

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Viewer)]
    public async Task Only_admins_read_and_export_the_log(string role)
    {
        await SeedAsync();
        _harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, "x@example.com", role);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => SearchAsync(new AuditQuery()));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => _harness.WithAsync<AuditExport>(a => a.WriteCsvAsync(new AuditQuery(), Stream.Null)));
    }

    [Fact]
    public async Task Entries_older_than_the_retention_period_are_purged()
    {
        await SeedAsync();
        _clock.Now = new DateTimeOffset(2025, 3, 10, 7, 0, 0, TimeSpan.Zero);
        var retention = new AuditRetention(_harness.Services.GetRequiredService<IServiceScopeFactory>(),
            Options.Create(new AuditOptions { RetentionDays = 7 }), _clock, NullLogger<AuditRetention>.Instance);

        var removed = await retention.PurgeOnceAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, removed); // 1 and 2 March are more than 7 days before 10 March 07:00; 3 March 08:00 is not
        var left = await SearchAsync(new AuditQuery());
        Assert.Equal(3, left.Total);
        Assert.DoesNotContain(left.Entries, e => e.At < _clock.Now.AddDays(-7));
    }

    [Fact]
    public async Task User_changes_are_audited()
    {
        var id = await _harness.WithAsync<UserAdministration, string>(u => u.CreateAsync(new NewUser("new@example.com", "New", "Correct-horse-9", [Roles.Viewer])));
        await _harness.WithAsync<UserAdministration>(u => u.SetRolesAsync(id, [Roles.Analyst]));
        await _harness.WithAsync<UserAdministration>(u => u.ResetPasswordAsync(id, "Another-horse-7"));
        await _harness.WithAsync<UserAdministration>(u => u.SetDisabledAsync(id, true));
        await _harness.WithAsync<UserAdministration>(u => u.SetDisabledAsync(id, false));

        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(TestContext.Current.CancellationToken);
        var entries = await db.AuditEntries.OrderBy(e => e.Id).ToListAsync(TestContext.Current.CancellationToken);
        Assert.All(entries, e => Assert.Equal(AuditActions.UserChanged, e.Action));
        Assert.All(entries, e => Assert.Equal("User new@example.com", e.Subject));
        Assert.All(entries, e => Assert.Equal(_admin.Id, e.UserId));
        Assert.Equal(["Created with roles Viewer", "Roles changed from Viewer to Analyst", "Password reset", "Disabled", "Enabled"], entries.Select(e => e.Detail));
    }
}

/// <summary>A clock a test moves by hand.</summary>
public sealed class SettableClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
