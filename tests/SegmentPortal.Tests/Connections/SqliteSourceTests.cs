using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Connections;

/// <summary>SQLite files as sources: only from the sources folder, read-only.</summary>
public sealed class SqliteSourceTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;
    private string _sources = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        _sources = _harness.Services.GetRequiredService<SqliteSourceFolder>().FolderPath;
        await CreateCrmAsync(Path.Combine(_sources, "crm.db"));
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private Task<T> Service<T>(Func<ConnectionService, Task<T>> action) => _harness.WithAsync(action);

    private static ConnectionInput Sqlite(string file) => new() { Name = "CRM file", Kind = ConnectionKind.Sqlite, Database = file };

    [Fact]
    public void The_sources_folder_defaults_to_the_data_folder_and_exists() =>
        Assert.Equal(Path.Combine(_harness.Folder.Path, "sources"), _sources);

    [Fact]
    public async Task A_file_in_the_sources_folder_can_be_listed_previewed_and_extracted()
    {
        var id = await Service(s => s.CreateAsync(Sqlite("crm.db"), Ct));
        var summary = (await Service(s => s.ListAsync(Ct))).Single();
        Assert.False(summary.HasPassword);
        Assert.Equal("crm.db", summary.Target);
        Assert.True((await Service(s => s.TestAsync(id, Ct))).Success);

        var tables = await Service(s => s.ListTablesAsync(id, Ct));
        Assert.Equal(
            [new RemoteTable("main", "bad_numbers", false, 2, false), new RemoteTable("main", "people", false, 3, false), new RemoteTable("main", "rich_people", true, null, false)],
            tables);

        var preview = await Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery("SELECT name, balance * 2 AS doubled, name FROM people ORDER BY id"), 2, Ct));
        Assert.Equal(["name", "doubled", "name_2"], preview.Columns.Select(c => c.Name));
        Assert.Equal(["VARCHAR", "DOUBLE", "VARCHAR"], preview.Columns.Select(c => c.WarehouseType));
        Assert.Equal(new object?[] { "Zoë", 25.0, "Zoë" }, preview.Rows[0]);
        Assert.True(preview.HasMoreRows);

        var warehouse = _harness.Services.GetRequiredService<DuckDbWarehouse>();
        ExtractResult? result = null;
        await warehouse.ReplaceTableAsync("crm_people", async (connection, staging, ct) =>
            result = await Service(s => s.ExtractAsync(id, ConnectionSource.ForTable("main", "people"), connection, staging, null, ct)), Ct);

        Assert.Equal(3, result!.RowCount);
        Assert.Equal(
            [("id", "BIGINT"), ("name", "VARCHAR"), ("born", "DATE"), ("balance", "DOUBLE"), ("active", "BOOLEAN"), ("photo", "BLOB")],
            (await warehouse.DescribeAsync("crm_people", Ct)).Select(c => (c.Name, c.WarehouseType)));
        Assert.Equal(3, await warehouse.CountRowsAsync("crm_people", Ct));
    }

    [Fact]
    public async Task A_value_that_does_not_fit_its_column_stops_the_extract_with_row_and_column()
    {
        var id = await Service(s => s.CreateAsync(Sqlite("crm.db"), Ct));
        var warehouse = _harness.Services.GetRequiredService<DuckDbWarehouse>();

        var error = await Assert.ThrowsAsync<ConnectionException>(() => warehouse.ReplaceTableAsync("crm_bad", (connection, staging, ct) =>
            Service(s => s.ExtractAsync(id, ConnectionSource.ForTable(null, "bad_numbers"), connection, staging, null, ct)), Ct));

        Assert.Equal("Row 2, column 'n': 'twelve' is not a whole number.", error.Message);
        Assert.False(await warehouse.TableExistsAsync("crm_bad", Ct));
    }

    [Theory]
    [InlineData("../portal.db", "'..'")]
    [InlineData("sub/../../portal.db", "'..'")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("~/x.db", "absolute")]
    [InlineData("file:crm.db?mode=rwc", "not allowed")]
    [InlineData(":memory:", "not allowed")]
    [InlineData("missing.db", "no file 'missing.db'")]
    [InlineData("", "file's name")]
    public async Task Files_outside_the_sources_folder_are_refused(string file, string message)
    {
        var error = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(Sqlite(file), Ct)));

        Assert.Contains(message, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Links_leading_out_of_the_sources_folder_are_refused()
    {
        var outside = _harness.Folder.File("outside.db");
        await CreateCrmAsync(outside);
        File.CreateSymbolicLink(Path.Combine(_sources, "escape.db"), outside);
        Directory.CreateSymbolicLink(Path.Combine(_sources, "up"), _harness.Folder.Path);
        File.CreateSymbolicLink(Path.Combine(_sources, "alias.db"), Path.Combine(_sources, "crm.db"));

        var file = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(Sqlite("escape.db"), Ct)));
        Assert.Contains("outside the sources folder", file.Message);
        var folder = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(Sqlite("up/outside.db"), Ct)));
        Assert.Contains("outside the sources folder", folder.Message);
        // A link that stays inside is fine.
        Assert.True(await Service(s => s.CreateAsync(Sqlite("alias.db"), Ct)) > 0);
    }

    [Fact]
    public async Task A_file_swapped_for_a_link_after_saving_is_refused_at_connect_time()
    {
        var id = await Service(s => s.CreateAsync(Sqlite("crm.db"), Ct));
        var outside = _harness.Folder.File("outside.db");
        await CreateCrmAsync(outside);
        SqliteConnection.ClearAllPools();
        File.Delete(Path.Combine(_sources, "crm.db"));
        File.CreateSymbolicLink(Path.Combine(_sources, "crm.db"), outside);

        var result = await Service(s => s.TestAsync(id, Ct));

        Assert.False(result.Success);
        Assert.Contains("outside the sources folder", result.Message);
    }

    [Fact]
    public async Task The_file_is_opened_read_only()
    {
        var id = await Service(s => s.CreateAsync(Sqlite("crm.db"), Ct));
        var before = File.GetLastWriteTimeUtc(Path.Combine(_sources, "crm.db"));

        // Refused by the validator first; and the connection could not write anyway (query_only, Mode=ReadOnly).
        await Assert.ThrowsAsync<QueryRejectedException>(() =>
            Service(s => s.PreviewAsync(id, ConnectionSource.ForQuery("SELECT 1; DELETE FROM people"), 10, Ct)));
        Assert.Equal(3, (await Service(s => s.ListTablesAsync(id, Ct))).Single(t => t.Name == "people").RowCount);
        Assert.Equal(before, File.GetLastWriteTimeUtc(Path.Combine(_sources, "crm.db")));
    }

    private static async Task CreateCrmAsync(string file)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, born DATE, balance NUMERIC(10, 2), active BOOLEAN, photo BLOB);
            INSERT INTO people VALUES (1, 'Zoë', '1990-05-01', 12.5, 1, x'CAFE'),
                                      (2, 'Łukasz', '1985-12-31', NULL, 0, NULL),
                                      (3, NULL, NULL, 7, NULL, NULL);
            CREATE VIEW rich_people AS SELECT * FROM people WHERE balance > 10;
            CREATE TABLE bad_numbers (n INTEGER);
            INSERT INTO bad_numbers VALUES (1), ('twelve');
            """;
        await command.ExecuteNonQueryAsync(Ct);
    }
}
