using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Subscriptions;

/// <summary>Wakes the subscription scheduler: a refresh made runs due.</summary>
internal sealed class SubscriptionSignal : Common.WorkSignal;

/// <summary>
/// Turns subscriptions into sendings and sends them. <see cref="MakeDueAsync"/> records a Due
/// <see cref="SubscriptionRun"/> for every subscription whose time has come and moves its next time, in one save;
/// <see cref="AfterRefreshAsync"/> does the same for "after each refresh" subscriptions of what a refreshed dataset
/// feeds. <see cref="RunDueAsync"/> sends each Due run: for every recipient (the user, or each enabled member of the
/// role) it checks, as that recipient and now, that they may still view the item — skipping (and noting) those who may
/// not — renders what they would see, and puts one e-mail in the outbox keyed <c>subscription-run-{run}-{user}</c>. A
/// message is saved before the next recipient's rendering starts, and the last one together with the run's Done, so a
/// run stopped half way stays Due and, run again, skips the recipients whose key is already stored.
/// </summary>
internal sealed class SubscriptionRunner(
    IServiceScopeFactory scopes,
    IPortalDbFactory dbFactory,
    IOutbox outbox,
    SubscriptionSignal signal,
    IOptions<SubscriptionOptions> options,
    PortalAddress portal,
    TimeProvider clock,
    ILogger<SubscriptionRunner> logger)
{
    // One sender and one scheduling round at a time in the process (the scheduler and a test or a caller may overlap);
    // after-refresh runs only add rows and never wait behind a sending.
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly SemaphoreSlim _making = new(1, 1);

    /// <summary>The idempotency key of one recipient's message from one run.</summary>
    public static string KeyFor(long runId, string userId) => $"subscription-run-{runId}-{userId}";

    /// <summary>Records a Due run for each subscription whose time has come and moves its next time, in the same save.</summary>
    public async Task<int> MakeDueAsync(CancellationToken cancellationToken = default)
    {
        await _making.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            var candidates = await db.Subscriptions.Where(s => !s.Paused && s.NextRunAt != null).ToListAsync(cancellationToken);
            var due = candidates.Where(s => s.NextRunAt <= now).ToList();
            foreach (var subscription in due)
            {
                db.SubscriptionRuns.Add(new SubscriptionRun
                {
                    SubscriptionId = subscription.Id,
                    Status = SubscriptionRunStatus.Due,
                    DueAt = subscription.NextRunAt!.Value,
                });
                subscription.NextRunAt = SubscriptionSchedules.Read(subscription.ScheduleJson).NextAfter(now);
            }
            await db.SaveChangesAsync(cancellationToken);
            return due.Count;
        }
        finally
        {
            _making.Release();
        }
    }

    /// <summary>
    /// Records a Due run for each active "after each refresh" subscription to a board that reads the dataset or a
    /// segment on it, and wakes the scheduler. Returns how many.
    /// </summary>
    public async Task<int> AfterRefreshAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var subscriptions = (await db.Subscriptions.AsNoTracking().Where(s => !s.Paused).ToListAsync(cancellationToken))
            .Where(s => SubscriptionSchedules.Read(s.ScheduleJson).Frequency == ScheduleFrequency.AfterRefresh).ToList();
        var boards = new Dictionary<int, bool>();
        foreach (var id in subscriptions.Select(s => s.DashboardId).OfType<int>().Distinct())
        {
            boards[id] = (await DashboardDatasets.DatasetsOfAsync(db, id, cancellationToken)).Contains(datasetId);
        }
        var segmentIds = subscriptions.Select(s => s.SegmentId).OfType<int>().Distinct().ToList();
        var segments = (await db.Segments.AsNoTracking().Where(s => segmentIds.Contains(s.Id) && s.DatasetId == datasetId).Select(s => s.Id)
            .ToListAsync(cancellationToken)).ToHashSet();
        var reading = subscriptions.Where(s => s.Target == SubscriptionTarget.Dashboard
            ? s.DashboardId is { } board && boards.GetValueOrDefault(board)
            : s.SegmentId is { } segment && segments.Contains(segment)).ToList();
        foreach (var subscription in reading)
        {
            db.SubscriptionRuns.Add(new SubscriptionRun
            {
                SubscriptionId = subscription.Id,
                AfterRefresh = true,
                Status = SubscriptionRunStatus.Due,
                DueAt = now,
            });
        }
        await db.SaveChangesAsync(cancellationToken);
        if (reading.Count > 0)
        {
            signal.Notify();
        }
        return reading.Count;
    }

    /// <summary>Sends every run due now, oldest first. Returns how many it finished (Done or Failed).</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            List<long> due;
            await using (var db = await dbFactory.CreateAsync(cancellationToken))
            {
                due = (await db.SubscriptionRuns.AsNoTracking().Where(r => r.Status == SubscriptionRunStatus.Due)
                        .Select(r => new { r.Id, r.DueAt }).ToListAsync(cancellationToken))
                    .Where(r => r.DueAt <= now).OrderBy(r => r.DueAt).ThenBy(r => r.Id).Select(r => r.Id).ToList();
            }
            var finished = 0;
            foreach (var id in due)
            {
                if (await RunOneAsync(id, cancellationToken))
                {
                    finished++;
                }
            }
            return finished;
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Sends one Due run; returns whether it ended (Done or Failed) rather than waiting for another attempt.</summary>
    private async Task<bool> RunOneAsync(long runId, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(runId, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the run stays Due and is sent on the next start; messages already stored keep their keys.
            throw;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Subscription run {RunId} failed", runId);
            await using var db = await dbFactory.CreateAsync(CancellationToken.None);
            var run = await db.SubscriptionRuns.SingleOrDefaultAsync(r => r.Id == runId, CancellationToken.None);
            if (run is null)
            {
                return true;
            }
            run.Attempts++;
            run.Note = Cut(ex is PortalException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
            var failed = run.Attempts >= Math.Max(1, options.Value.MaxAttempts);
            if (failed)
            {
                run.Status = SubscriptionRunStatus.Failed;
                run.DoneAt = clock.GetUtcNow();
            }
            else
            {
                // Tried again a little later, not in a tight loop.
                run.DueAt = clock.GetUtcNow().AddMinutes(Math.Pow(2, run.Attempts - 1));
            }
            await db.SaveChangesAsync(CancellationToken.None);
            return failed;
        }
    }

    private async Task<bool> SendAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.SubscriptionRuns.SingleOrDefaultAsync(r => r.Id == runId && r.Status == SubscriptionRunStatus.Due, cancellationToken);
        if (run is null)
        {
            return false;
        }
        var subscription = await db.Subscriptions.SingleOrDefaultAsync(s => s.Id == run.SubscriptionId, cancellationToken);
        if (subscription is null)
        {
            return false;
        }
        if (subscription.Paused)
        {
            run.Status = SubscriptionRunStatus.Done;
            run.DoneAt = clock.GetUtcNow();
            run.Note = "Paused before it was sent; nothing was sent.";
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }

        var notes = new List<string>();
        var messages = 0;
        var unsaved = false;
        foreach (var recipient in await RecipientsAsync(db, subscription, cancellationToken))
        {
            var key = KeyFor(run.Id, recipient);
            if (await db.OutboxMessages.AnyAsync(m => m.IdempotencyKey == key, cancellationToken) || db.OutboxMessages.Local.Any(m => m.IdempotencyKey == key))
            {
                messages++;
                continue;
            }
            if (unsaved)
            {
                // The previous recipient's message is kept before the next rendering starts.
                await db.SaveChangesAsync(cancellationToken);
                outbox.Notify();
                unsaved = false;
            }
            var (principal, email, why) = await PrincipalAsync(db, recipient, cancellationToken);
            if (principal is null)
            {
                notes.Add($"{email}: skipped, {why}.");
                continue;
            }
            var composed = await ComposeAsync(subscription, run, principal, key, cancellationToken);
            if (composed.Request is null)
            {
                notes.Add($"{email}: skipped, {composed.Note}.");
                continue;
            }
            if (composed.Note is { } note)
            {
                notes.Add($"{email}: {note}.");
            }
            if (await outbox.EnqueueAsync(db, composed.Request, cancellationToken) is not null)
            {
                unsaved = true;
            }
            messages++;
        }
        var now = clock.GetUtcNow();
        run.Status = SubscriptionRunStatus.Done;
        run.DoneAt = now;
        run.Attempts++;
        run.Messages = messages;
        run.Note = notes.Count == 0 ? null : Cut(string.Join(" ", notes));
        if (messages > 0)
        {
            subscription.LastSentAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        if (messages > 0)
        {
            outbox.Notify();
        }
        logger.LogInformation("Subscription {SubscriptionId} run {RunId}: {Messages} message(s){Notes}", subscription.Id, run.Id, messages,
            notes.Count == 0 ? "" : "; " + string.Join(" ", notes));
        return true;
    }

    /// <summary>The user ids the run goes to: the user, or the role's enabled members.</summary>
    private static async Task<List<string>> RecipientsAsync(IPortalDb db, Subscription subscription, CancellationToken cancellationToken)
    {
        if (subscription.Role is not { } role)
        {
            return subscription.UserId is { } userId ? [userId] : [];
        }
        return (await db.EnabledMembersAsync(role, cancellationToken)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The recipient as they are now (stored roles, not an old sign-in), or why they get nothing.</summary>
    private static async Task<(ClaimsPrincipal? Principal, string Email, string? Why)> PrincipalAsync(IPortalDb db, string userId, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.Email, u.IsDisabled }).SingleOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            return (null, "A removed user", "no longer a user of the portal");
        }
        var email = user.Email ?? userId;
        if (user.IsDisabled)
        {
            return (null, email, "their account is disabled");
        }
        if (string.IsNullOrWhiteSpace(user.Email))
        {
            return (null, email, "no e-mail address");
        }
        var roles = await db.RolesOfAsync(userId, cancellationToken);
        if (!roles.Any(Permissions.RolesGranted(Permissions.ViewData).Contains))
        {
            return (null, email, "their roles no longer see data");
        }
        return (new PortalPerson(userId, email, "", roles).Principal(), email, null);
    }

    /// <summary>The recipient's message, made in a scope that acts as them; no request (and the reason) when they get nothing.</summary>
    private async Task<(OutboxRequest? Request, string? Note)> ComposeAsync(
        Subscription subscription, SubscriptionRun run, ClaimsPrincipal recipient, string key, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = recipient;
        var authorizer = scope.ServiceProvider.GetRequiredService<Authorizer>();
        var itemId = SubscriptionService.ItemIdOf(subscription);
        var item = SubscriptionService.ItemOf(subscription.Target);
        if (!(await authorizer.AccessAsync(item, itemId, cancellationToken)).CanView)
        {
            return (null, $"no longer has access to the {item.ToString().ToLowerInvariant()}");
        }
        var userId = recipient.UserId()!;
        var schedule = SubscriptionSchedules.Read(subscription.ScheduleJson);
        var why = run.AfterRefresh ? "after a refresh of its data" : $"on its schedule ({schedule.Describe()})";
        if (subscription.Target == SubscriptionTarget.Dashboard)
        {
            string name;
            await using (var db = await dbFactory.CreateAsync(cancellationToken))
            {
                name = await SubscriptionService.ItemNameAsync(db, SubscriptionTarget.Dashboard, itemId, cancellationToken);
            }
            var link = Link($"/dashboards/{itemId}");
            // The board's own export rule, as the export buttons apply it ("Viewers may export").
            if (!await authorizer.CanExportAsync(itemId, cancellationToken))
            {
                return (SubscriptionEmails.Board(userId, key, name, link, Link("/subscriptions"), why, null, null), "link only, exports of the board are off for viewers");
            }
            var renderer = scope.ServiceProvider.GetService<IBoardRenderer>()
                ?? throw new PortalException("Boards cannot be rendered here: the server has no board renderer (Chromium).");
            var png = await renderer.RenderAsync(itemId, userId, BoardImageFormat.Png, cancellationToken);
            var pdf = await renderer.RenderAsync(itemId, userId, BoardImageFormat.Pdf, cancellationToken);
            return (SubscriptionEmails.Board(userId, key, name, link, Link("/subscriptions"), why, png, pdf), null);
        }
        return await ComposeSegmentAsync(scope.ServiceProvider, itemId, userId, key, why, cancellationToken);
    }

    private async Task<(OutboxRequest? Request, string? Note)> ComposeSegmentAsync(
        IServiceProvider services, int segmentId, string userId, string key, string why, CancellationToken cancellationToken)
    {
        var segments = services.GetRequiredService<SegmentService>();
        Segment segment;
        Rules.RuleTree rule;
        try
        {
            (segment, rule, _) = await segments.GetAsync(segmentId, cancellationToken);
        }
        catch (PortalException ex)
        {
            return (null, $"cannot see the segment's data ({ex.Message.TrimEnd('.')})");
        }
        var figures = new SegmentFigures { Name = segment.Name };
        if (await segments.StoredCountsVisibleAsync(segmentId, cancellationToken))
        {
            var history = await segments.HistoryAsync(segmentId, cancellationToken);
            var last = history.Count > 0 ? history[^1] : null;
            var previous = history.Count > 1 ? history[^2] : null;
            figures = figures with
            {
                Size = segment.Size ?? (await segments.CountAsync(segment.DatasetId, rule.Root, cancellationToken)).Matching,
                RefreshedAt = segment.RefreshedAt,
                Change = last is not null && previous is not null ? last.Size - previous.Size : null,
                Entered = last?.Entered,
                Left = last?.Left,
            };
        }
        else
        {
            // Stored counts were made over someone else's rows: today's size over the recipient's rows only.
            figures = figures with
            {
                Size = (await segments.CountAsync(segment.DatasetId, rule.Root, cancellationToken)).Matching,
                Restricted = true,
            };
        }

        string? note = null;
        byte[]? csv = null;
        try
        {
            var members = await segments.AllMembersAsync(segmentId, cancellationToken);
            if (members.Rows.Count > Math.Max(0, options.Value.MaxMemberFileRows))
            {
                figures = figures with { MembersTooMany = true };
                note = $"member file left out ({members.Rows.Count:N0} members, more than {options.Value.MaxMemberFileRows:N0})";
            }
            else
            {
                using var stream = new MemoryStream();
                await TableExport.WriteCsvAsync(members, stream, cancellationToken);
                csv = stream.ToArray();
                await services.GetRequiredService<AuditLog>().RecordAsync(AuditActions.Export, $"Segment {segmentId} “{segment.Name}” members",
                    "CSV by e-mail (subscription)", members.Rows.Count, cancellationToken);
            }
        }
        catch (PortalException ex)
        {
            note = $"no member file ({ex.Message.TrimEnd('.')})";
        }
        return (SubscriptionEmails.Segment(userId, key, figures, Link($"/segments/{segmentId}"), Link("/subscriptions"), why, csv), note);
    }

    /// <summary>An absolute link into the portal (<c>Delivery:PortalUrl</c>, or the server's first address).</summary>
    private string Link(string path) => portal.Link(path);

    private static string Cut(string text) =>
        text.Length > SubscriptionRun.MaxTextLength ? text[..(SubscriptionRun.MaxTextLength - 1)] + "…" : text;
}

/// <summary>What a segment's message says.</summary>
internal sealed record SegmentFigures
{
    public required string Name { get; init; }

    public long? Size { get; init; }

    public DateTimeOffset? RefreshedAt { get; init; }

    /// <summary>Size at the last refresh less the size at the one before.</summary>
    public long? Change { get; init; }

    public long? Entered { get; init; }

    public long? Left { get; init; }

    /// <summary>The recipient has data rules on the segment's data: only today's size over their rows is shown.</summary>
    public bool Restricted { get; init; }

    public bool MembersTooMany { get; init; }
}
