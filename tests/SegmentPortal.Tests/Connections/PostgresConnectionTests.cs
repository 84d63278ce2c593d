using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Connections;

/// <summary>The connection service against a real PostgreSQL server (see <see cref="PostgresServer"/>).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresConnectionTests(PostgresServer server) : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DuckDbWarehouse Warehouse => _harness.Services.GetRequiredService<DuckDbWarehouse>();

    public async ValueTask InitializeAsync()
    {
        if (server.SkipReason is null)
        {
            _harness = await CoreHarness.CreateAsync();
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

    /// <summary>Every test goes through here first, so each one is skipped (with the reason) when there is no server.</summary>
    private Task<T> Service<T>(Func<ConnectionService, Task<T>> action)
    {
        server.Require();
        return _harness.WithAsync(action);
    }

    private ConnectionInput Shop(string? password = PostgresServer.ReaderPassword, int? port = null, string database = PostgresServer.Database) => new()
    {
        Name = "Shop",
        Kind = ConnectionKind.PostgreSql,
        Host = "127.0.0.1",
        Port = port ?? server.Port,
        Database = database,
        Username = PostgresServer.ReaderUser,
        Password = password,
        Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable, CommandTimeoutSeconds = 60 },
    };

    private Task<int> CreateShopAsync() => Service(s => s.CreateAsync(Shop(), Ct));

    /// <summary>Extracts into a warehouse table through ReplaceTableAsync, as the import pipeline does.</summary>
    private async Task<ExtractResult> ExtractAsync(int id, ConnectionSource source, string table, IProgress<long>? progress = null, CancellationToken? ct = null)
    {
        ExtractResult? result = null;
        await Warehouse.ReplaceTableAsync(table, async (connection, staging, token) =>
            result = await Service(s => s.ExtractAsync(id, source, connection, staging, progress, token)), ct ?? Ct);
        return result!;
    }

    private async Task<object?> WarehouseScalarAsync(string sql)
    {
        await using var connection = await Warehouse.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(Ct);
        return value is DBNull ? null : value;
    }

    [Fact]
    public async Task Test_connection_reports_the_server_version()
    {
        var result = await Service(s => s.TestAsync(Shop(), null, Ct));

        Assert.True(result.Success, result.Message);
        Assert.StartsWith("PostgreSQL 1", result.ServerVersion);
        Assert.StartsWith("Connected to PostgreSQL", result.Message);
    }

    [Fact]
    public async Task A_wrong_password_gets_a_plain_message()
    {
        var result = await Service(s => s.TestAsync(Shop(password: "not-the-password"), null, Ct));

        Assert.False(result.Success);
        Assert.Equal($"The server refused the user name or password (user '{PostgresServer.ReaderUser}').", result.Message);
    }

    [Fact]
    public async Task An_unreachable_port_gets_a_plain_message_without_waiting_for_the_connect_timeout()
    {
        var port = PostgresServer.FreePort();
        var input = Shop(port: port);

        var result = await Service(s => s.TestAsync(input, null, Ct));

        Assert.False(result.Success);
        // The refusal itself is reported ("did not answer within … seconds" would mean it waited for the timeout).
        Assert.Contains($"Nothing is accepting connections at 127.0.0.1:{port}", result.Message);
        Assert.DoesNotContain("did not answer", result.Message);
    }

    [Fact]
    public async Task A_missing_database_gets_a_plain_message()
    {
        var result = await Service(s => s.TestAsync(Shop(database: "no_such_db"), null, Ct));

        Assert.False(result.Success);
        Assert.Equal($"The database 'no_such_db' does not exist on 127.0.0.1:{server.Port}.", result.Message);
    }

    [Fact]
    public async Task A_saved_connection_decrypts_its_password_to_connect_and_keeps_it_on_update()
    {
        var id = await CreateShopAsync();
        Assert.True((await Service(s => s.TestAsync(id, Ct))).Success);

        var rename = Shop(password: "");
        rename.Name = "Shop (renamed)";
        await _harness.WithAsync<ConnectionService>(s => s.UpdateAsync(id, rename, Ct));

        Assert.True((await Service(s => s.TestAsync(id, Ct))).Success);
        // The edit form tests unsaved fields with the stored password.
        Assert.True((await Service(s => s.TestAsync(rename, id, Ct))).Success);
    }

    [Fact]
    public async Task Lists_the_readable_tables_with_exact_counts()
    {
        var id = await CreateShopAsync();

        var tables = await Service(s => s.ListTablesAsync(id, Ct));

        Assert.Contains(new RemoteTable("public", "customers", false, PostgresServer.CustomerCount, false), tables);
        Assert.Contains(new RemoteTable("public", "orders", false, PostgresServer.OrderCount, false), tables);
        Assert.Contains(new RemoteTable("sales", "Targets 2025", false, 2, false), tables);
        Assert.Contains(new RemoteTable("public", "big_customers", true, null, false), tables);
        // No SELECT privilege, not listed; nor are the system catalogs.
        Assert.DoesNotContain(tables, t => t.Name == "secrets");
        Assert.DoesNotContain(tables, t => t.Schema is "pg_catalog" or "information_schema");
    }

    [Fact]
    public async Task Extracts_a_table_with_its_types_and_values()
    {
        var id = await CreateShopAsync();
        var reported = new List<long>();

        var result = await ExtractAsync(id, ConnectionSource.ForTable("public", "customers"), "pg_customers", new SyncProgress(reported.Add));

        Assert.Equal(PostgresServer.CustomerCount, result.RowCount);
        Assert.Equal(PostgresServer.CustomerCount, reported[^1]);
        var columns = await Warehouse.DescribeAsync("pg_customers", Ct);
        Assert.Equal(
            [
                ("id", "INTEGER"), ("name", "VARCHAR"), ("email", "VARCHAR"), ("city", "VARCHAR"), ("signup_date", "DATE"),
                ("credit_limit", "DECIMAL(12,2)"), ("score", "DOUBLE"), ("is_active", "BOOLEAN"), ("external_id", "UUID"),
                ("profile", "VARCHAR"), ("updated_at", "TIMESTAMP WITH TIME ZONE"),
            ],
            columns.Select(c => (c.Name, c.WarehouseType)));
        Assert.Equal("timestamp with time zone", result.Columns[^1].SourceType);

        // Same totals and NULLs as the source.
        Assert.Equal(await server.ScalarAsync<decimal>("SELECT sum(credit_limit) FROM customers"),
            Convert.ToDecimal(await WarehouseScalarAsync("SELECT sum(credit_limit) FROM pg_customers")));
        Assert.Equal(await server.ScalarAsync<long>("SELECT count(*) FROM customers WHERE email IS NULL"),
            Convert.ToInt64(await WarehouseScalarAsync("SELECT count(*) FROM pg_customers WHERE email IS NULL")));
        Assert.Equal(await server.ScalarAsync<long>("SELECT count(*) FROM customers WHERE is_active"),
            Convert.ToInt64(await WarehouseScalarAsync("SELECT count(*) FROM pg_customers WHERE is_active")));

        // Unicode text, dates, instants, uuids and json survive.
        Assert.Equal("Łukasz Żółć #1", await WarehouseScalarAsync("SELECT name FROM pg_customers WHERE id = 1"));
        Assert.Equal("José 🚀 #4", await WarehouseScalarAsync("SELECT name FROM pg_customers WHERE id = 4"));
        Assert.Equal("Москва", await WarehouseScalarAsync("SELECT city FROM pg_customers WHERE id = 3"));
        Assert.Equal("2020-01-02", await WarehouseScalarAsync("SELECT signup_date::VARCHAR FROM pg_customers WHERE id = 1"));
        Assert.Equal(1704070800L, Convert.ToInt64(await WarehouseScalarAsync("SELECT epoch(updated_at)::BIGINT FROM pg_customers WHERE id = 1")));
        Assert.Equal(await server.ScalarAsync<string>("SELECT external_id::text FROM customers WHERE id = 42"),
            await WarehouseScalarAsync("SELECT external_id::VARCHAR FROM pg_customers WHERE id = 42"));
        Assert.Equal("{\"tier\": 2}", await WarehouseScalarAsync("SELECT profile FROM pg_customers WHERE id = 2"));
    }

    [Fact]
    public async Task Extracts_orders_with_unbounded_numerics_as_doubles()
    {
        var id = await CreateShopAsync();

        await ExtractAsync(id, ConnectionSource.ForTable("public", "orders"), "pg_orders");

        var types = (await Warehouse.DescribeAsync("pg_orders", Ct)).ToDictionary(c => c.Name, c => c.WarehouseType);
        Assert.Equal("BIGINT", types["id"]);
        Assert.Equal("SMALLINT", types["quantity"]);
        Assert.Equal("DOUBLE", types["discount"]);
        Assert.Equal(PostgresServer.OrderCount, await Warehouse.CountRowsAsync("pg_orders", Ct));
        Assert.Equal(await server.ScalarAsync<decimal>("SELECT sum(amount) FROM orders"),
            Convert.ToDecimal(await WarehouseScalarAsync("SELECT sum(amount) FROM pg_orders")));
        Assert.Equal(1000L, Convert.ToInt64(await WarehouseScalarAsync("SELECT count(*) FROM pg_orders WHERE note = 'Geschenk 🎁'")));
    }

    [Fact]
    public async Task Extracts_a_table_whose_names_need_quoting()
    {
        var id = await CreateShopAsync();

        var result = await ExtractAsync(id, ConnectionSource.ForTable("sales", "Targets 2025"), "pg_targets");

        Assert.Equal(2, result.RowCount);
        Assert.Equal("DECIMAL(14,2)", result.Columns[1].WarehouseType);
        Assert.Equal(1000.50m, Convert.ToDecimal(await WarehouseScalarAsync("SELECT target FROM pg_targets WHERE region = 'Nord'")));
    }

    [Fact]
    public async Task Only_tables_the_catalog_lists_can_be_read()
    {
        var id = await CreateShopAsync();

        var missing = await Assert.ThrowsAsync<ConnectionException>(() =>
            Service(s => s.PreviewAsync(id, ConnectionSource.ForTable("public", "customers\"; DROP TABLE orders; --"), 10, Ct)));
        Assert.Contains("There is no table", missing.Message);
        Assert.Equal(PostgresServer.OrderCount, await server.ScalarAsync<long>("SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task A_query_source_can_be_previewed_and_extracted()
    {
        var id = await CreateShopAsync();
        const string query = """
            -- revenue per city
            SELECT c.city, count(*) AS orders, sum(o.amount) AS revenue, count(*) AS orders
            FROM customers c JOIN orders o ON o.customer_id = c.id
            GROUP BY c.city
            ORDER BY c.city NULLS LAST;
            """;

        var preview = await Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery(query), 3, Ct));
        Assert.Equal(["city", "orders", "revenue", "orders_2"], preview.Columns.Select(c => c.Name));
        Assert.Equal(["VARCHAR", "BIGINT", "DOUBLE", "BIGINT"], preview.Columns.Select(c => c.WarehouseType));
        Assert.Equal(3, preview.Rows.Count);
        Assert.True(preview.HasMoreRows);
        Assert.Equal("Kraków", preview.Rows[0][0]);

        var result = await ExtractAsync(id, ConnectionSource.ForQuery(query), "pg_city_revenue");
        Assert.Equal(5, result.RowCount);
        Assert.Equal((long)PostgresServer.OrderCount, Convert.ToInt64(await WarehouseScalarAsync("SELECT sum(orders)::BIGINT FROM pg_city_revenue")));
        Assert.Null(await WarehouseScalarAsync("SELECT city FROM pg_city_revenue ORDER BY city NULLS FIRST LIMIT 1"));
    }

    [Fact]
    public async Task Preview_stops_at_the_limit()
    {
        var id = await CreateShopAsync();

        var preview = await Service(s => s.PreviewAsync(id, ConnectionSource.ForTable("public", "orders"), cancellationToken: Ct));

        Assert.Equal(ConnectionService.DefaultPreviewRows, preview.Rows.Count);
        Assert.True(preview.HasMoreRows);
        Assert.Equal(7, preview.Columns.Count);
    }

    [Theory]
    [InlineData("DELETE FROM orders")]
    [InlineData("SELECT * FROM orders; DROP TABLE orders")]
    [InlineData("WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x")]
    [InlineData("SELECT pg_terminate_backend(pid) FROM pg_stat_activity")]
    [InlineData("SELECT * INTO stolen FROM customers")]
    public async Task Write_queries_are_refused_and_change_nothing(string query)
    {
        var id = await CreateShopAsync();

        await Assert.ThrowsAsync<QueryRejectedException>(() => Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery(query), 10, Ct)));
        await Assert.ThrowsAsync<QueryRejectedException>(() => ExtractAsync(id, ConnectionSource.ForQuery(query), "pg_refused"));

        Assert.Equal(PostgresServer.OrderCount, await server.ScalarAsync<long>("SELECT count(*) FROM orders"));
        Assert.False(await Warehouse.TableExistsAsync("pg_refused", Ct));
    }

    [Fact]
    public async Task A_select_that_writes_through_a_function_is_stopped_by_the_read_only_transaction()
    {
        var id = await CreateShopAsync();

        // Passes the validator (an ordinary function name), and the login may INSERT: only READ ONLY stops it.
        var error = await Assert.ThrowsAsync<ConnectionException>(() =>
            Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery("SELECT touch_audit()"), 10, Ct)));

        Assert.Equal("The query tried to change data. Connections only read: use a plain SELECT.", error.Message);
        Assert.Equal(0L, await server.ScalarAsync<long>("SELECT count(*) FROM audit_log"));
    }

    [Fact]
    public async Task Queries_run_in_a_read_only_transaction_with_standard_strings()
    {
        var id = await CreateShopAsync();

        var preview = await Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery(
            "SELECT current_setting('transaction_read_only') AS ro, current_setting('standard_conforming_strings') AS scs, 'a\\b' AS s"), 1, Ct));

        Assert.Equal(new object?[] { "on", "on", "a\\b" }, preview.Rows.Single());
    }

    [Fact]
    public async Task Query_errors_read_plainly()
    {
        var id = await CreateShopAsync();

        var error = await Assert.ThrowsAsync<ConnectionException>(() =>
            Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery("SELECT no_such_column FROM customers"), 10, Ct)));

        Assert.Equal("The query failed: column \"no_such_column\" does not exist", error.Message);
        Assert.DoesNotContain(" at ", error.Message);
    }

    [Fact]
    public async Task Analysts_can_use_a_connection_but_not_change_it()
    {
        var id = await CreateShopAsync();
        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);

        Assert.True((await Service(s => s.TestAsync(id, Ct))).Success);
        Assert.NotEmpty(await Service(s => s.ListTablesAsync(id, Ct)));
        Assert.Equal(2, (await ExtractAsync(id, ConnectionSource.ForTable("sales", "Targets 2025"), "pg_analyst")).RowCount);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.CreateAsync(Shop(), Ct)));

        await _harness.SignInAsNewUserAsync("viewer@example.com", Roles.Viewer);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => ExtractAsync(id, ConnectionSource.ForTable("sales", "Targets 2025"), "pg_viewer"));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.TestAsync(id, Ct)));
    }

    [Fact]
    public async Task Cancelling_an_extract_stops_the_query_on_the_server()
    {
        var id = await CreateShopAsync();
        // Eight billion rows, streamed: it would run for hours.
        const string endless = "SELECT a.id AS a, b.id AS b, c.id AS c FROM customers a CROSS JOIN customers b CROSS JOIN customers c";
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var progress = new SyncProgress(rows =>
        {
            if (rows >= 30_000)
            {
                cts.Cancel();
            }
        });

        // The extract ends as cancelled; the wait is only a guard against a hang, not a measure of how quick it was.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ExtractAsync(id, ConnectionSource.ForQuery(endless), "pg_endless", progress, cts.Token).WaitAsync(TimeSpan.FromMinutes(5), Ct));

        Assert.False(await Warehouse.TableExistsAsync("pg_endless", Ct));
        // The server is no longer running it (the backend may take a moment to notice; a busy machine, several).
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMinutes(2));
        while (await RunningAsync() > 0 && !patience.IsCancellationRequested)
        {
            await Task.Delay(100, Ct); // polling the server's activity view: nothing to wait on
        }
        Assert.Equal(0L, await RunningAsync());

        Task<long> RunningAsync() => server.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%CROSS JOIN customers c%' AND pid <> pg_backend_pid()");
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
