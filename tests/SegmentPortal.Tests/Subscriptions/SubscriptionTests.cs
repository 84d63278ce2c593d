using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Subscriptions;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Subscriptions;

/// <summary>
/// Subscriptions over a real metadata store and warehouse: who may subscribe whom, when runs fall due, and what each
/// recipient's message holds, checked as that recipient at sending. Boards are drawn by a stand-in renderer here (the
/// real Chromium rendering as the recipient is proven in <see cref="Web.SubscriptionEmailTests"/>); the messages go to
/// the real outbox table.
/// </summary>
public sealed class SubscriptionTests : IAsyncLifetime
{
    private const string Customers =
        "id,name,region\n" +
        "1,Ann,North\n" +
        "2,Bo,South\n" +
        "3,Cy,North\n" +
        "4,Di,East\n";

    // 07:30 UTC on a Monday.
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 7, 7, 30, 0, TimeSpan.Zero));
    private readonly FakeRenderer _renderer = new();
    private CoreHarness _harness = null!;
    private ClaimsPrincipal _owner = null!;
    private Dataset _customers = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // The harness acts as the scope's principal where one is set, as the web host does: each recipient's checks are theirs.
        _harness = await CoreHarness.CreateAsync(clock: _clock, configure: services => services.AddSingleton<IBoardRenderer>(_renderer));
        var owner = await _harness.SignInAsNewUserAsync("owner@example.com", Roles.Analyst);
        _owner = _harness.CurrentUser.Principal;
        _customers = await _harness.ImportTextAsync("customers.csv", Customers);
        _customers = await _harness.SetRolesAsync(_customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        Assert.NotNull(owner);
    }

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private async Task<ClaimsPrincipal> PersonAsync(string name, params string[] roles)
    {
        var email = $"{name}@example.com";
        var user = await _harness.CreateUserAsync(email, "Correct-horse-9", roles);
        return CoreHarness.Principal(user.Id, email, roles);
    }

    private Task<T> As<TService, T>(ClaimsPrincipal user, Func<TService, Task<T>> action) where TService : notnull
    {
        _harness.CurrentUser.Principal = user;
        return _harness.WithAsync(action);
    }

    private Task As<TService>(ClaimsPrincipal user, Func<TService, Task> action) where TService : notnull
    {
        _harness.CurrentUser.Principal = user;
        return _harness.WithAsync(action);
    }

    private async Task<int> BoardAsync(string name = "Weekly review")
    {
        var id = await As<DashboardService, int>(_owner, s => s.CreateAsync(name, null, Ct));
        await As<DashboardService, DashboardView>(_owner, s => s.AddTileAsync(id, new TileDefinition
        {
            Id = "",
            Type = TileType.Bar,
            Title = "Customers by region",
            DatasetId = _customers.Id,
            Dimensions = [new TileDimension("region")],
            Measures = [new TileMeasure(TileMeasureKind.Count)],
        }, cancellationToken: Ct));
        return id;
    }

    private Task ShareAsync(SharedItem item, int id, ClaimsPrincipal with, ShareLevel level = ShareLevel.Viewer) =>
        As<SharingService>(_owner, s => s.ShareAsync(item, id, with.UserId(), null, level, Ct));

    private static SubscriptionDraft Daily(int boardId, string? userId = null, string? role = null) => new()
    {
        Target = SubscriptionTarget.Dashboard,
        ItemId = boardId,
        Schedule = new CheckSchedule { Frequency = ScheduleFrequency.Daily, At = new TimeOnly(8, 0), TimeZone = "UTC" },
        UserId = userId,
        Role = role,
    };

    private SubscriptionRunner Runner => _harness.Services.GetRequiredService<SubscriptionRunner>();

    private async Task<T> DbAsync<T>(Func<IPortalDb, Task<T>> read)
    {
        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return await read(db);
    }

    private Task<List<OutboxMessage>> MessagesAsync() => DbAsync(db => db.OutboxMessages.AsNoTracking().OrderBy(m => m.Id).ToListAsync(Ct));

    private Task<List<SubscriptionRun>> RunsAsync() => DbAsync(db => db.SubscriptionRuns.AsNoTracking().OrderBy(r => r.Id).ToListAsync(Ct));

    private static List<OutboxAttachmentView> Files(OutboxMessage message) =>
        message.AttachmentsJson is null ? [] : System.Text.Json.JsonSerializer.Deserialize<List<OutboxAttachmentView>>(message.AttachmentsJson)!;

    private sealed record OutboxAttachmentView(string FileName, string ContentType, string Path, bool Inline);

    [Fact]
    public async Task A_daily_subscription_falls_due_once_at_its_time_and_moves_its_next_time_in_the_same_save()
    {
        var board = await BoardAsync();
        var id = await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board), Ct));

        var created = await DbAsync(db => db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == id, Ct));
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero), created.NextRunAt);
        Assert.Equal(_owner.UserId(), created.UserId);

        Assert.Equal(0, await Runner.MakeDueAsync(Ct)); // 07:30: not yet
        _clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await Runner.MakeDueAsync(Ct));
        Assert.Equal(0, await Runner.MakeDueAsync(Ct)); // the next time moved with the run

        var moved = await DbAsync(db => db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == id, Ct));
        Assert.Equal(new DateTimeOffset(2026, 12, 8, 8, 0, 0, TimeSpan.Zero), moved.NextRunAt);
        var run = Assert.Single(await RunsAsync());
        Assert.Equal(SubscriptionRunStatus.Due, run.Status);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero), run.DueAt);

        Assert.Equal(1, await Runner.RunDueAsync(Ct));
        var sent = Assert.Single(await MessagesAsync());
        Assert.Equal(SubscriptionRunner.KeyFor(run.Id, _owner.UserId()!), sent.IdempotencyKey);
        Assert.Equal(_owner.UserId(), sent.Recipient);
        var done = Assert.Single(await RunsAsync());
        Assert.Equal(SubscriptionRunStatus.Done, done.Status);
        Assert.Equal(1, done.Messages);
        Assert.NotNull((await DbAsync(db => db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == id, Ct))).LastSentAt);
        var audit = await DbAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action == AuditActions.SubscriptionChanged).ToListAsync(Ct));
        Assert.Contains(audit, e => e.Detail == "Subscribed owner@example.com: Daily at 08:00 (UTC)");
    }

    [Fact]
    public async Task Pausing_stops_the_schedule_and_resuming_starts_from_now()
    {
        var board = await BoardAsync();
        var id = await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board), Ct));
        await As<SubscriptionService>(_owner, s => s.SetPausedAsync(id, true, Ct));
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(0, await Runner.MakeDueAsync(Ct));

        await As<SubscriptionService>(_owner, s => s.SetPausedAsync(id, false, Ct));
        var row = Assert.Single(await As<SubscriptionService, IReadOnlyList<SubscriptionRow>>(_owner, s => s.ListMineAsync(Ct)));
        Assert.False(row.Paused);
        Assert.Equal(new DateTimeOffset(2026, 12, 9, 8, 0, 0, TimeSpan.Zero), row.NextRunAt); // not the missed ones
        Assert.Equal(0, await Runner.MakeDueAsync(Ct));
    }

    [Fact]
    public async Task Viewers_subscribe_themselves_only_and_owners_Editors_and_Admins_subscribe_others_and_roles()
    {
        var board = await BoardAsync();
        var viewer = await PersonAsync("vera", Roles.Viewer);
        var editor = await PersonAsync("ed", Roles.Analyst);
        var stranger = await PersonAsync("stan", Roles.Analyst);
        var admin = await PersonAsync("ada", Roles.Admin);
        await ShareAsync(SharedItem.Dashboard, board, viewer);
        await ShareAsync(SharedItem.Dashboard, board, editor, ShareLevel.Editor);

        // Someone the board is not shared with cannot subscribe at all (it is "missing" to them).
        var missing = await Assert.ThrowsAsync<PortalException>(() => As<SubscriptionService, int>(stranger, s => s.CreateAsync(Daily(board), Ct)));
        Assert.Equal("That dashboard does not exist or you do not have access to it.", missing.Message);

        // A Viewer subscribes themselves, but nobody else.
        await As<SubscriptionService, int>(viewer, s => s.CreateAsync(Daily(board), Ct));
        Assert.False(await As<SubscriptionService, bool>(viewer, s => s.CanSubscribeOthersAsync(SubscriptionTarget.Dashboard, board, Ct)));
        var refused = await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            As<SubscriptionService, int>(viewer, s => s.CreateAsync(Daily(board, userId: stranger.UserId()), Ct)));
        Assert.Equal("Only the dashboard's owner, its Editors or an Admin can subscribe other people.", refused.Message);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => As<SubscriptionService, int>(viewer, s => s.CreateAsync(Daily(board, role: Roles.Viewer), Ct)));

        // The owner, an Editor and an Admin may.
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board, userId: viewer.UserId()), Ct));
        await As<SubscriptionService, int>(editor, s => s.CreateAsync(Daily(board, role: Roles.Viewer), Ct));
        await As<SubscriptionService, int>(admin, s => s.CreateAsync(Daily(board, userId: stranger.UserId()), Ct));
        Assert.True(await As<SubscriptionService, bool>(editor, s => s.CanSubscribeOthersAsync(SubscriptionTarget.Dashboard, board, Ct)));

        // Bad input says what to fix.
        var badDay = await Assert.ThrowsAsync<PortalException>(() => As<SubscriptionService, int>(_owner, s => s.CreateAsync(
            Daily(board) with { Schedule = new CheckSchedule { Frequency = ScheduleFrequency.Monthly, DayOfMonth = 30 } }, Ct)));
        Assert.Equal("Choose a day of the month from 1 to 28, or the last day.", badDay.Message);
        var badZone = await Assert.ThrowsAsync<PortalException>(() => As<SubscriptionService, int>(_owner, s => s.CreateAsync(
            Daily(board) with { Schedule = new CheckSchedule { Frequency = ScheduleFrequency.Daily, TimeZone = "Mars/Olympus" } }, Ct)));
        Assert.Contains("not a time zone this server knows", badZone.Message);
        var badRole = await Assert.ThrowsAsync<PortalException>(() => As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board, role: "Managers"), Ct)));
        Assert.Contains("is not a role", badRole.Message);

        // The owner lists every subscription to the board; the Viewer lists theirs, and may delete only theirs.
        var forOwner = await As<SubscriptionService, IReadOnlyList<SubscriptionRow>>(_owner, s => s.ListForItemAsync(SubscriptionTarget.Dashboard, board, Ct));
        Assert.Equal(4, forOwner.Count);
        var mine = await As<SubscriptionService, IReadOnlyList<SubscriptionRow>>(viewer, s => s.ListMineAsync(Ct));
        Assert.Equal(3, mine.Count); // their own, the owner's for them, and the Viewer role's
        Assert.Equal(2, mine.Count(r => r.CanChange));
        var roleRow = mine.Single(r => r.Recipient == "Role Viewer");
        await Assert.ThrowsAsync<PermissionDeniedException>(() => As<SubscriptionService>(viewer, s => s.DeleteAsync(roleRow.Id, Ct)));
        await As<SubscriptionService>(_owner, s => s.DeleteAsync(roleRow.Id, Ct)); // the board's owner may
        Assert.Equal(3, (await As<SubscriptionService, IReadOnlyList<SubscriptionRow>>(_owner, s => s.ListForItemAsync(SubscriptionTarget.Dashboard, board, Ct))).Count);
    }

    [Fact]
    public async Task A_recipient_who_lost_access_is_skipped_with_a_note_and_the_others_still_get_theirs()
    {
        var board = await BoardAsync();
        var kept = await PersonAsync("kim", Roles.Viewer);
        var lost = await PersonAsync("lou", Roles.Viewer);
        await ShareAsync(SharedItem.Dashboard, board, kept);
        await ShareAsync(SharedItem.Dashboard, board, lost);
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board, role: Roles.Viewer), Ct));

        // Lou's share is taken away after the subscription was made.
        var share = (await As<SharingService, ShareList>(_owner, s => s.ListAsync(SharedItem.Dashboard, board, Ct))).Entries.Single(e => e.UserId == lost.UserId());
        await As<SharingService>(_owner, s => s.UnshareAsync(share.ShareId!.Value, Ct));

        _clock.Advance(TimeSpan.FromHours(1));
        await Runner.MakeDueAsync(Ct);
        await Runner.RunDueAsync(Ct);

        var message = Assert.Single(await MessagesAsync());
        Assert.Equal(kept.UserId(), message.Recipient);
        Assert.DoesNotContain(_renderer.Calls, c => c.UserId == lost.UserId());
        var run = Assert.Single(await RunsAsync());
        Assert.Equal(SubscriptionRunStatus.Done, run.Status);
        Assert.Equal(1, run.Messages);
        Assert.Contains("lou@example.com: skipped, no longer has access to the dashboard.", run.Note);
    }

    [Fact]
    public async Task A_run_stopped_half_way_stays_Due_and_run_again_sends_each_recipient_exactly_once()
    {
        var board = await BoardAsync();
        var first = await PersonAsync("amy", Roles.Viewer);
        var second = await PersonAsync("ben", Roles.Viewer);
        await As<SharingService>(_owner, s => s.ShareAsync(SharedItem.Dashboard, board, null, Roles.Viewer, ShareLevel.Viewer, Ct));
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board, role: Roles.Viewer), Ct));
        _clock.Advance(TimeSpan.FromHours(1));
        await Runner.MakeDueAsync(Ct);

        // The process stops while the second recipient's board is being drawn (the first's message is stored).
        var ids = new[] { first.UserId()!, second.UserId()! }.Order(StringComparer.Ordinal).ToArray();
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            _renderer.OnRender = userId =>
            {
                if (userId == ids[1])
                {
                    stop.Cancel();
                    stop.Token.ThrowIfCancellationRequested();
                }
            };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Runner.RunDueAsync(stop.Token));
        }
        _renderer.OnRender = null;
        var interrupted = Assert.Single(await RunsAsync());
        Assert.Equal(SubscriptionRunStatus.Due, interrupted.Status);
        Assert.Equal([ids[0]], (await MessagesAsync()).Select(m => m.Recipient));

        // A new start runs it again: only the recipient without a stored key is drawn and added.
        _renderer.Calls.Clear();
        Assert.Equal(1, await Runner.RunDueAsync(Ct));

        var messages = await MessagesAsync();
        Assert.Equal(ids, messages.Select(m => m.Recipient).Order(StringComparer.Ordinal));
        Assert.Equal(messages.Select(m => m.IdempotencyKey).Distinct().Count(), messages.Count);
        Assert.All(_renderer.Calls, c => Assert.Equal(ids[1], c.UserId));
        var done = Assert.Single(await RunsAsync());
        Assert.Equal(SubscriptionRunStatus.Done, done.Status);
        Assert.Equal(2, done.Messages);

        // And again: nothing more.
        Assert.Equal(0, await Runner.RunDueAsync(Ct));
        Assert.Equal(2, (await MessagesAsync()).Count);
    }

    [Fact]
    public async Task A_run_that_keeps_failing_is_tried_again_later_and_Failed_after_three_attempts_with_the_reason()
    {
        var board = await BoardAsync();
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board), Ct));
        _renderer.OnRender = _ => throw new PortalException("The board took longer than 90 seconds to load for the export.");
        _clock.Advance(TimeSpan.FromHours(1));
        await Runner.MakeDueAsync(Ct);

        Assert.Equal(0, await Runner.RunDueAsync(Ct));
        var first = Assert.Single(await RunsAsync());
        Assert.Equal((SubscriptionRunStatus.Due, 1), (first.Status, first.Attempts));
        Assert.Equal("The board took longer than 90 seconds to load for the export.", first.Note);
        Assert.Equal(_clock.GetUtcNow().AddMinutes(1), first.DueAt);
        Assert.Equal(0, await Runner.RunDueAsync(Ct)); // not due again yet
        Assert.Equal(1, Assert.Single(await RunsAsync()).Attempts);

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await Runner.RunDueAsync(Ct));
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await Runner.RunDueAsync(Ct));

        var failed = Assert.Single(await RunsAsync());
        Assert.Equal((SubscriptionRunStatus.Failed, 3), (failed.Status, failed.Attempts));
        Assert.Empty(await MessagesAsync());
        var row = Assert.Single(await As<SubscriptionService, IReadOnlyList<SubscriptionRow>>(_owner, s => s.ListMineAsync(Ct)));
        Assert.Equal("Failed: The board took longer than 90 seconds to load for the export.", row.LastNote);
        Assert.Null(row.LastSentAt);
    }

    [Fact]
    public async Task Where_viewers_may_not_export_the_board_a_Viewer_gets_the_link_only_and_the_owner_the_files()
    {
        var board = await BoardAsync();
        var viewer = await PersonAsync("val", Roles.Viewer);
        await ShareAsync(SharedItem.Dashboard, board, viewer);
        await As<DashboardService, DashboardView>(_owner, s => s.SetViewersMayExportAsync(board, false, Ct));
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board, userId: viewer.UserId()), Ct));
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board), Ct));

        _clock.Advance(TimeSpan.FromHours(1));
        await Runner.MakeDueAsync(Ct);
        await Runner.RunDueAsync(Ct);

        var messages = await MessagesAsync();
        var toViewer = messages.Single(m => m.Recipient == viewer.UserId());
        Assert.Empty(Files(toViewer));
        Assert.Contains("carries the link only", toViewer.HtmlBody);
        Assert.Contains($"/dashboards/{board}", toViewer.HtmlBody);
        Assert.DoesNotContain("cid:", toViewer.HtmlBody);
        Assert.DoesNotContain(_renderer.Calls, c => c.UserId == viewer.UserId());

        var toOwner = messages.Single(m => m.Recipient == _owner.UserId());
        var files = Files(toOwner);
        Assert.Equal([SubscriptionEmails.BoardImageId, "Weekly review.pdf"], files.Select(f => f.FileName));
        Assert.Equal([true, false], files.Select(f => f.Inline));
        Assert.Contains($"cid:{SubscriptionEmails.BoardImageId}", toOwner.HtmlBody);
        Assert.Contains(_renderer.Calls, c => c.UserId == _owner.UserId() && c.Format == BoardImageFormat.Pdf);
        Assert.Contains(await RunsAsync(), r => r.Note == "val@example.com: link only, exports of the board are off for viewers.");
    }

    [Fact]
    public async Task After_a_refresh_only_the_after_refresh_subscriptions_of_what_reads_the_dataset_fall_due()
    {
        var board = await BoardAsync();
        var other = await As<DashboardService, int>(_owner, s => s.CreateAsync("Empty", null, Ct));
        var afterRefresh = new CheckSchedule { Frequency = ScheduleFrequency.AfterRefresh };
        var onBoard = await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board) with { Schedule = afterRefresh }, Ct));
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(other) with { Schedule = afterRefresh }, Ct));
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(Daily(board), Ct));
        Assert.Null((await DbAsync(db => db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == onBoard, Ct))).NextRunAt);

        // The real refresh hook, as a refresh calls it.
        await using (var scope = _harness.Services.CreateAsyncScope())
        {
            foreach (var listener in scope.ServiceProvider.GetServices<IDatasetRefreshListener>())
            {
                await listener.DatasetRefreshedAsync(_customers.Id, _owner, Ct);
            }
        }

        var run = Assert.Single(await RunsAsync());
        Assert.Equal(onBoard, run.SubscriptionId);
        Assert.True(run.AfterRefresh);
        await Runner.RunDueAsync(Ct);
        Assert.Contains("after a refresh of its data", Assert.Single(await MessagesAsync()).HtmlBody);
    }

    [Fact]
    public async Task A_segment_subscription_sends_size_change_entered_left_and_the_member_file()
    {
        var rule = SegmentPortal.Tests.Queries.ShopFixture.All(SegmentPortal.Tests.Queries.ShopFixture.Field("region", RuleOperator.Equals, "North"));
        var segmentId = await As<SegmentService, int>(_owner, s => s.CreateAsync(new SegmentDraft("Northerners", _customers.Id, new RuleTree { Root = rule }), Ct));
        // Made (and counted) with North's two customers; then the rule takes in East too, and the recount finds one more.
        var wider = SegmentPortal.Tests.Queries.ShopFixture.All(SegmentPortal.Tests.Queries.ShopFixture.FieldIn("region", RuleOperator.In, "North", "East"));
        await As<SegmentService>(_owner, s => s.UpdateAsync(segmentId, new SegmentDraft("Northerners", _customers.Id, new RuleTree { Root = wider }), Ct));
        await As<SubscriptionService, int>(_owner, s => s.CreateAsync(new SubscriptionDraft
        {
            Target = SubscriptionTarget.Segment,
            ItemId = segmentId,
            Schedule = new CheckSchedule { Frequency = ScheduleFrequency.Weekly, Day = DayOfWeek.Monday, At = new TimeOnly(8, 0) },
        }, Ct));

        _clock.Advance(TimeSpan.FromHours(1));
        await Runner.MakeDueAsync(Ct);
        await Runner.RunDueAsync(Ct);

        var message = Assert.Single(await MessagesAsync());
        Assert.Equal("Northerners (segment subscription)", message.Subject);
        Assert.Contains("Customers: 3\n", message.TextBody);
        Assert.Contains("Change since the previous refresh: +1\n", message.TextBody);
        Assert.Contains("Entered: 1\n", message.TextBody);
        Assert.Contains("Left: 0\n", message.TextBody);
        var csv = Assert.Single(Files(message));
        Assert.Equal("Northerners members.csv", csv.FileName);
        var text = await File.ReadAllTextAsync(csv.Path, Ct);
        Assert.Contains("Ann", text);
        Assert.Contains("Cy", text);
        Assert.Contains("Di", text);
        Assert.DoesNotContain("Bo", text);
        var exports = await DbAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action == AuditActions.Export).ToListAsync(Ct));
        Assert.Contains(exports, e => e.Subject!.Contains("Northerners", StringComparison.Ordinal) && e.Rows == 3 && e.UserName == "owner@example.com");
    }

    [Fact]
    public async Task A_segment_recipient_under_a_row_rule_gets_the_size_and_members_of_their_rows_only_and_no_stored_changes()
    {
        var viewer = await PersonAsync("nora", Roles.Viewer);
        await As<DatasetSharing>(_owner, s => s.SetAsync(_customers.Id, [Roles.Viewer], [], Ct));
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.RowRules.Add(new RowRule
            {
                DatasetId = _customers.Id,
                UserId = viewer.UserId(),
                RuleJson = new RuleTree { Root = SegmentPortal.Tests.Queries.ShopFixture.All(SegmentPortal.Tests.Queries.ShopFixture.Field("region", RuleOperator.Equals, "North")) }.ToJson(),
            });
            // Rules fail closed: the owner keeps every row with a rule of their own.
            db.RowRules.Add(new RowRule { DatasetId = _customers.Id, UserId = _owner.UserId(), RuleJson = new RuleTree().ToJson() });
            await db.SaveChangesAsync(Ct);
        }
        var rule = SegmentPortal.Tests.Queries.ShopFixture.All(SegmentPortal.Tests.Queries.ShopFixture.FieldIn("region", RuleOperator.In, "North", "South"));
        var segmentId = await As<SegmentService, int>(_owner, s => s.CreateAsync(new SegmentDraft("North and South", _customers.Id, new RuleTree { Root = rule }), Ct));
        await ShareAsync(SharedItem.Segment, segmentId, viewer);
        var weekly = new CheckSchedule { Frequency = ScheduleFrequency.Weekly, Day = DayOfWeek.Monday, At = new TimeOnly(8, 0) };
        foreach (var to in new[] { viewer.UserId(), null })
        {
            await As<SubscriptionService, int>(_owner, s => s.CreateAsync(new SubscriptionDraft { Target = SubscriptionTarget.Segment, ItemId = segmentId, Schedule = weekly, UserId = to }, Ct));
        }

        _clock.Advance(TimeSpan.FromHours(1));
        await Runner.MakeDueAsync(Ct);
        await Runner.RunDueAsync(Ct);

        var messages = await MessagesAsync();
        var toViewer = messages.Single(m => m.Recipient == viewer.UserId());
        Assert.Contains("Customers: 2\n", toViewer.TextBody); // Ann and Cy: North's
        Assert.DoesNotContain("Entered", toViewer.TextBody);
        Assert.DoesNotContain("Change since", toViewer.TextBody);
        Assert.Contains("counted over the rows you may see", toViewer.TextBody);
        var members = await File.ReadAllTextAsync(Assert.Single(Files(toViewer)).Path, Ct);
        Assert.Contains("Ann", members);
        Assert.Contains("Cy", members);
        Assert.DoesNotContain("Bo", members);

        var toOwner = messages.Single(m => m.Recipient == _owner.UserId());
        Assert.Contains("Customers: 3\n", toOwner.TextBody);
        Assert.Contains("Bo", await File.ReadAllTextAsync(Assert.Single(Files(toOwner)).Path, Ct));
    }

    /// <summary>Stands in for Chromium: remembers who each board was drawn for.</summary>
    private sealed class FakeRenderer : IBoardRenderer
    {
        public ConcurrentQueue<(int DashboardId, string UserId, BoardImageFormat Format)> Calls { get; } = new();

        public Action<string>? OnRender { get; set; }

        public Task<byte[]> RenderAsync(int dashboardId, string userId, BoardImageFormat format, CancellationToken cancellationToken)
        {
            OnRender?.Invoke(userId);
            Calls.Enqueue((dashboardId, userId, format));
            return Task.FromResult(format == BoardImageFormat.Png ? "\x89PNG fake"u8.ToArray() : "%PDF-fake"u8.ToArray());
        }
    }
}
