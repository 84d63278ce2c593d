using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Rules.RuleTrees;

namespace SegmentPortal.Tests.Connections;

/// <summary>
/// Live datasets on the real PostgreSQL shop: counts, previews and segments run in the source and agree with
/// hand-written SQL; row rules apply there; the server's query is cancelled for real, stopped by the statement timeout,
/// limited per connection, and results are cached only as long as the dataset's freshness says.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LiveDatasetPostgresTests(PostgresServer server) : IAsyncLifetime
{
    private CoreHarness? _harness;
    private AppUser? _viewer;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness Harness => _harness!;

    public async ValueTask InitializeAsync()
    {
        if (server.SkipReason is null)
        {
            _harness = await CoreHarness.CreateAsync();
            _viewer = await _harness.CreateUserAsync("viewer@example.com", "Correct-horse-9", Roles.Viewer);
            await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_segment_counted_live_equals_the_same_count_in_hand_written_sql()
    {
        server.Require();
        var id = await CreateLiveCustomersAsync(cacheMinutes: 0);
        var rule = All(Field("city", RuleOperator.Equals, "Kraków"), Field("credit_limit", RuleOperator.Greater, "2500"));

        var live = await CountAsync(id, rule);
        var expected = await ScalarAsync("SELECT count(DISTINCT id) FROM customers WHERE city = 'Kraków' AND credit_limit > 2500");

        Assert.True(expected > 0);
        Assert.Equal(expected, live);
        // The rule builder's count is the same question.
        var builder = await Harness.WithAsync<SegmentService, long>(async s => (await s.CountAsync(id, rule, Ct)).Matching);
        Assert.Equal(expected, builder);
    }

    [Fact]
    public async Task An_always_live_table_whose_key_is_its_primary_key_counts_customers_as_rows_and_a_view_as_distinct_keys()
    {
        server.Require();
        var table = await CreateLiveCustomersAsync(cacheMinutes: 0);
        var connectionId = await CreateConnectionAsync();
        var view = await Harness.WithAsync<LiveDatasetService, int>(s => s.CreateAsync(connectionId,
            new LiveDatasetDraft(ConnectionSource.ForTable("public", "big_customers"), "Live big customers", 0, DatasetKind.Customers,
                new Dictionary<string, FieldRole> { ["id"] = FieldRole.CustomerId }), Ct));
        var spec = (int id) => new QuerySpec { DatasetId = id, Measures = [new Measure(MeasureKind.Customers, "n")] };

        // customers.id is the table's primary key: the source's catalog says so, and each row is one customer.
        var onTable = await Harness.WithAsync<QueryService, CompiledQuery>(async q => (await q.CompileAsync(spec(table), Ct)).Query);
        Assert.DoesNotContain("DISTINCT", onTable.Sql, StringComparison.OrdinalIgnoreCase);
        // A view has no constraints to tell: with "always live" nothing is assumed.
        var onView = await Harness.WithAsync<QueryService, CompiledQuery>(async q => (await q.CompileAsync(spec(view), Ct)).Query);
        Assert.Contains("DISTINCT", onView.Sql, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers"), await CountAsync(table, new RuleGroup()));
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM big_customers"), await CountAsync(view, new RuleGroup()));
    }

    [Fact]
    public async Task A_saved_segment_on_a_live_dataset_refreshes_its_members_from_the_source()
    {
        server.Require();
        var id = await CreateLiveCustomersAsync(cacheMinutes: 0);
        var segmentId = await Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(
            new SegmentDraft("Active in Zürich", id, Tree(Field("city", RuleOperator.Equals, "Zürich"), Field("is_active", RuleOperator.IsTrue))), Ct));
        var snapshot = await Harness.WithAsync<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(segmentId, Ct));
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers WHERE city = 'Zürich' AND is_active"), snapshot.Size);
    }

    [Fact]
    public async Task The_profile_of_a_live_SELECT_is_sampled_in_the_source_and_says_so()
    {
        server.Require();
        var connectionId = await CreateConnectionAsync();
        var id = await Harness.WithAsync<LiveDatasetService, int>(s => s.CreateAsync(connectionId,
            new LiveDatasetDraft(ConnectionSource.ForQuery("SELECT o.id AS order_id, c.city, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id"), "Orders by city"), Ct));
        var profiles = await Harness.WithAsync<SegmentPortal.Core.Catalog.DatasetProfiler, IReadOnlyList<SegmentPortal.Core.Catalog.ColumnProfile>>(p => p.ProfileAsync(id, Ct));
        Assert.All(profiles, p => Assert.Equal(SegmentPortal.Core.Catalog.DatasetProfiler.SampleRows, p.SampleRows));
        Assert.Equal(PostgresServer.OrderCount, profiles.Single(p => p.Name == "city").Rows);
    }

    [Fact]
    public async Task A_board_tile_over_a_live_dataset_is_counted_in_the_source()
    {
        server.Require();
        var id = await CreateLiveCustomersAsync(cacheMinutes: 0);
        var tile = new SegmentPortal.Core.Dashboards.TileDefinition
        {
            Id = "bycity",
            Type = SegmentPortal.Core.Dashboards.TileType.Bar,
            DatasetId = id,
            Dimensions = [new SegmentPortal.Core.Dashboards.TileDimension("city")],
            Measures = [new SegmentPortal.Core.Dashboards.TileMeasure(SegmentPortal.Core.Dashboards.TileMeasureKind.Customers)],
        };
        var data = await Harness.WithAsync<SegmentPortal.Core.Dashboards.TileDataService, SegmentPortal.Core.Dashboards.TileData>(s =>
            s.LoadAsync(SegmentPortal.Tests.Dashboards.DashboardFixture.Board(null, tile), tile, SegmentPortal.Core.Dashboards.DashboardState.Empty, Ct));
        var byCity = data.Rows.ToDictionary(r => r[0] as string ?? "∅", r => Convert.ToInt64(r[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers WHERE city = 'Zürich'"), byCity["Zürich"]);
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers WHERE city IS NULL"), byCity["∅"]);
        Assert.Equal(PostgresServer.CustomerCount, byCity.Values.Sum());
    }

    [Fact]
    public async Task A_row_ruled_viewer_sees_only_their_rows_of_a_live_dataset()
    {
        server.Require();
        var id = await CreateLiveCustomersAsync(cacheMinutes: 0);
        await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(id, [Roles.Viewer], [], Ct));
        await Harness.WithAsync<DataPermissionService, int>(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, null, All(Field("city", RuleOperator.Equals, "Kraków")), Ct));
        await Harness.WithAsync<DataPermissionService>(s => s.SetColumnTreatmentAsync(id, "email", Roles.Viewer, ColumnTreatment.Hidden, Ct));
        Harness.CurrentUser.Principal = CoreHarness.Principal(_viewer!.Id, _viewer.Email!, Roles.Viewer);

        var preview = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec { DatasetId = id, Columns = ["id", "city"], Limit = 5000 }, Ct));
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers WHERE city = 'Kraków'"), preview.Rows.Count);
        Assert.All(preview.Rows, r => Assert.Equal("Kraków", r[1]));
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers WHERE city = 'Kraków' AND is_active"), await CountAsync(id, All(Field("is_active", RuleOperator.IsTrue))));
        var hidden = await Assert.ThrowsAnyAsync<PortalException>(() => Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec { DatasetId = id, Columns = ["email"] }, Ct)));
        Assert.Contains("email", hidden.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_live_query_stops_it_on_the_server()
    {
        server.Require();
        var connectionId = await CreateConnectionAsync();
        var runner = Harness.Services.GetRequiredService<ILiveQueryRunner>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = runner.QueryAsync(Source(connectionId), "SELECT pg_sleep(60.5) AS slept", new Dictionary<string, object?>(), cancel.Token);

        await WaitUntilAsync(async () => await ActiveAsync("pg_sleep(60.5)") == 1, running);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await WaitUntilAsync(async () => await ActiveAsync("pg_sleep(60.5)") == 0);
    }

    [Fact]
    public async Task The_statement_timeout_stops_a_live_query_with_a_clear_message()
    {
        server.Require();
        var connectionId = await CreateConnectionAsync(timeoutSeconds: 1);
        var runner = Harness.Services.GetRequiredService<ILiveQueryRunner>();
        var error = await Assert.ThrowsAnyAsync<PortalException>(() =>
            runner.QueryAsync(Source(connectionId), "SELECT pg_sleep(30.25) AS slept", new Dictionary<string, object?>(), Ct));
        Assert.Contains("stopped", error.Message, StringComparison.Ordinal);
        Assert.Contains("timeout", error.Message, StringComparison.Ordinal);
        await WaitUntilAsync(async () => await ActiveAsync("pg_sleep(30.25)") == 0);
    }

    [Fact]
    public async Task A_connection_runs_at_most_its_cap_of_live_queries_at_once()
    {
        server.Require();
        var connectionId = await CreateConnectionAsync(maxLiveQueries: 1);
        var runner = Harness.Services.GetRequiredService<ILiveQueryRunner>();
        using var first = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var a = runner.QueryAsync(Source(connectionId), "SELECT pg_sleep(60.75) AS a", new Dictionary<string, object?>(), first.Token);
        await WaitUntilAsync(async () => await ActiveAsync("pg_sleep(60.75)") == 1, a);
        var b = runner.QueryAsync(Source(connectionId), "SELECT 42 AS b, pg_sleep(0.01) AS wait_marker_b", new Dictionary<string, object?>(), Ct);

        // While the first runs, the second waits its turn: it has not reached the server.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(0, await ActiveAsync("wait_marker_b"));
            Assert.False(b.IsCompleted);
        }
        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        var rows = await b;
        Assert.Equal(42, Convert.ToInt32(rows[0][0], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Always_live_sees_a_change_at_once_and_a_cached_dataset_only_after_its_freshness()
    {
        server.Require();
        var always = await CreateLiveCustomersAsync(cacheMinutes: 0, name: "Always live");
        var cached = await CreateLiveCustomersAsync(cacheMinutes: 10, name: "Cached");
        var rule = All(Field("city", RuleOperator.Equals, "Live-Town"));
        Assert.Equal(0, await CountAsync(always, rule));
        Assert.Equal(0, await CountAsync(cached, rule));

        await ExecuteAsync($"""
            INSERT INTO customers (id, name, city, signup_date, is_active, external_id, updated_at)
            VALUES (900001, 'Live test', 'Live-Town', DATE '2024-05-01', true, md5('900001')::uuid, now())
            """);
        try
        {
            Assert.Equal(1, await CountAsync(always, rule));
            // Within its 10 minutes the cached dataset answers from the cache.
            Assert.Equal(0, await CountAsync(cached, rule));
            // A new freshness setting is a new version of the dataset: its next question reads the source.
            await Harness.WithAsync<LiveDatasetService>(s => s.SetCacheMinutesAsync(cached, 5, Ct));
            Assert.Equal(1, await CountAsync(cached, rule));
        }
        finally
        {
            await ExecuteAsync("DELETE FROM customers WHERE id = 900001");
        }
    }

    [Fact]
    public async Task Questions_fused_over_an_always_live_dataset_are_read_again_and_over_a_cached_one_served_from_the_cache()
    {
        server.Require();
        var always = await CreateLiveCustomersAsync(cacheMinutes: 0, name: "Always live fused");
        var cached = await CreateLiveCustomersAsync(cacheMinutes: 10, name: "Cached fused");
        IReadOnlyList<QuerySpec> Questions(int id) =>
        [
            new QuerySpec { DatasetId = id, GroupBy = [new GroupBy("city", Alias: "d0")], Measures = [new Measure(MeasureKind.Count, "n")], Sort = [new SortBy("d0")] },
            new QuerySpec { DatasetId = id, Measures = [new Measure(MeasureKind.Count, "n")] },
        ];
        async Task<IReadOnlyList<QueryResult>> AskAsync(int id) => await Harness.WithAsync<QueryFusion, IReadOnlyList<QueryResult>>(async f =>
            await Task.WhenAll(await f.RunAsync(Questions(id), Ct)));

        await AskAsync(always);
        Assert.All(await AskAsync(always), r => Assert.False(r.FromCache));
        await AskAsync(cached);
        Assert.All(await AskAsync(cached), r => Assert.True(r.FromCache));
        Assert.Equal(await ScalarAsync("SELECT count(*) FROM customers"),
            Convert.ToInt64((await AskAsync(always))[1].Scalar("n"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Mixing_a_live_dataset_with_an_imported_one_is_refused_with_the_reason()
    {
        server.Require();
        var live = await CreateLiveCustomersAsync(cacheMinutes: 0);
        var imported = await Harness.ImportTextAsync("customers.csv", SegmentPortal.Tests.Queries.ShopFixture.Customers);
        imported = await Harness.SetRolesAsync(imported, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        var segmentId = await Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(
            new SegmentDraft("Imported North", imported.Id, Tree(Field("region", RuleOperator.Equals, "North"))), Ct));
        var error = await Assert.ThrowsAnyAsync<PortalException>(() => CountAsync(live, All(new SegmentCondition { SegmentId = segmentId, In = true })));
        Assert.Contains("one question reads one database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_live_dataset_refuses_cleaning_steps_and_renames_with_the_reason()
    {
        server.Require();
        var id = await CreateLiveCustomersAsync(cacheMinutes: 0);
        var recipe = await Assert.ThrowsAnyAsync<PortalException>(() => Harness.WithAsync<SegmentPortal.Core.Catalog.DatasetRecipeService, Dataset>(
            s => s.SaveAsync(id, [new SegmentPortal.Core.Datasets.Recipes.TrimText(["city"])], Ct)));
        Assert.Contains("live", recipe.Message, StringComparison.Ordinal);
    }

    private async Task<int> CreateConnectionAsync(int? timeoutSeconds = null, int? maxLiveQueries = null) =>
        await Harness.WithAsync<ConnectionService, int>(s => s.CreateAsync(new ConnectionInput
        {
            Name = "Shop " + Guid.NewGuid().ToString("N")[..6],
            Kind = ConnectionKind.PostgreSql,
            Host = "127.0.0.1",
            Port = server.Port,
            Database = PostgresServer.Database,
            Username = PostgresServer.ReaderUser,
            Password = PostgresServer.ReaderPassword,
            Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable, CommandTimeoutSeconds = timeoutSeconds, MaxLiveQueries = maxLiveQueries },
        }, Ct));

    private async Task<int> CreateLiveCustomersAsync(int cacheMinutes, string? name = null)
    {
        var connectionId = await CreateConnectionAsync();
        return await Harness.WithAsync<LiveDatasetService, int>(s => s.CreateAsync(connectionId,
            new LiveDatasetDraft(ConnectionSource.ForTable("public", "customers"), name ?? "Live customers", cacheMinutes, DatasetKind.Customers,
                new Dictionary<string, FieldRole> { ["id"] = FieldRole.CustomerId, ["city"] = FieldRole.Dimension }), Ct));
    }

    private static LiveSource Source(int connectionId) => new(connectionId, SqlEngine.PostgreSql, "public", "customers", null, 0);

    private async Task<long> CountAsync(int datasetId, RuleGroup rule)
    {
        var result = await Harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = rule,
            Measures = [new Measure(MeasureKind.Customers, "n")],
        }, Ct));
        return Convert.ToInt64(result.Scalar("n"), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>The portal's active queries on the server whose text contains <paramref name="marker"/>.</summary>
    private Task<long> ActiveAsync(string marker) => ScalarWithAsync(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'SegmentPortal' AND state = 'active' AND position(@marker in query) > 0", marker);

    private async Task<long> ScalarWithAsync(string sql, string marker)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("marker", marker);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls a state of the server until it holds (a hang guard of 60 s, never a fixed wait); fails early if <paramref name="failed"/> ends.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> state, Task? failed = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await state())
        {
            if (failed is { IsCompleted: true })
            {
                await failed;
                Assert.Fail("The query ended before the expected state was seen.");
            }
            Assert.True(DateTime.UtcNow < deadline, "The server did not reach the expected state within 60 s.");
            await Task.Delay(50, Ct);
        }
    }
}
