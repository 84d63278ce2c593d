using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Delivery;
using StandardWebhooks;

namespace SegmentPortal.Tests.Activation;

/// <summary>
/// Segment syncs to a real HTTP receiver (Kestrel on a free loopback port) and to a file-drop folder: a full sync, then
/// deltas computed against the last successful delivery, signed batches with stable ids, retries, restarts, column
/// rules and the holdout.
/// </summary>
public sealed class SegmentSyncTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SyncFixture _f = null!;
    private TestWebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await SyncFixture.CreateAsync(Ct);
        _receiver = await TestWebhookReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _f.DisposeAsync();
    }

    private sealed record Batch(string Id, string Mode, int Number, int Of, IReadOnlyList<string> Entered, IReadOnlyList<string> Left, JsonElement Body);

    /// <summary>Every batch received with status 200, verified against the endpoint's secret.</summary>
    private List<Batch> Accepted(string secret)
    {
        var verifier = new StandardWebhook(secret);
        var batches = new List<Batch>();
        foreach (var (headers, body, status) in _receiver.Received)
        {
            verifier.Verify(body, headers); // throws when the signature does not match
            if (status != 200)
            {
                continue;
            }
            var json = JsonDocument.Parse(body).RootElement.Clone();
            Assert.Equal("segment.members", json.GetProperty("type").GetString());
            batches.Add(new Batch(headers["webhook-id"].ToString(), json.GetProperty("mode").GetString()!, json.GetProperty("batch").GetInt32(),
                json.GetProperty("batches").GetInt32(),
                json.GetProperty("entered").EnumerateArray().Select(e => e.GetProperty("customer_key").GetString()!).ToList(),
                json.GetProperty("left").EnumerateArray().Select(e => e.GetString()!).ToList(), json));
        }
        return batches;
    }

    private async Task<(int Segment, int Sync, string Secret)> WebhookSyncAsync(SyncSchedule schedule = SyncSchedule.AfterRefresh)
    {
        var endpoint = await _f.EndpointAsync(_receiver.Url, Ct);
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);
        var sync = await _f.SyncAsync(segment, new SyncInput
        {
            Name = "Campaign tool",
            Kind = SyncDestinationKind.Webhook,
            WebhookEndpointId = endpoint.Id,
            Columns = ["email", "spend"],
            Schedule = schedule,
        }, Ct);
        return (segment, sync, endpoint.Secret);
    }

    [Fact]
    public async Task A_webhook_gets_every_member_once_in_signed_batches_then_only_who_entered_and_left()
    {
        var (segment, sync, secret) = await WebhookSyncAsync();

        await _f.SyncNowAsync(sync, Ct);

        var full = Accepted(secret);
        Assert.Equal(6, full.Count); // 21 members in batches of 4
        Assert.All(full, b => Assert.Equal("full", b.Mode));
        Assert.Equal(Enumerable.Range(1, 6), full.Select(b => b.Number));
        Assert.All(full, b => Assert.Equal(6, b.Of));
        Assert.Equal(SyncFixture.Ids(200), full.SelectMany(b => b.Entered).Order(StringComparer.Ordinal));
        var first = full[0].Body.GetProperty("entered")[0];
        Assert.Equal("c20@example.com", first.GetProperty("email").GetString());
        Assert.Equal(200, first.GetProperty("spend").GetDouble());
        Assert.Equal(segment, full[0].Body.GetProperty("segment").GetProperty("id").GetInt32());

        // New data: spend 100–350 (10 enter, 36–40 leave); the refresh makes the "after each refresh" run due.
        await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(100, 350), Ct);
        Assert.Equal(1, await _f.Runner.RunDueAsync(Ct));

        var delta = Accepted(secret).Skip(full.Count).ToList();
        Assert.All(delta, b => Assert.Equal("delta", b.Mode));
        Assert.Equal(["10", "11", "12", "13", "14", "15", "16", "17", "18", "19"], delta.SelectMany(b => b.Entered).Order(StringComparer.Ordinal));
        Assert.Equal(["36", "37", "38", "39", "40"], delta.SelectMany(b => b.Left).Order(StringComparer.Ordinal));
        Assert.Equal(5, delta.Count); // 10 entered in 3 batches of 4, then 5 left in 2
        Assert.Equal(SyncFixture.Ids(100, 350), await DeliveredAsync(sync));

        // A refresh that moves nobody sends nothing.
        await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(100, 350), Ct);
        await _f.Runner.RunDueAsync(Ct);
        Assert.Equal(full.Count + delta.Count, Accepted(secret).Count);

        var history = await _f.HistoryAsync(sync, Ct);
        Assert.Equal([SyncRunStatus.Succeeded, SyncRunStatus.Succeeded, SyncRunStatus.Succeeded], history.Select(r => r.Status));
        Assert.Equal([false, false, true], history.Select(r => r.Full));
        Assert.Equal((0, 0), (history[0].Added, history[0].Removed));
        Assert.Equal((10, 5), (history[1].Added, history[1].Removed));
        Assert.Equal((21, 0), (history[2].Added, history[2].Removed));
        Assert.Equal([SyncTrigger.AfterRefresh, SyncTrigger.AfterRefresh, SyncTrigger.Manual], history.Select(r => r.Trigger));
    }

    [Fact]
    public async Task A_failed_batch_fails_the_run_and_the_retry_resends_the_same_batches_under_the_same_ids()
    {
        var (segment, sync, secret) = await WebhookSyncAsync(SyncSchedule.Manual);
        _receiver.Statuses.Enqueue(200);
        _receiver.Statuses.Enqueue(200);
        _receiver.Statuses.Enqueue(503); // batch 3 of the first attempt

        await _f.SyncNowAsync(sync, Ct); // the failed run, then its retry (due at once here)

        var history = await _f.HistoryAsync(sync, Ct);
        Assert.Equal([SyncRunStatus.Succeeded, SyncRunStatus.Failed], history.Select(r => r.Status));
        Assert.Contains("Batch 3 of 6 was not accepted", history[1].Error);
        Assert.Equal((2, SyncTrigger.Retry, true), (history[0].Attempt, history[0].Trigger, history[0].Full));
        var received = _receiver.Received.ToList();
        var ids = received.Select(r => r.Headers["webhook-id"].ToString()).ToList();
        // The retry sent batches 1 and 2 again under the ids they had: a receiver that drops repeated ids applies each once.
        Assert.Equal(ids.Take(3), ids.Skip(3).Take(3));
        Assert.Equal(received[0].Body, received[3].Body);
        var applied = Accepted(secret).DistinctBy(b => b.Id).ToList();
        Assert.Equal(6, applied.Count);
        Assert.Equal(SyncFixture.Ids(200), applied.SelectMany(b => b.Entered).Order(StringComparer.Ordinal));

        // The next change is computed against that success: exactly who moved since, once.
        await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(250), Ct);
        await _f.SyncNowAsync(sync, Ct);
        var delta = Accepted(secret).DistinctBy(b => b.Id).Skip(6).ToList();
        Assert.Equal(["20", "21", "22", "23", "24"], delta.SelectMany(b => b.Left).Order(StringComparer.Ordinal));
        Assert.Empty(delta.SelectMany(b => b.Entered));
    }

    [Fact]
    public async Task A_run_interrupted_by_a_stop_is_retried_at_start_without_sending_a_delta_twice()
    {
        var (segment, sync, secret) = await WebhookSyncAsync(SyncSchedule.Manual);
        await _f.SyncNowAsync(sync, Ct);
        await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(300), Ct); // 20–29 leave
        var runId = await _f.Harness.WithAsync<SyncService, long>(s => s.RunNowAsync(sync, Ct));
        // The process stopped while the run was Running (its work never reached the delivered set).
        await using (var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            await db.SyncRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncRunStatus.Running), Ct);
        }

        Assert.Equal(1, await _f.Runner.RecoverAsync(Ct));
        await _f.Runner.RunDueAsync(Ct);
        await _f.Runner.RunDueAsync(Ct);

        var history = await _f.HistoryAsync(sync, Ct);
        Assert.Equal([SyncRunStatus.Succeeded, SyncRunStatus.Failed, SyncRunStatus.Succeeded], history.Select(r => r.Status));
        Assert.StartsWith("Interrupted", history[1].Error);
        var left = Accepted(secret).Where(b => b.Mode == "delta").SelectMany(b => b.Left).ToList();
        Assert.Equal(SyncFixture.Ids(200, 290), left.Order(StringComparer.Ordinal));
        Assert.Equal(SyncFixture.Ids(300), await DeliveredAsync(sync));
    }

    [Fact]
    public async Task A_refresh_of_the_data_recounts_the_segment_within_one_run()
    {
        var (segment, sync, _) = await WebhookSyncAsync();
        await _f.SyncNowAsync(sync, Ct);
        var snapshots = (await _f.Harness.WithAsync<SegmentService, IReadOnlyList<SegmentSnapshot>>(s => s.HistoryAsync(segment, Ct))).Count;

        await _f.Runner.AfterDatasetRefreshAsync(_f.Dataset.Id, Ct); // as the import runner tells its listeners
        Assert.Equal(1, await _f.Runner.RunDueAsync(Ct)); // the recount inside the run makes no second run

        var history = await _f.HistoryAsync(sync, Ct);
        Assert.Equal((SyncTrigger.DataRefresh, SyncRunStatus.Succeeded, false), (history[0].Trigger, history[0].Status, history[0].Full));
        Assert.Equal(snapshots + 1, (await _f.Harness.WithAsync<SegmentService, IReadOnlyList<SegmentSnapshot>>(s => s.HistoryAsync(segment, Ct))).Count);
        Assert.Equal(0, await _f.Runner.RunDueAsync(Ct));
    }

    [Fact]
    public async Task Holdout_members_are_never_sent()
    {
        var (segment, sync, secret) = await WebhookSyncAsync(SyncSchedule.Manual);
        await _f.SetHoldoutAsync(segment, 0.3, "fixed-salt", Ct);
        var held = new Segment { Name = "x", RuleJson = "{}", HoldoutShare = 0.3, HoldoutSalt = "fixed-salt" };
        var treated = SegmentHoldout.Treated(held, SyncFixture.Ids(200)).ToList();
        Assert.InRange(treated.Count, 1, SyncFixture.Ids(200).Count - 1); // some are held out

        await _f.SyncNowAsync(sync, Ct);

        Assert.Equal(treated.Order(StringComparer.Ordinal), Accepted(secret).SelectMany(b => b.Entered).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_masked_or_hidden_column_cannot_be_chosen_and_a_rule_made_later_fails_the_run_with_the_reason()
    {
        var (segment, sync, _) = await WebhookSyncAsync(SyncSchedule.Manual);
        await using (var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var email = await db.DatasetColumns.SingleAsync(c => c.DatasetId == _f.Dataset.Id && c.Name == "email", Ct);
            var region = await db.DatasetColumns.SingleAsync(c => c.DatasetId == _f.Dataset.Id && c.Name == "region", Ct);
            db.ColumnRules.Add(new ColumnRule { DatasetId = _f.Dataset.Id, ColumnId = email.Id, Column = "email", Role = Roles.Analyst, Treatment = ColumnTreatment.Masked });
            db.ColumnRules.Add(new ColumnRule { DatasetId = _f.Dataset.Id, ColumnId = region.Id, Column = "region", Role = Roles.Analyst, Treatment = ColumnTreatment.Hidden });
            await db.SaveChangesAsync(Ct);
        }

        var choices = await _f.Harness.WithAsync<SyncService, SyncChoices>(s => s.ChoicesAsync(segment, Ct));
        Assert.Equal("customer_id", choices.CustomerKey);
        var email2 = choices.Columns.Single(c => c.Name == "email");
        Assert.False(email2.Allowed);
        Assert.Contains("masked", email2.Reason);
        Assert.False(choices.Columns.Single(c => c.Name == "region").Allowed);
        Assert.True(choices.Columns.Single(c => c.Name == "spend").Allowed);
        var refused = await Assert.ThrowsAsync<PortalException>(() => _f.SyncAsync(segment, new SyncInput
        {
            Name = "Another",
            Kind = SyncDestinationKind.FileDrop,
            Folder = "crm",
            Columns = ["region"],
        }, Ct));
        Assert.Contains("“region” is hidden from you", refused.Message);

        await _f.SyncNowAsync(sync, Ct); // made with email before the rule

        var run = Assert.Single(await _f.HistoryAsync(sync, Ct));
        Assert.Equal(SyncRunStatus.Failed, run.Status);
        Assert.Contains("The column “email”: Masked", run.Error);
        Assert.Empty(_receiver.Received);
    }

    [Fact]
    public async Task A_file_drop_writes_a_file_per_run_and_a_manifest_with_rows_and_hashes()
    {
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);
        var sync = await _f.SyncAsync(segment, new SyncInput
        {
            Name = "Nightly file",
            Kind = SyncDestinationKind.FileDrop,
            Folder = "crm/daily",
            FileFormat = SyncFileFormat.Csv,
            Columns = ["email"],
            Schedule = SyncSchedule.Daily,
        }, Ct);
        await _f.SyncNowAsync(sync, Ct);
        await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(390), Ct);
        await _f.SyncNowAsync(sync, Ct);

        var folder = Path.Combine(_f.Harness.Folder.Path, "drops", "crm", "daily");
        var manifests = Directory.GetFiles(folder, "*-manifest.json").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, manifests.Count);
        using var full = JsonDocument.Parse(await File.ReadAllTextAsync(manifests[0], Ct));
        Assert.Equal("full", full.RootElement.GetProperty("mode").GetString());
        var file = full.RootElement.GetProperty("files")[0];
        var path = Path.Combine(folder, file.GetProperty("name").GetString()!);
        Assert.Equal(21, file.GetProperty("rows").GetInt64());
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path, Ct))).ToLowerInvariant(),
            file.GetProperty("sha256").GetString());
        var lines = await File.ReadAllLinesAsync(path, Ct);
        Assert.Equal("customer_key,email", lines[0]);
        Assert.Equal(22, lines.Length);
        using var delta = JsonDocument.Parse(await File.ReadAllTextAsync(manifests[1], Ct));
        Assert.Equal("delta", delta.RootElement.GetProperty("mode").GetString());
        Assert.Equal(19, delta.RootElement.GetProperty("left").GetInt64());
        var leftFile = delta.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("part").GetString() == "left");
        Assert.Equal(20, (await File.ReadAllLinesAsync(Path.Combine(folder, leftFile.GetProperty("name").GetString()!), Ct)).Length);

        var outside = await Assert.ThrowsAsync<PortalException>(() => _f.SyncAsync(segment, new SyncInput
        {
            Name = "Escape",
            Kind = SyncDestinationKind.FileDrop,
            Folder = "../../etc",
        }, Ct));
        Assert.Contains("outside the file-drop folder", outside.Message);
    }

    [Fact]
    public async Task Parquet_file_drops_hold_the_members()
    {
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);
        var sync = await _f.SyncAsync(segment, new SyncInput
        {
            Name = "Lake",
            Kind = SyncDestinationKind.FileDrop,
            Folder = "lake",
            FileFormat = SyncFileFormat.Parquet,
            Columns = ["email", "spend"],
            Schedule = SyncSchedule.Manual,
        }, Ct);
        await _f.SyncNowAsync(sync, Ct);

        var file = Assert.Single(Directory.GetFiles(Path.Combine(_f.Harness.Folder.Path, "drops", "lake"), "*.parquet"));
        await using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        await duck.OpenAsync(Ct);
        await using var command = duck.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(spend) FROM read_parquet('{file.Replace("'", "''", StringComparison.Ordinal)}')";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal(21L, reader.GetInt64(0));
        Assert.Equal(Enumerable.Range(20, 21).Sum() * 10.0, reader.GetDouble(1));
    }

    [Fact]
    public async Task Only_editors_of_the_segment_who_manage_data_may_send_it()
    {
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);
        var viewer = await _f.Harness.CreateUserAsync("viewer@example.com", "Correct-horse-9", Roles.Viewer);
        var other = await _f.Harness.CreateUserAsync("other@example.com", "Correct-horse-9", Roles.Analyst);
        var input = new SyncInput { Name = "Files", Kind = SyncDestinationKind.FileDrop, Folder = "x" };

        _f.Harness.CurrentUser.Principal = Infrastructure.CoreHarness.Principal(viewer.Id, "viewer@example.com", Roles.Viewer);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => _f.SyncAsync(segment, input, Ct));
        _f.Harness.CurrentUser.Principal = Infrastructure.CoreHarness.Principal(other.Id, "other@example.com", Roles.Analyst);
        await Assert.ThrowsAnyAsync<PortalException>(() => _f.SyncAsync(segment, input, Ct));
        _f.AsAnalyst();
        Assert.True(await _f.SyncAsync(segment, input, Ct) > 0);
    }

    private Task<IReadOnlyList<string>> DeliveredAsync(int sync) =>
        _f.Harness.Services.GetRequiredService<SyncWarehouse>().DeliveredAsync(sync, Ct);
}
