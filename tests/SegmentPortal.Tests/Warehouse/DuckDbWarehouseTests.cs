using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Warehouse;

public sealed class DuckDbWarehouseTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    private DuckDbWarehouse Warehouse => _harness.Services.GetRequiredService<DuckDbWarehouse>();

    public async ValueTask InitializeAsync() => _harness = await CoreHarness.CreateAsync();

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Opens_the_file_in_the_data_folder_with_configured_limits()
    {
        Assert.Equal(Path.Combine(_harness.Folder.Path, "warehouse.duckdb"), Warehouse.FilePath);
        Assert.True(File.Exists(Warehouse.FilePath));
        Assert.Equal("2", await Warehouse.GetSettingAsync("threads", TestContext.Current.CancellationToken));
        var memory = await Warehouse.GetSettingAsync("memory_limit", TestContext.Current.CancellationToken);
        // DuckDB reports the configured 1GB in binary units ("953.6 MiB"); its default would be 80% of RAM.
        Assert.Matches(@"^(9\d\d(\.\d+)? MiB|1(\.0+)? GiB)$", memory);
    }

    [Fact]
    public async Task Files_outside_the_import_folders_cannot_be_read()
    {
        var outside = _harness.Folder.File("secret.csv");
        await File.WriteAllTextAsync(outside, "a,b\n1,2\n", TestContext.Current.CancellationToken);
        var inside = Path.Combine(_harness.Services.GetRequiredService<StoragePaths>().UploadsDirectory, "ok.csv");
        await File.WriteAllTextAsync(inside, "a,b\n1,2\n", TestContext.Current.CancellationToken);

        await using var connection = await Warehouse.OpenAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1L, Scalar(connection, $"SELECT count(*) FROM read_csv('{inside}')"));
        var error = Assert.ThrowsAny<DuckDBException>(() => Scalar(connection, $"SELECT count(*) FROM read_csv('{outside}')"));
        Assert.Contains("disabled by configuration", error.Message);
    }

    [Fact]
    public async Task Extensions_cannot_be_installed_and_settings_cannot_be_changed()
    {
        await using var connection = await Warehouse.OpenAsync(TestContext.Current.CancellationToken);

        Assert.ThrowsAny<DuckDBException>(() => Scalar(connection, "INSTALL httpfs"));
        Assert.ThrowsAny<DuckDBException>(() => Scalar(connection, "SET enable_external_access = true"));
        Assert.ThrowsAny<DuckDBException>(() => Scalar(connection, "SET threads = 64"));
    }

    [Fact]
    public async Task Replace_swaps_in_the_new_table()
    {
        await CreateNumbersAsync("numbers", 3);
        await CreateNumbersAsync("numbers", 7);

        Assert.Equal(7, await Warehouse.CountRowsAsync("numbers", TestContext.Current.CancellationToken));
        await using var connection = await Warehouse.OpenAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'numbers%'"));
    }

    [Fact]
    public async Task A_failed_replace_leaves_the_live_table_untouched_and_no_staging_table()
    {
        await CreateNumbersAsync("numbers", 5);

        await Assert.ThrowsAsync<IOException>(() => Warehouse.ReplaceTableAsync("numbers", async (connection, staging, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE TABLE {WarehouseNames.Quote(staging)} AS SELECT range AS n FROM range(2)";
            await command.ExecuteNonQueryAsync(ct);
            throw new IOException("The source went away half-way.");
        }, TestContext.Current.CancellationToken));

        Assert.Equal(5, await Warehouse.CountRowsAsync("numbers", TestContext.Current.CancellationToken));
        await using var check = await Warehouse.OpenAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1L, Scalar(check, "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'numbers%'"));
    }

    [Fact]
    public async Task Describe_maps_warehouse_types()
    {
        await using (var connection = await Warehouse.OpenAsync(TestContext.Current.CancellationToken))
        {
            Scalar(connection, "CREATE TABLE typed (i BIGINT, d DECIMAL(12,2), f DOUBLE, b BOOLEAN, dt DATE, ts TIMESTAMP, s VARCHAR)");
        }

        var columns = await Warehouse.DescribeAsync("typed", TestContext.Current.CancellationToken);

        Assert.Equal(
            [ColumnType.Integer, ColumnType.Decimal, ColumnType.Decimal, ColumnType.Boolean, ColumnType.Date, ColumnType.Timestamp, ColumnType.Text],
            columns.Select(c => c.Type));
        Assert.Equal("DECIMAL(12,2)", columns[1].WarehouseType);
    }

    [Theory]
    [InlineData("orders; DROP TABLE x")]
    [InlineData("\"quoted\"")]
    [InlineData("Upper")]
    [InlineData("")]
    public async Task Table_names_that_the_portal_did_not_generate_are_refused(string name) =>
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Warehouse.CountRowsAsync(name, TestContext.Current.CancellationToken));

    [Theory]
    [InlineData("Online Retail 2011", "online_retail_2011")]
    [InlineData("  Ventes été (FR) ", "ventes_t_fr")]
    [InlineData("2024 sales", "t_2024_sales")]
    [InlineData("客户", "t_")]
    public void Slug_makes_safe_table_names(string name, string expected)
    {
        Assert.Equal(expected, WarehouseNames.Slug(name));
        Assert.True(WarehouseNames.IsSafeTableName(WarehouseNames.Slug(name)));
    }

    [Theory]
    [InlineData("2GB", true)]
    [InlineData("512 MB", true)]
    [InlineData("50%", true)]
    [InlineData("2GB'; SET x=1; --", false)]
    [InlineData("lots", false)]
    public void Memory_limit_must_be_a_size(string value, bool valid)
    {
        var options = new WarehouseOptions { MemoryLimit = value };
        if (valid)
        {
            options.Validate();
        }
        else
        {
            Assert.Throws<InvalidOperationException>(options.Validate);
        }
    }

    private Task CreateNumbersAsync(string table, int rows) =>
        Warehouse.ReplaceTableAsync(table, async (connection, staging, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE TABLE {WarehouseNames.Quote(staging)} AS SELECT range AS n FROM range({rows})";
            await command.ExecuteNonQueryAsync(ct);
        }, TestContext.Current.CancellationToken);

    private static object? Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
