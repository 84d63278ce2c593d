using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Activation;

/// <summary>Segment syncs into a table of a real PostgreSQL server (see <see cref="PostgresServer"/>).</summary>
[Collection(PostgresCollection.Name)]
public sealed class SegmentSyncPostgresTests(PostgresServer server) : IAsyncLifetime
{
    private const string Writer = "portal_sync_writer";
    private const string WriterPassword = "Writer-pass-1357";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SyncFixture _f = null!;

    public async ValueTask InitializeAsync()
    {
        if (server.SkipReason is not null)
        {
            return;
        }
        _f = await SyncFixture.CreateAsync(Ct);
        await AdminAsync($"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{Writer}') THEN
                CREATE ROLE {Writer} LOGIN PASSWORD '{WriterPassword}';
              END IF;
            END $$;
            CREATE SCHEMA IF NOT EXISTS crm AUTHORIZATION {Writer};
            """);
    }

    public async ValueTask DisposeAsync()
    {
        if (_f is not null)
        {
            await _f.DisposeAsync();
        }
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<List<(string Key, string? Email, double? Spend)>> TableAsync(string table)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand($"SELECT customer_key, email, spend FROM crm.{table} ORDER BY customer_key", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(string, string?, double?)>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetDouble(2)));
        }
        return rows;
    }

    private async Task<int> ConnectionAsync(bool writable = true)
    {
        _f.AsAdmin();
        try
        {
            return await _f.Harness.WithAsync<ConnectionService, int>(s => s.CreateAsync(new ConnectionInput
            {
                Name = writable ? "CRM" : "CRM read-only",
                Kind = ConnectionKind.PostgreSql,
                Host = "127.0.0.1",
                Port = server.Port,
                Database = PostgresServer.Database,
                Username = Writer,
                Password = WriterPassword,
                Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable, CommandTimeoutSeconds = 60 },
                WritableForSyncs = writable,
            }, Ct));
        }
        finally
        {
            _f.AsAnalyst();
        }
    }

    private Task<int> TableSyncAsync(int segment, int connection, string table) =>
        _f.SyncAsync(segment, new SyncInput
        {
            Name = "CRM table",
            Kind = SyncDestinationKind.DatabaseTable,
            ConnectionId = connection,
            TableSchema = "crm",
            TableName = table,
            Columns = ["email", "spend"],
            Schedule = SyncSchedule.AfterRefresh,
        }, Ct);

    [Fact]
    public async Task The_table_holds_exactly_the_segments_members_after_refreshes_with_entries_and_exits()
    {
        server.Require();
        var connection = await ConnectionAsync();
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);
        var sync = await TableSyncAsync(segment, connection, "Big Spenders");
        await _f.SyncNowAsync(sync, Ct);
        Assert.Equal(SyncFixture.Ids(200), (await TableAsync("\"Big Spenders\"")).Select(r => r.Key));

        foreach (var (min, max) in new[] { (100, 350), (300, 400), (50, 120), (50, 120) })
        {
            await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(min, max), Ct);
            await _f.Runner.RunDueAsync(Ct);
            var rows = await TableAsync("\"Big Spenders\"");
            Assert.Equal(SyncFixture.Ids(min, max), rows.Select(r => r.Key));
            Assert.All(rows, r => Assert.Equal($"c{r.Key}@example.com", r.Email));
            Assert.All(rows, r => Assert.Equal(int.Parse(r.Key, System.Globalization.CultureInfo.InvariantCulture) * 10.0, r.Spend));
        }
        var history = await _f.HistoryAsync(sync, Ct);
        Assert.Equal(5, history.Count);
        Assert.All(history, r => Assert.Equal(SyncRunStatus.Succeeded, r.Status));
        Assert.Equal((0, 0), (history[0].Added, history[0].Removed)); // the last refresh moved nobody
        Assert.Equal((8, 11), (history[1].Added, history[1].Removed)); // 30–40 → 5–12
    }

    [Fact]
    public async Task A_run_that_fails_mid_copy_leaves_the_table_as_it_was_and_the_retry_ends_with_the_right_rows()
    {
        server.Require();
        var connection = await ConnectionAsync();
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);
        var sync = await TableSyncAsync(segment, connection, "guarded");
        await _f.SyncNowAsync(sync, Ct);
        // The destination starts refusing some rows (a constraint an admin added): the next delta fails halfway.
        await AdminAsync("ALTER TABLE crm.guarded ADD CONSTRAINT no_small CHECK (spend >= 150)");
        await _f.Harness.WithAsync<SyncService>(s => s.UpdateAsync(sync, new SyncInput
        {
            Name = "CRM table",
            Kind = SyncDestinationKind.DatabaseTable,
            ConnectionId = connection,
            TableSchema = "crm",
            TableName = "guarded",
            Columns = ["email", "spend"],
            Schedule = SyncSchedule.Manual,
        }, Ct));
        await _f.ChangeAsync(segment, "Big spenders", SyncFixture.Spend(100, 300), Ct); // 10–19 enter, 31–40 leave
        await _f.Harness.WithAsync<SyncService, long>(s => s.RunNowAsync(sync, Ct));
        await _f.Runner.RunDueAsync(Ct); // fails, and so does its retry while the constraint stands
        var failed = await _f.HistoryAsync(sync, Ct);
        Assert.All(failed.Take(2), r => Assert.Equal(SyncRunStatus.Failed, r.Status));
        Assert.Contains("no_small", failed[0].Error);
        // Nothing of the failed runs stayed: each rolled back as a whole.
        Assert.Equal(SyncFixture.Ids(200), (await TableAsync("guarded")).Select(r => r.Key));

        await AdminAsync("ALTER TABLE crm.guarded DROP CONSTRAINT no_small");
        await _f.SyncNowAsync(sync, Ct);

        Assert.Equal(SyncFixture.Ids(100, 300), (await TableAsync("guarded")).Select(r => r.Key));
        Assert.Equal(SyncRunStatus.Succeeded, (await _f.HistoryAsync(sync, Ct))[0].Status);
    }

    [Fact]
    public async Task Only_a_connection_an_admin_marked_writable_can_be_chosen()
    {
        server.Require();
        var readOnly = await ConnectionAsync(writable: false);
        var segment = await _f.SegmentAsync("Big spenders", SyncFixture.Spend(200), Ct);

        var refused = await Assert.ThrowsAsync<SegmentPortal.Core.PortalException>(() => TableSyncAsync(segment, readOnly, "t"));
        Assert.Contains("writable for syncs", refused.Message);
        var choices = await _f.Harness.WithAsync<SyncService, SyncChoices>(s => s.ChoicesAsync(segment, Ct));
        Assert.Empty(choices.Connections);
    }
}
